import type { Rule } from '../types.js';
import { READS, succeeded, userOf } from './common.js';

/**
 * Explained access: a user whose role reaches every patient (front desk, billing, privacy) opens
 * one patient's record, and nothing in the record explains it: no care relationship, no
 * appointment or encounter within two days, no claim or account.
 */
export const unexplainedAccess: Rule = {
  name: 'unexplained-access',
  description: 'A patient record opened with no care relationship, appointment, encounter, claim or account to explain it',
  defaults: { enabled: true, severity: 'medium', response: 'alert' },
  async observe(e, ctx) {
    const user = userOf(e);
    // Reads of one patient: searches over many patients are the bulk rules' business.
    if (user === undefined || !succeeded(e) || !READS.has(e.body.subtype) || e.body.patients.length !== 1) return [];
    if (e.body.decision !== 'role') return [];
    const patient = e.body.patients[0] ?? '';
    const fhirUser = await ctx.facts.userFhirUser(user);
    if ((await ctx.facts.explained(e.principal ?? '', patient, fhirUser)) !== undefined) return [];
    return [{ rule: 'unexplained-access', principal: e.principal ?? '', patient, evidence: [e.seq], explanation: 'no care relationship, appointment, encounter, claim or account explains this access' }];
  },
};
