import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestVigil, type TestVigil } from '../../testing/harness.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const N = 2100;

/**
 * Past the sizes the reference test uses: a page of a code on more than 2,000 records walks its
 * rows in creation order (or, sorted by id, walks the type by id) instead of fetching every
 * match, and a total nobody asked for is left out above 1,000 matches. The answers must be
 * exactly those of the small-data plan.
 */
describe('search at scale: paging a common code and default totals', () => {
  let t: TestVigil;
  let token: string;
  /** Every Observation, in the order they were created. */
  const all: { id: string; day: number; second: boolean }[] = [];
  /** Added to the server's clock (milliseconds). */
  let shift = 0;

  before(async () => {
    t = await startTestVigil({ now: () => new Date(Date.now() + shift) });
    token = await t.token('system/*.cruds');
    for (let start = 0; start < N; start += 700) {
      const entry = [];
      for (let i = start; i < Math.min(N, start + 700); i++) {
        const day = 1 + (i % 28);
        // Two in seven also carry a second code (600 in all): a clause walked against its list.
        const coding = [{ system: 'http://loinc.org', code: '8867-4' }, ...(i % 7 < 2 ? [{ system: 'http://loinc.org', code: '8310-5' }] : [])];
        entry.push({ request: { method: 'POST', url: 'Observation' }, resource: { resourceType: 'Observation', status: 'final', code: { coding }, effectiveDateTime: `2024-02-${String(day).padStart(2, '0')}T10:00:00Z` } });
      }
      const res = await t.fhir('POST', '/fhir', { token, body: { resourceType: 'Bundle', type: 'transaction', entry } });
      assert.equal(res.statusCode, 200);
      const out = (JSON.parse(res.body) as Json)['entry'] as Json[];
      out.forEach((e, k) => all.push({ id: String(e['response']['location']).split('/')[5] ?? '', day: 1 + ((start + k) % 28), second: (start + k) % 7 < 2 }));
    }
  });
  const sortedById = <T extends { id: string }>(list: readonly T[]): T[] => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
  after(async () => {
    await t.close();
  });

  const ids = (b: Json): string[] => ((b['entry'] ?? []) as Json[]).map((e) => String(e['resource']['id']));
  const get = async (url: string): Promise<Json> => {
    const res = await t.fhir('GET', url, { token });
    assert.equal(res.statusCode, 200, res.body.slice(0, 200));
    return JSON.parse(res.body) as Json;
  };

  const link = (page: Json, relation: string): string => String(((page['link'] ?? []) as Json[]).find((l) => l['relation'] === relation)?.['url']).replace(t.config.fhirBaseUrl, '/fhir');

  /**
   * Pages `code` unsorted, in creation order: the first two pages of 50 (the first page's total
   * must be `total`) and back, and the first 30 on or after day `fromDay`; then sorted by id, the
   * first 50 and the last 20. `matches` in creation order.
   */
  async function pagesInOrder(code: string, matches: readonly { id: string; day: number }[], total: number | undefined, fromDay: number): Promise<void> {
    const first = await get(`/fhir/Observation?code=http://loinc.org|${code}&_count=50`);
    assert.deepEqual(ids(first), matches.slice(0, 50).map((a) => a.id));
    assert.equal(first['total'], total);
    const second = await get(link(first, 'next'));
    assert.deepEqual(ids(second), matches.slice(50, 100).map((a) => a.id));
    assert.deepEqual(ids(await get(link(second, 'previous'))), ids(first));
    const late = await get(`/fhir/Observation?code=http://loinc.org|${code}&date=ge2024-02-${String(fromDay).padStart(2, '0')}&_count=30`);
    assert.deepEqual(ids(late), matches.filter((a) => a.day >= fromDay).slice(0, 30).map((a) => a.id));
    const byId = sortedById(matches).map((a) => a.id);
    assert.notDeepEqual(byId.slice(0, 50), ids(first), 'creation order differs from id order here');
    assert.deepEqual(ids(await get(`/fhir/Observation?code=http://loinc.org|${code}&_sort=_id&_count=50`)), byId.slice(0, 50));
    assert.deepEqual(ids(await get(`/fhir/Observation?code=http://loinc.org|${code}&_sort=-_id&_count=20`)), byId.slice(-20).reverse());
  }

  it('pages in creation order exactly, both ways, with and without a date range, and in id order when sorted so', async () => {
    // A total nobody asked for is left out above 1,000.
    await pagesInOrder('8867-4', all, undefined, 27);
  });

  it('pages a code on 600 of them the same way (walked against its list of matches)', async () => {
    const second = all.filter((a) => a.second);
    assert.equal(second.length, 600);
    await pagesInOrder('8310-5', second, 600, 20);
    const both = await get('/fhir/Observation?code=http://loinc.org|8310-5&code=http://loinc.org|8867-4&_count=40');
    assert.deepEqual(ids(both), second.slice(0, 40).map((a) => a.id));
  });

  it('counts all when asked, and gives small totals unasked', async () => {
    assert.equal((await get('/fhir/Observation?code=http://loinc.org|8867-4&_total=accurate&_count=1'))['total'], N);
    assert.equal((await get('/fhir/Observation?code=http://loinc.org|8867-4&_summary=count'))['total'], N);
    const one = await get('/fhir/Observation?code=http://loinc.org|8867-4&date=ge2024-02-28&_count=5');
    assert.equal(one['total'], all.filter((a) => a.day >= 28).length, 'under the cap the total is exact');
  });

  // Last: it changes the data. A plan is chosen by a count of the code's index rows that is
  // remembered for a while; counts from before a change must still give exact pages.
  it('pages exactly when a code became rare or common since its rows were counted', async () => {
    const observation = (i: number, codes: readonly string[]) => ({
      resourceType: 'Observation',
      id: all[i]?.id,
      status: 'final',
      code: { coding: codes.map((code) => ({ system: 'http://loinc.org', code })) },
      effectiveDateTime: `2024-02-${String(all[i]?.day ?? 1).padStart(2, '0')}T10:00:00Z`,
    });
    const write = async (entry: Json[]): Promise<void> => {
      const res = await t.fhir('POST', '/fhir', { token, body: { resourceType: 'Bundle', type: 'transaction', entry } });
      assert.equal(res.statusCode, 200, res.body.slice(0, 200));
    };
    const page = async (query: string, count: number): Promise<string[]> => ids(await get(`/fhir/Observation?${query}&_count=${count}`));
    // Counted now: 600 rows for one code, none for the other.
    assert.equal((await page('code=http://loinc.org|8310-5', 20)).length, 20);
    assert.deepEqual(await page('code=http://loinc.org|1234-5', 20), []);
    // The second code is taken off all but 30 resources; the new one goes on 1,200.
    const second = all.flatMap((a, i) => (a.second ? [i] : []));
    const keep = new Set(second.filter((_, k) => k % 20 === 0));
    const entry: Json[] = [];
    for (let i = 0; i < all.length; i++) {
      const codes = ['8867-4', ...(keep.has(i) ? ['8310-5'] : []), ...(i % 7 >= 2 && i % 7 < 6 ? ['1234-5'] : [])];
      if (codes.length > 1 || all[i]?.second === true) entry.push({ request: { method: 'PUT', url: `Observation/${all[i]?.id ?? ''}` }, resource: observation(i, codes) });
    }
    for (let k = 0; k < entry.length; k += 700) await write(entry.slice(k, k + 700));
    const rare = all.filter((_, i) => keep.has(i));
    const common = all.filter((_, i) => i % 7 >= 2 && i % 7 < 6);
    assert.equal(rare.length, 30);
    assert.equal(common.length, 1200);
    assert.deepEqual(await page('code=http://loinc.org|8310-5', 20), rare.slice(0, 20).map((a) => a.id));
    assert.deepEqual(await page('code=http://loinc.org|8310-5&_sort=-_id', 50), sortedById(rare).map((a) => a.id).reverse());
    assert.deepEqual(await page('code=http://loinc.org|1234-5', 40), common.slice(0, 40).map((a) => a.id));
    assert.deepEqual(await page('code=http://loinc.org|1234-5&date=ge2024-02-27&_sort=-_id', 25), sortedById(common.filter((a) => a.day >= 27)).reverse().slice(0, 25).map((a) => a.id));
  });

  // After the test above, which leaves code 1234-5 on 1,200 resources.
  it('remembers for a while that an unasked total went over the cap, and never a total it gave', async () => {
    const url = '/fhir/Observation?code=http://loinc.org|1234-5&_count=1';
    const on = all.filter((_, i) => i % 7 >= 2 && i % 7 < 6);
    assert.equal((await get(url))['total'], undefined, '1,200 matches: over the cap');
    // 300 of them lose the code: 900 match, under the cap.
    const entry = on.slice(0, 300).map((a) => ({
      request: { method: 'PUT', url: `Observation/${a.id}` },
      resource: { resourceType: 'Observation', id: a.id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, effectiveDateTime: `2024-02-${String(a.day).padStart(2, '0')}T10:00:00Z` },
    }));
    assert.equal((await t.fhir('POST', '/fhir', { token, body: { resourceType: 'Bundle', type: 'transaction', entry } })).statusCode, 200);
    assert.equal((await get(url))['total'], undefined, 'remembered as over the cap: left out, not counted again');
    assert.equal((await get(`${url}&_total=accurate`))['total'], 900, 'an asked total is always counted');
    shift += 31_000;
    assert.equal((await get(url))['total'], 900, 'half a minute later it is counted again');
    // A total under the cap is never remembered: one more match shows at once.
    const back = on[0];
    const put = await t.fhir('PUT', `/fhir/Observation/${back?.id ?? ''}`, {
      token,
      body: { resourceType: 'Observation', id: back?.id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] }, effectiveDateTime: '2024-02-01T10:00:00Z' },
    });
    assert.equal(put.statusCode, 200);
    assert.equal((await get(url))['total'], 901);
  });
});
