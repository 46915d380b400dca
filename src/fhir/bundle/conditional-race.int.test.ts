import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { loadConfig } from '../../config/index.js';
import { openVigil, type Vigil } from '../../runtime/index.js';
import { syntheticPatient } from '../../testing/harness.js';
import { parseSearch } from '../search/parse.js';
import { processBundle, type BundleOptions } from './process.js';

type Json = Record<string, any>;

const MRN = 'http://hospital.example/mrn';

function patient(tag: string, mrn: string): Json {
  return { ...syntheticPatient(tag), identifier: [{ system: MRN, value: mrn }] };
}

function observation(subject: string, text: string): Json {
  return { resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: subject } };
}

function transaction(entry: Json[]): Json {
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/**
 * Two connections to one store, as two import threads, or `vigil import` beside `vigil serve`,
 * have: each resolves a transaction's conditions before it takes the write lock, so both can find
 * nothing and both create, unless the conditions are checked again under the lock.
 */
describe('conditions of concurrent transactions on two connections', () => {
  let dir: string;
  let a: Vigil;
  let b: Vigil;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-race-'));
    const dataDir = join(dir, 'data');
    await (await openVigil(loadConfig({}, { dataDir }), { create: true })).close();
    a = await openVigil(loadConfig({}, { dataDir }));
    b = await openVigil(loadConfig({}, { dataDir }));
  });
  after(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const options = (v: Vigil): BundleOptions => ({ fhirBaseUrl: v.config.fhirBaseUrl, authorize: () => undefined, mayCreate: () => true });
  const run = (v: Vigil, bundle: Json): Promise<Bundle> => processBundle(v.repository, bundle, options(v));
  /**
   * Runs `bundle` on b, with `meanwhile` committed on a after b resolved the Bundle's conditions
   * and before b stores it: the first time only (a retry then runs undisturbed), or every time.
   */
  const late = async (bundle: Json, meanwhile: () => Promise<unknown>, everyTime = false): Promise<{ ok: true; value: Bundle } | { ok: false; code: string }> => {
    let pending: (() => Promise<unknown>) | undefined = meanwhile;
    const repository = new Proxy(b.repository, {
      get(t, key) {
        if (key === 'unit') {
          return async (...args: Parameters<typeof t.unit>) => {
            const now = pending;
            if (!everyTime) pending = undefined;
            await now?.();
            return t.unit(...args);
          };
        }
        const value: unknown = Reflect.get(t, key);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
    try {
      return { ok: true, value: await processBundle(repository, bundle, options(b)) };
    } catch (err) {
      return { ok: false, code: (err as { code?: string }).code ?? 'unknown' };
    }
  };
  const ids = async (type: string, query: string): Promise<string[]> =>
    (await a.repository.search(parseSearch(type, [...new URLSearchParams(`${query}&_count=50`)], false))).matches.map((f) => f.id);
  const status = (r: { ok: true; value: Bundle } | { ok: false; code: string } | Bundle, i: number): string | undefined => {
    const bundle = 'ok' in r ? (r.ok ? r.value : undefined) : r;
    return (bundle?.entry?.[i] as BundleEntry | undefined)?.response?.status;
  };

  it('makes one resource of two conditional creates, and points every reference to it at that one', async () => {
    const create = (n: number): Json =>
      transaction([
        { fullUrl: 'urn:uuid:66666666-6666-4666-8666-666666666666', resource: patient(`race${n}`, 'RACE-1'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|RACE-1` } },
        { resource: observation('urn:uuid:66666666-6666-4666-8666-666666666666', `race ${n}`), request: { method: 'POST', url: 'Observation' } },
      ]);
    let first: Bundle | undefined;
    const second = await late(create(2), async () => (first = await run(a, create(1))));
    assert.equal(status(first ?? {} as Bundle, 0), '201 Created');
    assert.equal(status(second, 0), '200 OK', 'the second finds the first one\'s Patient');
    const patients = await ids('Patient', `identifier=${MRN}|RACE-1`);
    assert.equal(patients.length, 1, 'one Patient, however the transactions interleaved');
    assert.equal((await ids('Observation', `subject=Patient/${patients[0] ?? ''}`)).length, 2, 'both Observations point at it');
  });

  it('makes one resource of two conditional updates, the second a new version of the first', async () => {
    const update = (n: number): Json => transaction([{ resource: patient(`up${n}`, 'RACE-2'), request: { method: 'PUT', url: `Patient?identifier=${MRN}|RACE-2` } }]);
    const second = await late(update(2), () => run(a, update(1)));
    assert.equal(status(second, 0), '200 OK');
    const patients = await ids('Patient', `identifier=${MRN}|RACE-2`);
    assert.equal(patients.length, 1);
    assert.equal((await a.repository.read('Patient', patients[0] ?? '')).versionId, 2);
  });

  it('refuses a conditional reference made ambiguous before it was stored, and stores nothing of its transaction', async () => {
    await run(a, transaction([{ resource: patient('amb1', 'RACE-3'), request: { method: 'POST', url: 'Patient' } }]));
    const reference = await late(
      transaction([
        { resource: patient('amb3', 'RACE-3B'), request: { method: 'POST', url: 'Patient' } },
        { resource: observation(`Patient?identifier=${MRN}|RACE-3`, 'late'), request: { method: 'POST', url: 'Observation' } },
      ]),
      () => run(a, transaction([{ resource: patient('amb2', 'RACE-3'), request: { method: 'POST', url: 'Patient' } }])),
    );
    assert.deepEqual(reference, { ok: false, code: 'ERR_VERSION_CONFLICT' });
    assert.equal((await ids('Patient', `identifier=${MRN}|RACE-3B`)).length, 0);
    assert.equal((await ids('Patient', `identifier=${MRN}|RACE-3`)).length, 2);
  });

  it('deletes what a conditional delete matches when it is stored', async () => {
    const deleted = await late(transaction([{ request: { method: 'DELETE', url: `Patient?identifier=${MRN}|RACE-4` } }]), () =>
      run(a, transaction([{ resource: patient('del', 'RACE-4'), request: { method: 'POST', url: 'Patient' } }])),
    );
    assert.equal(status(deleted, 0), '204 No Content');
    assert.equal((await ids('Patient', `identifier=${MRN}|RACE-4`)).length, 0, 'the Patient created meanwhile is the one the condition names');
  });

  it('gives up with a conflict when the matches change before every attempt, storing nothing', async () => {
    let previous: string | undefined;
    // Before each attempt stores, the one match is replaced by another.
    const replace = async (): Promise<void> => {
      if (previous !== undefined) await a.repository.delete('Patient', previous);
      previous = (await a.repository.create('Patient', patient('moving', 'RACE-5'))).version.id;
    };
    const result = await late(
      transaction([
        { resource: patient('never', 'RACE-5X'), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'DELETE', url: `Patient?identifier=${MRN}|RACE-5` } },
      ]),
      replace,
      true,
    );
    assert.deepEqual(result, { ok: false, code: 'ERR_CONFLICT' });
    assert.equal((await ids('Patient', `identifier=${MRN}|RACE-5X`)).length, 0);
    assert.equal((await ids('Patient', `identifier=${MRN}|RACE-5`)).length, 1, 'the last Patient made meanwhile stays');
  });
});
