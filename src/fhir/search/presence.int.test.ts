import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { startTestVigil, type TestVigil } from '../../testing/harness.js';
import { BlindIndex } from './blind-index.js';
import { IndexBuilder, PRESENCE_PARAM } from './index-rows.js';
import type { SearchClause } from '../../store/index.js';

/*
 * Index format 3 marks the parameters a resource has in one presence mask; stores written before
 * hold a marker row per parameter instead, and keep them. Here a third of the store is rewritten
 * to format 2 rows, and every search built on presence must still find exactly the right ones.
 */

const LOINC = 'http://loinc.org';
const COUNT = 24;

/** Observation i: a value on even i (i % 4), a component value on i % 3 = 0, a category with text on i % 3 = 1. */
function observation(i: number): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '29463-7' }], text: 'Body weight' },
    ...(i % 3 === 1 ? { category: [{ text: 'Vital signs' }] } : {}),
    ...(i % 2 === 0 ? { valueQuantity: { value: i % 4, unit: 'kg' } } : {}),
    ...(i % 3 === 0 ? { component: [{ code: { coding: [{ system: LOINC, code: '8302-2' }] }, valueQuantity: { value: 170, unit: 'cm' } }] } : {}),
  };
}

describe('presence across index formats', () => {
  let t: TestVigil;
  const ids: string[] = [];
  /** Rewritten to the rows format 2 writes (markers, no mask). */
  const legacy = (i: number): boolean => i % 3 === 2 || i % 4 === 1;

  before(async () => {
    t = await startTestVigil();
    const created: Observation[] = [];
    for (let i = 0; i < COUNT; i++) {
      const res = await t.fhir('POST', '/fhir/Observation', { body: observation(i) });
      assert.equal(res.statusCode, 201, res.body);
      created.push(res.json() as Observation);
      ids.push(created[i]?.id ?? '');
    }
    const builder = new IndexBuilder(new BlindIndex(t.vigil.keyring.derive(`search-index:${t.config.tenant}`)), t.config.fhirBaseUrl, 2);
    const db = new Database(join(t.dir, 'vigil.db'));
    try {
      const rid = db.prepare("SELECT rid FROM resource_current WHERE type = 'Observation' AND id = ?").pluck();
      const hash = db.prepare('INSERT INTO search_hash (hash, rid) VALUES (?, ?)');
      const range = db.prepare('INSERT INTO search_range (rid, param, lo, hi, unit, unit2) VALUES (?, ?, ?, ?, ?, ?)');
      db.transaction(() => {
        created.forEach((o, i) => {
          if (!legacy(i)) return;
          const r = rid.get(o.id) as number;
          db.prepare('DELETE FROM search_hash WHERE rid = ?').run(r);
          db.prepare('DELETE FROM search_range WHERE rid = ?').run(r);
          const rows = builder.rows(o);
          for (const h of rows.hashes) hash.run(h.hash, r);
          for (const g of rows.ranges) range.run(r, `Observation.${g.param}`, g.lo, g.hi, g.unit, g.unit2);
        });
      })();
      const masks = db.prepare('SELECT COUNT(*) FROM search_range WHERE param = ?').pluck().get(`Observation.${PRESENCE_PARAM}`);
      assert.equal(masks, ids.filter((_, i) => !legacy(i)).length, 'one mask per format 3 resource');
    } finally {
      db.close();
    }
  });

  after(async () => {
    await t?.close();
  });

  const search = async (query: string): Promise<string[]> => {
    const res = await t.fhir('GET', `/fhir/Observation?${query}&_count=100`);
    assert.equal(res.statusCode, 200, res.body);
    return ((res.json() as Bundle).entry ?? []).map((e) => e.resource?.id ?? '').sort();
  };
  const where = (test: (i: number) => boolean): string[] => ids.filter((_, i) => test(i)).sort();

  it('finds what has a value and what has none, in either format', async () => {
    assert.ok(where(legacy).length > 0 && where((i) => !legacy(i)).length > 0);
    assert.deepEqual(await search('value-quantity:missing=false'), where((i) => i % 2 === 0));
    assert.deepEqual(await search('value-quantity:missing=true'), where((i) => i % 2 !== 0));
    assert.deepEqual(await search('component-value-quantity:missing=false'), where((i) => i % 3 === 0));
    assert.deepEqual(await search('category:missing=true'), where((i) => i % 3 !== 1));
  });

  it('reads a union parameter’s presence through its parts, in either format', async () => {
    assert.deepEqual(await search('combo-value-quantity:missing=false'), where((i) => i % 2 === 0 || i % 3 === 0));
    assert.deepEqual(await search('combo-value-quantity:missing=true'), where((i) => i % 2 !== 0 && i % 3 !== 0));
  });

  it('answers the searches built on presence: ne, short :text, and presence beside a code', async () => {
    assert.deepEqual(await search('value-quantity=ne2'), where((i) => i % 4 === 0));
    assert.deepEqual(await search('category:text=vi'), where((i) => i % 3 === 1));
    assert.deepEqual(await search(`code=${LOINC}|29463-7&component-value-quantity:missing=false`), where((i) => i % 3 === 0));
    assert.deepEqual(await search(`code=${LOINC}|29463-7&value-quantity:missing=true`), where((i) => i % 2 !== 0));
  });

  it('searches an alias (patient, narrowing subject to Patients) through the rows of subject, for its type only', async () => {
    const patient = await t.fhir('POST', '/fhir/Patient', { body: { resourceType: 'Patient', gender: 'other' } });
    assert.equal(patient.statusCode, 201, patient.body);
    const pid = (patient.json() as { id: string }).id;
    const post = async (subject: string): Promise<string> => {
      const res = await t.fhir('POST', '/fhir/Observation', { body: { ...observation(1), subject: { reference: subject } } });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as Observation).id ?? '';
    };
    const own = await post(`Patient/${pid}`);
    const group = await post(`Group/${pid}`);
    assert.deepEqual(await search(`patient=${pid}`), [own]);
    assert.deepEqual(await search(`patient=Patient/${pid}`), [own]);
    assert.deepEqual(await search(`subject=Group/${pid}`), [group]);
    // A Group is not a patient, though the subject rows hold it under the same id.
    assert.deepEqual(await search(`patient=Group/${pid}`), []);
    assert.deepEqual((await search('patient:missing=false')).includes(group), false);
    assert.deepEqual((await search('patient:missing=true')).includes(group), true);
    const rev = await t.fhir('GET', `/fhir/Patient?_id=${pid}&_revinclude=Observation:patient`);
    assert.equal(rev.statusCode, 200, rev.body);
    assert.deepEqual(((rev.json() as Bundle).entry ?? []).map((e) => e.resource?.id).sort(), [own, pid].sort());
  });
});

describe('presence on a store written in format 3 alone', () => {
  it('reads the mask only, with the same answers; a store with markers reads both (above)', async () => {
    const t = await startTestVigil();
    try {
      for (let i = 0; i < 6; i++) assert.equal((await t.fhir('POST', '/fhir/Observation', { body: observation(i) })).statusCode, 201);
      const seen: SearchClause[][] = [];
      const store = t.vigil.store;
      const original = store.searchCandidates.bind(store);
      store.searchCandidates = async (query) => {
        seen.push([...query.clauses]);
        return original(query);
      };
      const res = await t.fhir('GET', '/fhir/Observation?value-quantity:missing=true&_count=100');
      assert.equal(res.statusCode, 200);
      assert.equal(((res.json() as Bundle).entry ?? []).length, 3);
      const clauses = seen.flat();
      assert.ok(clauses.some((c) => c.kind === 'range' && c.param === PRESENCE_PARAM && c.negate === true), 'the mask');
      // The marker would be a negated hash clause under the parameter's own name.
      assert.ok(!clauses.some((c) => c.kind === 'hash' && c.param === 'value-quantity'), 'no marker clause beside the mask');
      assert.equal(await t.vigil.store.hasAnyHash([new BlindIndex(t.vigil.keyring.derive(`search-index:${t.config.tenant}`)).hash('Observation', 'value-quantity', 'm', '')]), false);
    } finally {
      await t.close();
    }
  });
});
