/**
 * The search part of `npm run bench`: import throughput and search latency at a given number of
 * patients' worth of resources.
 *
 * 1. Import: a deterministic synthetic data set (`--patients`, about 115 resources each) is
 *    generated in this process, written as files, and loaded into a fresh data directory by the
 *    code and threads `vigil import` uses (see search-import.ts). Resources per second cover the
 *    import alone; the time spent generating the files before it is shown beside it.
 * 2. Search: `vigil serve` starts on that data directory, and each query kind (search-queries.ts)
 *    is sent a few hundred times, one at a time, with values drawn from the loaded data.
 *
 * Targets (from the issue; reported, never asserted): import at least 10,000 resources/s, and the
 * p99 of each common search under 20 ms. They are stated at 10,000 and 100,000 patients; the
 * figures here hold at the scale printed beside them.
 */
import { join } from 'node:path';
import { importDataset, reuseDataset } from './search-import.js';
import { QUERY_KEYS, buildQueries, timeQueries, type QueryKey, type QueryReport, type Token } from './search-queries.js';

export const DEFAULT_PATIENTS = 200;
export const DEFAULT_SEARCH_REQUESTS = 300;
export const IMPORT_TARGET_PER_SECOND = 10_000;
export const SEARCH_P99_TARGET_MS = 20;

/** What the search part needs from the bench that runs it. */
export interface SearchBenchHost {
  /** A directory of its own for this run; removed by the host. */
  readonly tempDir: string;
  /** Starts `vigil serve` on `dataDir` (with `env` added to its environment); `stop` ends it. */
  startVigil(dataDir: string, env?: NodeJS.ProcessEnv): Promise<{ readonly address: string; readonly fhirBaseUrl: string; stop(): Promise<void> }>;
  /** A fresh access token from the bootstrap admin of `dataDir`. */
  accessToken(address: string, dataDir: string): Promise<Token>;
  progress(line: string): void;
}

export interface SearchBenchOptions {
  readonly patients: number;
  /** Timed requests per query kind. */
  readonly requests: number;
  /** A data directory this bench imported before with the same `patients` (`--store`): searched, not imported again. */
  readonly store?: string;
  /**
   * With `store`: the queries' values come from the first this many patients, not all of them
   * (the generator makes the same patients whatever the count). Looking up 100,000 patients by
   * MRN first takes minutes; 2,000 give values enough for every kind.
   */
  readonly samplePatients?: number;
}

/** The `search` object of `--json` output. */
export interface SearchReport {
  readonly patients: number;
  /** With `--sample-patients`: how many of them the queries' values came from. */
  readonly sampledPatients?: number;
  /** The resources of the patients the queries' values came from (all `patients` unless sampled). */
  readonly resources: number;
  readonly importSeconds: number;
  readonly importResourcesPerSecond: number;
  /** Before the import: the time this bench spent generating the Bundles and writing them as files. */
  readonly generateSeconds: number;
  readonly requestsPerQuery: number;
  /** Set when the searches ran on a store imported by an earlier run (`--store`): the import figures are then 0. */
  readonly reusedStore?: string;
  /** Every kind the data has values for (all five unless the data set is tiny), as the server runs by default. */
  readonly queries: Partial<Record<QueryKey, QueryReport>>;
  /**
   * The same queries with detection off (VIGIL_DETECT=false), on a server started afresh: the bench's
   * client reads hundreds of patients a minute, which the bulk-access rule flags every few
   * requests, and detection runs on the request thread. Absent when the bench itself runs with
   * VIGIL_DETECT=false (then `queries` are these).
   */
  readonly queriesDetectionOff?: Partial<Record<QueryKey, QueryReport>>;
  /** False when a query got a non-200 or a wrong answer. */
  readonly ok: boolean;
}

/** One target, in the shape of the bench's TargetReport. */
export interface SearchTarget {
  readonly description: string;
  readonly measured: number;
  readonly threshold: number;
  readonly unit: 'resources/s' | 'ms';
  readonly met: boolean;
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The data directory the search part searches: `store`, or the one it imports into under `tempDir`. */
export function searchDataDir(tempDir: string, store: string | undefined): string {
  return store ?? join(tempDir, 'search-data');
}

/** Imports, serves, and times every query kind. */
export async function runSearchBench(host: SearchBenchHost, opts: SearchBenchOptions): Promise<SearchReport> {
  const dataDir = searchDataDir(host.tempDir, opts.store);
  const say = (line: string): void => host.progress(`search: ${line}`);
  let imported;
  if (opts.store === undefined) {
    say(`generating and importing ${opts.patients.toLocaleString('en-US')} synthetic patients`);
    imported = await importDataset(dataDir, opts.patients, say, join(host.tempDir, 'search-work'));
  } else {
    imported = await reuseDataset(dataDir, opts.samplePatients ?? opts.patients, say);
  }
  const rate = imported.seconds > 0 ? imported.resources / imported.seconds : 0;
  if (opts.store === undefined) say(`imported ${imported.resources.toLocaleString('en-US')} resources in ${imported.seconds.toFixed(1)} s (${Math.round(rate).toLocaleString('en-US')}/s)`);

  const pass = async (env: NodeJS.ProcessEnv | undefined, label: string): Promise<Partial<Record<QueryKey, QueryReport>>> => {
    host.progress(`search: starting Vigil on the imported data directory${label}`);
    const vigil = await host.startVigil(dataDir, env);
    const queries: Partial<Record<QueryKey, QueryReport>> = {};
    try {
      // A third as many untimed requests first (up to 100): a server just started on a store just
      // imported reads its pages from disk for a while, and the passes must compare warm with warm.
      const warmup = Math.min(100, Math.max(5, Math.round(opts.requests / 3)));
      const kinds = buildQueries(new URL(vigil.fhirBaseUrl).pathname, imported.data, warmup + opts.requests);
      const left = QUERY_KEYS.filter((k) => !kinds.some((kind) => kind.key === k));
      if (left.length > 0) host.progress(`search: left out (the data set has no values for them): ${left.join(', ')}`);
      for (const kind of kinds) {
        host.progress(`search: ${kind.label}${label}: ${warmup} warm-up, then ${opts.requests} timed, one at a time`);
        queries[kind.key] = await timeQueries(vigil.address, kind, warmup, () => host.accessToken(vigil.address, dataDir));
      }
    } finally {
      await vigil.stop();
    }
    return queries;
  };
  const queries = await pass(undefined, '');
  const queriesDetectionOff = process.env['VIGIL_DETECT'] === 'false' ? undefined : await pass({ VIGIL_DETECT: 'false' }, ' (detection off)');
  const all = [...Object.values(queries), ...Object.values(queriesDetectionOff ?? {})];
  return {
    patients: opts.patients,
    ...(opts.samplePatients === undefined ? {} : { sampledPatients: opts.samplePatients }),
    resources: imported.resources,
    importSeconds: round(imported.seconds, 3),
    importResourcesPerSecond: round(rate, 1),
    generateSeconds: round(imported.generateSeconds, 3),
    requestsPerQuery: opts.requests,
    ...(opts.store === undefined ? {} : { reusedStore: opts.store }),
    queries,
    ...(queriesDetectionOff === undefined ? {} : { queriesDetectionOff }),
    ok: Object.keys(queries).length > 0 && all.every((q) => q.non200 === 0 && q.wrong === 0 && q.n > 0),
  };
}

/** The targets, with the scale they were measured at. */
export function searchTargets(r: SearchReport): SearchTarget[] {
  const at = `@${r.patients.toLocaleString('en-US')} patients`;
  const imported: SearchTarget[] =
    r.reusedStore !== undefined
      ? []
      : [
          {
            description: `import >= ${IMPORT_TARGET_PER_SECOND.toLocaleString('en-US')} resources/s ${at}`,
            measured: r.importResourcesPerSecond,
            threshold: IMPORT_TARGET_PER_SECOND,
            unit: 'resources/s',
            met: r.importResourcesPerSecond >= IMPORT_TARGET_PER_SECOND,
          },
        ];
  return [
    ...imported,
    ...Object.entries(r.queries).map(([key, q]) => ({
      description: `search ${key} p99 < ${SEARCH_P99_TARGET_MS} ms ${at}`,
      measured: q.p99,
      threshold: SEARCH_P99_TARGET_MS,
      unit: 'ms' as const,
      met: q.n > 0 && q.p99 < SEARCH_P99_TARGET_MS,
    })),
  ];
}

/** The search part of the printed report (without the targets, which the bench prints together). */
export function searchTable(r: SearchReport): string[] {
  const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const rows = [
    ['query', 'p50 ms', 'p99 ms', 'mean ms', 'req/s', 'results', 'included', 'non-200/wrong'],
    ...[...Object.values(r.queries), ...Object.values(r.queriesDetectionOff ?? {}).map((q) => ({ ...q, label: `${q.label} (detection off)` }))].map((q) => [
      q.label,
      num(q.p50, 2),
      num(q.p99, 2),
      num(q.mean, 2),
      num(q.perSecond),
      num(q.meanResults, 1),
      num(q.meanIncluded, 1),
      `${q.non200}/${q.wrong}`,
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  const fmt = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  return [
    r.sampledPatients === undefined
      ? `Search at ${num(r.patients)} patients (${num(r.resources)} resources):`
      : `Search at ${num(r.patients)} patients, the queries' values drawn from the first ${num(r.sampledPatients)} (${num(r.resources)} resources):`,
    r.reusedStore !== undefined
      ? `  import: none, the store an earlier run imported (${r.reusedStore})`
      : `  import: ${num(r.resources)} resources in ${num(r.importSeconds, 1)} s = ${num(r.importResourcesPerSecond)} resources/s ` +
        `(as vigil import; generating the files took ${num(r.generateSeconds, 1)} s before it)`,
    `  search: ${num(r.requestsPerQuery)} timed requests per query over HTTP, one at a time; results and included are means per answer (first page, _count 20)`,
    '',
    ...rows.map(fmt),
  ];
}
