import type { Consent, ConsentProvision, Resource } from '@medplum/fhirtypes';
import { labelCodes } from './labels.js';

/** What is being asked of a patient's Consents: who, for what purpose, which record, when. */
export interface ConsentQuestion {
  /** References that identify the actor: the user (`Practitioner/1`) and their organizations. */
  readonly actors: readonly string[];
  readonly purpose: string | undefined;
  /** The record to disclose; absent when asking about the patient as a whole. */
  readonly resource?: Resource;
  readonly now: Date;
}

export type ConsentAnswer = 'permit' | 'deny' | undefined;

function within(period: { start?: string; end?: string } | undefined, t: number): boolean {
  if (period === undefined) return true;
  if (period.start !== undefined && Date.parse(period.start) > t) return false;
  // A dateTime end of a day covers that whole day.
  if (period.end !== undefined && Date.parse(period.end.length === 10 ? `${period.end}T23:59:59.999Z` : period.end) < t) return false;
  return true;
}

/** Whether every condition a provision states holds for the question. */
function applies(p: ConsentProvision, q: ConsentQuestion): boolean {
  if (!within(p.period, q.now.getTime())) return false;
  if (p.actor !== undefined && p.actor.length > 0 && !p.actor.some((a) => a.reference.reference !== undefined && q.actors.includes(a.reference.reference))) return false;
  if (p.purpose !== undefined && p.purpose.length > 0 && !p.purpose.some((c) => c.code !== undefined && c.code === q.purpose)) return false;
  const r = q.resource;
  if (p.securityLabel !== undefined && p.securityLabel.length > 0) {
    if (r === undefined) return false;
    const labels = labelCodes(r);
    if (!p.securityLabel.some((c) => c.code !== undefined && labels.includes(c.code))) return false;
  }
  if (p.class !== undefined && p.class.length > 0 && (r === undefined || !p.class.some((c) => c.code === r.resourceType))) return false;
  if (p.dataPeriod !== undefined) {
    const updated = r?.meta?.lastUpdated;
    if (updated === undefined || !within(p.dataPeriod, Date.parse(updated))) return false;
  }
  if (p.data !== undefined && p.data.length > 0 && (r === undefined || !p.data.some((d) => d.reference.reference === `${r.resourceType}/${r.id ?? ''}`))) return false;
  return true;
}

/** A provision's answer: its own type where it applies, overridden by any nested provision that applies. */
function evaluate(p: ConsentProvision, q: ConsentQuestion, inherited: ConsentAnswer): ConsentAnswer {
  if (!applies(p, q)) return undefined;
  let answer = p.type ?? inherited;
  for (const child of p.provision ?? []) {
    const a = evaluate(child, q, answer);
    if (a !== undefined) answer = a;
  }
  return answer;
}

/**
 * The answer of a patient's Consents (R4): only active privacy, treatment and research consents
 * count; a deny from any of them wins over a permit from another (deny overrides).
 */
export function consentAnswer(consents: readonly Consent[], q: ConsentQuestion): ConsentAnswer {
  let permit = false;
  for (const c of consents) {
    if (c.status !== 'active' || c.provision === undefined) continue;
    const a = evaluate(c.provision, q, undefined);
    if (a === 'deny') return 'deny';
    if (a === 'permit') permit = true;
  }
  return permit ? 'permit' : undefined;
}
