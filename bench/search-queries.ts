/**
 * The search bench's queries and their timing loop. Each kind of query is sent `n` times, one at
 * a time over one keep-alive connection, with values drawn from the loaded data; the latency of
 * each is taken from sending the request to the last byte of its answer. Every answer must be a
 * 200 searchset whose matches are plausible for the values asked (an identifier finds exactly one
 * patient; a `_revinclude` brings exactly that patient's observations), so a broken search counts
 * as wrong instead of looking fast.
 */
import { Agent, request } from 'node:http';
import { MRN_SYSTEM } from '../src/synthetic/index.js';
import { RECENT_FROM, seeded, type LoadedData } from './search-import.js';

/** The query kinds, in the order they run and print. */
export const QUERY_KEYS = ['name', 'identifier', 'birthdate', 'observation', 'revinclude'] as const;
export type QueryKey = (typeof QUERY_KEYS)[number];

/** One query sent, and what its answer must hold. */
interface QueryCase {
  readonly path: string;
  /** True when the counts are right for this query. */
  readonly check: (matches: number, included: number) => boolean;
}

/** One kind of query with the cases to send. */
export interface QueryKind {
  readonly key: QueryKey;
  readonly label: string;
  readonly cases: readonly QueryCase[];
}

/** One kind's figures, as printed and as found in `--json` output. */
export interface QueryReport {
  readonly label: string;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  /** Timed requests (warm-up excluded). */
  readonly n: number;
  /** Requests per second of the sequential loop (one in flight). */
  readonly perSecond: number;
  /** Mean `search.mode = match` entries per answer (one page: at most `_count`, 20 by default). */
  readonly meanResults: number;
  /** Mean `search.mode = include` entries per answer. */
  readonly meanIncluded: number;
  readonly non200: number;
  /** 200 answers whose counts cannot be right for the query. */
  readonly wrong: number;
}

/** `/fhir` and its query: values percent-encoded, one `key=value` pair each. */
function path(base: string, type: string, params: readonly (readonly [string, string])[]): string {
  return `${base}/${type}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

/** The first `n` characters of `s` (code points, so a name never splits inside a letter). */
const firstChars = (s: string, n: number): string => Array.from(s).slice(0, n).join('');

/**
 * Builds `n` cases of each kind, drawing values from the loaded data with a fixed seed. A kind the
 * data has no values for (a tiny data set without recent observations) is left out.
 */
export function buildQueries(fhirPath: string, data: LoadedData, n: number): QueryKind[] {
  const random = seeded(11);
  const pick = <T>(list: readonly T[]): T => {
    const v = list[Math.floor(random() * list.length)];
    if (v === undefined) throw new Error('nothing to draw query values from');
    return v;
  };
  const times = (make: () => QueryCase): QueryCase[] => Array.from({ length: n }, make);
  const found = (matches: number): boolean => matches > 0;
  // A patient with more observations than the server includes at once (1,000) is refused by design.
  const revincludable = data.patients.filter((p) => p.observations <= 1000);
  const kinds: (QueryKind | undefined)[] = [
    {
      key: 'name',
      label: 'name prefix: Patient?name=<3 letters>',
      cases: times(() => ({ path: path(fhirPath, 'Patient', [['name', firstChars(pick(data.patients).family, 3)]]), check: found })),
    },
    {
      key: 'identifier',
      label: 'identifier: Patient?identifier=<mrn system>|<mrn>',
      cases: times(() => ({ path: path(fhirPath, 'Patient', [['identifier', `${MRN_SYSTEM}|${pick(data.patients).mrn}`]]), check: (m) => m === 1 })),
    },
    {
      key: 'birthdate',
      label: 'birthdate range: Patient?birthdate=ge<Y>&birthdate=lt<Y+5>',
      cases: times(() => {
        const year = Number(pick(data.patients).birthDate.slice(0, 4));
        const params: [string, string][] = [['birthdate', `ge${year}-01-01`], ['birthdate', `lt${year + 5}-01-01`]];
        return { path: path(fhirPath, 'Patient', params), check: found };
      }),
    },
    data.recentCodes.length === 0 ? undefined : {
      key: 'observation',
      label: `Observation code+date: ?code=<loinc>&date=ge${RECENT_FROM}`,
      cases: times(() => ({ path: path(fhirPath, 'Observation', [['code', `http://loinc.org|${pick(data.recentCodes)}`], ['date', `ge${RECENT_FROM}`]]), check: found })),
    },
    revincludable.length === 0 ? undefined : {
      key: 'revinclude',
      label: '_revinclude: Patient?_id=<id>&_revinclude=Observation:subject',
      cases: times(() => {
        const p = pick(revincludable);
        return { path: path(fhirPath, 'Patient', [['_id', p.id], ['_revinclude', 'Observation:subject']]), check: (m, i) => m === 1 && i === p.observations };
      }),
    },
  ];
  return kinds.filter((k): k is QueryKind => k !== undefined);
}

interface Answer {
  readonly status: number;
  readonly body: Buffer;
  readonly ms: number;
}

/** One GET over `agent`, timed from the call to the answer's last byte. */
function get(agent: Agent, origin: URL, pathAndQuery: string, token: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      { agent, host: origin.hostname, port: origin.port, path: pathAndQuery, method: 'GET', headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - started }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/** Matches and includes of a searchset, or undefined when the body is not one. */
function countEntries(body: Buffer): { matches: number; included: number } | undefined {
  let bundle: { resourceType?: unknown; type?: unknown; entry?: { search?: { mode?: unknown } }[] };
  try {
    bundle = JSON.parse(body.toString('utf8')) as typeof bundle;
  } catch {
    return undefined;
  }
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset') return undefined;
  let matches = 0;
  let included = 0;
  for (const e of bundle.entry ?? []) {
    if (e.search?.mode === 'match') matches++;
    else if (e.search?.mode === 'include') included++;
  }
  return { matches, included };
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export interface Token {
  readonly token: string;
  readonly expiresIn: number;
}

/**
 * Sends every case of `kind` in order, the first `warmup` untimed, and reports the rest. A token
 * is fetched before the run and again (between requests, untimed) once half its lifetime is gone.
 */
export async function timeQueries(origin: string, kind: QueryKind, warmup: number, newToken: () => Promise<Token>): Promise<QueryReport> {
  const url = new URL(origin);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let results = 0;
  let included = 0;
  let non200 = 0;
  let wrong = 0;
  let token = await newToken();
  let tokenAt = performance.now();
  let timedMs = 0;
  try {
    for (const [i, c] of kind.cases.entries()) {
      if (performance.now() - tokenAt > (token.expiresIn * 1000) / 2) {
        token = await newToken();
        tokenAt = performance.now();
      }
      const answer = await get(agent, url, c.path, token.token);
      if (i < warmup) continue;
      timedMs += answer.ms;
      if (answer.status !== 200) {
        non200++;
        continue;
      }
      latencies.push(answer.ms);
      const counts = countEntries(answer.body);
      if (counts === undefined || !c.check(counts.matches, counts.included)) wrong++;
      results += counts?.matches ?? 0;
      included += counts?.included ?? 0;
    }
  } finally {
    agent.destroy();
  }
  const sorted = Float64Array.from(latencies).sort();
  const ok = latencies.length;
  return {
    label: kind.label,
    p50: round(percentile(sorted, 50), 3),
    p99: round(percentile(sorted, 99), 3),
    mean: round(ok === 0 ? 0 : latencies.reduce((a, b) => a + b, 0) / ok, 3),
    n: ok + non200,
    perSecond: round(timedMs > 0 ? ((ok + non200) * 1000) / timedMs : 0, 1),
    meanResults: round(ok === 0 ? 0 : results / ok, 2),
    meanIncluded: round(ok === 0 ? 0 : included / ok, 2),
    non200,
    wrong,
  };
}
