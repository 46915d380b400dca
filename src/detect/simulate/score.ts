import type { Alert } from '../alerts.js';
import type { Injected } from './attacks.js';

export interface RuleScore {
  precision: number;
  recall: number;
  tp: number;
  fp: number;
  fn: number;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * Scores alerts against what was injected. An alert is a true positive when an injected attack
 * of its rule names its principal; an alert on an attacker under another rule is collateral (the
 * principal is hostile; it is counted apart, not as a false positive); any other alert is a false
 * positive. An injected attack that no alert of its rule names is a false negative.
 */
export function score(alerts: readonly Alert[], injected: readonly Injected[], rules: readonly string[]): { rules: Record<string, RuleScore>; overall: RuleScore; collateral: number } {
  const attackers = new Set(injected.map((i) => i.principal));
  const out: Record<string, RuleScore> = {};
  let collateral = 0;
  const total = { tp: 0, fp: 0, fn: 0 };
  for (const rule of rules) {
    const mine = alerts.filter((a) => a.rule === rule);
    const expected = injected.filter((i) => i.rule === rule);
    const tp = mine.filter((a) => expected.some((i) => i.principal === a.principal)).length;
    const fp = mine.filter((a) => !expected.some((i) => i.principal === a.principal) && !attackers.has(a.principal)).length;
    collateral += mine.filter((a) => !expected.some((i) => i.principal === a.principal) && attackers.has(a.principal)).length;
    const fn = expected.filter((i) => !mine.some((a) => a.principal === i.principal)).length;
    out[rule] = { precision: tp + fp === 0 ? 1 : round(tp / (tp + fp)), recall: tp + fn === 0 ? 1 : round(tp / (tp + fn)), tp, fp, fn };
    total.tp += tp;
    total.fp += fp;
    total.fn += fn;
  }
  const overall = { precision: total.tp + total.fp === 0 ? 1 : round(total.tp / (total.tp + total.fp)), recall: total.tp + total.fn === 0 ? 1 : round(total.tp / (total.tp + total.fn)), ...total };
  return { rules: out, overall, collateral };
}
