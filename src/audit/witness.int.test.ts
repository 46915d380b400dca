import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/index.js';
import { startTestVigil, syntheticPatient } from '../testing/harness.js';

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
