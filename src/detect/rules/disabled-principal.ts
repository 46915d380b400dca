import type { Rule } from '../types.js';
import { userOf } from './common.js';

/** A disabled user's or client's token still being used: someone holds credentials that should be dead. */
export const disabledPrincipal: Rule = {
  name: 'disabled-principal',
  description: 'Activity of a disabled user or client',
  defaults: { enabled: true, severity: 'high', response: 'alert' },
  async observe(e, ctx) {
    if (e.body.decision !== 'revoked' || e.principal === undefined) return [];
    const user = userOf(e);
    if (user !== undefined) {
      if (!(await ctx.facts.userDisabled(user))) return [];
      return [{ rule: 'disabled-principal', principal: e.principal, evidence: [e.seq], explanation: 'a request came with the token of a disabled user' }];
    }
    const client = e.body.client;
    if (client === undefined || !(await ctx.facts.clientDisabled(client))) return [];
    return [{ rule: 'disabled-principal', principal: e.principal, evidence: [e.seq], explanation: 'a request came with the token or secret of a disabled client' }];
  },
};
