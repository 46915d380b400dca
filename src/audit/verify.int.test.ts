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
import { leafHash, rewrapLeafData } from './leaf.js';
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
  async function verifyTampered(tamper: (db: Database.Database) => void, witnessFile?: string, indexWorker = false): Promise<VerifyResult> {
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
