import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../store/index.js';
import { AuditTrail, auditRow, type AuditBody, type AuditDraft } from '../trail.js';
import { auditLeafData, leafHash } from '../leaf.js';
import { exportRecord, jsonLine, parseJsonLine, type ExportRecord } from './record.js';
import { escapeSdValue, headerField, octetFrame, severityOf, syslogMessage, FACILITY_AUTHPRIV, SD_ID } from './syslog-format.js';
import { OctetFrameParser, parseSyslog } from './syslog-parse.js';

const NOW = new Date('2024-05-01T10:00:00.123Z');

function record(draft: Partial<AuditDraft> = {}, seq = 42, tenant = 'default'): ExportRecord {
  const row = new AuditTrail({} as Store, tenant, () => NOW).row({ type: 'rest', subtype: 'read', action: 'R', entities: ['Patient/p1'], patients: ['p1'], ...draft });
  return exportRecord({ ...row, seq });
}

describe('RFC 5424 message', () => {
  it('has PRI, version 1, the recorded time, host, app, MSGID, structured data with the seq, and a BOM before the JSON body', () => {
    const r = record({ client: 'app-1', status: 200 });
    const text = syslogMessage(r, { hostname: 'vigil-host.example.org' });
    assert.ok(text.startsWith(`<${FACILITY_AUTHPRIV * 8 + 6}>1 2024-05-01T10:00:00.123Z vigil-host.example.org vigil - read [${SD_ID} seq="42" `), text);
    const p = parseSyslog(Buffer.from(text, 'utf8'));
    assert.equal(p.version, 1);
    assert.equal(p.facility, 10);
    assert.equal(p.severity, 6);
    assert.equal(p.timestamp, '2024-05-01T10:00:00.123Z');
    assert.equal(p.hostname, 'vigil-host.example.org');
    assert.equal(p.appName, 'vigil');
    assert.equal(p.procId, '-');
    assert.equal(p.msgId, 'read');
    const sd = p.sd.get(SD_ID);
    assert.equal(sd?.get('seq'), '42');
    assert.equal(sd?.get('tenant'), 'default');
    assert.equal(sd?.get('action'), 'R');
    assert.equal(sd?.get('outcome'), '0');
    assert.equal(sd?.get('leaf'), r.leaf);
    assert.equal(p.bom, true);
    // The body is the stored canonical JSON, byte for byte, so the leaf hash can be recomputed from it.
    assert.equal(p.msg, r.body);
    assert.equal(leafHash(auditLeafData(auditRow('default', JSON.parse(p.msg) as AuditBody))).toString('hex'), sd?.get('leaf'));
  });

  const severities: [string, AuditDraft['type'], number][] = [
    ['0', 'rest', 6],
    ['0', 'security', 5],
    ['4', 'rest', 4],
    ['4', 'security', 4],
    ['8', 'rest', 3],
    ['12', 'security', 3],
    ['99', 'rest', 3],
  ];
  for (const [outcome, type, severity] of severities) {
    it(`outcome ${outcome} of a ${type} event is severity ${severity}`, () => {
      assert.equal(severityOf(outcome, type), severity);
      if (outcome !== '99') {
        const p = parseSyslog(syslogMessage(record({ type, outcome: outcome as AuditDraft['outcome'] }), { hostname: 'h' }));
        assert.equal(p.pri, 80 + severity);
      }
    });
  }

  it('escapes ", \\ and ] in SD-PARAM values', () => {
    assert.equal(escapeSdValue('a"b\\c]d'), 'a\\"b\\\\c\\]d');
    const tenant = 'odd"ten\\ant]x';
    const text = syslogMessage(record({}, 7, tenant), { hostname: 'h' });
    assert.ok(text.includes('tenant="odd\\"ten\\\\ant\\]x"'), text);
    assert.equal(parseSyslog(text).sd.get(SD_ID)?.get('tenant'), tenant);
  });

  it('keeps header fields to printable ASCII and their length limits', () => {
    assert.equal(headerField('host name\u00e9', 255), 'host_name_');
    assert.equal(headerField('', 32), '-');
    assert.equal(headerField('x'.repeat(40), 32), 'x'.repeat(32));
    const p = parseSyslog(syslogMessage(record({ subtype: `custom ${'y'.repeat(40)}` }), { hostname: 'a host' }));
    assert.equal(p.hostname, 'a_host');
    assert.equal(p.msgId, `custom_${'y'.repeat(25)}`);
  });

  it('sends NILVALUE for a recorded time that is not an RFC 5424 timestamp', () => {
    const r = record();
    const odd = { ...r, entry: { ...r.entry, recorded: 'yesterday' } };
    assert.equal(parseSyslog(syslogMessage(odd, { hostname: 'h' })).timestamp, '-');
  });
});

describe('octet-counted framing', () => {
  it('counts bytes, not characters, and survives any split of the stream', () => {
    const messages = [syslogMessage(record({ client: 'caf\u00e9-\u{1F600}' }), { hostname: 'h' }), syslogMessage(record({}, 43), { hostname: 'h' })];
    const stream = Buffer.concat(messages.map(octetFrame));
    const first = octetFrame(messages[0] ?? '');
    assert.equal(first.toString('ascii').split(' ')[0], String(Buffer.byteLength(messages[0] ?? '', 'utf8')));
    for (const size of [1, 2, 7, 100, stream.length]) {
      const parser = new OctetFrameParser();
      const out: string[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...parser.push(stream.subarray(i, i + size)).map((b) => b.toString('utf8')));
      assert.deepEqual(out, messages, `chunks of ${size}`);
      assert.equal(parser.pending, 0);
    }
  });

  it('rejects a malformed length', () => {
    assert.throws(() => new OctetFrameParser().push(Buffer.from('01 x')), /bad length/);
    assert.throws(() => new OctetFrameParser().push(Buffer.from('<34>1 no length here')), /bad length/);
  });
});

describe('strict RFC 5424 parser (the test oracle)', () => {
  const bad: [string, string][] = [
    ['no PRI', '1 2024-05-01T10:00:00Z h a - m - x'],
    ['PRI too large', '<192>1 2024-05-01T10:00:00Z h a - m - x'],
    ['bad timestamp', '<34>1 2024-05-01 10:00:00 h a - m - x'],
    ['unescaped ]', '<34>1 - h a - m [x@1 a="b]c"] x'],
    ['unterminated SD', '<34>1 - h a - m [x@1 a="b"'],
    ['no space before MSG', '<34>1 - h a - m [x@1 a="b"]x'],
  ];
  for (const [name, text] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => parseSyslog(text), /^Error: syslog: /));
  }
});

describe('JSON lines', () => {
  it('embeds the canonical body verbatim with seq, tenant and leaf, one line each', () => {
    const r = record({ status: 200 }, 9);
    const line = jsonLine(r);
    assert.ok(line.endsWith('}\n'));
    assert.equal(line.indexOf('\n'), line.length - 1);
    const parsed = JSON.parse(line) as { seq: number; tenant: string; leaf: string; entry: unknown };
    assert.equal(parsed.seq, 9);
    assert.equal(parsed.tenant, 'default');
    assert.equal(parsed.leaf, r.leaf);
    assert.equal(JSON.stringify(parsed.entry), r.body);
    assert.deepEqual(parseJsonLine(line.trimEnd()), { seq: 9, leaf: r.leaf });
  });

  it('refuses a stored body that is not one line of JSON (ERR_INTEGRITY)', () => {
    const base = { tenant: 'default', recorded: NOW.toISOString(), action: 'R', subtype: 'read', outcome: '0', agent: null, patients: '  ', seq: 5 };
    for (const body of ['not json', '[1,2]', '{\n"a":1}', 'null']) {
      assert.throws(
        () => exportRecord({ ...base, body }),
        (err: unknown) => (err as { code?: string }).code === 'ERR_INTEGRITY' && (err as Error).message === 'audit entry 5 is not canonical JSON; run `vigil verify`',
      );
    }
  });

  it('reads a seq and leaf only from an export line', () => {
    const leaf = 'ab'.repeat(32);
    for (const line of ['', '{}', `{"seq":0,"leaf":"${leaf}","entry":{}}`, `{"seq":1.5,"leaf":"${leaf}","entry":{}}`, `{"seq":"1","leaf":"${leaf}","entry":{}}`, `{"seq":3,"leaf":"${leaf}"}`, '{"seq":3,"leaf":"AB","entry":{}}', '{"seq":3,"entry":{}}', 'garbage']) {
      assert.equal(parseJsonLine(line), undefined, line);
    }
  });
});
