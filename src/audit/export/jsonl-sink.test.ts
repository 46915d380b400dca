import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VigilError } from '../../errors.js';
import type { AuditRow, Store } from '../../store/index.js';
import { AuditTrail } from '../trail.js';
import { exportAudit } from './exporter.js';
import { JsonlSink } from './jsonl-sink.js';
import { exportRecord, jsonLine, type ExportRecord } from './record.js';
import { readExportState, writeExportState } from './state.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-export-jsonl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const trail = new AuditTrail({} as Store, 'default', () => new Date('2024-05-01T10:00:00Z'));
function row(seq: number): AuditRow {
  const { leaf: _leaf, ...rest } = trail.row({ type: 'rest', subtype: 'read', action: 'R', entities: [`Observation/o${seq}`], patients: ['p1'] });
  return { ...rest, seq };
}
function records(from: number, to: number): ExportRecord[] {
  const out: ExportRecord[] = [];
  for (let s = from; s <= to; s++) out.push(exportRecord(row(s)));
  return out;
}
/** An in-memory store of entries 1..n (only what the exporter reads). */
function memoryStore(n: () => number): Pick<Store, 'readAuditBySeq'> {
  return {
    async readAuditBySeq(from: number, limit: number): Promise<AuditRow[]> {
      const out: AuditRow[] = [];
      for (let s = Math.max(from, 1); s <= n() && out.length < limit; s++) out.push(row(s));
      return out;
    },
  };
}
function seqsIn(path: string): number[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { seq: number }).seq);
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('JsonlSink', () => {
  it('creates the file with mode 0600 and reports where it stands', async () => {
    const path = join(dir, 'new.jsonl');
    const sink = new JsonlSink(path);
    assert.equal(await sink.open(), undefined);
    await sink.write(records(1, 3));
    await sink.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(seqsIn(path), [1, 2, 3]);
    const again = new JsonlSink(path);
    assert.deepEqual(await again.open(), { seq: 3, leaf: exportRecord(row(3)).leaf });
    await again.close();
  });

  it('drops a torn last line (a crash mid-write) and never writes a seq the file holds', async () => {
    const path = join(dir, 'torn.jsonl');
    writeFileSync(path, records(1, 4).map(jsonLine).join(''));
    const line5 = jsonLine(exportRecord(row(5)));
    appendFileSync(path, line5.slice(0, 40));
    const sink = new JsonlSink(path);
    assert.equal((await sink.open())?.seq, 4);
    await sink.write(records(3, 6));
    await sink.close();
    assert.deepEqual(seqsIn(path), [1, 2, 3, 4, 5, 6]);
  });

  it('drops a torn first line', async () => {
    const path = join(dir, 'torn-first.jsonl');
    writeFileSync(path, jsonLine(exportRecord(row(1))).slice(0, 3));
    const sink = new JsonlSink(path);
    assert.equal(await sink.open(), undefined);
    await sink.close();
    assert.equal(statSync(path).size, 0);
  });

  for (const [name, content] of [
    ['a log file of something else', 'Jan  1 00:00:00 host sshd[1]: Accepted publickey\n'],
    ['a file without a final newline', 'some notes, not JSON'],
    ['JSON that is not an export line', '{"hello":"world"}\n'],
    ['an export line followed by other text', `${jsonLine(exportRecord(row(1)))}notes`],
  ] as const) {
    it(`refuses to append to ${name}, and leaves it as it was`, async () => {
      const path = join(dir, `foreign-${name.replace(/\W+/g, '-')}.jsonl`);
      writeFileSync(path, content);
      await assert.rejects(new JsonlSink(path).open(), (err: unknown) => err instanceof VigilError && err.code === 'ERR_CONFIG' && err.message === `${path} does not end with a Vigil audit export line; refusing to append to it`);
      assert.equal(readFileSync(path, 'utf8'), content);
    });
  }

  it('reports a file it cannot open (ERR_CONFIG, path and errno code only)', async () => {
    const path = join(dir, 'missing-dir', 'a.jsonl');
    await assert.rejects(new JsonlSink(path).open(), (err: unknown) => err instanceof VigilError && err.code === 'ERR_CONFIG' && err.message === `cannot open ${path} (ENOENT)`);
  });

  it('follows log rotation: a renamed file is left alone and a new one started', async () => {
    const path = join(dir, 'rotate.jsonl');
    const sink = new JsonlSink(path);
    await sink.open();
    await sink.write(records(1, 2));
    renameSync(path, `${path}.1`);
    await sink.write(records(3, 4));
    await sink.close();
    assert.deepEqual(seqsIn(`${path}.1`), [1, 2]);
    assert.deepEqual(seqsIn(path), [3, 4]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});

describe('exportAudit to a JSON lines file: exactly once', () => {
  it('exports everything, then nothing more on a second run', async () => {
    const path = join(dir, 'once.jsonl');
    const statePath = join(dir, 'once.state');
    const store = memoryStore(() => 1200);
    const first = await exportAudit({ store, sink: new JsonlSink(path), statePath, batchSize: 500 });
    assert.deepEqual(first, { exported: 1200, resent: 0, lastSeq: 1200, target: `jsonl:${path}` });
    const second = await exportAudit({ store, sink: new JsonlSink(path), statePath });
    assert.equal(second.exported, 0);
    assert.deepEqual(seqsIn(path), range(1, 1200));
  });

  it('resumes from the file when the state is behind it (crash after fsync, before the state write)', async () => {
    const path = join(dir, 'behind.jsonl');
    const statePath = join(dir, 'behind.state');
    let n = 100;
    await exportAudit({ store: memoryStore(() => n), sink: new JsonlSink(path), statePath });
    writeExportState(statePath, `jsonl:${path}`, 37);
    n = 150;
    const r = await exportAudit({ store: memoryStore(() => n), sink: new JsonlSink(path), statePath });
    assert.equal(r.exported, 50);
    assert.deepEqual(seqsIn(path), range(1, 150));
    assert.equal(readExportState(statePath, `jsonl:${path}`)?.lastSeq, 150);
  });

  it('resumes from the state when the file was rotated away (the state is ahead)', async () => {
    const path = join(dir, 'ahead.jsonl');
    const statePath = join(dir, 'ahead.state');
    let n = 80;
    await exportAudit({ store: memoryStore(() => n), sink: new JsonlSink(path), statePath });
    renameSync(path, `${path}.1`);
    n = 90;
    await exportAudit({ store: memoryStore(() => n), sink: new JsonlSink(path), statePath });
    assert.deepEqual(seqsIn(path), range(81, 90));
  });

  it('survives a cut at every point of a batch: each entry once, none missing', async () => {
    const path = join(dir, 'cuts.jsonl');
    const statePath = join(dir, 'cuts.state');
    await exportAudit({ store: memoryStore(() => 20), sink: new JsonlSink(path), statePath, batchSize: 7 });
    const full = readFileSync(path);
    for (const cut of [0, 1, 100, Math.floor(full.length / 2), full.length - 1, full.length]) {
      truncateSync(path, cut);
      writeExportState(statePath, `jsonl:${path}`, 0);
      await exportAudit({ store: memoryStore(() => 20), sink: new JsonlSink(path), statePath, batchSize: 7 });
      assert.deepEqual(seqsIn(path), range(1, 20), `cut at ${cut}`);
    }
  });

  it("refuses to resume from a file whose last entry is not this trail's (another data directory's export)", async () => {
    const other = new AuditTrail({} as Store, 'default', () => new Date('2030-01-01T00:00:00Z'));
    for (const [name, seq] of [['same seq, other entry', 5], ['beyond the end of this trail', 5000]] as const) {
      const path = join(dir, `other-${seq}.jsonl`);
      const { leaf: _leaf, ...rest } = other.row({ type: 'rest', subtype: 'read', action: 'R', entities: ['Patient/x'], patients: ['x'] });
      writeFileSync(path, jsonLine(exportRecord({ ...rest, seq })));
      await assert.rejects(
        exportAudit({ store: memoryStore(() => 100), sink: new JsonlSink(path), statePath: join(dir, `other-${seq}.state`) }),
        (err: unknown) => err instanceof VigilError && err.code === 'ERR_CONFIG' && err.message === `jsonl:${path} ends with an entry ${seq} that is not this audit trail's; refusing to resume from it`,
        name,
      );
      assert.equal(readFileSync(path, 'utf8').split('\n').length, 2, 'nothing appended');
    }
  });

  it('writes the state only after the file has the batch', async () => {
    const path = join(dir, 'order.jsonl');
    const statePath = join(dir, 'order.state');
    const seen: [number, number][] = [];
    await exportAudit({
      store: memoryStore(() => 30),
      sink: new JsonlSink(path),
      statePath,
      batchSize: 10,
      onProgress: ({ lastSeq }) => seen.push([lastSeq, Math.max(...seqsIn(path))]),
    });
    assert.deepEqual(seen, [[10, 10], [20, 20], [30, 30]]);
  });
});
