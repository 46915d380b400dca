import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VigilError } from '../../errors.js';
import type { AuditRow, Store } from '../../store/index.js';
import { readExportState, writeExportState } from './state.js';
import { defaultStatePath, describeTarget, isLoopbackTarget, parseHostPort } from './target.js';
import { lastAuditSeq } from './last-seq.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-export-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof VigilError && err.code === 'ERR_CONFIG' && message.test(err.message));
}

describe('export state file', () => {
  it('is absent at first, then holds the last seq for its target, mode 0600', () => {
    const path = join(dir, 'a.state');
    assert.equal(readExportState(path, 'jsonl:/x'), undefined);
    writeExportState(path, 'jsonl:/x', 41, new Date('2024-01-01T00:00:00Z'));
    writeExportState(path, 'jsonl:/x', 42, new Date('2024-01-01T00:00:01Z'));
    assert.deepEqual(readExportState(path, 'jsonl:/x'), { version: 1, target: 'jsonl:/x', lastSeq: 42, updated: '2024-01-01T00:00:01.000Z' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(existsSync(`${path}.tmp`), false);
  });

  it('is never used for another target', () => {
    const path = join(dir, 'b.state');
    writeExportState(path, 'syslog+tls://siem:6514', 10);
    configError(() => readExportState(path, 'syslog+tls://other:6514'), /belongs to syslog\+tls:\/\/siem:6514, not syslog\+tls:\/\/other:6514$/);
  });

  it('refuses a garbled state rather than guessing a position', () => {
    const path = join(dir, 'c.state');
    for (const text of ['', 'not json', '{"version":2,"target":"t","lastSeq":1}', '{"version":1,"target":"t","lastSeq":-1}', '{"version":1,"target":"t","lastSeq":"3"}']) {
      writeFileSync(path, text);
      configError(() => readExportState(path, 't'), /is not valid; move it away to export from the start$/);
    }
  });

  it('reports a state file it cannot write, by path and errno code only', () => {
    const path = join(dir, 'missing-dir', 'e.state');
    assert.throws(
      () => writeExportState(path, 't', 1),
      (err: unknown) => err instanceof VigilError && err.code === 'ERR_CONFIG' && err.message === `cannot write the export state file ${path} (ENOENT)`,
    );
  });

  it('replaces a leftover temporary file and gives the state mode 0600 even so', () => {
    const path = join(dir, 'd.state');
    writeFileSync(`${path}.tmp`, 'junk', { mode: 0o644 });
    writeExportState(path, 't', 3);
    assert.equal(readExportState(path, 't')?.lastSeq, 3);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(readFileSync(path, 'utf8'), /^\{"version":1,/);
  });
});

describe('export targets', () => {
  const good: [string, string, number][] = [
    ['127.0.0.1:514', '127.0.0.1', 514],
    ['siem.example.org:6514', 'siem.example.org', 6514],
    ['[::1]:6514', '::1', 6514],
    ['localhost:1', 'localhost', 1],
  ];
  for (const [text, host, port] of good) it(`parses ${text}`, () => assert.deepEqual(parseHostPort(text), { host, port }));
  for (const text of ['siem', 'siem:', ':514', 'siem:0', 'siem:65536', '::1:514', '[siem]:514', 'a b:1', 'siem:514/x', 'user@siem:514']) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseHostPort(text), undefined));
  }

  it('counts only loopback addresses and localhost as this machine', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopbackTarget(h), true, h);
    for (const h of ['10.0.0.1', '192.0.2.1', '::', '0.0.0.0', 'siem.example.org', 'localhost.example.org', '127.0.0.1.nip.io']) assert.equal(isLoopbackTarget(h), false, h);
  });

  it('names targets and derives a state file per target in the data directory', () => {
    assert.equal(describeTarget({ kind: 'syslog', host: 'SIEM.example.org', port: 6514, tls: true }), 'syslog+tls://siem.example.org:6514');
    assert.equal(describeTarget({ kind: 'syslog', host: '::1', port: 514, tls: false }), 'syslog+tcp://[::1]:514');
    assert.equal(describeTarget({ kind: 'jsonl', path: '/var/log/a.jsonl' }), 'jsonl:/var/log/a.jsonl');
    const a = defaultStatePath('/data', { kind: 'syslog', host: 'siem', port: 6514, tls: true });
    const b = defaultStatePath('/data', { kind: 'syslog', host: 'siem', port: 6514, tls: false });
    assert.match(a, /^\/data\/audit-export-[0-9a-f]{16}\.state$/);
    assert.notEqual(a, b);
    assert.equal(a, defaultStatePath('/data', { kind: 'syslog', host: 'SIEM', port: 6514, tls: true }));
  });
});

describe('lastAuditSeq', () => {
  function storeWith(max: number): { store: Pick<Store, 'readAuditBySeq'>; reads: () => number } {
    let reads = 0;
    return {
      store: {
        async readAuditBySeq(from: number, limit: number): Promise<AuditRow[]> {
          reads += 1;
          assert.equal(limit, 1);
          return from <= max ? [{ seq: Math.max(from, 1) } as AuditRow] : [];
        },
      },
      reads: () => reads,
    };
  }
  for (const max of [0, 1, 2, 1023, 1024, 1025, 5000, 1_000_003]) {
    it(`finds ${max}`, async () => {
      const s = storeWith(max);
      assert.equal(await lastAuditSeq(s.store), max);
      assert.ok(s.reads() <= 2 * Math.log2(max + 1024) + 2, `${s.reads()} reads`);
    });
  }
  it('starts after a given seq', async () => {
    assert.equal(await lastAuditSeq(storeWith(10).store, 10), 10);
    assert.equal(await lastAuditSeq(storeWith(10).store, 12), 12);
    assert.equal(await lastAuditSeq(storeWith(3000).store, 2500), 3000);
  });
});
