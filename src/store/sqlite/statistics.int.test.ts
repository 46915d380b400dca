import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { SCHEMA } from './schema.js';
import { refreshStatistics } from './statistics.js';

const RESOURCES = 20_000;

/**
 * A store file with the schema and RESOURCES resources: ten hash rows each (five shared with every
 * fiftieth resource, five of its own), a date and a mask, one log leaf, and 30,000 audit entries.
 */
function withFilledStore(fn: (db: Db) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-stats-'));
  const db = new Database(join(dir, 'vigil.db'));
  try {
    db.exec(SCHEMA);
    db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${RESOURCES})
      INSERT INTO resource_versions (tenant, type, id, version_id, last_updated, deleted, key_version, box, index_digest)
        SELECT 't', 'T' || (i % 5), 'r' || i, 1, '2026-01-01', 0, 1, randomblob(20), randomblob(32) FROM n;
      INSERT INTO resource_current (rid, tenant, type, id, version_id, seq, deleted, last_updated)
        SELECT seq, tenant, type, id, 1, seq, 0, last_updated FROM resource_versions;
      WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 9)
      INSERT INTO search_hash (hash, rid)
        SELECT CASE WHEN j < 5 THEN CAST(printf('code%03d-%d', rid % 50, j) AS BLOB) ELSE randomblob(16) END, rid FROM resource_current, k;
      INSERT INTO search_range (rid, param, lo, hi) SELECT rid, 'T.date', rid * 1000, rid * 1000 + 999 FROM resource_current;
      INSERT INTO search_range (rid, param, lo, hi) SELECT rid, 'T._present', rid % 31, rid % 31 FROM resource_current;
      INSERT INTO log_leaves (position, kind, ref, hash) SELECT seq, 'version', seq, index_digest FROM resource_versions;
    `);
    addAudit(db, 30_000);
    fn(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function addAudit(db: Db, n: number): void {
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})
    INSERT INTO audit_events (tenant, recorded, action, subtype, outcome, agent, patients, body)
      SELECT 't', printf('2026-01-01T%05d', i / 3), 'R', 'read', '0', 'a' || (i % 7), ' ', '{}' FROM n;
  `);
}

function stats(db: Db): Map<string, string> {
  return new Map((db.prepare('SELECT tbl, idx, stat FROM sqlite_stat1').all() as { tbl: string; idx: string | null; stat: string }[]).map((r) => [`${r.tbl}/${r.idx ?? ''}`, r.stat]));
}

/** Bytes this process has read from files so far (Linux). */
function bytesRead(): number {
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
}

describe('sqlite store: planner statistics by estimate', () => {
  it('writes what ANALYZE with analysis_limit writes, the same averages with an estimated count', () =>
    withFilledStore((db) => {
      db.pragma('analysis_limit = 1000');
      db.exec('ANALYZE');
      const analysed = stats(db);
      db.exec('DELETE FROM sqlite_stat1');
      const report = refreshStatistics(db, 1000);
      assert.deepEqual([...report.estimated].sort(), ['audit_events', 'log_leaves', 'resource_current', 'resource_versions', 'search_hash', 'search_range']);
      const estimated = stats(db);
      // The one difference: a partial index (expiry of auth records, none here) is left to the planner's defaults.
      assert.deepEqual([...analysed.keys()].filter((k) => k !== 'auth_records/auth_records_expiry').sort(), [...estimated.keys()].sort());
      for (const [key, stat] of estimated) {
        const [count, ...averages] = stat.split(' ').map(Number);
        const [exact, ...expected] = (analysed.get(key) ?? '').split(' ').map(Number);
        assert.deepEqual(averages, expected, key);
        // Counts: exact for tables only appended to, sampled for the search tables.
        assert.ok(Math.abs((count ?? 0) / (exact ?? 1) - 1) < 0.05, `${key}: ${count} against ${exact}`);
      }
      // The planner uses them: the audit tail is read as a range of rowids, not a scan of the trail.
      const plan = (db.prepare('EXPLAIN QUERY PLAN SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?').all(1, 500) as { detail: string }[]).map((r) => r.detail).join('; ');
      assert.match(plan, /SEARCH audit_events USING INTEGER PRIMARY KEY \(rowid>\?\)/);
    }));

  it('reads a small part of what ANALYZE reads, which counts every index entry', () =>
    withFilledStore((db) => {
      db.pragma('analysis_limit = 1000');
      let before = bytesRead();
      db.exec('ANALYZE');
      const analyze = bytesRead() - before;
      db.exec('DELETE FROM sqlite_stat1');
      before = bytesRead();
      refreshStatistics(db, 1000);
      const estimate = bytesRead() - before;
      assert.ok(analyze > 4 * 2 ** 20, `ANALYZE read ${analyze} bytes`);
      assert.ok(estimate < analyze / 50, `the estimate read ${estimate} bytes, ANALYZE ${analyze}`);
    }));

  it('refreshes a table only when its size has doubled or halved since its statistics', () =>
    withFilledStore((db) => {
      refreshStatistics(db);
      assert.deepEqual(refreshStatistics(db), { analyzed: [], estimated: [] });
      addAudit(db, 20_000);
      assert.deepEqual(refreshStatistics(db), { analyzed: [], estimated: [] }, 'grown by two thirds');
      addAudit(db, 20_000);
      assert.deepEqual(refreshStatistics(db), { analyzed: ['audit_events'], estimated: [] });
      addAudit(db, 70_000);
      assert.deepEqual(refreshStatistics(db, 100_000), { analyzed: [], estimated: ['audit_events'] });
      assert.match(stats(db).get('audit_events/audit_events_recorded') ?? '', /^140000 /);
    }));

  it('estimates the tables of a store never analysed, which has no statistics table yet (a bulk import into a new store)', () =>
    withFilledStore((db) => {
      assert.equal(db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").get(), undefined);
      assert.ok(refreshStatistics(db, 1000).estimated.includes('search_hash'));
      assert.equal(stats(db).get('search_hash/search_hash_rid'), '200000 10');
    }));

  it('analyses small tables with ANALYZE itself, exactly, and leaves empty ones alone', () =>
    withFilledStore((db) => {
      const report = refreshStatistics(db);
      assert.deepEqual(report.estimated, []);
      assert.ok(report.analyzed.includes('search_hash') && !report.analyzed.includes('checkpoints'));
      assert.equal(stats(db).get('search_hash/search_hash_rid'), '200000 10');
    }));
});
