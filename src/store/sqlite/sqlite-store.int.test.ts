import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storeConformance } from '../conformance.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from '../types.js';

const dirs = new Map<Store, string>();

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
        tx.append({ tenant: 't', type: 'Patient', id: 'x', versionId: 1, lastUpdated: '2026-01-01T00:00:00.000Z', deleted: false, keyVersion: 1, box: Buffer.from('b'), indexDigest: Buffer.alloc(32), leaf: Buffer.alloc(32) }),
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
