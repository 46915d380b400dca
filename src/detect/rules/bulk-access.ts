import type { Entry, Finding, Rule } from '../types.js';
import { SlidingWindows, distinct } from '../window.js';
import { READS, setting, succeeded } from './common.js';


/**
 * Bulk theft and scraping: one principal reaching more distinct patients, or pulling more
 * resources, in five minutes than care work does (`patients`, default 40; `resources`, default
 * 2000). A ward's worth of charts is tens of patients an hour, not hundreds in minutes.
 */
export function bulkAccess(): Rule {
  const patients = new SlidingWindows<string>(5 * 60_000);
  const resources = new SlidingWindows<number>(5 * 60_000);
  return {
    name: 'bulk-access',
    description: 'Too many patients or records reached by one principal in five minutes (bulk theft, scraping)',
    defaults: { enabled: true, severity: 'high', response: 'alert', patients: 40, resources: 2000 },
    async observe(e: Entry, ctx) {
      if (e.principal === undefined || !succeeded(e) || !READS.has(e.body.subtype)) return [];
      const out: Finding[] = [];
      let window = patients.add(e.principal, e.at, '', e.seq);
      for (const p of e.body.patients) window = patients.add(e.principal, e.at, p, e.seq);
      const seen = distinct(window);
      seen.delete('');
      if (seen.size > setting(ctx.settings, 'patients', 40)) {
        out.push({ rule: 'bulk-access', principal: e.principal, evidence: [...new Set(window.map((w) => w.seq))], explanation: `${seen.size} distinct patients reached in five minutes` });
        patients.reset(e.principal);
      }
      const volume = resources.add(e.principal, e.at, e.body.entities.length, e.seq);
      const total = volume.reduce((n, v) => n + v.value, 0);
      if (total > setting(ctx.settings, 'resources', 2000)) {
        out.push({ rule: 'bulk-access', principal: e.principal, evidence: [...new Set(volume.map((w) => w.seq))], explanation: `${total} records disclosed in five minutes` });
        resources.reset(e.principal);
      }
      return out;
    },
  };
}
