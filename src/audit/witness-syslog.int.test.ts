import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { loadConfig } from '../config/index.js';
import { startTestVigil, syntheticPatient } from '../testing/harness.js';
import { OctetFrameParser, parseSyslog, SD_ID, type ParsedSyslog } from './export/index.js';

/** A loopback syslog receiver (octet-counted TCP) that keeps every message. */
async function receiver(): Promise<{ port: number; messages: ParsedSyslog[]; close: () => void }> {
  const messages: ParsedSyslog[] = [];
  const server = createServer((socket) => {
    const parser = new OctetFrameParser();
    socket.on('data', (d: Buffer) => {
      for (const frame of parser.push(d)) messages.push(parseSyslog(frame));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, messages, close: () => server.close() };
}

describe('syslog checkpoint witness', () => {
  it('sends every new checkpoint note as one RFC 5424 message', async () => {
    const rx = await receiver();
    const t = await startTestVigil({ env: { VIGIL_WITNESS_SYSLOG: `tcp://127.0.0.1:${rx.port}` } });
    try {
      await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('s1') });
      const first = await t.vigil.log.checkpoint();
      await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('s2') });
      const second = await t.vigil.log.checkpoint();
      await t.vigil.log.checkpoint(); // nothing new: nothing sent
      for (let i = 0; i < 50 && rx.messages.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(rx.messages.length, 2);
      assert.deepEqual(rx.messages.map((m) => Number(m.sd.get(SD_ID)?.get('size'))), [first?.size, second?.size]);
      for (const m of rx.messages) {
        assert.equal(m.msgId, 'checkpoint');
        assert.equal(m.appName, 'vigil');
        assert.equal(m.sd.get(SD_ID)?.get('origin'), t.vigil.log.origin);
        // The message carries the whole signed note: the receiver can check it with the log key.
        assert.equal(t.vigil.log.open(m.msg).size, Number(m.sd.get(SD_ID)?.get('size')));
      }
    } finally {
      await t.close();
      rx.close();
    }
  });

  it('stores the checkpoint anyway and tells when the receiver is down', async () => {
    const errors: unknown[] = [];
    const rx = await receiver();
    rx.close(); // a port that was just free: nothing listens
    const { openVigil } = await import('../runtime/index.js');
    const t = await startTestVigil({ env: { VIGIL_WITNESS_SYSLOG: `tcp://127.0.0.1:${rx.port}` } });
    try {
      await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('s3') });
      const cp = await t.vigil.log.checkpoint();
      assert.ok(cp !== undefined && cp.size > 0);
      assert.equal((await t.vigil.log.latest())?.size, cp.size);
      const other = await openVigil(t.config, { onWitnessError: (e) => errors.push(e) });
      try {
        await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient('s4') });
        await other.log.checkpoint();
        assert.equal(errors.length, 1);
      } finally {
        await other.close();
      }
    } finally {
      await t.close();
    }
  });

  it('accepts TLS anywhere, plain TCP only on loopback', () => {
    assert.deepEqual(loadConfig({ VIGIL_WITNESS_SYSLOG: 'tls://siem.example.org:6514' }).witnessSyslog, { host: 'siem.example.org', port: 6514, tls: true });
    assert.deepEqual(loadConfig({ VIGIL_WITNESS_SYSLOG: 'tcp://[::1]:514' }).witnessSyslog, { host: '::1', port: 514, tls: false });
    for (const bad of ['tcp://siem.example.org:514', 'udp://127.0.0.1:514', 'tls://siem.example.org', 'siem.example.org:6514']) {
      assert.throws(() => loadConfig({ VIGIL_WITNESS_SYSLOG: bad }), /VIGIL_WITNESS_SYSLOG must be tls:\/\/HOST:PORT/, bad);
    }
  });
});
