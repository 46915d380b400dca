import type { Entry, Finding, Rule } from '../types.js';
import { READS, setting, succeeded, userOf } from './common.js';

const DAY = 86_400_000;

/** One user's history: distinct patients per day, and the hours of day they have worked. */
interface Baseline {
  /** Day number (ms / DAY) → distinct patients that day. */
  readonly days: Map<number, Set<string>>;
  /** Hours of day (UTC, 0..23) seen on days before today. */
  readonly hours: Set<number>;
  /** Hours seen today (they join `hours` when the day is over). */
  today: { day: number; hours: Set<number> };
  /** Days already alerted on, per kind, so one odd day makes one alert of each kind. */
  readonly alerted: Set<string>;
}

/**
 * Unusual volume or hours, against the user's own baseline. Once a user has `minDays` (5) days of
 * history, it fires when they reach more than `factor` (3) times their usual daily number of
 * distinct patients (and more than `floor`, 20), or when they work at an hour of day (UTC) they
 * have never worked in their history. The baseline lives in the engine's memory: it is built
 * again after a restart.
 */
export function unusualActivity(): Rule {
  const users = new Map<string, Baseline>();
  return {
    name: 'unusual-activity',
    description: 'More patients than the user’s own daily norm, or work at hours the user never works',
    defaults: { enabled: true, severity: 'medium', response: 'alert', minDays: 5, factor: 3, floor: 20 },
    async observe(e: Entry, ctx) {
      const user = userOf(e);
      if (user === undefined || !succeeded(e) || !READS.has(e.body.subtype) || e.body.patients.length === 0) return [];
      const day = Math.floor(e.at / DAY);
      const hour = new Date(e.at).getUTCHours();
      let b = users.get(user);
      if (b === undefined) {
        if (users.size > 50_000) users.clear();
        b = { days: new Map(), hours: new Set(), today: { day, hours: new Set() }, alerted: new Set() };
        users.set(user, b);
      }
      if (b.today.day !== day) {
        for (const h of b.today.hours) b.hours.add(h);
        b.today = { day, hours: new Set() };
        // Keep eight weeks of days.
        for (const d of b.days.keys()) if (d < day - 56) b.days.delete(d);
      }
      let seen = b.days.get(day);
      if (seen === undefined) {
        seen = new Set();
        b.days.set(day, seen);
      }
      for (const p of e.body.patients) if (seen.size < 100_000) seen.add(p);
      const history = [...b.days.entries()].filter(([d]) => d < day);
      const out: Finding[] = [];
      if (history.length >= setting(ctx.settings, 'minDays', 5)) {
        const usual = history.reduce((n, [, s]) => n + s.size, 0) / history.length;
        const limit = Math.max(setting(ctx.settings, 'floor', 20), setting(ctx.settings, 'factor', 3) * usual);
        if (seen.size > limit && !b.alerted.has(`volume:${day}`)) {
          b.alerted.add(`volume:${day}`);
          out.push({ rule: 'unusual-activity', principal: e.principal ?? '', evidence: [e.seq], explanation: `${seen.size} distinct patients today against a usual ${Math.round(usual)} a day` });
        }
        if (!b.hours.has(hour) && !b.alerted.has(`hour:${day}:${hour}`)) {
          b.alerted.add(`hour:${day}:${hour}`);
          out.push({ rule: 'unusual-activity', principal: e.principal ?? '', evidence: [e.seq], explanation: `activity at ${String(hour).padStart(2, '0')}:00 UTC, an hour this user has not worked in ${history.length} days of history` });
        }
      }
      b.today.hours.add(hour);
      return out;
    },
  };
}
