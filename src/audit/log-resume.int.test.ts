import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { row } from '../store/conformance.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/index.js';
import { signCheckpoint } from './checkpoint.js';
import { MerkleFrontier, merkleRoot } from './frontier.js';
import { logKeys, TransparencyLog } from './log.js';

const ORIGIN = 'vigil.log/0000test/default';
const SEED = randomBytes(32);

/** The leaf hash of the i-th version appended by `append`. */
const leafOf = (i: number): Buffer => createHash('sha256').update(`leaf ${i}`).digest();

async function append(store: Store, from: number, to: number): Promise<void> {
  await store.tx(async (tx) => {
    for (let i = from; i < to; i++) await tx.append(row({ id: `p${i}`, leaf: leafOf(i) }));
  });
}

/** A log over `store`, with every position it asks the store for noted in `reads`. */
function openLog(store: SqliteStore, reads: number[] = []): TransparencyLog {
  const spied = new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (key !== 'readLeaves') return value.bind(target);
      return (from: number, limit: number) => {
        reads.push(from);
        return store.readLeaves(from, limit);
      };
    },
  });
  return new TransparencyLog({ store: spied, origin: ORIGIN, ...logKeys(SEED, ORIGIN) });
}

/** A store with 40 leaves and a checkpoint of them signed by a log that read them all. */
async function withCheckpointedStore(fn: (store: SqliteStore, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-log-'));
  const path = join(dir, 'vigil.db');
  const store = new SqliteStore(path);
  try {
    await append(store, 0, 40);
    const cp = await openLog(store).checkpoint();
    assert.equal(cp?.size, 40);
    await fn(store, path);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs SQL on the file as an intruder with write access would, past the append-only triggers. */
function tamper(path: string, sql: string, ...args: unknown[]): void {
  const raw = new Database(path);
  try {
    raw.exec('DROP TRIGGER IF EXISTS checkpoints_no_update; DROP TRIGGER IF EXISTS log_leaves_no_delete');
    raw.prepare(sql).run(...args);
  } finally {
    raw.close();
  }
}

const expectedRoot = (size: number): Buffer => merkleRoot(Array.from({ length: size }, (_, i) => leafOf(i)));

describe('transparency log: resuming from the stored frontier', () => {
  it('stores the frontier with each checkpoint, and a new process reads only the leaves after it', () =>
    withCheckpointedStore(async (store) => {
      const stored = await store.latestCheckpointWithFrontier();
      // 40 = 32 + 8: two perfect subtrees.
      assert.equal(stored?.frontier?.length, 2 * 32);
      await append(store, 40, 50);
      const reads: number[] = [];
      const cp = await openLog(store, reads).checkpoint();
      assert.equal(cp?.size, 50);
      assert.deepEqual(cp?.root, expectedRoot(50));
      // Leaf 40 once, to see the log still reaches the checkpoint; then the leaves after it.
      assert.ok(Math.min(...reads) >= 40, `read from position ${Math.min(...reads)}`);
    }));

  it('keeps to the signed history when leaves before the checkpoint are edited', () =>
    withCheckpointedStore(async (store, path) => {
      tamper(path, 'DROP TRIGGER IF EXISTS log_leaves_no_update');
      tamper(path, 'UPDATE log_leaves SET hash = ? WHERE position = 3', randomBytes(32));
      await append(store, 40, 41);
      const cp = await openLog(store).checkpoint();
      // The edit is not folded into the next checkpoint; `vigil verify` reports the edited leaf.
      assert.deepEqual(cp?.root, expectedRoot(41));
    }));

  const refused: [string, (path: string) => void][] = [
    ['an edited frontier', (path) => tamper(path, 'UPDATE checkpoints SET frontier = ?', randomBytes(64))],
    [
      'a frontier and root column edited together, the note left',
      (path) => {
        const fake = new MerkleFrontier();
        for (let i = 0; i < 40; i++) fake.append(randomBytes(32));
        tamper(path, 'UPDATE checkpoints SET frontier = ?, root = ?', Buffer.concat(fake.hashes()), fake.root());
      },
    ],
    [
      'a later checkpoint signed by another key',
      (path) => {
        const fake = new MerkleFrontier();
        for (let i = 0; i < 64; i++) fake.append(randomBytes(32));
        const note = signCheckpoint({ origin: ORIGIN, size: 64, rootHash: fake.root() }, logKeys(randomBytes(32), ORIGIN).signer);
        tamper(path, "INSERT INTO checkpoints (size, root, note, created_at, frontier) VALUES (64, ?, ?, '2026-01-01T00:00:00.000Z', ?)", fake.root(), note, Buffer.concat(fake.hashes()));
      },
    ],
    ['a frontier cut short', (path) => tamper(path, 'UPDATE checkpoints SET frontier = substr(frontier, 1, 32)')],
    ['a frontier of the wrong length', (path) => tamper(path, 'UPDATE checkpoints SET frontier = x\'0102\'')],
    ['a log cut short after the checkpoint', (path) => tamper(path, 'DELETE FROM log_leaves WHERE position > 30')],
  ];
  for (const [what, attack] of refused) {
    it(`reads the leaves from the start instead of trusting ${what}`, () =>
      withCheckpointedStore(async (store, path) => {
        attack(path);
        const reads: number[] = [];
        const log = openLog(store, reads);
        const size = await log.sync();
        assert.equal(Math.min(...reads), 1);
        const cut = what === 'a log cut short after the checkpoint';
        assert.equal(size, cut ? 30 : 40);
        if (cut) return;
        // Past the largest stored checkpoint (a forged one included), the next is signed over the true leaves.
        await append(store, 40, 70);
        assert.deepEqual((await log.checkpoint())?.root, expectedRoot(70));
      }));
  }

  it('reads the whole log of a store whose checkpoints predate frontiers, and stores one from then on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-log-'));
    const path = join(dir, 'vigil.db');
    try {
      let store = new SqliteStore(path);
      await append(store, 0, 20);
      await openLog(store).checkpoint();
      await store.close();
      const raw = new Database(path);
      raw.exec('ALTER TABLE checkpoints DROP COLUMN frontier');
      raw.close();
      store = new SqliteStore(path);
      try {
        assert.equal(await store.latestCheckpointWithFrontier(), undefined);
        await append(store, 20, 25);
        const reads: number[] = [];
        const cp = await openLog(store, reads).checkpoint();
        assert.equal(Math.min(...reads), 1);
        assert.deepEqual(cp?.root, expectedRoot(25));
        assert.equal((await store.latestCheckpointWithFrontier())?.size, 25);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('neither stops signing nor serves a checkpoint planted at a larger size under another key', () =>
    withCheckpointedStore(async (store, path) => {
      const fake = new MerkleFrontier();
      for (let i = 0; i < 1000; i++) fake.append(randomBytes(32));
      const note = signCheckpoint({ origin: ORIGIN, size: 1000, rootHash: fake.root() }, logKeys(randomBytes(32), ORIGIN).signer);
      tamper(path, "INSERT INTO checkpoints (size, root, note, created_at) VALUES (1000, ?, ?, '2026-01-01T00:00:00.000Z')", fake.root(), note);
      // A planted row whose root column differs from what its (real) note says is passed over too.
      const real = await store.latestCheckpoint();
      tamper(path, "INSERT INTO checkpoints (size, root, note, created_at) VALUES (2000, ?, ?, '2026-01-01T00:00:00.000Z')", randomBytes(32), real?.note ?? '');
      await append(store, 40, 50);
      const log = openLog(store);
      const cp = await log.checkpoint();
      assert.equal(cp?.size, 50);
      assert.deepEqual(cp?.root, expectedRoot(50));
      assert.equal((await log.latest())?.size, 50);
      assert.equal((await store.latestCheckpoint())?.size, 2000, 'the planted rows stay for vigil verify to report');
    }));

  it('still hands the witness its checkpoint when a row planted at the same size stands in the database', () =>
    withCheckpointedStore(async (store, path) => {
      const witness = join(path, '..', 'witness.jsonl');
      await append(store, 40, 45);
      // An intruder plants rows at the next sizes the log will sign, under another key.
      for (const size of [45, 46]) {
        const note = signCheckpoint({ origin: ORIGIN, size, rootHash: randomBytes(32) }, logKeys(randomBytes(32), ORIGIN).signer);
        tamper(path, "INSERT INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, '2026-01-01T00:00:00.000Z')", size, randomBytes(32), note);
      }
      const log = new TransparencyLog({ store, origin: ORIGIN, ...logKeys(SEED, ORIGIN), witnessFile: witness });
      const sent = (): { size: number; note: string }[] =>
        readFileSync(witness, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as { size: number; note: string });
      const cp = await log.checkpoint();
      assert.equal(cp?.size, 45);
      assert.deepEqual(sent().map((w) => w.size), [45]);
      const opened = log.open(sent()[0]?.note ?? '');
      assert.deepEqual(Buffer.from(opened.rootHash), expectedRoot(45), 'the witness holds this log\'s own root');
      // Asked again with no new leaf, it does not send the same checkpoint twice.
      await log.checkpoint();
      assert.equal(sent().length, 1);
      await append(store, 45, 46);
      await log.checkpoint();
      assert.deepEqual(sent().map((w) => w.size), [45, 46]);
      // The database keeps the planted rows (vigil verify reports them), and no second row per size.
      assert.equal((await store.listCheckpoints()).filter((c) => c.size === 45 || c.size === 46).length, 2);
    }));

  it('takes a checkpoint another process signed at the same size as its own', () =>
    withCheckpointedStore(async (store) => {
      await append(store, 40, 45);
      const first = openLog(store);
      const second = openLog(store);
      await second.sync();
      const a = await first.checkpoint();
      // The second log read the same leaves before the first stored its checkpoint.
      const b = await second.checkpoint();
      assert.equal(a?.note, b?.note);
      assert.equal((await store.listCheckpoints()).filter((c) => c.size === 45).length, 1);
    }));
});
