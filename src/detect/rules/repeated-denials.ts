import type { Rule } from '../types.js';
import { SlidingWindows } from '../window.js';
import { setting } from './common.js';

/** Refusals that look like probing: hidden or missing records, forbidden writes, scopes not held. */
const PROBING = new Set(['ERR_NOT_FOUND', 'ERR_ACCESS_DENIED', 'ERR_SCOPE', 'ERR_GONE']);

/** One principal refused again and again (default 8 in five minutes): walking other patients' ids. */
export function repeatedDenials(): Rule {
  const denials = new SlidingWindows<string>(5 * 60_000);
  return {
    name: 'repeated-denials',
    description: 'Repeated refusals for one principal: probing for records it may not see',
    defaults: { enabled: true, severity: 'high', response: 'alert', count: 8 },
    async observe(e, ctx) {
      if (e.principal === undefined || e.body.type !== 'rest' || e.body.outcome === '0') return [];
      if (!PROBING.has(e.body.reason ?? '')) return [];
      const window = denials.add(e.principal, e.at, e.body.entities[0] ?? '', e.seq);
      if (window.length < setting(ctx.settings, 'count', 8)) return [];
      denials.reset(e.principal);
      return [{ rule: 'repeated-denials', principal: e.principal, evidence: window.map((w) => w.seq), explanation: `${window.length} refused requests in five minutes, ${new Set(window.map((w) => w.value)).size} different records` }];
    },
  };
}
