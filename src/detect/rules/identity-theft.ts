import type { Entry, Finding, Rule } from '../types.js';
import { parseEntity, setting } from './common.js';

const MAX = 50_000;

/**
 * Identity theft signals: (1) a Patient written with an identifier (SSN, MRN, member id) that
 * another patient already holds; (2) a patient's address or telephone changed, then within
 * `days` (default 7) the record used by a party that had never used it before the change.
 */
export function identityTheft(): Rule {
  /** Patients whose address or telecom changed, with when and by whom. */
  const changed = new Map<string, { at: number; by: string; seq: number }>();
  /** Who has used each patient's record (bounded), so a new party shows. */
  const known = new Map<string, Set<string>>();
  const remember = (patient: string, principal: string): void => {
    let set = known.get(patient);
    if (set === undefined) {
      if (known.size >= MAX) known.delete(known.keys().next().value ?? '');
      set = new Set();
      known.set(patient, set);
    }
    if (set.size < 200) set.add(principal);
  };
  return {
    name: 'identity-theft',
    description: 'An identifier on two patients, or demographics changed and the record then used by a new party',
    defaults: { enabled: true, severity: 'high', response: 'alert', days: 7 },
    async observe(e: Entry, ctx) {
      if (e.principal === undefined || e.body.outcome !== '0' || e.body.type !== 'rest') return [];
      const out: Finding[] = [];
      const windowMs = setting(ctx.settings, 'days', 7) * 86_400_000;
      for (const entity of e.body.entities) {
        const p = parseEntity(entity);
        if (p?.type !== 'Patient' || p.versionId === undefined || (e.body.action !== 'C' && e.body.action !== 'U')) continue;
        const others = await ctx.facts.sharedIdentifiers(p.id);
        if (others.length > 0) {
          out.push({ rule: 'identity-theft', principal: e.principal, patient: p.id, evidence: [e.seq], explanation: `an identifier of this patient is also held by ${others.length} other patient(s)` });
        }
        if (await ctx.facts.demographicsChanged(p.id, p.versionId)) changed.set(p.id, { at: e.at, by: e.principal, seq: e.seq });
      }
      for (const patient of e.body.patients) {
        const change = changed.get(patient);
        if (change !== undefined && e.at - change.at > windowMs) changed.delete(patient);
        const seenBefore = known.get(patient)?.has(e.principal) === true;
        if (change !== undefined && e.seq > change.seq && e.at - change.at <= windowMs && !seenBefore && e.principal !== change.by) {
          out.push({ rule: 'identity-theft', principal: e.principal, patient, evidence: [change.seq, e.seq], explanation: 'the address or telephone changed, then the record was used by a party that had not used it before' });
          changed.delete(patient);
        }
        if (change === undefined || e.seq < change.seq) remember(patient, e.principal);
      }
      return out;
    },
  };
}
