import { Worker } from 'node:worker_threads';
import { basename } from 'node:path';
import { FIRST, type FileList, type ImportFile } from './import-sources.js';
import type { WriteGate } from '../store/index.js';
import type { Vigil } from '../runtime/index.js';
import { importFiles } from './import-load.js';
import type { ImportState } from './import-progress.js';
import { MAX_ERRORS, type ImportReport } from './import-report.js';

/** What one import worker is given, and what it sends back. */
export interface WorkerJob {
  readonly dataDir: string;
  readonly files: ImportFile[];
  /** One Int32 shared by every worker: the write gate's lock word. */
  readonly gate: SharedArrayBuffer;
}

/** A write gate over a shared lock word (Atomics), so workers queue for SQLite's write lock in memory. */
export function sharedGate(buffer: SharedArrayBuffer): WriteGate {
  const word = new Int32Array(buffer);
  return {
    acquire() {
      while (Atomics.compareExchange(word, 0, 0, 1) !== 0) Atomics.wait(word, 0, 1, 50);
    },
    release() {
      Atomics.store(word, 0, 0);
      Atomics.notify(word, 0, 1);
    },
  };
}

export type WorkerMessage = { readonly kind: 'progress'; readonly state: ImportState } | { readonly kind: 'done'; readonly report: ImportReport } | { readonly kind: 'error'; readonly message: string };

/** Synthea's provider files, which patient Bundles reference conditionally: loaded before the rest. */
export function isProviderFile(path: string): boolean {
  const name = basename(path);
  return FIRST.some((r) => r.test(name));
}

/** Splits files into `n` shares of about equal size, largest first (order within a share kept). */
export function shares(files: readonly ImportFile[], n: number): ImportFile[][] {
  const out: { files: ImportFile[]; bytes: number }[] = Array.from({ length: n }, () => ({ files: [], bytes: 0 }));
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    const lightest = out.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.files.push(f);
    lightest.bytes += f.size;
  }
  const position = new Map(files.map((f, i) => [f, i]));
  return out.map((s) => s.files.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0))).filter((s) => s.length > 0);
}

/** Adds reports of parts run side by side (errors in file order, as a single thread reports them); the rate is over the wall time. */
export function mergeReports(parts: readonly ImportReport[], skipped: number, seconds: number, files: readonly ImportFile[] = []): ImportReport {
  const order = new Map(files.map((f, i) => [f.path, i]));
  const errors = parts
    .flatMap((p) => p.errors)
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (order.get(a.e.file) ?? -1) - (order.get(b.e.file) ?? -1) || a.i - b.i)
    .map(({ e }) => e);
  const resources = parts.reduce((n, p) => n + p.resources, 0);
  const omitted = parts.reduce((n, p) => n + (p.errorsOmitted ?? 0), 0) + Math.max(0, errors.length - MAX_ERRORS);
  return {
    files: parts.reduce((n, p) => n + p.files, 0),
    skipped,
    resources,
    existing: parts.reduce((n, p) => n + p.existing, 0),
    failed: parts.reduce((n, p) => n + p.failed, 0),
    errors: errors.slice(0, MAX_ERRORS),
    ...(omitted > 0 ? { errorsOmitted: omitted } : {}),
    seconds: Math.round(seconds * 1000) / 1000,
    resourcesPerSecond: seconds > 0 ? Math.round(resources / seconds) : 0,
  };
}

/**
 * Runs an import in `workers` threads, each with its own connection to the store: validation,
 * indexing and encryption run side by side, and SQLite serialises the commits. Provider files go
 * first, alone, because the patient Bundles refer to them.
 */
export async function importInWorkers(
  dataDir: string,
  list: FileList,
  workers: number,
  runFirst: (files: ImportFile[]) => Promise<ImportReport>,
  onProgress: (state: ImportState) => void,
): Promise<ImportReport> {
  const started = performance.now();
  const first = list.files.filter((f) => isProviderFile(f.path));
  const rest = list.files.filter((f) => !isProviderFile(f.path));
  const done: ImportReport[] = [];
  const base = { files: 0, bytes: 0, resources: 0, failed: 0 };
  {
    // Also carries the listing's own errors (folders that could not be read) into the report.
    const r = await runFirst(first);
    done.push(r);
    base.files += r.files;
    base.bytes += first.reduce((n, f) => n + f.size, 0);
    base.resources += r.resources;
    base.failed += r.failed;
  }
  const parts = shares(rest, workers);
  const gate = new SharedArrayBuffer(4);
  const states = parts.map(() => ({ files: 0, bytes: 0, resources: 0, failed: 0 }));
  const report = (): void =>
    onProgress(states.reduce((a, s) => ({ files: a.files + s.files, bytes: a.bytes + s.bytes, resources: a.resources + s.resources, failed: a.failed + s.failed }), { ...base }));
  const results = await Promise.all(
    parts.map(
      (files, i) =>
        new Promise<ImportReport>((resolve, reject) => {
          const worker = new Worker(new URL('./import-worker.js', import.meta.url), { workerData: { dataDir, files, gate } satisfies WorkerJob });
          let done: ImportReport | undefined;
          worker.on('message', (m: WorkerMessage) => {
            if (m.kind === 'progress') {
              states[i] = m.state;
              report();
            } else if (m.kind === 'done') done = m.report;
            else reject(new Error(m.message));
          });
          worker.on('error', reject);
          // A share is done when its thread has closed its store: the close copies the thread's
          // last commits from the write-ahead log, which is part of the import's time.
          worker.on('exit', (code) => {
            if (code !== 0) reject(new Error(`import worker exited with ${code}`));
            else if (done === undefined) reject(new Error('import worker exited without a report'));
            else resolve(done);
          });
        }),
    ),
  );
  return mergeReports([...done, ...results], list.skipped, (performance.now() - started) / 1000, list.files);
}

export interface RunImportOptions {
  /** Threads; one when `strict`, or when there is a single file. */
  readonly workers: number;
  readonly strict?: boolean;
  readonly onProgress: (state: ImportState) => void;
  /** Told when the files are in and the last step starts: signing a checkpoint over their leaves. */
  readonly onCheckpoint?: () => void;
}

/**
 * Imports `list` into an opened store, as `vigil import` does: in threads when that pays, then the
 * write-ahead log is copied into the database (the threads' stores let it grow to 800 MB), and a
 * checkpoint of the log is signed. The report's time covers all of it.
 */
export async function runImport(vigil: Vigil, list: FileList, o: RunImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const target = { repository: vigil.repository, fhirBaseUrl: vigil.config.fhirBaseUrl };
  // Several threads pay off only with several files; --strict needs one ordered stream.
  const parallel = o.strict !== true && o.workers > 1 && list.files.length > 1;
  const report = await (parallel
    ? importInWorkers(vigil.config.dataDir, list, o.workers, (files) => importFiles(target, { ...list, files, skipped: 0 }, { onProgress: o.onProgress }), o.onProgress)
    : importFiles(target, list, { strict: o.strict === true, onProgress: o.onProgress }));
  await vigil.store.checkpoint();
  o.onCheckpoint?.();
  // A signed checkpoint covers the import at once (a server would sign one only at its next
  // interval or start), and stores the frontier, so the next start reads none of these leaves.
  await vigil.log.checkpoint();
  const seconds = (performance.now() - started) / 1000;
  return { ...report, seconds: Math.round(seconds * 1000) / 1000, resourcesPerSecond: seconds > 0 ? Math.round(report.resources / seconds) : 0 };
}
