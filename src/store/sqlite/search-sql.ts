import { VigilError } from '../../errors.js';
import type { CandidateQuery, RangeCondition, SearchClause } from '../types.js';

interface Sql {
  readonly sql: string;
  readonly args: unknown[];
}

const COMPARISONS: [keyof RangeCondition, string][] = [
  ['loGte', 'lo >= ?'],
  ['loGt', 'lo > ?'],
  ['loLte', 'lo <= ?'],
  ['loLt', 'lo < ?'],
  ['hiGte', 'hi >= ?'],
  ['hiGt', 'hi > ?'],
  ['hiLte', 'hi <= ?'],
  ['hiLt', 'hi < ?'],
];

/** One range condition as SQL over columns `lo`, `hi` (or one column for both, e.g. last_updated). */
function rangeSql(c: RangeCondition, lo: string, hi: string, value: (n: number) => unknown): Sql {
  const parts: string[] = [];
  const args: unknown[] = [];
  for (const [key, op] of COMPARISONS) {
    const v = c[key];
    if (typeof v !== 'number') continue;
    parts.push(op.replace('lo', lo).replace('hi', hi));
    args.push(value(v));
  }
  if (c.unit !== undefined) {
    parts.push('unit = ?');
    args.push(c.unit);
  }
  if (c.unit2 !== undefined) {
    parts.push('unit2 = ?');
    args.push(c.unit2);
  }
  if (c.bits !== undefined) {
    parts.push(`(CAST(${lo} AS INTEGER) & ?) != 0`);
    args.push(c.bits);
  }
  return { sql: parts.length === 0 ? '1' : parts.join(' AND '), args };
}

/** No clause read into a temporary index (`listed`) when walking by id. */
const NONE_LISTED: ReadonlySet<SearchClause> = new Set();

/** Hash clauses of at most this many hashes are looked up per resource when walking by id (unless `listed`). */
const LOOKUP_HASHES = 16;

/**
 * A range clause is checked per candidate (EXISTS over the rid index) when a hash or id clause
 * already narrows the candidates; on its own it lists its matches (IN), since it must drive.
 */
function clauseSql(q: CandidateQuery, clause: SearchClause, narrowed = false, scanById = false, listed: ReadonlySet<SearchClause> = NONE_LISTED): Sql {
  const not = 'negate' in clause && clause.negate === true ? 'NOT ' : '';
  switch (clause.kind) {
    case 'none':
      return { sql: '0', args: [] };
    case 'any': {
      const groups = clause.groups.map((g) => g.map((c) => clauseSql(q, c, narrowed, scanById, listed)));
      return {
        sql: `(${groups.map((g) => `(${g.map((c) => c.sql).join(' AND ') || '1'})`).join(' OR ') || '0'})`,
        args: groups.flatMap((g) => g.flatMap((c) => c.args)),
      };
    }
    case 'id':
      return { sql: `rc.id ${not}IN (${clause.ids.map(() => '?').join(', ') || 'NULL'})`, args: [...clause.ids] };
    case 'hash': {
      const list = clause.hashes.map(() => '?').join(', ') || 'NULL';
      // Scanning by id, each resource walked is looked up in the (hash, rid) key: listing the hash's
      // rows first would read every one of them (a common code has hundreds of thousands) for one page.
      // A long list (every year bucket from 1960 on) would cost a lookup per hash per resource, and a
      // clause of a few thousand matches is cheaper read once into a temporary index: listed.
      if (scanById && not === '' && clause.hashes.length <= LOOKUP_HASHES && !listed.has(clause)) return { sql: `EXISTS (SELECT 1 FROM search_hash sh WHERE sh.hash IN (${list}) AND sh.rid = rc.rid)`, args: [...clause.hashes] };
      // The hash already binds tenant (by key), type and parameter. Scanning by id, the unary plus
      // keeps SQLite from driving the query from this list (see candidateRowsSql).
      return { sql: `${scanById && not === '' ? '+' : ''}rc.rid ${not}IN (SELECT rid FROM search_hash WHERE hash IN (${list}))`, args: [...clause.hashes] };
    }
    case 'range': {
      const alts = clause.any.map((c) => rangeSql(c, 'lo', 'hi', (n) => n));
      const test = alts.map((a) => `(${a.sql})`).join(' OR ') || '0';
      const args = [`${q.type}.${clause.param}`, ...alts.flatMap((a) => a.args)];
      if (narrowed) return { sql: `${not}EXISTS (SELECT 1 FROM search_range sr WHERE sr.rid = rc.rid AND sr.param = ? AND (${test}))`, args };
      return { sql: `rc.rid ${not}IN (SELECT rid FROM search_range WHERE param = ? AND (${test}))`, args };
    }
    case 'lastUpdated': {
      const iso = (n: number): string => new Date(Math.max(-8.64e15, Math.min(8.64e15, n))).toISOString();
      const alts = clause.any.map((c) => rangeSql(c, 'rc.last_updated', 'rc.last_updated', iso));
      return { sql: `${not}(${alts.map((a) => `(${a.sql})`).join(' OR ') || '0'})`, args: alts.flatMap((a) => a.args) };
    }
  }
}

function whereSql(q: Omit<CandidateQuery, 'limit' | 'order'>, scanById = false, listed: ReadonlySet<SearchClause> = NONE_LISTED): Sql & { from: string } {
  const parts = ['rc.tenant = ?', 'rc.type = ?', 'rc.deleted = 0'];
  const args: unknown[] = [q.tenant, q.type];
  const narrowed = q.clauses.some((c) => (c.kind === 'hash' && c.negate !== true) || (c.kind === 'id' && c.negate !== true));
  addClauses(q, q.clauses, parts, args, narrowed, scanById, listed);
  if (q.afterId !== undefined) {
    parts.push('rc.id > ?');
    args.push(q.afterId);
  }
  if (q.beforeId !== undefined) {
    parts.push('rc.id < ?');
    args.push(q.beforeId);
  }
  if (q.afterRid !== undefined) {
    parts.push('rc.rid > ?');
    args.push(q.afterRid);
  }
  if (q.beforeRid !== undefined) {
    parts.push('rc.rid < ?');
    args.push(q.beforeRid);
  }
  return { from: 'resource_current rc', sql: parts.join(' AND '), args };
}

/** Appends the SQL of each clause, AND-ed, to `parts` and its arguments to `args`. */
function addClauses(q: Omit<CandidateQuery, 'limit' | 'order'>, clauses: readonly SearchClause[], parts: string[], args: unknown[], narrowed: boolean, scanById: boolean, listed: ReadonlySet<SearchClause> = NONE_LISTED): void {
  for (const clause of clauses) {
    const c = clauseSql(q as CandidateQuery, clause, narrowed, scanById, listed);
    parts.push(c.sql);
    args.push(...c.args);
  }
}

const ORDER: Record<CandidateQuery['order'], string> = {
  rid: 'rc.rid ASC',
  'rid-desc': 'rc.rid DESC',
  id: 'rc.id ASC',
  'id-desc': 'rc.id DESC',
  lastUpdated: 'rc.last_updated ASC, rc.id ASC',
  'lastUpdated-desc': 'rc.last_updated DESC, rc.id DESC',
};

/** The columns of a page of resource_current rows, and of the versions fetched for them. */
const PAGE_COLUMNS = 'rc.seq, rc.tenant, rc.type, rc.id, rc.last_updated, rc.rid';
const PAGE_VERSION_COLUMNS = 'rv.seq, rv.tenant, rv.type, rv.id, rv.version_id, rv.last_updated, rv.deleted, rv.key_version, rv.box, rc.rid';

/**
 * The current versions matching a candidate query, with their sealed content. With `scanById`
 * the resources of the type are walked in id order and each is tested, stopping at the limit:
 * right when every hash clause matches many resources (a common code), where driving from the
 * hash rows would fetch and sort them all to return one page. With `drive` (creation order only),
 * the rows of that one-hash clause are walked in rid order instead (see ridWalkSql).
 */
export function candidateRowsSql(q: CandidateQuery, scanById = false, listed: ReadonlySet<SearchClause> = NONE_LISTED, drive?: SearchClause): Sql {
  const page = drive !== undefined && (q.order === 'rid' || q.order === 'rid-desc') ? ridWalkSql(q, drive, listed) : undefined;
  const where = page === undefined ? whereSql(q, scanById, listed) : undefined;
  // A walk in creation order goes along the type's index, whose entries are in rid order.
  const from = scanById && (q.order === 'rid' || q.order === 'rid-desc') ? 'resource_current rc INDEXED BY resource_current_type' : 'resource_current rc';
  const inner = page ?? { sql: `SELECT ${PAGE_COLUMNS} FROM ${from} WHERE ${where?.sql ?? '1'} ORDER BY ${ORDER[q.order]} LIMIT ? OFFSET ?`, args: [...(where?.args ?? []), q.limit, q.offset ?? 0] };
  // The page is chosen from resource_current alone, and only its rows fetch their versions: driven
  // from the hash rows, every match used to carry its ciphertext into the sort (a third slower for
  // a code on 2,600 resources). The version row must be the resource's own: a head pointer edited
  // to another row matches nothing.
  return {
    sql: `SELECT ${PAGE_VERSION_COLUMNS}
      FROM (${inner.sql}) rc
      JOIN resource_versions rv ON rv.seq = rc.seq AND rv.tenant = rc.tenant AND rv.type = rc.type AND rv.id = rc.id
      ORDER BY ${ORDER[q.order]}`,
    args: inner.args,
  };
}

/** A clause with at most this many hashes may drive a creation-order page, one walk per hash. */
export const DRIVE_HASHES = 16;

/**
 * A page in creation order, walked along the rows of one positive hash clause: the key is
 * (hash, rid), so one hash's rows come in rid order and the walk stops at the limit, each resource
 * tested against the other clauses as it is met. A page then costs about the page's size divided
 * by the share of those rows the other clauses keep, whatever the clause's size: a common code and
 * a recent date read a few hundred index rows, where id order walked thousands of resources or
 * read every row of the code. A clause of several hashes (`code=a,b`, the year buckets of a birth
 * date range) walks each hash so, up to the page's end, and merges: the first matches overall are
 * among the first of each walk, and a resource under two hashes counts once.
 */
function ridWalkSql(q: CandidateQuery, drive: SearchClause, listed: ReadonlySet<SearchClause>): Sql {
  if (drive.kind !== 'hash' || drive.hashes.length === 0 || drive.hashes.length > DRIVE_HASHES) throw new VigilError('ERR_INTERNAL', 'A creation-order walk drives from a clause of 1 to 16 hashes');
  if (q.afterId !== undefined || q.beforeId !== undefined) throw new VigilError('ERR_INTERNAL', 'A creation-order walk pages by rid');
  const direction = q.order === 'rid-desc' ? 'DESC' : 'ASC';
  const parts = ['drv.hash = ?', 'rc.tenant = ?', 'rc.type = ?', 'rc.deleted = 0'];
  const rest: unknown[] = [q.tenant, q.type];
  addClauses(q, flatClauses(q.clauses).filter((c) => c !== drive), parts, rest, true, true, listed);
  if (q.afterRid !== undefined) {
    parts.push('drv.rid > ?');
    rest.push(q.afterRid);
  }
  if (q.beforeRid !== undefined) {
    parts.push('drv.rid < ?');
    rest.push(q.beforeRid);
  }
  // CROSS JOIN keeps the hash rows as the outer loop: SQLite does not reorder it.
  const walk = `SELECT ${PAGE_COLUMNS} FROM search_hash drv CROSS JOIN resource_current rc ON rc.rid = drv.rid WHERE ${parts.join(' AND ')} ORDER BY drv.rid ${direction} LIMIT ?`;
  const end = q.limit + (q.offset ?? 0);
  if (drive.hashes.length === 1) return { sql: `${walk} OFFSET ?`, args: [drive.hashes[0], ...rest, q.limit, q.offset ?? 0] };
  // UNION drops a resource met under two hashes (its rows are the same); a compound member takes
  // its own ORDER BY and LIMIT only as a subquery.
  return {
    sql: `SELECT u.seq, u.tenant, u.type, u.id, u.last_updated, u.rid FROM (${drive.hashes.map(() => `SELECT * FROM (${walk})`).join(' UNION ')}) u ORDER BY u.rid ${direction} LIMIT ? OFFSET ?`,
    args: [...drive.hashes.flatMap((h) => [h, ...rest, end]), q.limit, q.offset ?? 0],
  };
}

/** The clauses AND-ed at the top: an `any` of one group is an AND like the top level (the access policy's clauses come so). */
export function flatClauses(clauses: readonly SearchClause[]): SearchClause[] {
  return clauses.flatMap((c) => (c.kind === 'any' && c.groups.length === 1 ? (c.groups[0] ?? []) : [c]));
}

export function candidateCountSql(q: Omit<CandidateQuery, 'limit' | 'order'> & { readonly cap?: number }): Sql {
  const where = indexOnlyWhereSql(q) ?? whereSql(q);
  if (q.cap === undefined) return { sql: `SELECT COUNT(*) AS n FROM ${where.from} WHERE ${where.sql}`, args: where.args };
  // Counting stops past the cap: a bounded answer for a default total.
  return { sql: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${where.from} WHERE ${where.sql} LIMIT ?)`, args: [...where.args, q.cap + 1] };
}

/** True when a clause reads the search index alone (no column of resource_current). */
function indexOnly(c: SearchClause): boolean {
  return c.kind === 'hash' || c.kind === 'range' || c.kind === 'none' || (c.kind === 'any' && c.groups.every((g) => g.every(indexOnly)));
}

/**
 * A count that never reads resource_current, when a positive hash clause drives it and every
 * other clause reads the search index alone: index rows exist only for current, not deleted
 * resources (a delete removes them, and `vigil verify` fails on any other), and each hash binds
 * tenant, type and parameter. Looking up the resource row of every match cost two thirds of a
 * capped count. The other clauses test each driving rid as the id-ordered walk does (EXISTS).
 */
function indexOnlyWhereSql(q: Omit<CandidateQuery, 'limit' | 'order'>): (Sql & { from: string }) | undefined {
  const drive = q.clauses.findIndex((c) => c.kind === 'hash' && c.negate !== true && c.hashes.length > 0);
  const driving = q.clauses[drive];
  if (driving?.kind !== 'hash' || !q.clauses.every(indexOnly)) return undefined;
  // One hash has one row per resource (the key is (hash, rid)); several may share a resource.
  const from = driving.hashes.length === 1 ? 'search_hash rc' : `(SELECT DISTINCT rid FROM search_hash WHERE hash IN (${driving.hashes.map(() => '?').join(', ')})) rc`;
  const parts = driving.hashes.length === 1 ? ['rc.hash = ?'] : ['1'];
  const args: unknown[] = [...driving.hashes];
  addClauses(q, q.clauses.filter((_, i) => i !== drive), parts, args, true, true);
  return { from, sql: parts.join(' AND '), args };
}

/** How many hash rows one hash clause has, counting at most as many as the last argument (after the hashes). */
export function hashRowsSql(hashes: number): string {
  return `SELECT COUNT(*) AS n FROM (SELECT 1 FROM search_hash WHERE hash IN (${Array.from({ length: hashes }, () => '?').join(', ') || 'NULL'}) LIMIT ?)`;
}
