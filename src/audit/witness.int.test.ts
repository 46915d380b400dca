import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/index.js';
import { startTestVigil, syntheticPatient } from '../testing/harness.js';
import { VigilError } from '../errors.js';
import { signCheckpoint } from './checkpoint.js';
import { leafHash } from './leaf.js';
import { merkleRoot } from './frontier.js';
import { logKeys } from './log.js';
import { parseVerifierKey } from './note-key.js';
import { verifyLog } from './verify.js';

describe('remote checkpoint witness', () => {
  it('receives every new checkpoint, signed by the log key', async () => {
    const received: { origin: string; size: number; note: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        received.push(JSON.parse(body) as { origin: string; size: number; note: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const t = await startTestVigil({ env: { VIGIL_WITNESS_URL: `http://127.0.0.1:${port}/checkpoints` } });
    try {
      await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('w1') });
      const first = await t.vigil.log.checkpoint();
      await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('w2') });
      const second = await t.vigil.log.checkpoint();
      await t.vigil.log.checkpoint(); // nothing new: no new checkpoint, nothing sent
      assert.deepEqual(received.map((r) => r.size), [first?.size, second?.size]);
      for (const r of received) {
        assert.equal(r.origin, t.vigil.log.origin);
        assert.equal(t.vigil.log.open(r.note).size, r.size);
      }
    } finally {
      await t.close();
      server.close();
    }
  });

  it('keeps checkpointing when the witness is down', async () => {
    const t = await startTestVigil({ env: { VIGIL_WITNESS_URL: 'http://127.0.0.1:9/nowhere' } });
    try {
      await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('w3') });
      const cp = await t.vigil.log.checkpoint();
      assert.ok(cp !== undefined && cp.size > 0);
      assert.equal((await t.vigil.log.latest())?.size, cp.size);
    } finally {
      await t.close();
    }
  });

  it('refuses a plain-HTTP witness off this machine', () => {
    assert.throws(() => loadConfig({ VIGIL_WITNESS_URL: 'http://witness.example/cp' }), /VIGIL_WITNESS_URL must be an https URL/);
    assert.equal(loadConfig({ VIGIL_WITNESS_URL: 'https://witness.example/cp' }).witnessUrl, 'https://witness.example/cp');
  });
});

describe('vigil verify --witness-url: the newest checkpoint a remote witness holds', () => {
  it('verifies against it, and reports a rollback, a fork or an unreadable witness as kind witness', async () => {
    let answer: { status: number; body: unknown } = { status: 200, body: {} };
    const server = createServer((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/latest`;
    const t = await startTestVigil();
    try {
      for (let i = 0; i < 4; i++) await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(`wu${i}`) });
      const cp = await t.vigil.log.checkpoint();
      assert.ok(cp !== undefined);
      const origin = t.vigil.log.origin;
      const verify = () => verifyLog({ store: t.vigil.store, tenant: 'default', origin, verifier: parseVerifierKey(t.vigil.log.verifierKey), witnessUrl: url });
      const { signer } = logKeys(t.vigil.keyring.derive('log-signing:default'), origin);
      const signed = (size: number, seed: string) => signCheckpoint({ origin, size, rootHash: merkleRoot(Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`${seed} ${i}`)))) }, signer);

      answer = { status: 200, body: { origin, size: cp.size, note: cp.note } };
      const ok = await verify();
      assert.equal(ok.firstBroken, null, JSON.stringify(ok.firstBroken));

      // The database was rolled back: the witness saw a larger log than the one it now holds.
      answer = { status: 200, body: { origin, size: cp.size + 10, note: signed(cp.size + 10, 'later') } };
      const rolledBack = await verify();
      assert.equal(rolledBack.firstBroken?.kind, 'witness');
      assert.match(rolledBack.firstBroken?.detail ?? '', /truncated or rolled back/);

      // The witness holds another history of the same size (a fork signed with the log's key).
      answer = { status: 200, body: { origin, size: 3, note: signed(3, 'fork') } };
      const forked = await verify();
      assert.equal(forked.firstBroken?.kind, 'witness');
      assert.equal(forked.firstBroken?.position, 3);

      for (const bad of [{ status: 404, body: {} }, { status: 200, body: { size: 1 } }]) {
        answer = bad;
        const r = await verify();
        assert.equal(r.ok, false);
        assert.deepEqual(r.firstBroken, { position: 0, kind: 'witness', detail: 'the remote witness could not be read' });
      }
      await assert.rejects(
        verifyLog({ store: t.vigil.store, tenant: 'default', origin, verifier: parseVerifierKey(t.vigil.log.verifierKey), witnessUrl: 'http://witness.example/latest' }),
        (err: unknown) => err instanceof VigilError && err.code === 'ERR_CONFIG',
      );
    } finally {
      await t.close();
      server.close();
    }
  });
});
