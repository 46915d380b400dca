import type { Database as Db } from 'better-sqlite3';
import type { CurrentIndexRow } from '../types.js';

/** Rows per page handed to the verifier. */
const PAGE = 256;

type CurrentRaw = [rid: number, deleted: number, committed: Buffer | null];
type HashGroupRaw = [rid: number, hashesJson: string];
type RangeRaw = [rid: number, param: string, lo: number, hi: number, unit: string, unit2: string];

/**
 * One ordered pass over the current resources and their search index rows: three statements,
 * each read in rid order, merged here (a merge join, no query per resource). SQLite turns each
 * resource's hash rows into one string, so 40-odd rows per resource cost one JavaScript value.
 */
export function* scanCurrentIndex(db: Db): Generator<CurrentIndexRow[]> {
  const current = db
    .prepare('SELECT c.rid, c.deleted, v.index_digest FROM resource_current c LEFT JOIN resource_versions v ON v.seq = c.seq ORDER BY c.rid')
    .raw()
    .iterate() as IterableIterator<CurrentRaw>;
  // The rid index holds (rid, hash) in order, so the groups come out sorted without a sort step.
  // Were they ever out of order, the digest would differ and verify would fail: a false alarm, never a false pass.
  // SQLite writes each group as the JSON array the digest covers: hex() per row, the quotes as the
  // separator, lower() once over the whole group (per row it costs more than the scan). Done in
  // JavaScript, the lower-casing and quoting made three copies of every group, and the garbage
  // collector took a sixth of the thread (step 5 on the bench's audit-heavy log: 620 to 700 ms
  // before, 296 to 377 ms after).
  const hashes = db.prepare(`SELECT rid, '["' || lower(group_concat(hex(hash), '","')) || '"]' FROM search_hash GROUP BY rid ORDER BY rid`).raw().iterate() as IterableIterator<HashGroupRaw>;
  const ranges = db.prepare('SELECT rid, param, lo, hi, lower(hex(unit)), lower(hex(unit2)) FROM search_range ORDER BY rid').raw().iterate() as IterableIterator<RangeRaw>;
  try {
    let h = hashes.next();
    let r = ranges.next();
    /** Takes the hash group and the range rows of `rid` (none when the next ones are another's). */
    const take = (rid: number): { hashesJson: string; ranges: CurrentIndexRow['ranges'][number][] } => {
      let hashesJson = '[]';
      if (h.done !== true && h.value[0] === rid) {
        hashesJson = h.value[1];
        h = hashes.next();
      }
      const rangeRows: CurrentIndexRow['ranges'][number][] = [];
      for (; r.done !== true && r.value[0] === rid; r = ranges.next()) rangeRows.push({ param: r.value[1], lo: r.value[2], hi: r.value[3], unit: r.value[4], unit2: r.value[5] });
      return { hashesJson, ranges: rangeRows };
    };
    let page: CurrentIndexRow[] = [];
    for (let c = current.next(); ; c = current.next()) {
      const rid = c.done === true ? Infinity : c.value[0];
      // Index rows of no resource at all were inserted (or left behind). Counts read the index
      // alone, so such rows are reported, as rows of a resource with no committed digest.
      for (let orphan = nextOrphan(h, r, rid); orphan !== undefined; orphan = nextOrphan(h, r, rid)) page.push({ rid: orphan, deleted: false, committed: null, ...take(orphan) });
      if (c.done === true) break;
      const [, deleted, committed] = c.value;
      page.push({ rid, deleted: deleted === 1, committed, ...take(rid) });
      if (page.length >= PAGE) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  } finally {
    // An early stop must release the statements, or the connection stays busy.
    current.return?.();
    hashes.return?.();
    ranges.return?.();
  }
}

/**
 * The next rid below `rid` that the hash or range rows name (no current resource has it), if any.
 * A rid that is not a number (only a tampered row has one: SQLite keeps text that does not read as
 * a number as text, and sorts it after every number) is taken at once, so that it is reported.
 */
function nextOrphan(h: IteratorResult<HashGroupRaw>, r: IteratorResult<RangeRaw>, rid: number): number | undefined {
  const a = h.done === true ? Infinity : h.value[0];
  const b = r.done === true ? Infinity : r.value[0];
  if (typeof a !== 'number') return a;
  if (typeof b !== 'number') return b;
  const lowest = Math.min(a, b);
  return lowest < rid ? lowest : undefined;
}
