/** A closed range of instants in milliseconds since the epoch; open ends are ±Infinity. */
export interface Range {
  readonly lo: number;
  readonly hi: number;
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The range a FHIR date, dateTime or instant covers at its precision (FHIR R4 search 3.1.1.5.3):
 * `2024` is the whole year, `2024-03-05` the whole day (UTC when no zone is given),
 * `2024-03-05T10:00` the whole minute. Returns undefined for anything else.
 */
export function dateRange(text: string): Range | undefined {
  const m = DATE.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo) - 1;
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 0 || month > 11)) return undefined;
  if (day !== undefined && (day < 1 || day > new Date(Date.UTC(year, (month ?? 0) + 1, 0)).getUTCDate())) return undefined;
  const offsetMs = zone === undefined || zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  const utc = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0): number => {
    const t = new Date(0);
    t.setUTCFullYear(yy, mm, dd);
    t.setUTCHours(hh, mn, ss, ms);
    return t.getTime();
  };
  if (month === undefined) return { lo: utc(year, 0, 1), hi: utc(year + 1, 0, 1) - 1 };
  if (day === undefined) return { lo: utc(year, month, 1), hi: utc(year, month + 1, 1) - 1 };
  if (h === undefined || mi === undefined) return { lo: utc(year, month, day), hi: utc(year, month, day + 1) - 1 };
  const hh = Number(h);
  const mn = Number(mi);
  if (hh > 23 || mn > 59) return undefined;
  if (s === undefined) {
    const lo = utc(year, month, day, hh, mn) - offsetMs;
    return { lo, hi: lo + 60_000 - 1 };
  }
  const ss = Number(s);
  if (ss > 59) return undefined;
  if (frac === undefined) {
    const lo = utc(year, month, day, hh, mn, ss) - offsetMs;
    return { lo, hi: lo + 1000 - 1 };
  }
  const digits = Math.min(frac.length, 3);
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const lo = utc(year, month, day, hh, mn, ss, ms) - offsetMs;
  return { lo, hi: lo + 10 ** (3 - digits) - 1 };
}
