import type { Rule } from '../types.js';
import { userOf } from './common.js';

/** A disabled user's token still being used: someone holds credentials that should be dead. */
export const disabledPrincipal: Rule = {
  name: 'disabled-principal',
  description: 'Activity of a disabled user',
  defaults: { enabled: true, severity: 'high', response: 'alert' },
  async observe(e, ctx) {
    const user = userOf(e);
    if (user === undefined || e.body.decision !== 'revoked') return [];
    if (!(await ctx.facts.userDisabled(user))) return [];
    return [{ rule: 'disabled-principal', principal: e.principal ?? '', evidence: [e.seq], explanation: 'a request came with the token of a disabled user' }];
  },
};
