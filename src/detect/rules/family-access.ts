import type { Rule } from '../types.js';
import { READS, succeeded, userOf } from './common.js';

/** Staff opening the record of someone with their surname or address (family, neighbour), without a care relationship. */
export const familyAccess: Rule = {
  name: 'family-access',
  description: 'A record of someone with the user’s surname or home address, opened without a care relationship',
  defaults: { enabled: true, severity: 'high', response: 'alert' },
  async observe(e, ctx) {
    const user = userOf(e);
    if (user === undefined || !succeeded(e) || !READS.has(e.body.subtype) || e.body.patients.length > 3) return [];
    if ((e.body.decision ?? '').split(',').includes('care-relationship')) return [];
    const out = [];
    for (const patient of e.body.patients) {
      const tie = await ctx.facts.personalTie(user, patient);
      if (tie === 'same-surname' || tie === 'same-address') {
        out.push({ rule: 'family-access', principal: e.principal ?? '', patient, evidence: [e.seq], explanation: `the patient shares the user’s ${tie === 'same-surname' ? 'surname' : 'home address'} and no care relationship explains the access` });
      }
    }
    return out;
  },
};
