import type { Database as Db } from 'better-sqlite3';

/**
 * Up to this many rows, a table whose statistics have drifted is analysed by SQLite itself. Above
 * it, by estimate: SQLite's ANALYZE counts every entry of every index exactly (this build has
 * STAT4), whatever analysis_limit says, so on a 100,000-patient store the first open after an
 * import read 28.5 GB and took 219 s, holding the write lock.
 */
export const ANALYZE_ROWS = 200_000;
/** Index entries read per index between checks, as SQLite's own analysis_limit would. */
const SAMPLE_ENTRIES = 1000;
/** Resources whose search rows are counted to estimate the size of a search table. */
const SAMPLE_RIDS = 128;
/** Statistics are refreshed when a table's size differs from theirs by this factor or more. */
const DRIFT = 2;

/** Tables that are only appended to: their row count is the span of their rowids. */
const APPEND_ONLY = new Set(['resource_versions', 'resource_current', 'audit_events', 'log_leaves', 'rewraps']);
/** Search tables keyed by resource_current.rid: rows per resource, sampled, times the resources. */
const PER_RESOURCE = new Set(['search_hash', 'search_range']);

/** What a refresh did: tables analysed by SQLite and tables given estimated statistics. */
export interface StatisticsReport {
  readonly analyzed: readonly string[];
  readonly estimated: readonly string[];
}

/**
 * Brings the query planner's statistics (sqlite_stat1) in line with the size of each table,
 * reading a bounded amount whatever the size of the store: one index probe per estimate, a
 * thousand entries per index, and an ANALYZE only of tables under `analyzeRows` rows. The
 * connection that runs it plans with the new statistics; others must reload them.
 */
export function refreshStatistics(db: Db, analyzeRows = ANALYZE_ROWS): StatisticsReport {
  db.pragma(`analysis_limit = ${SAMPLE_ENTRIES}`);
  const analyzed: string[] = [];
  const estimated: string[] = [];
  const tables = db.prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string; wr: number }[];
  for (const { name, wr } of tables) {
    const rows = estimateRows(db, name, analyzeRows);
    if (!drifted(rows, statRows(db, name), analyzeRows)) continue;
    if (rows <= analyzeRows) {
      db.exec(`ANALYZE ${quote(name)}`);
      analyzed.push(name);
    } else {
      // A table that stopped the capped count has more rows than that: the cap stands in for them.
      writeEstimate(db, name, wr === 1, Number.isFinite(rows) ? rows : analyzeRows + 1);
      estimated.push(name);
    }
  }
  // ANALYZE loads what it wrote; rows written by hand are loaded by this.
  if (estimated.length > 0) db.exec('ANALYZE sqlite_schema');
  return { analyzed, estimated };
}

/** The row count sqlite_stat1 holds for `table` (undefined when it has none). */
function statRows(db: Db, table: string): number | undefined {
  if (!hasStatTable(db)) return undefined;
  const rows = db.prepare('SELECT stat FROM sqlite_stat1 WHERE tbl = ?').all(table) as { stat: string }[];
  if (rows.length === 0) return undefined;
  return Math.max(...rows.map((r) => Number.parseInt(r.stat, 10) || 0));
}

function hasStatTable(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").get() !== undefined;
}

/**
 * Whether the statistics no longer describe a table of `rows` rows. A table that has grown past
 * the count cap is not compared again once its statistics are past the cap too.
 */
function drifted(rows: number, stat: number | undefined, analyzeRows: number): boolean {
  if (stat === undefined) return rows > 0;
  if (!Number.isFinite(rows) && stat > analyzeRows) return false;
  const ratio = Math.max(rows, 1) / Math.max(stat, 1);
  return ratio >= DRIFT || ratio <= 1 / DRIFT;
}

/**
 * Rows in `table`, read without a scan: the span of the rowids of a table only appended to, the
 * sampled rows per resource of a search table, or a count stopped just past `analyzeRows` for the
 * rest (Infinity when it stopped there).
 */
function estimateRows(db: Db, table: string, analyzeRows: number): number {
  if (APPEND_ONLY.has(table)) return spanOf(rowids(db, table));
  if (PER_RESOURCE.has(table)) {
    const range = rowids(db, 'resource_current');
    const resources = spanOf(range);
    if (range === undefined || resources === 0) return 0;
    const { lo } = range;
    const count = db.prepare(`SELECT COUNT(*) AS n FROM ${quote(table)} WHERE rid = ?`).pluck();
    let sampled = 0;
    for (let i = 0; i < SAMPLE_RIDS; i++) sampled += count.get(lo + Math.floor(((i + 0.5) * resources) / SAMPLE_RIDS)) as number;
    return Math.round((sampled / SAMPLE_RIDS) * resources);
  }
  const n = db.prepare(`SELECT COUNT(*) FROM (SELECT 1 FROM ${quote(table)} LIMIT ?)`).pluck().get(analyzeRows + 1) as number;
  return n > analyzeRows ? Number.POSITIVE_INFINITY : n;
}

/** The lowest and highest rowid, as two queries: SQLite reads one end of the b-tree for a lone MIN or MAX, but scans it for both. */
function rowids(db: Db, table: string): { lo: number; hi: number } | undefined {
  const lo = db.prepare(`SELECT MIN(rowid) FROM ${quote(table)}`).pluck().get() as number | null;
  const hi = db.prepare(`SELECT MAX(rowid) FROM ${quote(table)}`).pluck().get() as number | null;
  return lo === null || hi === null ? undefined : { lo, hi };
}

/** Rows between the lowest and highest rowid (0 for an empty table). */
function spanOf(range: { lo: number; hi: number } | undefined): number {
  return range === undefined ? 0 : range.hi - range.lo + 1;
}

/**
 * Writes the sqlite_stat1 rows that ANALYZE with analysis_limit would write, with `rows` for the
 * count in place of SQLite's exact one. Partial indexes are left without statistics (the planner
 * then assumes its defaults for them).
 */
function writeEstimate(db: Db, table: string, withoutRowid: boolean, rows: number): void {
  const stats: { idx: string | null; stat: string }[] = [];
  const indexes = db.prepare('SELECT name, origin, partial FROM pragma_index_list(?)').all(table) as { name: string; origin: string; partial: number }[];
  for (const index of indexes) {
    if (index.partial === 1) continue;
    const columns = (db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(index.name) as { name: string }[]).map((c) => quote(c.name));
    const { examined, averages } = sampleIndex(db, table, index.name, columns);
    // A WITHOUT ROWID table's primary key is the table itself, and ANALYZE names it so.
    const idx = withoutRowid && index.origin === 'pk' ? table : index.name;
    stats.push({ idx, stat: [examined > SAMPLE_ENTRIES ? rows : examined, ...averages].join(' ') });
  }
  if (stats.length === 0) stats.push({ idx: null, stat: String(rows) });
  if (!hasStatTable(db)) db.exec('ANALYZE sqlite_schema');
  db.transaction(() => {
    db.prepare('DELETE FROM sqlite_stat1 WHERE tbl = ?').run(table);
    const insert = db.prepare('INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)');
    for (const s of stats) insert.run(table, s.idx, s.stat);
  })();
}

/**
 * Walks an index from its start as ANALYZE does under analysis_limit: after each thousand
 * entries it stops if it has seen two values of the first column, and otherwise skips to the next
 * value of it. Gives the entries examined and, per prefix of the key, the average entries per
 * distinct value among them.
 */
function sampleIndex(db: Db, table: string, index: string, columns: readonly string[]): { examined: number; averages: number[] } {
  const key = columns.join(', ');
  const from = `SELECT ${key} FROM ${quote(table)} INDEXED BY ${quote(index)}`;
  const distinct = columns.map(() => 0);
  let examined = 0;
  let skips = 0;
  let previous: string[] | undefined;
  let after: { value: unknown } | undefined;
  for (;;) {
    const sql = after === undefined ? `${from} ORDER BY ${key}` : `${from} WHERE ${columns[0]} > ? ORDER BY ${key}`;
    const statement = db.prepare(sql).raw();
    const entries = (after === undefined ? statement.iterate() : statement.iterate(after.value)) as IterableIterator<unknown[]>;
    after = undefined;
    for (const entry of entries) {
      // Blobs serialise by their bytes (Buffer.toJSON), so equal values give equal strings.
      const prefixes = entry.map((_v, k) => JSON.stringify(entry.slice(0, k + 1)));
      const changed = previous === undefined ? 0 : prefixes.findIndex((p, k) => p !== previous?.[k]);
      if (previous === undefined) distinct.fill(1);
      else if (changed >= 0) for (let k = changed; k < distinct.length; k++) distinct[k] = (distinct[k] ?? 0) + 1;
      previous = prefixes;
      examined++;
      if (examined <= SAMPLE_ENTRIES * (skips + 1)) continue;
      skips++;
      if ((distinct[0] ?? 0) <= 1 && entry[0] !== null) after = { value: entry[0] };
      break;
    }
    if (after === undefined) break;
  }
  const averages = distinct.map((d) => {
    const average = Math.floor((examined + d - 1) / Math.max(d, 1));
    // SQLite's rounding: an average just over one, from a nearly unique prefix, counts as one.
    return average === 2 && examined * 10 <= d * 11 ? 1 : Math.max(average, 1);
  });
  return { examined, averages };
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
