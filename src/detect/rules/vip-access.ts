import type { Rule } from '../types.js';
import { READS, succeeded, userOf } from './common.js';

/**
 * A flagged (VIP) patient's record opened by someone not treating them and with no other reason
 * in the record (appointment, encounter, claim, account). Flag a patient with `meta.tag` code `VIP`.
 */
export const vipAccess: Rule = {
  name: 'vip-access',
  description: 'A VIP-flagged patient record opened without a care relationship',
  defaults: { enabled: true, severity: 'high', response: 'alert' },
  async observe(e, ctx) {
    if (userOf(e) === undefined || !succeeded(e) || !READS.has(e.body.subtype)) return [];
    const decisions = (e.body.decision ?? '').split(',');
    if (decisions.includes('care-relationship') || decisions.includes('own-record')) return [];
    const out = [];
    const user = userOf(e);
    for (const patient of e.body.patients) {
      if (!(await ctx.facts.isVip(patient))) continue;
      if ((await ctx.facts.explained(e.principal ?? '', patient, await ctx.facts.userFhirUser(user ?? ''))) !== undefined) continue;
      out.push({ rule: 'vip-access', principal: e.principal ?? '', patient, evidence: [e.seq], explanation: 'a VIP-flagged record was opened by someone not treating the patient, with no appointment, encounter, claim or account to explain it' });
    }
    return out;
  },
};
