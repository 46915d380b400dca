import { readFileSync } from 'node:fs';
import { VigilError } from '../errors.js';
import type { Rule, RuleSettings } from './types.js';

const SEVERITIES = new Set(['low', 'medium', 'high', 'critical']);
const RESPONSES = new Set(['alert', 'lock', 'read-only']);

/**
 * Reads per-rule settings: `{ "bulk-access": { "patients": 60, "response": "lock" }, "vip-access":
 * { "enabled": false } }`. Unknown rules or settings, and values of the wrong kind, refuse the
 * file with every problem listed (a typo must not silently switch a rule off).
 */
export function loadRuleSettings(file: string, rules: readonly Rule[]): Record<string, Partial<RuleSettings>> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new VigilError('ERR_CONFIG', 'VIGIL_DETECT_RULES must name a readable JSON file');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new VigilError('ERR_CONFIG', 'VIGIL_DETECT_RULES must hold a JSON object of rule names');
  const problems: string[] = [];
  const out: Record<string, Partial<RuleSettings>> = {};
  for (const [name, value] of Object.entries(raw)) {
    const rule = rules.find((r) => r.name === name);
    if (rule === undefined) {
      problems.push(`unknown rule ${JSON.stringify(name)}`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${name}: settings must be an object`);
      continue;
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const ok =
        k === 'enabled' ? typeof v === 'boolean'
        : k === 'severity' ? typeof v === 'string' && SEVERITIES.has(v)
        : k === 'response' ? typeof v === 'string' && RESPONSES.has(v)
        : k in rule.defaults && typeof v === 'number' && Number.isFinite(v) && v >= 0;
      if (!ok) problems.push(`${name}.${k}: not a known setting, or a value of the wrong kind`);
    }
    out[name] = value as Partial<RuleSettings>;
  }
  if (problems.length > 0) throw new VigilError('ERR_CONFIG', `VIGIL_DETECT_RULES:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return out;
}
