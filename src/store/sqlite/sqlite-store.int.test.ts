import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { row, storeConformance } from '../conformance.js';
import { SqliteStore } from './sqlite-store.js';
import { candidateCountSql, candidateRowsSql } from './search-sql.js';
import type { Store } from '../types.js';

const dirs = new Map<Store, string>();

/** Runs `fn` on a new store in a directory of its own, closed and removed afterwards. */
async function withStore(fn: (store: SqliteStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  const store = new SqliteStore(join(dir, 'vigil.db'));
  try {
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

storeConformance({
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    const store = new SqliteStore(join(dir, 'vigil.db'));
    dirs.set(store, dir);
    return store;
  },
  async dispose(store) {
    await store.close();
    rmSync(dirs.get(store) ?? '', { recursive: true, force: true });
  },
});

describe('sqlite store: immutability at the database level', () => {
  it('refuses to delete or rewrite a stored version, even through raw SQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    const path = join(dir, 'vigil.db');
    const store = new SqliteStore(path);
    try {
      await store.tx(async (tx) =>
        tx.append(row({ tenant: 't', id: 'x' })),
      );
      const raw = new Database(path);
      try {
        assert.throws(() => raw.prepare('DELETE FROM resource_versions').run(), /immutable/);
        assert.throws(() => raw.prepare("UPDATE resource_versions SET id = 'y'").run(), /immutable/);
        assert.throws(() => raw.prepare('UPDATE resource_versions SET version_id = 9').run(), /immutable/);
      } finally {
        raw.close();
      }
      assert.equal((await store.readCurrent('t', 'Patient', 'x'))?.versionId, 1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to open a data directory written by a newer schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    const path = join(dir, 'vigil.db');
    try {
      await new SqliteStore(path).close();
      const raw = new Database(path);
      raw.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
      raw.close();
      assert.throws(() => new SqliteStore(path), (err: unknown) => (err as { code?: string }).code === 'ERR_CONFIG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: query planner statistics', () => {
  const TAIL = 'SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?';
  /** The plan that reads only the rows asked for: a range of the rowid. */
  const RANGE = /SEARCH audit_events USING INTEGER PRIMARY KEY \(rowid>\?\)/;
  /** Appends `n` audit rows through a connection of its own (as another process would). */
  function addAuditRows(path: string, n: number): void {
    const raw = new Database(path);
    try {
      const insert = raw.prepare("INSERT INTO audit_events (tenant, recorded, action, subtype, outcome, agent, patients, body) VALUES ('t', ?, 'R', 'read', '0', ?, ' ', '{}')");
      raw.transaction(() => {
        for (let i = 0; i < n; i++) insert.run(`2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`, `agent-${i % 7}`);
      })();
    } finally {
      raw.close();
    }
  }
  /** Statistics that say the audit trail has one row (what a store analysed while nearly empty holds). */
  function staleStats(path: string): void {
    const raw = new Database(path);
    try {
      raw.exec('ANALYZE');
      raw.exec("DELETE FROM sqlite_stat1 WHERE tbl = 'audit_events'");
      raw.exec("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('audit_events', 'audit_events_agent', '1 1 1'), ('audit_events', 'audit_events_recorded', '1 1 1')");
    } finally {
      raw.close();
    }
  }

  /** Runs `fn` with a store file that has the schema and `rows` audit entries under statistics of one. */
  async function withStaleStore(rows: number, fn: (path: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    const path = join(dir, 'vigil.db');
    try {
      await new SqliteStore(path).close();
      addAuditRows(path, rows);
      staleStats(path);
      await fn(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('opens the reader with statistics refreshed first, so reading the audit tail is a range, not a scan of the whole trail', () =>
    withStaleStore(20_000, async (path) => {
      const raw = new Database(path, { readonly: true });
      // The stale statistics alone make SQLite scan the whole trail: the case this guards against.
      assert.doesNotMatch((raw.prepare(`EXPLAIN QUERY PLAN ${TAIL}`).all(1, 500) as { detail: string }[]).map((r) => r.detail).join('; '), RANGE);
      raw.close();
      const store = new SqliteStore(path);
      try {
        assert.match(store.queryPlan('reader', TAIL, 1, 500), RANGE);
        assert.equal((await store.readAuditBySeq(19_990, 500)).length, 11);
      } finally {
        await store.close();
      }
    }));

  it('hands statistics refreshed by a later optimize to the reader too', () =>
    withStaleStore(1, async (path) => {
      const store = new SqliteStore(path);
      try {
        // The trail grows by 20,000 rows while the server runs, with the statistics of one row.
        addAuditRows(path, 20_000);
        assert.doesNotMatch(store.queryPlan('reader', TAIL, 1, 500), RANGE);
        await store.optimize();
        assert.match(store.queryPlan('reader', TAIL, 1, 500), RANGE);
        assert.match(store.queryPlan('writer', TAIL, 1, 500), RANGE);
      } finally {
        await store.close();
      }
    }));
});

describe('sqlite store: creation-order pages', () => {
  const code = Buffer.from('c0de03', 'hex');
  const query = { tenant: 't1', type: 'Observation', clauses: [{ kind: 'hash' as const, param: 'code', hashes: [code] }, { kind: 'range' as const, param: 'date', any: [{ hiGte: 30 * 86_400_000 }] }], order: 'rid' as const, limit: 10 };

  it('walks the driving clause\'s rows in rid order, with no sort, and the type\'s index when no clause drives', () =>
    withStore(async (store) => {
      await store.tx(async (tx) => {
        for (let i = 1; i <= 300; i++) {
          const id = `o${String(i).padStart(3, '0')}`;
          await tx.append(row({ type: 'Observation', id, leaf: Buffer.alloc(32, i % 250) }));
          await tx.replaceIndex('t1', 'Observation', id, { hashes: [{ param: 'code', hash: code }], ranges: [{ param: 'date', lo: i * 86_400_000, hi: (i + 1) * 86_400_000 - 1, unit: null, unit2: null }] });
        }
      });
      await store.optimize();
      const driven = candidateRowsSql(query, false, new Set(), query.clauses[0]);
      // The page (the co-routine, before the outer query scans it) needs no sort: only the page itself is sorted after.
      const inner = (sql: string, args: unknown[]): string => store.queryPlan('reader', sql, ...args).split('; SCAN rc;')[0] ?? '';
      const plan = inner(driven.sql, driven.args);
      assert.match(plan, /SEARCH drv USING PRIMARY KEY \(hash=\?\)/);
      assert.doesNotMatch(plan, /TEMP B-TREE/);
      assert.deepEqual((await store.searchCandidates(query)).map((v) => v.id), Array.from({ length: 10 }, (_, k) => `o${String(30 + k).padStart(3, '0')}`));
      // Two hashes: each walked in rid order up to the page's end, then merged.
      const other = Buffer.from('c0de04', 'hex');
      const two = { ...query, clauses: [{ kind: 'hash' as const, param: 'code', hashes: [other, code] }] };
      const merged = candidateRowsSql(two, false, new Set(), two.clauses[0]);
      assert.equal(store.queryPlan('reader', merged.sql, ...merged.args).match(/SEARCH drv USING PRIMARY KEY \(hash=\?\)/g)?.length, 2);
      assert.deepEqual((await store.searchCandidates({ ...two, limit: 3, afterRid: 7 })).map((v) => v.id), ['o008', 'o009', 'o010']);
      const walked = candidateRowsSql({ ...query, clauses: [] }, true);
      assert.match(inner(walked.sql, walked.args), /USING (COVERING )?INDEX resource_current_type/);
      assert.doesNotMatch(inner(walked.sql, walked.args), /TEMP B-TREE/);
    }));
});

describe('sqlite store: the covering index of ranges', () => {
  const code = Buffer.from('c0de02', 'hex');
  /** Observations 1..n with the code, each with a date range of day i (ms since the epoch). */
  async function fill(store: SqliteStore, n: number): Promise<void> {
    await store.tx(async (tx) => {
      for (let i = 1; i <= n; i++) {
        const id = `o${String(i).padStart(3, '0')}`;
        await tx.append(row({ type: 'Observation', id, box: Buffer.from([i]), leaf: Buffer.alloc(32, i % 250) }));
        await tx.replaceIndex('t1', 'Observation', id, { hashes: [{ param: 'code', hash: code }], ranges: [{ param: 'date', lo: i * 86_400_000, hi: (i + 1) * 86_400_000 - 1, unit: null, unit2: null }] });
      }
    });
  }
  const query = { tenant: 't1', type: 'Observation', clauses: [{ kind: 'hash' as const, param: 'code', hashes: [code] }, { kind: 'range' as const, param: 'date', any: [{ hiGte: 30 * 86_400_000 }] }] };

  it('tests a resource\'s ranges from the index alone, and scans them in rid order from it', () =>
    withStore(async (store) => {
      await fill(store, 50);
      const { sql, args } = candidateCountSql({ ...query, cap: 1000 });
      assert.match(store.queryPlan('writer', sql, ...args), /USING COVERING INDEX search_range_rid_covering/);
      assert.equal(await store.countCandidates({ ...query, cap: 1000 }), 21);
      assert.match(store.queryPlan('reader', 'SELECT rid, param, lo, hi, lower(hex(unit)), lower(hex(unit2)) FROM search_range ORDER BY rid'), /SCAN search_range USING COVERING INDEX search_range_rid_covering/);
    }));

  it('replaces the older index of rids alone when it opens a store made before, with the same answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    const path = join(dir, 'vigil.db');
    try {
      const store = new SqliteStore(path);
      await fill(store, 50);
      await store.close();
      // The store as an older Vigil left it.
      const raw = new Database(path);
      raw.exec('DROP INDEX search_range_rid_covering; CREATE INDEX search_range_rid ON search_range (rid);');
      raw.close();
      const reopened = new SqliteStore(path);
      try {
        const names = new Database(path, { readonly: true });
        const indexes = (names.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'search_range' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
        names.close();
        assert.deepEqual(indexes, ['search_range_lo', 'search_range_rid_covering']);
        assert.equal(await reopened.countCandidates({ ...query, cap: 1000 }), 21);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: the plan of an id-ordered page', () => {
  it('costs a walk by the resources of the searched type, not of the whole store', () =>
    withStore(async (store) => {
      const code = Buffer.from('c0de03', 'hex');
      // 2,000 Patients, 600 of them with the code, among 58,000 resources of another type.
      await store.tx(async (tx) => {
        for (let i = 0; i < 60_000; i++) {
          const patient = i % 30 === 0;
          const id = `r${String(i).padStart(5, '0')}`;
          const type = patient ? 'Patient' : 'Filler';
          await tx.append(row({ type, id, leaf: Buffer.alloc(32, i % 250) }));
          if (patient && i % 100 < 30) await tx.replaceIndex('t1', type, id, { hashes: [{ param: 'code', hash: code }], ranges: [] });
        }
      });
      const query = { tenant: 't1', type: 'Patient', clauses: [{ kind: 'hash' as const, param: 'code', hashes: [code] }], order: 'id' as const, limit: 1000 };
      assert.equal(await store.countCandidates(query), 600);
      // Costed by all 60,000 resources, 600 matches would be listed (under √(0.06 × 1000 × 60,000) ≈ 1,900);
      // by the 2,000 Patients, they are past √(0.06 × 1000 × 2,000) ≈ 350, and walked against their list.
      assert.deepEqual(store.pagePlan(query), { walk: true, listed: 1 });
      const page = await store.searchCandidates(query);
      assert.equal(page.length, 600);
      assert.deepEqual(page.map((v) => v.id), [...page.map((v) => v.id)].sort());
      // The other type by its own share: 600 index rows are under √(0.06 × 1000 × 58,000) ≈ 1,870, so listed.
      assert.deepEqual(store.pagePlan({ ...query, type: 'Filler' }), { walk: false, listed: 0 });
    }));
});

describe('sqlite store: the write-ahead log of a bulk loader', () => {
  /** Writes `n` versions of about 40 KB (ten pages each), one commit each, and returns the frames left in the log. */
  async function framesAfterWrites(bulk: boolean, n: number): Promise<{ frames: number; checkpointed: boolean; walBytes: number; rows: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    const path = join(dir, 'vigil.db');
    const store = new SqliteStore(path, { bulk });
    // A second connection stays open, so that closing the store's own ones does not empty the log.
    const other = new Database(path);
    try {
      const box = Buffer.alloc(40_000, 7);
      for (let i = 0; i < n; i++) {
        await store.tx(async (tx) =>
          tx.append(row({ type: 'Binary', id: `b${i}`, box })),
        );
      }
      // `log` is the frames in the log now (a PASSIVE checkpoint copies what it can and empties nothing).
      const [state] = other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      const checkpointed = await store.checkpoint();
      const walBytes = statSync(`${path}-wal`).size;
      const rows = (other.prepare('SELECT COUNT(*) AS n FROM resource_versions').get() as { n: number }).n;
      return { frames: state?.log ?? -1, checkpointed, walBytes, rows };
    } finally {
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('gives both connections the page cache asked for, and a bulk loader 64 MB and a long log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    try {
      for (const [options, cacheKib, checkpointPages] of [
        [{}, 65_536, 10_000],
        [{ cacheMb: 1024 }, 1_048_576, 10_000],
        [{ cacheMb: 1024, bulk: true }, 65_536, 200_000],
      ] as const) {
        const store = new SqliteStore(join(dir, 'vigil.db'), options);
        try {
          assert.deepEqual(store.connectionSettings('writer'), { cacheKib, checkpointPages }, JSON.stringify(options));
          assert.equal(store.connectionSettings('reader').cacheKib, cacheKib);
        } finally {
          await store.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets the log grow past 10,000 pages for a bulk loader, and checkpoint() copies all of it and empties it', async () => {
    const normal = await framesAfterWrites(false, 1_300);
    const bulk = await framesAfterWrites(true, 1_300);
    assert.ok(normal.frames < 10_500, `a store copies its log into the database every 10,000 pages (${normal.frames} left)`);
    assert.ok(bulk.frames > 13_000, `a bulk loader's log holds every page written (${bulk.frames})`);
    for (const r of [normal, bulk]) {
      assert.equal(r.checkpointed, true);
      assert.equal(r.walBytes, 0, 'the log is emptied');
      assert.equal(r.rows, 1_300, 'and every version is in the database');
    }
  });

  it('cuts back a long log a bulk loader left, once the server has copied it in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    const path = join(dir, 'vigil.db');
    const bulk = new SqliteStore(path, { bulk: true });
    // A connection that has read the store keeps its log from being emptied when the stores close.
    const other = new Database(path);
    other.prepare('SELECT COUNT(*) FROM meta').get();
    try {
      const version = (i: number, box: Buffer) => row({ type: 'Binary', id: `b${i}`, box });
      const box = Buffer.alloc(40_000, 7);
      for (let i = 0; i < 2_000; i++) await bulk.tx(async (tx) => tx.append(version(i, box)));
      // Closed without its final checkpoint, as when a server's readers held the log.
      await bulk.close();
      const left = statSync(`${path}-wal`).size;
      assert.ok(left > 80 * 2 ** 20, `the bulk loader's log is long (${left} bytes)`);
      const server = new SqliteStore(path);
      try {
        // The first commit copies the log in (past 10,000 pages); the next starts it over, cut back.
        for (let i = 0; i < 2; i++) await server.tx(async (tx) => tx.append(version(10_000 + i, Buffer.from('x'))));
        const after = statSync(`${path}-wal`).size;
        assert.ok(after <= 64 * 2 ** 20, `cut back to at most 64 MB (${after} bytes)`);
        assert.equal((other.prepare('SELECT COUNT(*) AS n FROM resource_versions').get() as { n: number }).n, 2_002);
      } finally {
        await server.close();
      }
    } finally {
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
