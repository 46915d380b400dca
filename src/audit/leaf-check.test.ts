import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditLeafRow } from '../store/index.js';
import { checkLeaf, Stream } from './leaf-check.js';
import { auditLeafData, leafHash } from './leaf.js';

describe('checkLeaf on a format 2 audit entry', () => {
  const row = { tenant: 'default', recorded: '2025-01-01T00:00:00.000Z', action: 'R', subtype: 'read', outcome: '0', agent: 'dr-a', patients: ' p1 ', body: '{"format":2,"recorded":"2025-01-01T00:00:00.000Z"}' };
  const leaf = leafHash(auditLeafData(row));

  /** Checks the leaf against one row read as `columns` (the database's JSON array) and the body. */
  async function check(columns: string, body = row.body) {
    const stream = new Stream<AuditLeafRow>(() => [{ seq: 7, columns, body }], 7);
    await stream.fill();
    return checkLeaf('audit', 7, leaf, 'default', stream, new Map(), new Map());
  }

  it('accepts the columns as JSON.stringify writes them', async () => {
    assert.equal(await check(JSON.stringify(['default', row.recorded, 'R', 'read', '0', 'dr-a', ' p1 '])), undefined);
  });

  it('accepts the same values escaped otherwise (should a database escape a character differently), through the writer\'s text', async () => {
    assert.equal(await check(`["\\u0064efault","${row.recorded}","R","read","0","dr\\u002da"," p1 "]`), undefined);
  });

  it('refuses other values, however they are escaped', async () => {
    for (const columns of [JSON.stringify(['default', row.recorded, 'R', 'read', '0', null, ' p1 ']), `["default","${row.recorded}","R","read","0","dr\\u002db"," p1 "]`]) {
      assert.equal((await check(columns))?.kind, 'audit', columns);
    }
    assert.equal((await check(JSON.stringify(['default', row.recorded, 'R', 'read', '0', 'dr-a', ' p1 ']), `${row.body} `))?.kind, 'audit');
  });
});
