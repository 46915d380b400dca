import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BlindIndex } from './blind-index.js';
import { IndexBuilder, PRESENCE_PARAM, presenceBits } from './index-rows.js';
import { indexedParams, searchParam, searchParams, storedUnder } from './params.js';
import { loadDefinitions } from '../definitions.js';
import { bloodPressurePanel } from '../../testing/fixtures.js';

const BASE = 'https://vigil.example/fhir';
const PANEL = bloodPressurePanel();

const hex = (rows: { readonly hashes: readonly { readonly hash: Uint8Array }[] }): Set<string> => new Set(rows.hashes.map((h) => Buffer.from(h.hash).toString('hex')));

describe('union parameters, presence masks and index formats', () => {
  it('finds the R4 parameters whose expression is exactly the union of others of their type', () => {
    const unions: string[] = [];
    for (const type of loadDefinitions()) {
      for (const p of searchParams(type).values()) if (p.parts !== undefined) unions.push(`${type}.${p.code} = ${p.parts.map((q) => q.code).sort().join(' | ')}`);
    }
    assert.deepEqual(unions.sort(), [
      'Observation.combo-code = code | component-code',
      'Observation.combo-data-absent-reason = component-data-absent-reason | data-absent-reason',
      'Observation.combo-value-concept = component-value-concept | value-concept',
      'Observation.combo-value-quantity = component-value-quantity | value-quantity',
    ]);
    // A parameter with several branches that no others cover stays indexed under its own name.
    assert.equal(searchParam('Observation', 'value-quantity')?.parts, undefined);
    assert.deepEqual(storedUnder(searchParam('Observation', 'code')!).map((p) => p.code), ['code']);
  });

  it('format 2 leaves union parameters out of the index; format 1 (earlier versions) had them too', () => {
    const codes = (format: 1 | 2): string[] => indexedParams('Observation', format).map((p) => p.code);
    assert.ok(!codes(2).includes('combo-code') && !codes(2).includes('combo-value-quantity'));
    assert.ok(codes(1).includes('combo-code') && codes(1).includes('combo-value-quantity'));
    assert.equal(codes(1).length - codes(2).length, 4);
  });

  it('writes a value under its parts only, and the rows format 1 wrote are a superset, so searches find both', () => {
    const blind = new BlindIndex(randomBytes(32));
    const now = new IndexBuilder(blind, BASE, 2).rows(PANEL);
    const before = new IndexBuilder(blind, BASE, 1).rows(PANEL);
    const current = hex(now);
    const legacy = hex(before);
    for (const h of current) assert.ok(legacy.has(h), 'every row a search reads was written by format 1 too');
    const h = (param: string, tag: 'c' | 'm', value: string): string => blind.hash('Observation', param, tag, value).toString('hex');
    assert.ok(current.has(h('component-code', 'c', '8462-4')) && current.has(h('code', 'c', '85354-9')));
    assert.ok(!current.has(h('combo-code', 'c', '8462-4')) && !current.has(h('combo-code', 'm', '')));
    assert.ok(legacy.has(h('combo-code', 'c', '8462-4')) && legacy.has(h('combo-code', 'm', '')));
    assert.ok(current.size < legacy.size);
    assert.deepEqual(new Set(now.ranges.map((r) => r.param)), new Set(['date', 'component-value-quantity']));
    assert.ok(before.ranges.some((r) => r.param === 'combo-value-quantity'));
  });

  it('format 3 writes one presence mask in place of the markers, with the bits of the parameters the markers named', () => {
    const blind = new BlindIndex(randomBytes(32));
    const v2 = new IndexBuilder(blind, BASE, 2).rows(PANEL);
    const v3 = new IndexBuilder(blind, BASE).rows(PANEL);
    const bits = presenceBits(blind, 'Observation');
    const marked = [...bits.keys()].filter((code) => hex(v2).has(blind.hash('Observation', code, 'm', '').toString('hex')));
    assert.deepEqual(marked.sort(), ['code', 'component-code', 'component-value-quantity', 'date', 'patient', 'status', 'subject']);
    // The hash rows are format 2's without its markers and the `|code` row of `status` (systemless),
    // and the row of `patient`, an alias of `subject` narrowed to Patients.
    const dropped = new Set(
      [...marked.map((code) => blind.hash('Observation', code, 'm', '')), blind.hash('Observation', 'status', 'n', 'final'), blind.hash('Observation', 'patient', 'r', 'Patient/p1')].map((h) => h.toString('hex')),
    );
    assert.ok(hex(v3).has(blind.hash('Observation', 'subject', 'r', 'Patient/p1').toString('hex')));
    assert.ok(hex(v2).has(blind.hash('Observation', 'status', 'n', 'final').toString('hex')));
    assert.deepEqual(hex(v3), new Set([...hex(v2)].filter((h) => !dropped.has(h))));
    assert.equal(v3.hashes.length, v2.hashes.length - dropped.size);
    const masks = v3.ranges.filter((r) => r.param === PRESENCE_PARAM);
    assert.equal(masks.length, 1);
    const expected = marked.reduce((sum, code) => sum + (bits.get(code) ?? 0), 0);
    assert.deepEqual(masks[0], { param: PRESENCE_PARAM, lo: expected, hi: expected, unit: null, unit2: null });
    // The ranges gain exactly the mask.
    assert.deepEqual(v3.ranges.filter((r) => r.param !== PRESENCE_PARAM), v2.ranges);
    // A resource with no indexed value has no mask row (nothing is present).
    assert.deepEqual(new IndexBuilder(blind, BASE).rows({ resourceType: 'Basic', code: {} }).ranges, []);
  });

  it('gives every type’s parameters distinct bits a double holds exactly, in an order each index key sets', () => {
    const key = randomBytes(32);
    const a = new BlindIndex(key);
    const b = new BlindIndex(randomBytes(32));
    for (const type of loadDefinitions()) {
      const bits = [...presenceBits(a, type).values()];
      assert.equal(bits.length, indexedParams(type).length, type);
      assert.equal(new Set(bits).size, bits.length, type);
      for (const bit of bits) assert.ok(Number.isInteger(Math.log2(bit)) && bit < 2 ** 52, `${type}: ${bit}`);
    }
    // 30 parameters: two keys give the same order once in 30! (about 2.7e32).
    const order = (blind: BlindIndex): string[] => [...presenceBits(blind, 'Observation')].sort((x, y) => x[1] - y[1]).map(([code]) => code);
    assert.equal(indexedParams('Observation').length, 30);
    assert.notDeepEqual(order(a), order(b));
    // The same key (a restart, a restore) gives the same order, or stored masks would mean other parameters.
    assert.deepEqual(order(a), order(new BlindIndex(Buffer.from(key))));
  });

  it('knows the token parameters whose values never carry a system, whose `|code` is their code', () => {
    const systemless = (type: string): string[] => [...searchParams(type).values()].filter((p) => p.systemless === true && p.code !== '_id').map((p) => p.code).sort();
    assert.deepEqual(systemless('Patient'), ['active', 'address-use', 'gender', 'telecom']);
    assert.deepEqual(systemless('Observation'), ['status']);
    // Paths through where() stay FHIRPath's, whose types are not known here: they keep their `|code` rows.
    assert.equal(searchParam('Patient', 'phone')?.systemless, undefined);
    assert.equal(searchParam('Patient', 'identifier')?.systemless, undefined);
    const blind = new BlindIndex(randomBytes(32));
    const patient = { resourceType: 'Patient' as const, gender: 'female' as const, identifier: [{ value: 'X1' }] };
    const rows = (format: 2 | 3): Set<string> => hex(new IndexBuilder(blind, BASE, format).rows(patient));
    const h = (param: string, tag: 'c' | 'n', value: string): string => blind.hash('Patient', param, tag, value).toString('hex');
    assert.ok(rows(3).has(h('gender', 'c', 'female')) && !rows(3).has(h('gender', 'n', 'female')));
    assert.ok(rows(2).has(h('gender', 'n', 'female')));
    // An identifier can have a system or not, so its `|value` row stays.
    assert.ok(rows(3).has(h('identifier', 'n', 'X1')) && rows(3).has(h('identifier', 'c', 'X1')));
  });

  it('finds the reference parameters that narrow another to one type, which keep their presence but no rows', () => {
    const aliases = (type: string): string[] => [...searchParams(type).values()].flatMap((p) => (p.alias === undefined ? [] : [`${p.code} = ${p.alias.of.code} of ${p.alias.type}`])).sort();
    assert.deepEqual(aliases('Observation'), ['patient = subject of Patient']);
    assert.deepEqual(aliases('Encounter'), ['patient = subject of Patient', 'practitioner = participant of Practitioner']);
    // Immunization.patient is a path of its own, not a narrowing.
    assert.deepEqual(aliases('Immunization'), []);
    const blind = new BlindIndex(randomBytes(32));
    const group = { ...PANEL, subject: { reference: 'Group/g1' } };
    const bits = presenceBits(blind, 'Observation');
    const mask = (o: typeof PANEL): number => new IndexBuilder(blind, BASE).rows(o).ranges.find((r) => r.param === PRESENCE_PARAM)?.lo ?? 0;
    const has = (o: typeof PANEL, code: string): boolean => Math.floor(mask(o) / (bits.get(code) ?? Infinity)) % 2 === 1;
    assert.ok(has(PANEL, 'patient') && has(PANEL, 'subject'));
    assert.ok(!has(group, 'patient') && has(group, 'subject'), 'a Group subject is no patient');
  });
});
