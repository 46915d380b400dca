import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteStore } from '../store/index.js';
import { resourceContext } from '../crypto/index.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';
import { verifyLog, type VerifyResult } from './verify.js';
import { auditLeafData, leafHash, rewrapLeafData, type AuditLeafInput } from './leaf.js';
import { noteSigner, parseVerifierKey } from './note-key.js';
import { signCheckpoint } from './checkpoint.js';
import { merkleRoot } from './frontier.js';
import { AuditTrail } from './trail.js';

const TRIGGERS = [
  'resource_versions_no_delete',
  'resource_versions_no_update',
  'audit_events_no_delete',
  'audit_events_no_update',
  'log_leaves_no_delete',
  'log_leaves_no_update',
  'checkpoints_no_delete',
  'checkpoints_no_update',
];

describe('vigil verify catches every kind of tampering', () => {
  let t: TestVigil;
  let witness: string;
  let dbFile: string;

  before(async () => {
    witness = join(mkdtempSync(join(tmpdir(), 'vigil-witness-')), 'witness.jsonl');
    t = await startTestVigil({ env: { VIGIL_WITNESS_FILE: witness } });
    dbFile = join(t.dir, 'vigil.db');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(JSON.parse((await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(`v${i}`) })).body).id as string);
    await t.fhir('PUT', `/fhir/Patient/${ids[0]}`, { body: { ...syntheticPatient('v0b'), id: ids[0] } });
    await t.fhir('DELETE', `/fhir/Patient/${ids[1]}`);
    await t.fhir('GET', `/fhir/Patient/${ids[2]}`);
    // An entry with a person behind the client (as CLI entries have): its agent column names the person.
    await new AuditTrail(t.vigil.store, 'default').record({ type: 'security', subtype: 'data-key-rotate', action: 'E', client: 'vigil-cli', user: 'os:tester', entities: ['data-key/2'], patients: [] });
    await t.vigil.log.checkpoint();
    // Rotate and re-encrypt two versions, as `vigil keys rewrap` does.
    const target = await t.vigil.keyring.rotate();
    const rows = (await t.vigil.store.listVersionsBelowKey(target, 0, 2)).map((row) => {
      const context = resourceContext(row.tenant, row.type, row.id, row.versionId);
      return { seq: row.seq, oldBox: row.box, box: t.vigil.keyring.encrypt(t.vigil.keyring.decrypt(row.box, context), context), keyVersion: target };
    });
    assert.equal(await t.vigil.store.replaceBoxes(rows, (r) => leafHash(rewrapLeafData(r))), 2);
    for (let i = 0; i < 3; i++) await t.fhir('POST', '/fhir/Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${ids[3]}` }, effectiveDateTime: `2024-01-0${i + 1}` } });
    await t.vigil.log.checkpoint();
  });
  after(async () => {
    await t.close();
    rmSync(join(witness, '..'), { recursive: true, force: true });
  });

  /** Copies the data directory's database, lets `tamper` edit the copy, and verifies it. */
  async function verifyTampered(tamper: (db: Database.Database) => void, witnessFile?: string, indexWorker = false, leafWorkers?: number): Promise<VerifyResult> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-tamper-'));
    try {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbFile + suffix)) copyFileSync(dbFile + suffix, join(dir, `vigil.db${suffix}`));
      const db = new Database(join(dir, 'vigil.db'));
      for (const trigger of TRIGGERS) db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
      tamper(db);
      db.close();
      const store = new SqliteStore(join(dir, 'vigil.db'));
      try {
        return await verifyLog({
          store,
          tenant: 'default',
          origin: t.vigil.log.origin,
          verifier: parseVerifierKey(t.vigil.log.verifierKey),
          ...(witnessFile === undefined ? {} : { witnessFile }),
          indexWorker,
          ...(leafWorkers === undefined ? {} : { leafWorkers }),
        });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('verifies the untouched store, checkpoints and witness', async () => {
    const r = await verifyTampered(() => undefined, witness);
    assert.equal(r.firstBroken, null, JSON.stringify(r.firstBroken));
    assert.equal(r.ok, true);
    assert.ok(r.leaves > 20);
    assert.ok(r.checkpoints >= 2);
    assert.ok(r.leavesPerSecond > 0);
  });

  const cases: { name: string; kind: string | RegExp; tamper: (db: Database.Database) => void }[] = [
    {
      name: 'an edited resource version (ciphertext)',
      kind: 'version',
      tamper: (db) => db.prepare("UPDATE resource_versions SET box = box || x'00' WHERE seq = 3").run(),
    },
    {
      name: 'an edited version row (metadata)',
      kind: 'version',
      tamper: (db) => db.prepare("UPDATE resource_versions SET last_updated = '2001-01-01T00:00:00.000Z' WHERE seq = 4").run(),
    },
    {
      name: 'an edited search index row',
      kind: 'index',
      tamper: (db) => db.prepare("UPDATE search_hash SET hash = x'00112233445566778899aabbccddeeff' WHERE (hash, rid) IN (SELECT hash, rid FROM search_hash LIMIT 1)").run(),
    },
    {
      // Search totals count the index alone: a row of no resource would add to them.
      name: 'a search index row of no resource (after the last one)',
      kind: 'index',
      tamper: (db) => db.prepare('INSERT INTO search_hash (hash, rid) SELECT hash, (SELECT MAX(rid) + 10 FROM resource_current) FROM search_hash LIMIT 1').run(),
    },
    {
      name: 'a search range row of no resource (before the first one)',
      kind: 'index',
      tamper: (db) => db.prepare("INSERT INTO search_range (rid, param, lo, hi, unit, unit2) VALUES (0, 'Observation.date', 0, 1, NULL, NULL)").run(),
    },
    {
      // SQLite keeps text that does not read as a number as text, even in an INTEGER column, and sorts it after every number.
      name: 'a search index row whose rid is not a number',
      kind: 'index',
      tamper: (db) => db.prepare("INSERT INTO search_hash (hash, rid) SELECT hash, 'x' FROM search_hash LIMIT 1").run(),
    },
    {
      name: 'a search range row whose rid is not a number',
      kind: 'index',
      tamper: (db) => db.prepare("INSERT INTO search_range (rid, param, lo, hi, unit, unit2) VALUES ('x', 'Observation.date', 0, 1, NULL, NULL)").run(),
    },
    {
      name: 'a search index row put back on a deleted resource',
      kind: 'index',
      tamper: (db) => db.prepare('INSERT INTO search_hash (hash, rid) SELECT hash, (SELECT rid FROM resource_current WHERE deleted = 1) FROM search_hash LIMIT 1').run(),
    },
    {
      name: 'a deleted version row',
      kind: 'missing-row',
      tamper: (db) => db.prepare('DELETE FROM resource_versions WHERE seq = 5').run(),
    },
    {
      name: 'an inserted version row',
      kind: 'extra-row',
      tamper: (db) =>
        db.prepare("INSERT INTO resource_versions (tenant, type, id, version_id, last_updated, deleted, key_version, box, index_digest) SELECT tenant, type, 'forged', 1, last_updated, 0, key_version, box, index_digest FROM resource_versions WHERE seq = 2").run(),
    },
    {
      name: 'reordered leaves',
      kind: /order|missing-row|checkpoint/,
      tamper: (db) => {
        const a = db.prepare('SELECT kind, ref, hash FROM log_leaves WHERE position = 2').get() as { kind: string; ref: number; hash: Buffer };
        const b = db.prepare('SELECT kind, ref, hash FROM log_leaves WHERE position = 4').get() as { kind: string; ref: number; hash: Buffer };
        db.prepare('UPDATE log_leaves SET kind = ?, ref = ?, hash = ? WHERE position = 2').run(b.kind, b.ref, b.hash);
        db.prepare('UPDATE log_leaves SET kind = ?, ref = ?, hash = ? WHERE position = 4').run(a.kind, a.ref, a.hash);
      },
    },
    {
      name: 'an edited audit entry',
      kind: 'audit',
      tamper: (db) => db.prepare("UPDATE audit_events SET body = replace(body, '\"outcome\":\"0\"', '\"outcome\":\"4\"'), outcome = '4' WHERE seq = 2").run(),
    },
    {
      name: 'an audit entry hidden from searches (column edited)',
      kind: 'audit',
      tamper: (db) => db.prepare("UPDATE audit_events SET patients = ' ' WHERE seq = 1").run(),
    },
    {
      name: 'an edited rewrap record',
      kind: /version|rewrap/,
      tamper: (db) => db.prepare("UPDATE rewraps SET after = x'00' WHERE seq = 1").run(),
    },
    {
      name: 'a truncated log',
      kind: 'checkpoint',
      tamper: (db) => db.prepare('DELETE FROM log_leaves WHERE position > (SELECT MAX(position) - 3 FROM log_leaves)').run(),
    },
    {
      name: 'deleted checkpoints (leaving nothing signed)',
      kind: 'checkpoint',
      tamper: (db) => db.prepare('DELETE FROM checkpoints').run(),
    },
    {
      name: 'a current pointer rolled back to an older version',
      kind: 'current',
      tamper: (db) => {
        const r = db.prepare('SELECT tenant, type, id FROM resource_versions WHERE version_id = 2 LIMIT 1').get() as { tenant: string; type: string; id: string };
        const old = db.prepare('SELECT seq FROM resource_versions WHERE tenant = ? AND type = ? AND id = ? AND version_id = 1').get(r.tenant, r.type, r.id) as { seq: number };
        db.prepare('UPDATE resource_current SET seq = ?, version_id = 1 WHERE tenant = ? AND type = ? AND id = ?').run(old.seq, r.tenant, r.type, r.id);
      },
    },
    {
      name: 'a deletion undone',
      kind: 'current',
      tamper: (db) => db.prepare('UPDATE resource_current SET deleted = 0 WHERE deleted = 1').run(),
    },
    {
      name: 'a checkpoint signed by another key',
      kind: 'checkpoint',
      tamper: (db) => {
        const { privateKey } = generateKeyPairSync('ed25519');
        const row = db.prepare('SELECT size, root FROM checkpoints ORDER BY size DESC LIMIT 1').get() as { size: number; root: Buffer };
        const note = signCheckpoint({ origin: t.vigil.log.origin, size: row.size, rootHash: row.root }, noteSigner(t.vigil.log.origin, privateKey));
        db.prepare('UPDATE checkpoints SET note = ? WHERE size = ?').run(note, row.size);
      },
    },
  ];

  for (const c of cases) {
    it(`catches ${c.name}`, async () => {
      const r = await verifyTampered(c.tamper);
      assert.equal(r.ok, false, c.name);
      assert.ok(r.firstBroken !== null);
      if (typeof c.kind === 'string') assert.equal(r.firstBroken.kind, c.kind, JSON.stringify(r.firstBroken));
      else assert.match(r.firstBroken.kind, c.kind, JSON.stringify(r.firstBroken));
      assert.ok(r.firstBroken.position >= 0);
      assert.ok(r.firstBroken.detail.length > 0);
      // The walk's time is the run's up to the problem (the index check, step 5, comes after it).
      if (r.leaves > 0 && r.firstBroken.kind !== 'index') assert.ok(r.phases.leafLeavesPerSecond <= 3 * r.leavesPerSecond, JSON.stringify(r));
    });
  }

  // On a large log the index check runs on a worker thread with its own read transaction: it must catch the same.
  for (const c of cases.filter((x) => x.kind === 'index' || x.kind === 'current')) {
    it(`catches ${c.name}, with the index checked on a worker thread`, async () => {
      const r = await verifyTampered(c.tamper, undefined, true);
      assert.equal(r.firstBroken?.kind, c.kind, JSON.stringify(r.firstBroken));
    });
  }

  it('checks the index on a worker thread over the same state as the walk', async () => {
    const r = await verifyTampered(() => undefined, witness, true);
    assert.equal(r.firstBroken, null, JSON.stringify(r.firstBroken));
    assert.equal(r.phases.indexInWorker, true);
  });

  it('catches an index row edited in a resource that has hash and range rows', async () => {
    const r = await verifyTampered((db) => {
      const changed = db.prepare('UPDATE search_range SET hi = hi + 1 WHERE rowid = (SELECT MIN(s.rowid) FROM search_range s JOIN resource_current c ON c.rid = s.rid WHERE c.deleted = 0)').run();
      assert.equal(changed.changes, 1);
    });
    assert.equal(r.firstBroken?.kind, 'index', JSON.stringify(r.firstBroken));
  });

  it('catches a hash row added to a current resource', async () => {
    const r = await verifyTampered((db) => db.prepare("INSERT INTO search_hash (hash, rid) SELECT x'ffffffffffffffffffffffffffffffff', MIN(rid) FROM resource_current WHERE deleted = 0").run(), undefined, true);
    assert.equal(r.firstBroken?.kind, 'index', JSON.stringify(r.firstBroken));
  });

  // A large log is checked in ranges on worker threads, falling back to the sequential walk when
  // anything is off: the report must be the sequential walk's, to the position and detail.
  /** What must not differ between the two paths (all but the timings). */
  const outcome = (r: VerifyResult) => ({ ok: r.ok, leaves: r.leaves, checkpoints: r.checkpoints, firstBroken: r.firstBroken });

  it('verifies the untouched store in ranges on worker threads, as the sequential walk does', async () => {
    const parallel = await verifyTampered(() => undefined, witness, true, 2);
    assert.equal(parallel.firstBroken, null, JSON.stringify(parallel.firstBroken));
    assert.equal(parallel.phases.leafWorkers, 2, 'took the parallel path');
    assert.equal(parallel.phases.indexInWorker, true);
    const sequential = await verifyTampered(() => undefined, witness, true, 0);
    assert.equal(sequential.phases.leafWorkers, 0);
    assert.deepEqual(outcome(parallel), outcome(sequential));
  });

  const lastSeq = (db: Database.Database, table: string): number => (db.prepare(`SELECT MAX(seq) AS s FROM ${table}`).get() as { s: number }).s;
  const swapLeaves = (db: Database.Database, p: number, q: number): void => {
    const at = (pos: number) => db.prepare('SELECT kind, ref, hash FROM log_leaves WHERE position = ?').get(pos) as { kind: string; ref: number; hash: Buffer };
    const [a, b] = [at(p), at(q)];
    db.prepare('UPDATE log_leaves SET kind = ?, ref = ?, hash = ? WHERE position = ?').run(b.kind, b.ref, b.hash, p);
    db.prepare('UPDATE log_leaves SET kind = ?, ref = ?, hash = ? WHERE position = ?').run(a.kind, a.ref, a.hash, q);
  };
  /** Edits an audit entry's body (and the column it repeats) and writes the leaf hash the edited row gives. */
  const rewriteAuditWithLeaf = (db: Database.Database, seq: number): void => {
    db.prepare("UPDATE audit_events SET body = replace(body, '\"outcome\":\"0\"', '\"outcome\":\"4\"'), outcome = '4' WHERE seq = ?").run(seq);
    const row = db.prepare('SELECT tenant, recorded, action, subtype, outcome, agent, patients, body FROM audit_events WHERE seq = ?').get(seq) as AuditLeafInput;
    const changed = db.prepare("UPDATE log_leaves SET hash = ? WHERE kind = 'audit' AND ref = ?").run(leafHash(auditLeafData(row)), seq);
    assert.equal(changed.changes, 1);
  };
  const rangeCases: { name: string; tamper: (db: Database.Database) => void }[] = [
    { name: 'an edited audit body in the first range', tamper: (db) => db.prepare("UPDATE audit_events SET body = body || ' ' WHERE seq = 1").run() },
    { name: 'an edited audit body in the last range', tamper: (db) => db.prepare("UPDATE audit_events SET body = body || ' ' WHERE seq = ?").run(lastSeq(db, 'audit_events')) },
    { name: 'an edited version ciphertext in the first range', tamper: (db) => db.prepare("UPDATE resource_versions SET box = box || x'00' WHERE seq = 1").run() },
    { name: 'an edited version ciphertext in the last range', tamper: (db) => db.prepare("UPDATE resource_versions SET box = box || x'00' WHERE seq = ?").run(lastSeq(db, 'resource_versions')) },
    { name: 'the first version row deleted', tamper: (db) => db.prepare('DELETE FROM resource_versions WHERE seq = 1').run() },
    { name: 'the last audit row deleted', tamper: (db) => db.prepare('DELETE FROM audit_events WHERE seq = ?').run(lastSeq(db, 'audit_events')) },
    { name: 'a middle audit row deleted', tamper: (db) => db.prepare('DELETE FROM audit_events WHERE seq = ?').run(Math.ceil(lastSeq(db, 'audit_events') / 2)) },
    {
      name: 'an audit row inserted after the last',
      tamper: (db) => db.prepare('INSERT INTO audit_events (tenant, recorded, action, subtype, outcome, agent, patients, body) SELECT tenant, recorded, action, subtype, outcome, agent, patients, body FROM audit_events WHERE seq = 1').run(),
    },
    { name: 'a rewrap row inserted', tamper: (db) => db.prepare('INSERT INTO rewraps (version_seq, before, after) SELECT version_seq, after, after FROM rewraps WHERE seq = 1').run() },
    {
      name: 'a middle audit row replaced by one at the end (a row skipped between ranges)',
      tamper: (db) => {
        const mid = Math.ceil(lastSeq(db, 'audit_events') / 2);
        db.prepare('INSERT INTO audit_events (seq, tenant, recorded, action, subtype, outcome, agent, patients, body) SELECT ?, tenant, recorded, action, subtype, outcome, agent, patients, body FROM audit_events WHERE seq = ?').run(lastSeq(db, 'audit_events') + 5, mid);
        db.prepare('DELETE FROM audit_events WHERE seq = ?').run(mid);
      },
    },
    {
      // An audit leaf's hash does not cover its row's number, so this leaves the tree as signed:
      // only the join of two ranges (the row after one range must be the first row of the next) sees it.
      name: 'a row inserted between two ranges (the later rows and their leaves renumbered)',
      tamper: (db) => {
        const total = (db.prepare('SELECT MAX(position) AS p FROM log_leaves').get() as { p: number }).p;
        // The ninth range that 2 workers get: 8 per worker, each of a power of two of leaves.
        let size = 1;
        while (size * 2 <= Math.floor(total / 16)) size *= 2;
        const start = 1 + size * 8;
        const { ref } = db.prepare("SELECT ref FROM log_leaves WHERE kind = 'audit' AND position >= ? ORDER BY position LIMIT 1").get(start) as { ref: number };
        for (let seq = lastSeq(db, 'audit_events'); seq >= ref; seq--) db.prepare('UPDATE audit_events SET seq = seq + 1 WHERE seq = ?').run(seq);
        db.prepare("UPDATE log_leaves SET ref = ref + 1 WHERE kind = 'audit' AND ref >= ?").run(ref);
        db.prepare('INSERT INTO audit_events (seq, tenant, recorded, action, subtype, outcome, agent, patients, body) SELECT ?, tenant, recorded, action, subtype, outcome, agent, patients, body FROM audit_events WHERE seq = 1').run(ref);
      },
    },
    {
      // Row and leaf agree, so no range sees it: only the roots the ranges' subtrees join into, compared with the signed ones, do.
      name: 'an audit entry and its leaf rewritten together, before the first checkpoint',
      tamper: (db) => rewriteAuditWithLeaf(db, 2),
    },
    {
      name: 'an audit entry and its leaf rewritten together, after the first checkpoint',
      tamper: (db) => rewriteAuditWithLeaf(db, lastSeq(db, 'audit_events')),
    },
    // The workers' snapshot check compares their highest position with the main thread's count: a gap makes them differ.
    { name: 'a leaf deleted in the middle (a gap in the positions)', tamper: (db) => db.prepare('DELETE FROM log_leaves WHERE position = (SELECT MAX(position) / 2 FROM log_leaves)').run() },
    { name: 'leaves swapped across the first and last ranges', tamper: (db) => swapLeaves(db, 2, (db.prepare('SELECT MAX(position) AS p FROM log_leaves').get() as { p: number }).p - 1) },
    { name: 'leaves swapped across two middle ranges', tamper: (db) => swapLeaves(db, 9, 17) },
    {
      name: 'two audit rows in different ranges swapped',
      tamper: (db) => {
        const last = lastSeq(db, 'audit_events');
        const cols = 'tenant = ?, recorded = ?, action = ?, subtype = ?, outcome = ?, agent = ?, patients = ?, body = ?';
        const row = (seq: number) => db.prepare('SELECT tenant, recorded, action, subtype, outcome, agent, patients, body FROM audit_events WHERE seq = ?').raw().get(seq) as unknown[];
        const [a, b] = [row(1), row(last)];
        db.prepare(`UPDATE audit_events SET ${cols} WHERE seq = ?`).run(...b, 1);
        db.prepare(`UPDATE audit_events SET ${cols} WHERE seq = ?`).run(...a, last);
      },
    },
  ];
  for (const c of [...rangeCases, ...cases]) {
    it(`reports ${c.name} as the sequential walk does, when checked in ranges`, async () => {
      const parallel = await verifyTampered(c.tamper, undefined, true, 2);
      const sequential = await verifyTampered(c.tamper, undefined, false, 0);
      assert.equal(sequential.ok, false, 'the tamper is caught at all');
      assert.deepEqual(outcome(parallel), outcome(sequential));
    });
  }

  it('verifies in ranges while writes go on (a worker that reads a later state is not trusted)', async () => {
    const writes = Array.from({ length: 40 }, (_, i) => t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(`ranged${i}`) }));
    const r = await verifyLog({ store: t.vigil.store, tenant: 'default', origin: t.vigil.log.origin, verifier: parseVerifierKey(t.vigil.log.verifierKey), leafWorkers: 2 });
    await Promise.all(writes);
    assert.equal(r.firstBroken, null, JSON.stringify(r.firstBroken));
  });

  it('refuses a configured witness file that is missing', async () => {
    const r = await verifyTampered(() => undefined, join(tmpdir(), 'vigil-no-such-witness.jsonl'));
    assert.equal(r.ok, false);
    assert.equal(r.firstBroken?.kind, 'witness');
  });

  it('verifies one snapshot while writes go on', async () => {
    const writes = Array.from({ length: 40 }, (_, i) => t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(`live${i}`) }));
    const r = await verifyLog({ store: t.vigil.store, tenant: 'default', origin: t.vigil.log.origin, verifier: parseVerifierKey(t.vigil.log.verifierKey) });
    await Promise.all(writes);
    assert.equal(r.firstBroken, null, JSON.stringify(r.firstBroken));
  });

  it('catches a log rolled back to an earlier checkpoint, through the witness', async () => {
    const rollBack = (db: Database.Database): void => {
      const first = db.prepare('SELECT MIN(size) AS s FROM checkpoints').get() as { s: number };
      db.prepare('DELETE FROM checkpoints WHERE size > ?').run(first.s);
      db.prepare('DELETE FROM log_leaves WHERE position > ?').run(first.s);
      db.prepare('DELETE FROM rewraps').run();
      db.prepare('DELETE FROM audit_events WHERE seq > (SELECT COUNT(*) FROM log_leaves WHERE kind = \'audit\')').run();
      db.prepare("DELETE FROM resource_versions WHERE seq > (SELECT COUNT(*) FROM log_leaves WHERE kind = 'version')").run();
    };
    const withoutWitness = await verifyTampered(rollBack);
    assert.equal(withoutWitness.firstBroken?.kind === 'witness', false, 'no witness: only the database to go by');
    const r = await verifyTampered(rollBack, witness);
    assert.equal(r.ok, false);
    assert.equal(r.firstBroken?.kind, 'witness');
  });

  it('catches a forked history: the witness holds a different root for a size', async () => {
    const forked = join(mkdtempSync(join(tmpdir(), 'vigil-fork-')), 'witness.jsonl');
    try {
      writeFileSync(forked, readFileSync(witness, 'utf8'));
      // A checkpoint of a size the log has, over another history, signed with the log's own key
      // (as if the server had been made to sign a fork).
      const size = 5;
      const fork = merkleRoot(Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`fork ${i}`))));
      const { logKeys } = await import('./log.js');
      const { signer } = logKeys(t.vigil.keyring.derive('log-signing:default'), t.vigil.log.origin);
      appendFileSync(forked, `${JSON.stringify({ size, note: signCheckpoint({ origin: t.vigil.log.origin, size, rootHash: fork }, signer) })}\n`);
      const r = await verifyTampered(() => undefined, forked);
      assert.equal(r.ok, false);
      assert.equal(r.firstBroken?.kind, 'witness');
      assert.equal(r.firstBroken?.position, size);
    } finally {
      rmSync(join(forked, '..'), { recursive: true, force: true });
    }
  });
});

describe('vigil verify and vigil log on the command line', () => {
  it('prints the JSON report, exits 1 when broken, and checks a proof offline with only the key', async () => {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'package.json'))) dir = join(dir, '..');
    const main = join(dir, 'bin', 'vigil.js');
    const t = await startTestVigil();
    try {
      for (let i = 0; i < 3; i++) await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(`cli${i}`) });
      await t.vigil.log.checkpoint();
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIL_')));
      const run = (...args: string[]) => spawnSync(process.execPath, [main, ...args, '--data', t.dir], { encoding: 'utf8', env });
      const ok = run('verify', '--json');
      assert.equal(ok.status, 0, ok.stderr);
      const report = JSON.parse(ok.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(report).sort(), ['checkpoints', 'firstBroken', 'leaves', 'leavesPerSecond', 'ok', 'phases']);
      assert.equal(report['ok'], true);
      assert.equal(report['firstBroken'], null);
      const key = run('log', 'key').stdout.trim();
      assert.match(key, /^.+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
      const proofFile = join(t.dir, 'proof.json');
      assert.equal(run('log', 'proof', '--position', '2', '--out', proofFile).status, 0);
      const offline = spawnSync(process.execPath, [main, 'verify', '--proof', proofFile, '--key', key, '--json'], { encoding: 'utf8', env });
      assert.equal(offline.status, 0, offline.stderr);
      assert.equal(JSON.parse(offline.stdout).ok, true);
      const proof = JSON.parse(readFileSync(proofFile, 'utf8')) as { leafHash: string };
      writeFileSync(proofFile, JSON.stringify({ ...proof, leafHash: Buffer.alloc(32).toString('base64') }));
      assert.equal(spawnSync(process.execPath, [main, 'verify', '--proof', proofFile, '--key', key], { encoding: 'utf8', env }).status, 1);
      const raw = new Database(join(t.dir, 'vigil.db'));
      raw.exec('DROP TRIGGER audit_events_no_update');
      raw.prepare("UPDATE audit_events SET body = body || ' ' WHERE seq = 1").run();
      raw.close();
      const broken = run('verify', '--json');
      assert.equal(broken.status, 1);
      assert.equal(JSON.parse(broken.stdout).firstBroken.kind, 'audit');
    } finally {
      await t.close();
    }
  });
});

function dirname(p: string): string {
  return join(p, '..');
}

describe('vigil verify in ranges on a longer log', () => {
  let t: TestVigil;
  const signed: number[] = [];

  before(async () => {
    t = await startTestVigil();
    const trail = new AuditTrail(t.vigil.store, 'default');
    // About 300 leaves, signed at sizes that fall inside ranges, not at their ends.
    for (let i = 0; i < 290; i++) {
      await trail.record({ type: 'rest', subtype: 'read', action: 'R', client: 'ehr-app', user: `u${i % 7}`, entities: [`Patient/p${i}`], patients: [`p${i}`] });
      if (i === 70 || i === 150) signed.push((await t.vigil.log.checkpoint())?.size ?? 0);
    }
    signed.push((await t.vigil.log.checkpoint())?.size ?? 0);
  });
  after(async () => {
    await t.close();
  });

  it('joins ranges of a power of two of leaves into the signed roots, on the parallel path', async () => {
    const total = await t.vigil.store.countLeaves();
    // 16 ranges of equal length would not each start at a multiple of their length here.
    assert.notEqual(Math.ceil(total / 16) & (Math.ceil(total / 16) - 1), 0);
    assert.ok(signed.every((size) => size % 16 !== 0), `signed sizes ${signed.join(', ')}`);
    const r = await verifyLog({ store: t.vigil.store, tenant: 'default', origin: t.vigil.log.origin, verifier: parseVerifierKey(t.vigil.log.verifierKey), leafWorkers: 2 });
    assert.equal(r.firstBroken, null, JSON.stringify(r.firstBroken));
    assert.equal(r.phases.leafWorkers, 2, 'the ranges joined: no fallback to the sequential walk');
    assert.equal(r.leaves, total);
    assert.equal(r.checkpoints, signed.length);
  });
});
