import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil, syntheticPatient, type TestVigil } from '../testing/harness.js';
import { parseSearch } from '../fhir/search/parse.js';
import { queryKey } from '../fhir/search/engine.js';

type Json = Record<string, any>;

describe('search over HTTP: scopes, cursors, includes, POST _search', () => {
  let t: TestVigil;
  const ids: string[] = [];
  before(async () => {
    t = await startTestVigil();
    for (const [i, family] of ['Ramírez', 'Ramirez', 'Ramsey', 'Ransom', 'Zed'].entries()) {
      const res = await t.fhir('PUT', `/fhir/Patient/p${i}`, { body: { ...syntheticPatient(`s${i}`), id: `p${i}`, name: [{ family, given: ['Ana'] }] } });
      assert.ok(res.statusCode === 201, res.body);
      ids.push(`p${i}`);
      const obs = await t.fhir('PUT', `/fhir/Observation/o${i}`, {
        body: { resourceType: 'Observation', id: `o${i}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/p${i}` }, effectiveDateTime: `2024-0${i + 1}-15` },
      });
      assert.equal(obs.statusCode, 201, obs.body);
    }
  });
  after(async () => {
    await t.close();
  });

  const search = async (url: string, token?: string): Promise<{ status: number; body: Json }> => {
    const res = await t.fhir('GET', url, token === undefined ? {} : { token });
    return { status: res.statusCode, body: JSON.parse(res.body) as Json };
  };
  const idsOf = (b: Json): string[] => ((b['entry'] as Json[] | undefined) ?? []).filter((e) => e['search']?.mode === 'match').map((e) => e['resource'].id as string);

  it('folds accents and case, and pages with sealed cursors both ways', async () => {
    const first = await search('/fhir/Patient?family=ramirez&_count=1&_total=accurate');
    assert.equal(first.status, 200);
    assert.equal(first.body['total'], 2);
    const next = (first.body['link'] as Json[]).find((l) => l['relation'] === 'next')?.['url'] as string;
    const second = await search(next.replace(t.config.publicUrl, ''));
    assert.deepEqual([...idsOf(first.body), ...idsOf(second.body)].sort(), ['p0', 'p1']);
    const previous = (second.body['link'] as Json[]).find((l) => l['relation'] === 'previous')?.['url'] as string;
    assert.deepEqual(idsOf((await search(previous.replace(t.config.publicUrl, ''))).body), idsOf(first.body));
    // The cursor is bound to its query: the same cursor with another query is refused.
    const cursor = new URL(next).searchParams.get('_cursor') ?? '';
    assert.equal((await search(`/fhir/Patient?family=ram&_count=1&_cursor=${cursor}`)).status, 400);
    assert.equal((await search(`/fhir/Patient?family=ramirez&_count=1&_total=accurate&_cursor=${cursor.slice(0, -2)}xx`)).status, 400);
  });

  it('refuses a cursor of the other order: an id boundary on an unsorted search (as made before creation order)', async () => {
    const url = '/fhir/Patient?family=ram&_count=2';
    const parsed = parseSearch('Patient', [['family', 'ram'], ['_count', '2']], false);
    const cursor = (extra: Record<string, unknown>): string => t.vigil.cursors.sign({ k: 'search', q: queryKey(parsed), ...extra });
    const first = await search(url);
    assert.deepEqual(idsOf(first.body), ['p0', 'p1']);
    assert.equal((await search(`${url}&_cursor=${cursor({ n: 'p1' })}`)).status, 400);
    // The same boundary as a rid: the second page.
    const next = new URL((first.body['link'] as Json[]).find((l) => l['relation'] === 'next')?.['url'] as string).searchParams.get('_cursor') ?? '';
    const page = await search(`${url}&_cursor=${next}`);
    assert.deepEqual(idsOf(page.body), ['p2']);
  });

  it('answers POST _search like GET', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/fhir/Patient/_search',
      headers: { authorization: `Bearer ${await t.token()}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'family=rams&_count=10',
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(idsOf(JSON.parse(res.body) as Json), ['p2']);
  });

  it('needs the search scope on the searched type and on every chained type', async () => {
    const obsOnly = await t.token('system/Observation.rs');
    assert.equal((await search('/fhir/Observation?code=8867-4', obsOnly)).status, 200);
    assert.equal((await search('/fhir/Patient?family=z', obsOnly)).status, 403);
    assert.equal((await search('/fhir/Observation?subject:Patient.family=zed', obsOnly)).status, 403, 'a chain reads Patient');
    assert.equal((await search('/fhir/Patient?_has:Observation:subject:code=8867-4', await t.token('system/Patient.rs'))).status, 403, '_has reads Observation');
    const both = await t.token('system/Observation.rs system/Patient.rs');
    const chained = await search('/fhir/Observation?subject:Patient.family=zed', both);
    assert.deepEqual(idsOf(chained.body), ['o4']);
    const has = await search('/fhir/Patient?_has:Observation:subject:date=2024-02', both);
    assert.deepEqual(idsOf(has.body), ['p1']);
  });

  it('includes and revincludes, leaving out types the token may not read', async () => {
    const full = await search('/fhir/Observation?date=ge2024-04-01&_include=Observation:subject&_sort=date');
    assert.deepEqual(idsOf(full.body), ['o3', 'o4']);
    const included = (full.body['entry'] as Json[]).filter((e) => e['search']?.mode === 'include').map((e) => e['resource'].id as string);
    assert.deepEqual(included.sort(), ['p3', 'p4']);
    const obsOnly = await t.token('system/Observation.rs');
    const limited = await search('/fhir/Observation?date=ge2024-04-01&_include=Observation:subject', obsOnly);
    assert.equal((limited.body['entry'] as Json[]).filter((e) => e['search']?.mode === 'include').length, 0);
    const rev = await search('/fhir/Patient?_id=p2&_revinclude=Observation:subject');
    assert.deepEqual((rev.body['entry'] as Json[]).map((e) => `${e['search'].mode}:${e['resource'].id as string}`), ['match:p2', 'include:o2']);
  });

  it('projects with _elements and _summary, marking results SUBSETTED', async () => {
    const res = await search('/fhir/Patient?_id=p0&_elements=gender');
    const p = (res.body['entry'] as Json[])[0]?.['resource'] as Json;
    assert.equal(p['gender'], 'female');
    assert.equal(p['name'], undefined);
    assert.ok((p['meta'].tag as Json[]).some((tag) => tag['code'] === 'SUBSETTED'));
    const count = await search('/fhir/Patient?family=ra&_summary=count');
    assert.equal(count.body['total'], 4);
    assert.equal(count.body['entry'], undefined);
  });

  it('keeps deleted resources out of results', async () => {
    assert.equal((await t.fhir('DELETE', '/fhir/Patient/p3')).statusCode, 204);
    assert.deepEqual(idsOf((await search('/fhir/Patient?family=ran')).body), []);
    const back = await t.fhir('PUT', '/fhir/Patient/p3', { body: { ...syntheticPatient('s3'), id: 'p3', name: [{ family: 'Ransom' }] } });
    assert.equal(back.statusCode, 201);
    assert.deepEqual(idsOf((await search('/fhir/Patient?family=ran')).body), ['p3']);
  });
});
