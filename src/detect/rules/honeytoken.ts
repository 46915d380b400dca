import type { Rule } from '../types.js';
import { parseEntity } from './common.js';

/**
 * Honeytoken patients are decoys no legitimate work touches (`vigil honeytokens plant`): any
 * access to one, by anyone, allowed or refused, is critical. A search that lists a decoy counts.
 */
export const honeytoken: Rule = {
  name: 'honeytoken',
  description: 'Any access to a decoy patient record',
  defaults: { enabled: true, severity: 'critical', response: 'lock' },
  async observe(e, ctx) {
    // Creating a record is how decoys are planted; touching one that exists is what gives an intruder away.
    if (e.principal === undefined || e.body.type !== 'rest' || e.body.action === 'C') return [];
    const patients = new Set(e.body.patients);
    for (const entity of e.body.entities) {
      const p = parseEntity(entity);
      if (p?.type === 'Patient') patients.add(p.id);
    }
    const out = [];
    for (const patient of patients) {
      if (await ctx.facts.isHoneytoken(patient)) {
        out.push({ rule: 'honeytoken', principal: e.principal, patient, evidence: [e.seq], explanation: 'a decoy record that no care, billing or registration work ever touches was accessed' });
      }
    }
    return out;
  },
};
