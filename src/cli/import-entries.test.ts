import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BundleEntry } from '@medplum/fhirtypes';
import { windowEnd as bundleWindowEnd } from '../fhir/index.js';
import { describeItem, targetOf, type Item } from './import-entries.js';

/** Where an import window from `start` ends. */
const windowEnd = (items: readonly Item[], start: number, size: number): number => bundleWindowEnd(items, start, size, describeItem);

const item = (request: unknown): Item => ({ entry: { request } as BundleEntry, place: { file: 'f.json' } });

describe('import windows', () => {
  it('names what a write targets: its URL, or a POST\'s condition; nothing for plain POSTs and reads', () => {
    assert.equal(targetOf(item({ method: 'PUT', url: 'Patient/1' }).entry), 'Patient/1');
    assert.equal(targetOf(item({ method: 'DELETE', url: 'Patient?identifier=s|1' }).entry), 'Patient?identifier=s|1');
    assert.equal(targetOf(item({ method: 'PATCH', url: 'Patient/1' }).entry), 'Patient/1');
    assert.equal(targetOf(item({ method: 'POST', url: 'Organization', ifNoneExist: 'identifier=s|1' }).entry), 'Organization?identifier=s|1');
    assert.equal(targetOf(item({ method: 'POST', url: 'Organization' }).entry), undefined);
    assert.equal(targetOf(item({ method: 'GET', url: 'Patient/1' }).entry), undefined);
    // Malformed requests are refused later, by the store's own checks.
    assert.equal(targetOf(item(undefined).entry), undefined);
    assert.equal(targetOf(item({ method: 'PUT', url: 7 }).entry), undefined);
  });

  it('ends a window at its size, or before an entry whose target one in it already names', () => {
    const plain = Array.from({ length: 10 }, () => item({ method: 'POST', url: 'Patient' }));
    assert.equal(windowEnd(plain, 0, 4), 4);
    assert.equal(windowEnd(plain, 8, 4), 10);
    const items = [
      item({ method: 'PUT', url: 'Patient/1' }),
      item({ method: 'POST', url: 'Organization', ifNoneExist: 'identifier=s|1' }),
      item({ method: 'POST', url: 'Patient' }),
      item({ method: 'PUT', url: 'Patient/2' }),
      item({ method: 'PUT', url: 'Patient/1' }),
      item({ method: 'POST', url: 'Organization', ifNoneExist: 'identifier=s|1' }),
    ];
    assert.equal(windowEnd(items, 0, 100), 4, 'the second PUT of Patient/1 waits for the first');
    assert.equal(windowEnd(items, 4, 100), 6);
    assert.equal(windowEnd(items, 1, 100), 5, 'the repeated condition waits for the first');
    assert.equal(windowEnd(items, 2, 100), 6, 'a window starts its targets afresh');
    assert.equal(windowEnd([], 0, 100), 0);
  });

  it('gives a read a window of its own', () => {
    const items = [item({ method: 'POST', url: 'Patient' }), item({ method: 'GET', url: 'Patient?name=x' }), item({ method: 'POST', url: 'Patient' })];
    assert.equal(windowEnd(items, 0, 100), 1);
    assert.equal(windowEnd(items, 1, 100), 2);
    assert.equal(windowEnd(items, 2, 100), 3);
  });

  it('ends a window before an entry holding a conditional reference, unless it is the first', () => {
    const withReference = (reference: string): Item => ({
      entry: { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', generalPractitioner: [{ reference }] } } as BundleEntry,
      place: { file: 'f.json' },
    });
    const items = [item({ method: 'POST', url: 'Organization' }), withReference('Organization/1'), withReference('Organization?identifier=s|1'), item({ method: 'POST', url: 'Patient' })];
    assert.equal(windowEnd(items, 0, 100), 2, 'a plain reference needs no cut');
    assert.equal(windowEnd(items, 2, 100), 4);
  });
});
