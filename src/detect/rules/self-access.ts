import type { Rule } from '../types.js';
import { READS, succeeded, userOf } from './common.js';

/** A member of staff opening their own patient record through their work account (same name and birth date). */
export const selfAccess: Rule = {
  name: 'self-access',
  description: 'A member of staff opened their own patient record with their work account',
  defaults: { enabled: true, severity: 'medium', response: 'alert' },
  async observe(e, ctx) {
    const user = userOf(e);
    if (user === undefined || !succeeded(e) || !READS.has(e.body.subtype) || e.body.patients.length > 3) return [];
    const out = [];
    for (const patient of e.body.patients) {
      if ((await ctx.facts.personalTie(user, patient)) === 'self') {
        out.push({ rule: 'self-access', principal: e.principal ?? '', patient, evidence: [e.seq], explanation: 'the patient has the user’s own name and birth date: staff use the patient portal for their own record' });
      }
    }
    return out;
  },
};
