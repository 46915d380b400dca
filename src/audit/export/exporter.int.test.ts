import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { VigilError } from '../../errors.js';
import { startTestVigil, syntheticPatient, type TestVigil } from '../../testing/harness.js';
import { exportAudit } from './exporter.js';
import { JsonlSink } from './jsonl-sink.js';
import { lastAuditSeq } from './last-seq.js';
import { readExportState } from './state.js';
import { SD_ID } from './syslog-format.js';
import { parseSyslog } from './syslog-parse.js';
import { SyslogSink } from './syslog-sink.js';
import { SyslogReceiver, seedAudit } from './test-helpers.js';

const FAST = { initial: 20, max: 200 };

let t: TestVigil;
/** Every audit seq in the store, in order (the harness's own set-up may have written some). */
let all: number[];

before(async () => {
  t = await startTestVigil();
  await seedAudit(t.vigil.store, 3000);
  all = (await t.vigil.store.readAuditBySeq(1, 1_000_000)).map((r) => r.seq);
});
after(async () => t.close());

function sink(receiver: SyslogReceiver, extra: Partial<ConstructorParameters<typeof SyslogSink>[0]> = {}): SyslogSink {
  return new SyslogSink({ host: '127.0.0.1', port: receiver.port, tls: false, hostname: 'vigil-test', ...extra });
}

/** Asserts every seq of `expected` arrived, and returns how many arrived more than once. */
function assertAtLeastOnce(receiver: SyslogReceiver, expected: number[]): number {
  const got = receiver.seqs();
  const seen = new Set(got);
  const missing = expected.filter((s) => !seen.has(s));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} entries never arrived`);
  return got.length - seen.size;
}

describe('export to a syslog receiver over TCP', () => {
  it('delivers every entry in order as RFC 5424 frames, and a second run sends nothing', async () => {
    const receiver = await SyslogReceiver.start();
    const statePath = join(t.dir, 'tcp-plain.state');
    const r = await exportAudit({ store: t.vigil.store, sink: sink(receiver), statePath });
    assert.equal(r.exported, all.length);
    assert.equal(r.resent, 0);
    assert.equal(r.lastSeq, all[all.length - 1]);
    assert.equal(r.target, `syslog+tcp://127.0.0.1:${receiver.port}`);
    await receiver.until((x) => x.messages.length >= all.length);
    assert.deepEqual(receiver.seqs(), all);
    for (const m of receiver.messages) {
      const p = parseSyslog(m);
      assert.equal(p.version, 1);
      assert.equal(p.facility, 10);
      assert.match(p.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(p.appName, 'vigil');
      assert.equal(p.bom, true);
      const body = JSON.parse(p.msg) as { outcome: string };
      assert.equal(p.severity, body.outcome === '0' ? 6 : 4);
      assert.equal(p.sd.get(SD_ID)?.get('outcome'), body.outcome);
    }
    assert.equal(readExportState(statePath, r.target)?.lastSeq, r.lastSeq);
    const again = await exportAudit({ store: t.vigil.store, sink: sink(receiver), statePath });
    assert.equal(again.exported, 0);
    await receiver.stop();
  });

  it('loses nothing when the receiver crashes mid-way and comes back: it reconnects with backoff and resends the tail', async () => {
    let crashed = false;
    const receiver = await SyslogReceiver.start({
      onMessage: (x) => {
        if (!crashed && x.messages.length === 1000) {
          crashed = true;
          void x.stop().then(() => setTimeout(() => void x.listen(), 300));
        }
      },
    });
    const retries: string[] = [];
    const r = await exportAudit({
      store: t.vigil.store,
      sink: sink(receiver),
      statePath: join(t.dir, 'tcp-crash.state'),
      batchSize: 100,
      backoffMs: FAST,
      maxAttempts: 50,
      onRetry: ({ message }) => retries.push(message),
    });
    await receiver.until((x) => new Set(x.seqs()).size >= all.length);
    const duplicates = assertAtLeastOnce(receiver, all);
    assert.ok(receiver.connections >= 2, 'reconnected');
    assert.ok(retries.length >= 1);
    assert.match(retries[0] ?? '', /^the syslog receiver at syslog\+tcp:\/\/127\.0\.0\.1:\d+ is unavailable \(/);
    assert.ok(r.resent > 0 && duplicates > 0, 'the tail before the crash was sent again');
    assert.equal(r.lastSeq, all[all.length - 1]);
    await receiver.stop();
  });

  it('gives up without --follow when the receiver stays away, keeps its place, and the next run delivers everything', async () => {
    const probe = await SyslogReceiver.start();
    const port = probe.port;
    await probe.stop();
    const statePath = join(t.dir, 'tcp-down.state');
    const retries: number[] = [];
    await assert.rejects(
      exportAudit({ store: t.vigil.store, sink: new SyslogSink({ host: '127.0.0.1', port, tls: false }), statePath, maxAttempts: 3, backoffMs: FAST, onRetry: ({ attempt }) => retries.push(attempt) }),
      (err: unknown) =>
        err instanceof VigilError &&
        err.code === 'ERR_INTERNAL' &&
        new RegExp(`^the syslog receiver at syslog\\+tcp://127\\.0\\.0\\.1:${port} is unavailable \\(ECONNREFUSED: .*\\); gave up after 3 attempts \\(the next run resumes after seq 0\\)$`).test(err.message),
    );
    assert.deepEqual(retries, [1, 2]);
    assert.equal(readExportState(statePath, `syslog+tcp://127.0.0.1:${port}`), undefined);
    const receiver = await SyslogReceiver.start({}, port);
    await exportAudit({ store: t.vigil.store, sink: sink(receiver), statePath });
    await receiver.until((x) => x.messages.length >= all.length);
    assert.deepEqual(receiver.seqs(), all);
    await receiver.stop();
  });

  it('resumes after an exporter stopped mid-way: every entry at least once (and here exactly once, the receiver confirmed the close)', async () => {
    const receiver = await SyslogReceiver.start();
    const statePath = join(t.dir, 'tcp-resume.state');
    const controller = new AbortController();
    const first = await exportAudit({
      store: t.vigil.store,
      sink: sink(receiver),
      statePath,
      batchSize: 100,
      signal: controller.signal,
      onProgress: ({ exported }) => {
        if (exported >= 1200) controller.abort();
      },
    });
    assert.ok(first.lastSeq < all[all.length - 1]!, 'stopped mid-way');
    const second = await exportAudit({ store: t.vigil.store, sink: sink(receiver), statePath });
    assert.equal(first.exported + second.exported, all.length);
    await receiver.until((x) => x.messages.length >= all.length);
    assert.deepEqual(receiver.seqs(), all);
    await receiver.stop();
  });

  it('sends the tail again when the receiver does not confirm the close, and keeps it for the next run when it never does', async () => {
    const held = new Set<Socket>();
    // A receiver that never closes its side: the exporter cannot know it read everything.
    const mute = createServer({ allowHalfOpen: true }, (s) => {
      held.add(s);
      s.on('data', () => undefined);
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as { port: number }).port;
    const target = `syslog+tcp://127.0.0.1:${port}`;
    const statePath = join(t.dir, 'tcp-unconfirmed.state');
    const retries: string[] = [];
    await assert.rejects(
      exportAudit({
        store: t.vigil.store,
        sink: new SyslogSink({ host: '127.0.0.1', port, tls: false, closeTimeoutMs: 200, replayWindowBytes: 64 * 1024 }),
        statePath,
        maxAttempts: 2,
        backoffMs: FAST,
        onRetry: ({ message }) => retries.push(message),
      }),
      (err: unknown) => err instanceof VigilError && err.code === 'ERR_INTERNAL' && /\(the receiver did not confirm the close\); gave up after 2 attempts \(the next run resumes after seq \d+\)$/.test(err.message),
    );
    assert.equal(retries.length, 1);
    for (const s of held) s.destroy();
    await new Promise<void>((res) => mute.close(() => res()));
    const lastSeq = readExportState(statePath, target)?.lastSeq ?? 0;
    assert.ok(lastSeq < all[all.length - 1]!, 'the state stops before the unconfirmed tail');
    assert.ok(lastSeq > all[0]!, 'but only by the replay window');
    const receiver = await SyslogReceiver.start({}, port);
    await exportAudit({ store: t.vigil.store, sink: sink(receiver), statePath });
    const tail = all.filter((s) => s > lastSeq);
    await receiver.until((x) => x.messages.length >= tail.length);
    assert.deepEqual(receiver.seqs(), tail);
    await receiver.stop();
  });

  it('with follow, picks up entries written after it started, until stopped', async () => {
    const receiver = await SyslogReceiver.start();
    const controller = new AbortController();
    let caughtUp = false;
    const running = exportAudit({ store: t.vigil.store, sink: sink(receiver), statePath: join(t.dir, 'tcp-follow.state'), follow: true, pollMs: 50, signal: controller.signal, onCaughtUp: () => (caughtUp = true) });
    await receiver.until((x) => x.messages.length >= all.length);
    assert.ok(caughtUp);
    await seedAudit(t.vigil.store, 25, 'default', 5000);
    const now = (await t.vigil.store.readAuditBySeq(1, 1_000_000)).map((r) => r.seq);
    await receiver.until((x) => x.messages.length >= now.length);
    controller.abort();
    const r = await running;
    assert.deepEqual(receiver.seqs(), now);
    assert.equal(r.lastSeq, now[now.length - 1]);
    assert.equal(r.exported, now.length);
    all = now;
    await receiver.stop();
  });
});

describe('what leaves Vigil holds no health data', () => {
  const TAG = 'Qzvyxw7Phi';

  it('exports FHIR traffic about distinctive patients without a trace of their names, identifiers or search values', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.fhir('POST', '/fhir/Patient', { body: syntheticPatient(`${TAG}${i}`) });
      assert.equal(res.statusCode, 201, res.body);
      ids.push((JSON.parse(res.body) as { id: string }).id);
    }
    for (const id of ids) assert.equal((await t.fhir('GET', `/fhir/Patient/${id}`)).statusCode, 200);
    assert.equal((await t.fhir('GET', `/fhir/Patient?name=Family${TAG}0`)).statusCode, 200);
    assert.equal((await t.fhir('GET', `/fhir/Patient?identifier=MRN${TAG}1&birthdate=1931-07-19`)).statusCode, 200);
    const refused = await t.fhir('GET', `/fhir/Patient?family=Family${TAG}2`, { token: await t.token('system/Observation.r') });
    assert.equal(refused.statusCode, 403);
    await t.fhir('PUT', `/fhir/Patient/${ids[0]}`, { body: { ...syntheticPatient(`${TAG}0b`), id: ids[0] } });
    await t.fhir('DELETE', `/fhir/Patient/${ids[1]}`);

    const receiver = await SyslogReceiver.start();
    const jsonl = join(t.dir, 'phi.jsonl');
    await exportAudit({ store: t.vigil.store, sink: sink(receiver), statePath: join(t.dir, 'phi-syslog.state') });
    await exportAudit({ store: t.vigil.store, sink: new JsonlSink(jsonl), statePath: join(t.dir, 'phi-jsonl.state') });
    const total = await lastAuditSeq(t.vigil.store);
    await receiver.until((x) => x.messages.length >= total);
    await receiver.stop();

    const syslogText = Buffer.concat(receiver.messages).toString('utf8');
    const fileText = readFileSync(jsonl, 'utf8');
    // The entries are there (ids and codes) ...
    for (const id of ids) {
      assert.ok(syslogText.includes(`Patient/${id}`), 'patient ids are exported');
      assert.ok(fileText.includes(`Patient/${id}`));
    }
    assert.ok(fileText.includes('"queryParams":["birthdate","identifier"]'), 'search parameter names are exported');
    // ... and not one name, identifier, phone, address or search value is.
    const states = readdirSync(t.dir).filter((f) => f.endsWith('.state')).map((f) => readFileSync(join(t.dir, f), 'utf8')).join('\n');
    for (const [name, text] of [['syslog', syslogText], ['jsonl', fileText], ['state files', states]] as const) {
      assert.equal(text.includes(TAG), false, `${name} holds the patient tag`);
      assert.equal(text.includes('1931-07-19'), false, `${name} holds a birth date`);
    }
  });
});
