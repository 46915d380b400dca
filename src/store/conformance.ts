import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CandidateQuery, NewVersionRow, SearchClause, Store } from './types.js';

/** Builds a fresh, empty store for one test group, and disposes of it. */
export interface StoreFactory {
  readonly name: string;
  create(): Promise<Store>;
  dispose(store: Store): Promise<void>;
}

/** A version row for store tests: a Patient p1 of tenant t1, version 1, unless `over` says otherwise. */
export function row(over: Partial<NewVersionRow> = {}): NewVersionRow {
  return {
    tenant: 't1',
    type: 'Patient',
    id: 'p1',
    versionId: 1,
    lastUpdated: '2026-01-01T00:00:00.000Z',
    deleted: false,
    keyVersion: 1,
    box: Buffer.from([1, 2, 3]),
    indexDigest: Buffer.alloc(32),
    leaf: Buffer.alloc(32, 7),
    ...over,
  };
}

/**
 * The conformance suite every store backend must pass (Trillian's storage testers are the model):
 * the same behaviour on SQLite now and PostgreSQL later.
 */
export function storeConformance(factory: StoreFactory): void {
  describe(`store conformance: ${factory.name}`, () => {
    let store: Store;
    before(async () => {
      store = await factory.create();
    });
    after(async () => {
      await factory.dispose(store);
    });

    it('appends versions and reads the current one and each old one', async () => {
      await store.tx(async (tx) => {
        assert.equal(await tx.current('t1', 'Patient', 'a'), undefined);
        await tx.append(row({ id: 'a', versionId: 1, box: Buffer.from('one') }));
      });
      await store.tx(async (tx) => {
        assert.deepEqual(await tx.current('t1', 'Patient', 'a'), { versionId: 1, deleted: false, lastUpdated: '2026-01-01T00:00:00.000Z' });
        await tx.append(row({ id: 'a', versionId: 2, lastUpdated: '2026-01-02T00:00:00.000Z', box: Buffer.from('two') }));
      });
      const current = await store.readCurrent('t1', 'Patient', 'a');
      assert.equal(current?.versionId, 2);
      assert.equal(Buffer.from(current?.box ?? []).toString(), 'two');
      assert.equal(Buffer.from((await store.readVersion('t1', 'Patient', 'a', 1))?.box ?? []).toString(), 'one');
      assert.equal(await store.readVersion('t1', 'Patient', 'a', 3), undefined);
    });

    it('keeps tenants and types apart', async () => {
      await store.tx(async (tx) => {
        await tx.append(row({ tenant: 't2', id: 'same', box: Buffer.from('t2') }));
        await tx.append(row({ type: 'Observation', id: 'same', box: Buffer.from('obs') }));
      });
      assert.equal(await store.readCurrent('t1', 'Patient', 'same'), undefined);
      assert.equal(Buffer.from((await store.readCurrent('t2', 'Patient', 'same'))?.box ?? []).toString(), 't2');
      assert.equal(Buffer.from((await store.readCurrent('t1', 'Observation', 'same'))?.box ?? []).toString(), 'obs');
    });

    it('rolls back everything a failed transaction wrote', async () => {
      await assert.rejects(
        store.tx(async (tx) => {
          await tx.append(row({ id: 'rolled', versionId: 1 }));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.readCurrent('t1', 'Patient', 'rolled'), undefined);
      await store.tx(async (tx) => {
        assert.equal(await tx.current('t1', 'Patient', 'rolled'), undefined);
      });
    });

    it('keeps concurrent transactions apart: a failing one is rolled back alone', async () => {
      const runs = Array.from({ length: 12 }, (_, i) =>
        store.tx(async (tx) => {
          await tx.append(row({ type: 'Basic', id: `group-${i}` }));
          if (i % 3 === 0) throw new Error(`fail ${i}`);
          return i;
        }),
      );
      const settled = await Promise.allSettled(runs);
      for (const [i, s] of settled.entries()) {
        assert.equal(s.status, i % 3 === 0 ? 'rejected' : 'fulfilled', `transaction ${i}`);
        assert.equal((await store.readCurrent('t1', 'Basic', `group-${i}`)) === undefined, i % 3 === 0, `row of transaction ${i}`);
      }
      // The log has no gap where the failed transactions' leaves were rolled back.
      const leaves = await store.readLeaves(1, 10_000);
      assert.deepEqual(leaves.map((l) => l.position), leaves.map((_, i) => i + 1));
      assert.equal(leaves.filter((l) => l.kind === 'version').length, (await store.readVersionsBySeq(1, 10_000)).length);
    });

    it('refuses a second version with the same number', async () => {
      await store.tx(async (tx) => tx.append(row({ id: 'dup', versionId: 1 })));
      await assert.rejects(store.tx(async (tx) => tx.append(row({ id: 'dup', versionId: 1 }))));
      assert.equal((await store.readCurrent('t1', 'Patient', 'dup'))?.versionId, 1);
    });

    it('never interleaves transactions', async () => {
      const bump = (): Promise<void> =>
        store.tx(async (tx) => {
          const cur = await tx.current('t1', 'Patient', 'counter');
          await new Promise((r) => setImmediate(r));
          await tx.append(row({ id: 'counter', versionId: (cur?.versionId ?? 0) + 1 }));
        });
      await Promise.all(Array.from({ length: 20 }, bump));
      assert.equal((await store.readCurrent('t1', 'Patient', 'counter'))?.versionId, 20);
    });

    it('lists history newest first, with since, paging and a total', async () => {
      for (let v = 1; v <= 5; v++) {
        await store.tx(async (tx) =>
          tx.append(row({ type: 'Encounter', id: 'h', versionId: v, lastUpdated: `2026-02-0${v}T00:00:00.000Z`, deleted: v === 5, box: v === 5 ? null : Buffer.from([v]), keyVersion: v === 5 ? null : 1 })),
        );
      }
      const all = await store.history({ tenant: 't1', type: 'Encounter', id: 'h', count: 10 });
      assert.equal(all.total, 5);
      assert.deepEqual(all.rows.map((r) => r.versionId), [5, 4, 3, 2, 1]);
      assert.equal(all.rows[0]?.deleted, true);
      assert.equal(all.rows[0]?.box, null);
      const page = await store.history({ tenant: 't1', type: 'Encounter', count: 2, beforeSeq: all.rows[1]?.seq ?? 0 });
      assert.deepEqual(page.rows.map((r) => r.versionId), [3, 2]);
      const since = await store.history({ tenant: 't1', type: 'Encounter', since: '2026-02-04T00:00:00.000Z', count: 10 });
      assert.deepEqual(since.rows.map((r) => r.versionId), [5, 4]);
      assert.equal(since.total, 2);
      const other = await store.history({ tenant: 'nobody', count: 10 });
      assert.equal(other.total, 0);
    });

    it('allocates data key versions one after another, even when added at once', async () => {
      const versions = await Promise.all([1, 2, 3].map(() => store.addDataKey((v) => Buffer.from(`k${v}`), '2026-01-01T00:00:00.000Z')));
      assert.deepEqual([...versions].sort(), [1, 2, 3]);
      const keys = await store.listDataKeys();
      assert.deepEqual(
        keys.map((k) => [k.version, Buffer.from(k.wrapped).toString()]),
        [
          [1, 'k1'],
          [2, 'k2'],
          [3, 'k3'],
        ],
      );
    });

    it('re-encrypts only rows whose box is still the one read', async () => {
      await store.tx(async (tx) => {
        await tx.append(row({ type: 'Flag', id: 'r1', keyVersion: 1, box: Buffer.from('old1') }));
        await tx.append(row({ type: 'Flag', id: 'r2', keyVersion: 1, box: Buffer.from('old2') }));
      });
      const before = await store.countVersionsBelowKey(2);
      const list = (await store.listVersionsBelowKey(2, 0, 1000)).filter((r) => r.type === 'Flag');
      assert.equal(list.length, 2);
      const [a, b] = list;
      assert.ok(a !== undefined && b !== undefined);
      const changed = await store.replaceBoxes([
        { seq: a.seq, oldBox: a.box, box: Buffer.from('new1'), keyVersion: 2 },
        { seq: b.seq, oldBox: Buffer.from('not-what-is-stored'), box: Buffer.from('new2'), keyVersion: 2 },
      ], () => Buffer.alloc(32, 1));
      assert.equal(changed, 1);
      assert.equal(Buffer.from((await store.readCurrent('t1', 'Flag', 'r1'))?.box ?? []).toString(), 'new1');
      assert.equal(Buffer.from((await store.readCurrent('t1', 'Flag', 'r2'))?.box ?? []).toString(), 'old2');
      assert.equal(await store.countVersionsBelowKey(2), before - 1);
    });

    it('reads only committed data while a write is open, and what it committed right after', async () => {
      const code = { param: 'code', hash: Buffer.from('c0de01', 'hex') };
      const query = { tenant: 't1', type: 'Probe', clauses: [{ kind: 'hash' as const, param: 'code', hashes: [code.hash] }] };
      await store.tx(async (tx) => {
        await tx.append(row({ type: 'Probe', id: 'old', box: Buffer.from('old') }));
        await tx.replaceIndex('t1', 'Probe', 'old', { hashes: [code], ranges: [] });
      });
      const audit = (n: number) => ({ tenant: 't1', recorded: `2026-01-01T00:00:0${n}Z`, action: 'R', subtype: 'read', outcome: '0', agent: null, patients: '  ', body: `{"n":${n}}`, leaf: Buffer.alloc(32, n) });
      const firstAudit = await store.appendAudit(audit(1));
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let appended: () => void = () => undefined;
      const written = new Promise<void>((resolve) => (appended = resolve));
      const writing = store.tx(async (tx) => {
        await tx.append(row({ type: 'Probe', id: 'new', box: Buffer.from('new') }));
        await tx.replaceIndex('t1', 'Probe', 'new', { hashes: [code], ranges: [] });
        await tx.append(row({ type: 'Probe', id: 'old', versionId: 2, box: Buffer.from('changed') }));
        await tx.appendAudit(audit(2));
        appended();
        await held;
      });
      await written;
      // The write transaction is open, its rows not committed: no read may see them.
      assert.equal(await store.readCurrent('t1', 'Probe', 'new'), undefined);
      assert.equal(Buffer.from((await store.readCurrent('t1', 'Probe', 'old'))?.box ?? []).toString(), 'old');
      assert.equal(await store.readVersion('t1', 'Probe', 'old', 2), undefined);
      assert.deepEqual((await store.searchCandidates({ ...query, order: 'id', limit: 10 })).map((v) => v.id), ['old']);
      assert.equal(await store.countCandidates(query), 1);
      assert.deepEqual((await store.readCurrentMany('t1', 'Probe', ['old', 'new'])).map((v) => v.versionId), [1]);
      assert.deepEqual((await store.readAuditBySeq(firstAudit, 10)).map((a) => a.body), ['{"n":1}']);
      release();
      await writing;
      assert.deepEqual((await store.readAuditBySeq(firstAudit, 10)).map((a) => a.body), ['{"n":1}', '{"n":2}']);
      assert.equal(Buffer.from((await store.readCurrent('t1', 'Probe', 'old'))?.box ?? []).toString(), 'changed');
      assert.deepEqual((await store.searchCandidates({ ...query, order: 'id', limit: 10 })).map((v) => v.id), ['new', 'old']);
      assert.equal(await store.countCandidates(query), 2);
    });

    it('pages in creation order (rid), walked from the rarest one-hash clause, whatever the ids', async () => {
      const common = Buffer.from('c0de0a', 'hex');
      const rare = Buffer.from('c0de0b', 'hex');
      const other = Buffer.from('c0de0c', 'hex');
      // Created z, y, ... so that creation order is the reverse of id order; every third is rare.
      const ids = Array.from({ length: 12 }, (_, i) => `o${String.fromCharCode(122 - i)}`);
      await store.tx(async (tx) => {
        for (const [i, id] of ids.entries()) {
          await tx.append(row({ type: 'Ordered', id }));
          await tx.replaceIndex('t1', 'Ordered', id, { hashes: [{ param: 'code', hash: common }, ...(i % 3 === 0 ? [{ param: 'code', hash: rare }] : []), ...(i === 5 ? [{ param: 'x', hash: other }] : [])], ranges: [] });
        }
      });
      // An update keeps the resource's place.
      await store.tx(async (tx) => tx.append(row({ type: 'Ordered', id: 'oz', versionId: 2 })));
      const q = { tenant: 't1', type: 'Ordered' };
      const page = async (clauses: SearchClause[], more: Partial<CandidateQuery> = {}): Promise<string[]> => (await store.searchCandidates({ ...q, clauses, order: 'rid', limit: 4, ...more })).map((v) => v.id);
      const codeClause: SearchClause = { kind: 'hash', param: 'code', hashes: [common] };
      const rareClause: SearchClause = { kind: 'hash', param: 'code', hashes: [rare] };
      assert.deepEqual(await page([codeClause]), ids.slice(0, 4));
      const rows = await store.searchCandidates({ ...q, clauses: [codeClause], order: 'rid', limit: 4 });
      assert.deepEqual(await page([codeClause], { afterRid: rows[3]?.rid }), ids.slice(4, 8));
      assert.deepEqual(await page([codeClause], { order: 'rid-desc', beforeRid: rows[3]?.rid }), ids.slice(0, 3).reverse());
      assert.deepEqual(await page([codeClause, rareClause]), [ids[0], ids[3], ids[6], ids[9]]);
      assert.deepEqual(await page([rareClause, codeClause], { order: 'rid-desc' }), [ids[9], ids[6], ids[3], ids[0]]);
      assert.deepEqual(await page([codeClause, { kind: 'hash', param: 'code', hashes: [rare], negate: true }]), [ids[1], ids[2], ids[4], ids[5]]);
      assert.deepEqual(await page([codeClause, { kind: 'hash', param: 'x', hashes: [other] }]), [ids[5]]);
      assert.deepEqual(await page([codeClause, { kind: 'id', ids: [ids[7] ?? '', ids[2] ?? ''] }]), [ids[2], ids[7]]);
      assert.deepEqual(await page([]), ids.slice(0, 4));
      assert.deepEqual(await page([], { order: 'rid-desc' }), ids.slice(-4).reverse());
      assert.deepEqual(await page([{ kind: 'hash', param: 'code', hashes: [rare, other] }]), [ids[0], ids[3], ids[5], ids[6]]);
    });

    it('scans current resources with their index rows, in rid order, hashes sorted (for the verifier)', async () => {
      const digest = Buffer.alloc(32, 9);
      await store.tx(async (tx) => {
        await tx.append(row({ type: 'Scan', id: 's1', indexDigest: digest }));
        await tx.replaceIndex('t1', 'Scan', 's1', {
          hashes: [{ param: 'code', hash: Buffer.from('ff01', 'hex') }, { param: 'code', hash: Buffer.from('0a02', 'hex') }],
          ranges: [{ param: 'date', lo: 1.5, hi: 2, unit: Buffer.from('ab', 'hex'), unit2: null }],
        });
        await tx.append(row({ type: 'Scan', id: 's2' }));
      });
      const rows = [];
      for await (const page of store.scanCurrentIndex()) rows.push(...page);
      assert.deepEqual(rows.map((r) => r.rid), [...rows.map((r) => r.rid)].sort((a, b) => a - b));
      const s1 = rows.find((r) => r.hashesJson !== '[]' && Buffer.from(r.committed ?? []).equals(digest));
      assert.ok(s1 !== undefined);
      assert.equal(s1.hashesJson, '["0a02","ff01"]');
      assert.deepEqual(s1.ranges, [{ param: 'Scan.date', lo: 1.5, hi: 2, unit: 'ab', unit2: '' }]);
      assert.equal(s1.deleted, false);
      assert.ok(rows.some((r) => r.hashesJson === '[]' && r.ranges.length === 0));
      assert.ok(['sqlite'].includes(store.readerSpec().kind));
    });

    it('keeps auth records: insert once, take once, purge when expired', async () => {
      const row = { key: 'k1', box: Buffer.from('sealed-1'), expiresAt: 1_000 };
      assert.equal(await store.getAuthRecord('code', 'k1'), undefined);
      assert.equal(await store.insertAuthRecord('code', row), true);
      assert.equal(await store.insertAuthRecord('code', { ...row, box: Buffer.from('other') }), false);
      assert.equal(Buffer.from((await store.getAuthRecord('code', 'k1'))?.box ?? []).toString(), 'sealed-1');
      // Kinds are separate name spaces.
      assert.equal(await store.getAuthRecord('session', 'k1'), undefined);
      await store.putAuthRecord('session', { key: 'k1', box: Buffer.from('s'), expiresAt: null });
      await store.putAuthRecord('session', { key: 'k1', box: Buffer.from('s2'), expiresAt: null });
      assert.equal((await store.listAuthRecords('session')).length, 1);
      const taken = await store.takeAuthRecord('code', 'k1');
      assert.equal(Buffer.from(taken?.box ?? []).toString(), 'sealed-1');
      assert.equal(taken?.expiresAt, 1_000);
      assert.equal(await store.takeAuthRecord('code', 'k1'), undefined);
      await store.putAuthRecord('code', { key: 'k2', box: Buffer.from('x'), expiresAt: 500 });
      await store.putAuthRecord('code', { key: 'k3', box: Buffer.from('y'), expiresAt: 5_000 });
      assert.equal(await store.purgeAuthRecords(1_000), 1);
      assert.deepEqual((await store.listAuthRecords('code')).map((r) => r.key), ['k3']);
      assert.equal(Buffer.from((await store.getAuthRecord('session', 'k1'))?.box ?? []).toString(), 's2');
      assert.equal(await store.deleteAuthRecord('session', 'k1'), true);
      assert.equal(await store.deleteAuthRecord('session', 'k1'), false);
    });

    it('stores OAuth clients and signing keys', async () => {
      assert.equal(await store.getClient('c1'), undefined);
      const client = { clientId: 'c1', secretHash: 'scrypt$x', name: 'n', scopes: 'system/*.rs', roles: ['security-admin'], disabled: false, createdAt: '2026-01-01T00:00:00.000Z', rowMac: 'mac', settings: '{}' };
      await store.insertClient(client);
      assert.deepEqual(await store.getClient('c1'), client);
      assert.equal(await store.countClients(), 1);
      await assert.rejects(store.insertClient(client));
      const changed = { ...client, scopes: 'system/Patient.r', disabled: true, settings: '{"public":true}' };
      assert.equal(await store.updateClient(changed), true);
      assert.equal(await store.updateClient({ ...changed, clientId: 'nobody' }), false);
      assert.deepEqual(await store.listClients(), [changed]);
      const key = { kid: 'k1', alg: 'EdDSA', publicJwk: '{}', privateBox: Buffer.from('sealed'), createdAt: '2026-01-01T00:00:00.000Z' };
      await store.insertSigningKey(key);
      const keys = await store.listSigningKeys();
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.kid, 'k1');
      assert.equal(Buffer.from(keys[0]?.privateBox ?? []).toString(), 'sealed');
    });
  });
}
