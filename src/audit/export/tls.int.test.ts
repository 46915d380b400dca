import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { VigilError } from '../../errors.js';
import { startTestVigil, type TestVigil } from '../../testing/harness.js';
import { exportAudit } from './exporter.js';
import { readExportState } from './state.js';
import { SD_ID } from './syslog-format.js';
import { parseSyslog } from './syslog-parse.js';
import { SyslogSink } from './syslog-sink.js';
import { SyslogReceiver, seedAudit, throwawayCertificate } from './test-helpers.js';

const cert = throwawayCertificate();

describe('export to a syslog receiver over TLS (RFC 5425)', { skip: cert === undefined ? 'openssl is not installed' : false }, () => {
  let t: TestVigil;
  let all: number[];
  before(async () => {
    t = await startTestVigil();
    await seedAudit(t.vigil.store, 1500);
    all = (await t.vigil.store.readAuditBySeq(1, 1_000_000)).map((r) => r.seq);
  });
  after(async () => t.close());

  it('delivers every entry, octet-counted, to a receiver whose certificate the given CA vouches for', async () => {
    const { key, cert: pem } = cert!;
    const receiver = await SyslogReceiver.start({ tls: { key, cert: pem } });
    const r = await exportAudit({ store: t.vigil.store, sink: new SyslogSink({ host: '127.0.0.1', port: receiver.port, tls: true, ca: pem }), statePath: join(t.dir, 'tls.state') });
    assert.equal(r.target, `syslog+tls://127.0.0.1:${receiver.port}`);
    await receiver.until((x) => x.messages.length >= all.length);
    assert.deepEqual(receiver.seqs(), all);
    const p = parseSyslog(receiver.messages[0] ?? Buffer.alloc(0));
    assert.equal(p.version, 1);
    assert.equal(p.sd.get(SD_ID)?.get('seq'), String(all[0]));
    await receiver.stop();
  });

  it('survives the TLS receiver restarting mid-way: every entry at least once', async () => {
    const { key, cert: pem } = cert!;
    let crashed = false;
    const receiver = await SyslogReceiver.start({
      tls: { key, cert: pem },
      onMessage: (x) => {
        if (!crashed && x.messages.length === 500) {
          crashed = true;
          void x.stop().then(() => setTimeout(() => void x.listen(), 200));
        }
      },
    });
    const r = await exportAudit({ store: t.vigil.store, sink: new SyslogSink({ host: '127.0.0.1', port: receiver.port, tls: true, ca: pem }), statePath: join(t.dir, 'tls-crash.state'), batchSize: 100, backoffMs: { initial: 20, max: 200 }, maxAttempts: 50 });
    await receiver.until((x) => new Set(x.seqs()).size >= all.length);
    const seen = new Set(receiver.seqs());
    assert.deepEqual(all.filter((s) => !seen.has(s)), []);
    assert.ok(receiver.connections >= 2);
    assert.equal(r.lastSeq, all[all.length - 1]);
    await receiver.stop();
  });

  it('refuses a receiver whose certificate it cannot verify, sending nothing and keeping its place', async () => {
    const { key, cert: pem } = cert!;
    const receiver = await SyslogReceiver.start({ tls: { key, cert: pem } });
    const statePath = join(t.dir, 'tls-untrusted.state');
    // No --ca: the throwaway certificate is in no trusted list.
    await assert.rejects(
      exportAudit({ store: t.vigil.store, sink: new SyslogSink({ host: '127.0.0.1', port: receiver.port, tls: true }), statePath, maxAttempts: 1 }),
      (err: unknown) => err instanceof VigilError && err.code === 'ERR_INTERNAL' && /is unavailable \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE): .*gave up after 1 attempts/.test(err.message),
    );
    assert.equal(readExportState(statePath, `syslog+tls://127.0.0.1:${receiver.port}`), undefined);
    // The right CA, but an address the certificate does not name (its SANs: 127.0.0.1 and localhost).
    const other = await SyslogReceiver.start({ tls: { key, cert: pem }, host: '127.0.0.2' });
    await assert.rejects(
      exportAudit({ store: t.vigil.store, sink: new SyslogSink({ host: '127.0.0.2', port: other.port, tls: true, ca: pem }), statePath: join(t.dir, 'tls-wrong-name.state'), maxAttempts: 1 }),
      (err: unknown) => err instanceof VigilError && err.code === 'ERR_INTERNAL' && /is unavailable \(ERR_TLS_CERT_ALTNAME_INVALID: /.test(err.message),
    );
    assert.equal(other.messages.length, 0);
    await other.stop();
    assert.equal(receiver.messages.length, 0);
    await receiver.stop();
  });
});
