import type { Rule } from '../types.js';
import { SlidingWindows } from '../window.js';
import { setting } from './common.js';

const FAILED = new Set(['login-failed', 'mfa-failed', 'mfa-enrol-failed']);

/**
 * Brute force and credential stuffing: failed sign-ins from one address (default 10 in ten
 * minutes), or failures across several accounts from one address (default 4 distinct accounts).
 * The lockout slows each account; this names the source. Stuffing spread over many addresses (a
 * botnet) shows as a wave: `wave` (default 60) failures from at least `waveAddresses` (default
 * 10) addresses in ten minutes, named `address/*`.
 */
export function bruteForce(): Rule {
  const byAddress = new SlidingWindows<string>(10 * 60_000);
  const everywhere = new SlidingWindows<string>(10 * 60_000, 1);
  return {
    name: 'brute-force',
    description: 'Many failed sign-ins from one address, or failures across several accounts (credential stuffing)',
    defaults: { enabled: true, severity: 'high', response: 'alert', failures: 10, accounts: 4, wave: 60, waveAddresses: 10 },
    async observe(e, ctx) {
      const failedToken = e.body.subtype === 'token' && e.body.outcome !== '0' && e.body.status === 401;
      if (!FAILED.has(e.body.subtype) && !failedToken) return [];
      const address = e.body.address ?? 'unknown';
      const all = everywhere.add('*', e.at, address, e.seq);
      const sources = new Set(all.map((w) => w.value));
      if (all.length >= setting(ctx.settings, 'wave', 60) && sources.size >= setting(ctx.settings, 'waveAddresses', 10)) {
        everywhere.reset('*');
        return [{ rule: 'brute-force', principal: 'address/*', evidence: all.map((w) => w.seq), explanation: `${all.length} failed sign-ins from ${sources.size} addresses in ten minutes: credential stuffing spread over many sources` }];
      }
      const window = byAddress.add(address, e.at, e.body.user ?? e.body.client ?? '', e.seq);
      const accounts = new Set(window.map((w) => w.value).filter((v) => v !== ''));
      const tooMany = window.length >= setting(ctx.settings, 'failures', 10);
      const stuffing = accounts.size >= setting(ctx.settings, 'accounts', 4);
      if (!tooMany && !stuffing) return [];
      byAddress.reset(address);
      return [{
        rule: 'brute-force',
        principal: `address/${address}`,
        evidence: window.map((w) => w.seq),
        explanation: stuffing ? `failed sign-ins for ${accounts.size} different accounts from one address` : `${window.length} failed sign-ins from one address in ten minutes`,
      }];
    },
  };
}
