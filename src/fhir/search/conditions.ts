import { VigilError } from '../../errors.js';
import type { RangeCondition } from '../../store/index.js';
import { dateRange, type Range } from './dates.js';
import type { Prefix } from './parse.js';

/**
 * Range semantics of FHIR R4 search prefixes (section 3.1.1.4), for a target range [lo, hi] and
 * a search range [qlo, qhi] (both closed):
 *   eq: the search range contains the target   ne: it does not
 *   gt: the target reaches above the search    lt: the target reaches below the search
 *   ge: gt, or eq                               le: lt, or eq
 *   sa: the target starts after the search      eb: the target ends before the search
 *   ap: the target overlaps the search widened by 10% of its distance from now (at least a day)
 * `ne` is returned as eq with negate = true.
 */
export function rangeConditions(prefix: Prefix, q: Range, now: number): { any: RangeCondition[]; negate: boolean } {
  const eq: RangeCondition = { loGte: q.lo, hiLte: q.hi };
  switch (prefix) {
    case 'eq':
      return { any: [eq], negate: false };
    case 'ne':
      return { any: [eq], negate: true };
    case 'gt':
      return { any: [{ hiGt: q.hi }], negate: false };
    case 'lt':
      return { any: [{ loLt: q.lo }], negate: false };
    case 'ge':
      return { any: [{ hiGt: q.hi }, eq], negate: false };
    case 'le':
      return { any: [{ loLt: q.lo }, eq], negate: false };
    case 'sa':
      return { any: [{ loGt: q.hi }], negate: false };
    case 'eb':
      return { any: [{ hiLt: q.lo }], negate: false };
    case 'ap': {
      const w = approximateWindow(q, now);
      return { any: [{ loLte: w.hi, hiGte: w.lo }], negate: false };
    }
  }
}

/** The widened search range of `ap` for dates. */
export function approximateWindow(q: Range, now: number): Range {
  const distance = Math.max(Math.abs(now - q.lo), Math.abs(now - q.hi));
  const slack = Math.max(0.1 * distance, 86_400_000);
  return { lo: q.lo - slack, hi: q.hi + slack };
}

/** Does a target range satisfy a prefix against a search range? The in-memory twin of rangeConditions. */
export function rangeMatches(prefix: Prefix, target: Range, q: Range, now: number): boolean {
  const contained = target.lo >= q.lo && target.hi <= q.hi;
  switch (prefix) {
    case 'eq':
      return contained;
    case 'ne':
      return !contained;
    case 'gt':
      return target.hi > q.hi;
    case 'lt':
      return target.lo < q.lo;
    case 'ge':
      return target.hi > q.hi || contained;
    case 'le':
      return target.lo < q.lo || contained;
    case 'sa':
      return target.lo > q.hi;
    case 'eb':
      return target.hi < q.lo;
    case 'ap': {
      const w = approximateWindow(q, now);
      return target.lo <= w.hi && target.hi >= w.lo;
    }
  }
}

export function parseDateValue(text: string): Range {
  const r = dateRange(text);
  if (r === undefined) throw new VigilError('ERR_BAD_REQUEST', 'A date search value is not a FHIR date, dateTime or instant');
  return r;
}

/**
 * A number's implicit range from its precision (FHIR R4 3.1.1.4.2): `100` is [99.5, 100.5),
 * `100.00` is [99.995, 100.005). Closed here with a tiny epsilon below the upper bound.
 */
export function numberRange(text: string): { value: number; range: Range } {
  if (!/^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new VigilError('ERR_BAD_REQUEST', 'A number search value is not a number');
  const value = Number(text);
  const mantissa = text.split(/[eE]/)[0] ?? text;
  const exponent = Number(text.split(/[eE]/)[1] ?? '0');
  const decimals = (mantissa.split('.')[1] ?? '').length;
  const half = 0.5 * 10 ** (exponent - decimals);
  return { value, range: { lo: value - half, hi: value + half - Math.abs(value + half) * 1e-12 - 1e-300 } };
}

/**
 * Number and quantity semantics: `eq` and `ne` use the implicit precision range; the ordering
 * prefixes compare with the value itself; `ap` allows 10% of the value.
 */
export function numberConditions(prefix: Prefix, text: string): { any: RangeCondition[]; negate: boolean; test: (v: number) => boolean } {
  const { value, range } = numberRange(text);
  switch (prefix) {
    case 'eq':
      return { any: [{ loGte: range.lo, loLte: range.hi }], negate: false, test: (v) => v >= range.lo && v <= range.hi };
    case 'ne':
      return { any: [{ loGte: range.lo, loLte: range.hi }], negate: true, test: (v) => !(v >= range.lo && v <= range.hi) };
    case 'gt':
    case 'sa':
      return { any: [{ loGt: value }], negate: false, test: (v) => v > value };
    case 'lt':
    case 'eb':
      return { any: [{ loLt: value }], negate: false, test: (v) => v < value };
    case 'ge':
      return { any: [{ loGte: value }], negate: false, test: (v) => v >= value };
    case 'le':
      return { any: [{ loLte: value }], negate: false, test: (v) => v <= value };
    case 'ap': {
      const slack = Math.abs(value) * 0.1;
      return { any: [{ loGte: value - slack, loLte: value + slack }], negate: false, test: (v) => v >= value - slack && v <= value + slack };
    }
  }
}
