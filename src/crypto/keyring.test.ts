import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { SqliteStore } from '../store/index.js';
import { keyVersionOf, seal } from './envelope.js';
import { Keyring, resourceContext, type DataKeyStore, type WrappedDataKey } from './keyring.js';

const MASTER = Buffer.alloc(32, 0x11);
const OTHER_MASTER = Buffer.alloc(32, 0x22);
const GENERIC = 'Stored data failed an integrity check';
const CTX = resourceContext('default', 'Patient', 'p1', 1);
const PLAIN = Buffer.from('{"resourceType":"Patient","id":"p1"}');

function assertVigil(code: string, message: string | RegExp): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof VigilError, 'a VigilError');
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

/** A data-key store in memory, so a test can tamper with the rows directly. */
class MemoryKeyStore implements DataKeyStore {
  rows: WrappedDataKey[] = [];
  async listDataKeys(): Promise<WrappedDataKey[]> {
    return this.rows.map((r) => ({ ...r }));
  }
  async addDataKey(wrap: (version: number) => Uint8Array, createdAt: string): Promise<number> {
    const version = this.rows.reduce((m, r) => Math.max(m, r.version), 0) + 1;
    this.rows.push({ version, wrapped: wrap(version), createdAt });
    return version;
  }
}

describe('Keyring over a real SqliteStore', () => {
  let dir: string;
  const stores: SqliteStore[] = [];
  const newStore = (name = 'vigil.db'): SqliteStore => {
    const s = new SqliteStore(join(dir, name));
    stores.push(s);
    return s;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-keyring-'));
  });
  after(async () => {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('open creates data key version 1 on a new store, with the given clock', async () => {
    const store = newStore('fresh.db');
    const when = new Date('2024-02-03T04:05:06.000Z');
    const ring = await Keyring.open(MASTER, store, () => when);
    assert.equal(ring.currentVersion, 1);
    assert.deepEqual(ring.versions, [1]);
    assert.ok(ring.has(1));
    assert.equal(ring.has(2), false);
    const rows = await store.listDataKeys();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.version, 1);
    assert.equal(rows[0]?.createdAt, when.toISOString());
    // The stored key is wrapped (sealed by the key-encryption key, version 0), not raw.
    assert.equal(keyVersionOf(rows[0]?.wrapped ?? Buffer.alloc(0)), 0);
    assert.equal(rows[0]?.wrapped.length, 32 + 34);
  });

  it('opening again reuses version 1 instead of creating another', async () => {
    const store = newStore('reopen.db');
    const first = await Keyring.open(MASTER, store);
    const box = first.encrypt(PLAIN, CTX);
    const second = await Keyring.open(MASTER, store);
    assert.equal(second.currentVersion, 1);
    assert.equal((await store.listDataKeys()).length, 1);
    assert.deepEqual(second.decrypt(box, CTX), PLAIN);
  });

  it('encrypt/decrypt round-trips and binds the context', async () => {
    const ring = await Keyring.open(MASTER, newStore('roundtrip.db'));
    const box = ring.encrypt(PLAIN, CTX);
    assert.equal(keyVersionOf(box), 1);
    assert.deepEqual(ring.decrypt(box, CTX), PLAIN);
    assert.throws(() => ring.decrypt(box, resourceContext('default', 'Patient', 'p1', 2)), assertVigil('ERR_INTEGRITY', GENERIC));
    assert.throws(() => ring.decrypt(box, resourceContext('other', 'Patient', 'p1', 1)), assertVigil('ERR_INTEGRITY', GENERIC));
  });

  it('rotate makes v2 current; data sealed under v1 still opens', async () => {
    const store = newStore('rotate.db');
    const ring = await Keyring.open(MASTER, store);
    const old = ring.encrypt(PLAIN, CTX);
    const v = await ring.rotate();
    assert.equal(v, 2);
    assert.equal(ring.currentVersion, 2);
    assert.deepEqual(ring.versions, [1, 2]);
    const fresh = ring.encrypt(PLAIN, CTX);
    assert.equal(keyVersionOf(old), 1);
    assert.equal(keyVersionOf(fresh), 2);
    assert.deepEqual(ring.decrypt(old, CTX), PLAIN);
    assert.deepEqual(ring.decrypt(fresh, CTX), PLAIN);
    assert.equal((await store.listDataKeys()).length, 2);
  });

  it('a second Keyring over the same store sees the rotation only after refresh()', async () => {
    const store = newStore('two.db');
    const a = await Keyring.open(MASTER, store);
    const b = await Keyring.open(MASTER, store);
    assert.equal(b.currentVersion, 1);
    await a.rotate();
    const sealedByA = a.encrypt(PLAIN, CTX);
    assert.equal(keyVersionOf(sealedByA), 2);
    // Before refresh, b does not know v2: the generic integrity error, no key detail.
    assert.equal(b.has(2), false);
    assert.equal(b.currentVersion, 1);
    assert.throws(() => b.decrypt(sealedByA, CTX), assertVigil('ERR_INTEGRITY', GENERIC));
    assert.equal(keyVersionOf(b.encrypt(PLAIN, CTX)), 1);
    await b.refresh();
    assert.equal(b.currentVersion, 2);
    assert.deepEqual(b.versions, [1, 2]);
    assert.deepEqual(b.decrypt(sealedByA, CTX), PLAIN);
    assert.equal(keyVersionOf(b.encrypt(PLAIN, CTX)), 2);
  });

  it('a second store connection over the same file also sees the rotation after refresh()', async () => {
    const path = 'shared.db';
    const a = await Keyring.open(MASTER, newStore(path));
    const b = await Keyring.open(MASTER, newStore(path));
    await a.rotate();
    await a.rotate();
    await b.refresh();
    assert.equal(b.currentVersion, 3);
    assert.deepEqual(b.decrypt(a.encrypt(PLAIN, CTX), CTX), PLAIN);
  });

  it('opening with a different master key fails with ERR_KEY', async () => {
    const store = newStore('wrong-master.db');
    await Keyring.open(MASTER, store);
    await assert.rejects(
      Keyring.open(OTHER_MASTER, store),
      assertVigil('ERR_KEY', 'The master key does not open the data keys of this data directory'),
    );
    // No key was added by the failed open.
    assert.equal((await store.listDataKeys()).length, 1);
  });

  it('the ERR_KEY error does not carry the master key', async () => {
    const store = newStore('wrong-master-2.db');
    await Keyring.open(MASTER, store);
    const secret = Buffer.alloc(32, 0x41);
    await assert.rejects(Keyring.open(secret, store), (err: unknown) => {
      assert.ok(err instanceof VigilError);
      assert.equal(err.code, 'ERR_KEY');
      for (const enc of ['base64', 'hex', 'base64url'] as const) {
        assert.equal(err.message.includes(secret.toString(enc)), false);
      }
      return true;
    });
  });

  it('wrapSecret/unwrapSecret round-trip and are bound to their purpose', async () => {
    const ring = await Keyring.open(MASTER, newStore('secrets.db'));
    const secret = Buffer.from('private-jwk-material');
    const box = ring.wrapSecret('signing-key', secret);
    assert.equal(keyVersionOf(box), 0);
    assert.equal(box.includes(secret), false);
    assert.deepEqual(ring.unwrapSecret('signing-key', box), secret);
    assert.throws(() => ring.unwrapSecret('cursor-key', box), assertVigil('ERR_INTEGRITY', GENERIC));
    assert.throws(() => ring.unwrapSecret('signing-key ', box), assertVigil('ERR_INTEGRITY', GENERIC));
    assert.throws(() => ring.unwrapSecret('', box), assertVigil('ERR_INTEGRITY', GENERIC));
    // A wrapped secret is not a data-key ciphertext: version 0 names no data key.
    assert.throws(() => ring.decrypt(box, Buffer.from('vigil:secret:signing-key')), assertVigil('ERR_INTEGRITY', GENERIC));
  });

  it('a secret wrapped under one master key does not unwrap under another', async () => {
    const a = await Keyring.open(MASTER, newStore('secret-a.db'));
    const b = await Keyring.open(OTHER_MASTER, newStore('secret-b.db'));
    const box = a.wrapSecret('signing-key', Buffer.from('s3cret'));
    assert.throws(() => b.unwrapSecret('signing-key', box), assertVigil('ERR_INTEGRITY', GENERIC));
  });

  it('a data key cannot unwrap a secret and the KEK cannot open resource data', async () => {
    const ring = await Keyring.open(MASTER, newStore('separation.db'));
    const data = ring.encrypt(PLAIN, Buffer.from('vigil:secret:x'));
    assert.throws(() => ring.unwrapSecret('x', data), assertVigil('ERR_INTEGRITY', GENERIC));
  });

  it('an unknown key version in a header gives ERR_INTEGRITY', async () => {
    const ring = await Keyring.open(MASTER, newStore('unknown.db'));
    const foreign = seal(Buffer.alloc(32, 9), 99, PLAIN, CTX);
    assert.throws(() => ring.decrypt(foreign, CTX), assertVigil('ERR_INTEGRITY', GENERIC));
    // A real v1 box relabelled as v2 (which does not exist yet) is refused the same way.
    const relabelled = Buffer.from(ring.encrypt(PLAIN, CTX));
    relabelled.writeUInt32BE(2, 2);
    assert.throws(() => ring.decrypt(relabelled, CTX), assertVigil('ERR_INTEGRITY', GENERIC));
    // Once v2 exists, the relabelled box still fails: the header is authenticated.
    await ring.rotate();
    assert.throws(() => ring.decrypt(relabelled, CTX), assertVigil('ERR_INTEGRITY', GENERIC));
  });

  it('malformed boxes given to decrypt give ERR_INTEGRITY, never another error', async () => {
    const ring = await Keyring.open(MASTER, newStore('malformed.db'));
    for (const box of [Buffer.alloc(0), Buffer.from('V'), Buffer.alloc(40), Buffer.from('not a sealed box at all, just text')]) {
      assert.throws(() => ring.decrypt(box, CTX), assertVigil('ERR_INTEGRITY', GENERIC));
    }
  });

  it('derive gives stable purpose-bound keys that differ by purpose and master', async () => {
    const a = await Keyring.open(MASTER, newStore('derive-a.db'));
    const b = await Keyring.open(OTHER_MASTER, newStore('derive-b.db'));
    assert.equal(a.derive('cursor').length, 32);
    assert.deepEqual(a.derive('cursor'), a.derive('cursor'));
    assert.notDeepEqual(a.derive('cursor'), a.derive('blind-index'));
    assert.notDeepEqual(a.derive('cursor'), b.derive('cursor'));
    assert.notDeepEqual(a.derive('key-encryption'), MASTER);
  });
});

describe('Keyring with tampered data-key rows', () => {
  it('a wrapped data key moved to another version row fails with ERR_KEY', async () => {
    const store = new MemoryKeyStore();
    const ring = await Keyring.open(MASTER, store);
    await ring.rotate();
    const [one, two] = store.rows;
    assert.ok(one !== undefined && two !== undefined);
    // Swap the wrapped keys: each is bound to its own version, so neither opens.
    store.rows = [
      { ...one, wrapped: two.wrapped },
      { ...two, wrapped: one.wrapped },
    ];
    await assert.rejects(Keyring.open(MASTER, store), assertVigil('ERR_KEY', 'The master key does not open the data keys of this data directory'));
  });

  it('a flipped bit in a wrapped data key fails with ERR_KEY', async () => {
    const store = new MemoryKeyStore();
    await Keyring.open(MASTER, store);
    const row = store.rows[0];
    assert.ok(row !== undefined);
    const wrapped = Buffer.from(row.wrapped);
    wrapped[wrapped.length - 1] = (wrapped[wrapped.length - 1] ?? 0) ^ 1;
    store.rows = [{ ...row, wrapped }];
    await assert.rejects(Keyring.open(MASTER, store), assertVigil('ERR_KEY', /^The master key does not open/));
  });

  it('refresh on a live keyring fails with ERR_KEY when a new row is forged', async () => {
    const store = new MemoryKeyStore();
    const ring = await Keyring.open(MASTER, store);
    store.rows.push({ version: 2, wrapped: seal(Buffer.alloc(32, 3), 0, Buffer.alloc(32), Buffer.from('vigil:data-key:2')), createdAt: 'x' });
    await assert.rejects(ring.refresh(), assertVigil('ERR_KEY', /^The master key does not open/));
    // The forged key was not adopted.
    assert.equal(ring.currentVersion, 1);
    assert.equal(ring.has(2), false);
  });
});
