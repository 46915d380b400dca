import type { Entry, Finding, Rule } from '../types.js';
import { SlidingWindows } from '../window.js';
import { parseEntity, setting } from './common.js';


/**
 * Ransomware-like bursts: one principal updating or deleting many records in a minute (default
 * 30), or overwriting clinical text with high-entropy content (default 3 writes whose free text
 * is at least 200 characters at 5.0 bits per character or more: encrypted or encoded data, not
 * prose, which stays near 4.2). The default answer is read-only mode.
 */
export function ransomwareBurst(): Rule {
  const writes = new SlidingWindows<string>(60_000);
  const scrambled = new SlidingWindows<string>(60_000);
  return {
    name: 'ransomware-burst',
    description: 'Many updates or deletes by one principal in a minute, or clinical text overwritten with high-entropy content',
    defaults: { enabled: true, severity: 'critical', response: 'read-only', writes: 30, entropyWrites: 3, bits: 5.0, minLength: 200 },
    async observe(e: Entry, ctx) {
      if (e.principal === undefined || e.body.type !== 'rest' || e.body.outcome !== '0') return [];
      if (e.body.action !== 'U' && e.body.action !== 'D' && e.body.subtype !== 'batch-transaction') return [];
      const out: Finding[] = [];
      const touched = e.body.entities.map(parseEntity).filter((p) => p?.versionId !== undefined && (e.body.action !== 'C' || p.versionId > 1));
      let window: readonly { seq: number; value: string }[] = [];
      for (const p of touched) if (p !== undefined && (p.versionId ?? 1) > 1) window = writes.add(e.principal, e.at, `${p.type}/${p.id}`, e.seq);
      if (window.length >= setting(ctx.settings, 'writes', 30)) {
        out.push({ rule: 'ransomware-burst', principal: e.principal, evidence: [...new Set(window.map((w) => w.seq))], explanation: `${window.length} records updated or deleted in one minute` });
        writes.reset(e.principal);
      }
      for (const p of touched) {
        if (p === undefined || e.body.action === 'D' || (p.versionId ?? 1) < 2) continue;
        const text = await ctx.facts.writtenTextEntropy(p.type, p.id, p.versionId ?? 1);
        if (text === undefined || text.length < setting(ctx.settings, 'minLength', 200) || text.bits < setting(ctx.settings, 'bits', 5.0)) continue;
        const w = scrambled.add(e.principal, e.at, `${p.type}/${p.id}`, e.seq);
        if (w.length >= setting(ctx.settings, 'entropyWrites', 3)) {
          out.push({ rule: 'ransomware-burst', principal: e.principal, evidence: [...new Set(w.map((x) => x.seq))], explanation: `${w.length} records had their text overwritten with high-entropy content in one minute` });
          scrambled.reset(e.principal);
        }
      }
      return out;
    },
  };
}
