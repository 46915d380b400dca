import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { indexDigest } from '../audit/index.js';
import { Keyring, resourceContext, type DataKeyStore, type WrappedDataKey } from '../crypto/index.js';
import { BlindIndex } from '../fhir/index.js';
import { IndexBuilder } from '../fhir/search/index-rows.js';
import type { IndexFormat } from '../fhir/search/params.js';
import { bloodPressurePanel } from '../testing/fixtures.js';
import { IndexRebuilder, type ResourceIndex } from './restore-index.js';
import type { Row } from './tables.js';

const MASTER = Buffer.alloc(32, 0x5a);
const BASE = 'https://vigil.example/fhir';
const TENANT = 'default';
const PANEL = bloodPressurePanel();

class Keys implements DataKeyStore {
  rows: WrappedDataKey[] = [];
  async listDataKeys(): Promise<WrappedDataKey[]> {
    return [...this.rows];
  }
  async addDataKey(wrap: (version: number) => Uint8Array, createdAt: string): Promise<number> {
    const version = this.rows.length + 1;
    this.rows.push({ version, wrapped: wrap(version), createdAt });
    return version;
  }
}

/** A resource_versions row as a backup holds it, its digest over the rows `format` builds (or `digest`). */
async function versionRow(keys: Keys, format: IndexFormat, digest?: Buffer): Promise<Row> {
  const keyring = await Keyring.open(MASTER, keys);
  const rows = new IndexBuilder(new BlindIndex(keyring.derive(`search-index:${TENANT}`)), BASE, format).rows(PANEL);
  const box = keyring.encrypt(Buffer.from(JSON.stringify(PANEL)), resourceContext(TENANT, 'Observation', 'bp-1', 1));
  const committed = digest ?? indexDigest({ hashes: rows.hashes.map((h) => h.hash), ranges: rows.ranges.map((r) => ({ ...r, param: `Observation.${r.param}` })) });
  return [7, TENANT, 'Observation', 'bp-1', 1, '2024-05-01T10:00:00.000Z', 0, 1, box, committed];
}

describe('rebuilding a version’s search index at restore', () => {
  it('rebuilds a version in the index format it was written in, whichever that was', async () => {
    const keys = new Keys();
    const versions: Row[] = [];
    for (const format of [3, 2, 1] as const) versions.push(await versionRow(keys, format));
    const rebuilder = await IndexRebuilder.open(MASTER, keys.rows, TENANT, BASE);
    const [v3, v2, v1] = versions.map((v) => rebuilder.rows(v));
    assert.ok(v3 !== undefined && v2 !== undefined && v1 !== undefined);
    const mask = (rows: ResourceIndex): boolean => rows.ranges.some((r) => r[1] === 'Observation._present');
    assert.ok(mask(v3) && !mask(v2) && !mask(v1), 'only format 3 has a presence mask');
    assert.ok(v2.hashes.length > v3.hashes.length, 'format 2 had a marker row per parameter with a value');
    assert.ok(v1.hashes.length > v2.hashes.length, 'format 1 also had the union parameters’ rows');
    assert.ok(v1.ranges.some((r) => r[1] === 'Observation.combo-value-quantity'));
    assert.ok(!v2.ranges.some((r) => r[1] === 'Observation.combo-value-quantity'));
  });

  it('refuses a version whose digest no format gives', async () => {
    const keys = new Keys();
    const forged = await versionRow(keys, 3, Buffer.alloc(32, 1));
    const rebuilder = await IndexRebuilder.open(MASTER, keys.rows, TENANT, BASE);
    assert.throws(() => rebuilder.rows(forged), { code: 'ERR_BACKUP', message: /does not match the digest/ });
  });
});
