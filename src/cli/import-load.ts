import { userInfo } from 'node:os';
import type { AuditDraft } from '../audit/index.js';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { processBundle, runInWindows, type BundleOptions, type Repository, type Turn } from '../fhir/index.js';
import { importError, MAX_ERRORS, type ImportError, type ImportReport } from './import-report.js';
import { readJsonFile, type FileList, type ImportFile } from './import-sources.js';
import { ndjsonChunks } from './import-ndjson.js';
import { collectionItems, describeItem, isPlainWrite, writeEntry, type Item } from './import-entries.js';
import type { ImportState } from './import-progress.js';

/** Where the import writes: the repository of an opened data directory. */
export interface ImportTarget {
  readonly repository: Repository;
  readonly fhirBaseUrl: string;
}

export interface ImportOptions {
  /** Stop at the first failure (what was committed before it stays). */
  readonly strict?: boolean;
  /** Resources stored per transaction when entries are independent (NDJSON lines, collections). */
  readonly chunk?: number;
  readonly onProgress?: (state: ImportState) => void;
  readonly now?: () => number;
}

/**
 * Entries that stand alone (batch entries, NDJSON lines and collection entries a chunk could not
 * take) sent to the store at once, so that it commits them together: one commit each took more
 * than a quarter of the time of Synthea's conditional creates. The store groups at most 128.
 */
const IN_FLIGHT = 128;

/** Thrown to unwind the import when --strict meets a failure. */
class Stopped extends Error {}

/** Bundle types whose resources are loaded one by one, as a batch would be. */
const COLLECTIONS = new Set(['collection', 'searchset', 'document']);
/** Known Bundle types that are not imported (named in the error, as they are not free text). */
const NOT_IMPORTED = new Set(['message', 'history', 'transaction-response', 'batch-response']);

/**
 * What a transaction's writes did: a version written carries an ETag in its response entry; a
 * conditional create that found its resource carries none (and stored nothing).
 */
function tally(request: readonly BundleEntry[], response: Bundle): { written: number; existing: number } {
  let written = 0;
  let existing = 0;
  request.forEach((e, i) => {
    const method = e.request?.method;
    if (method !== 'POST' && method !== 'PUT') return;
    if (response.entry?.[i]?.response?.etag !== undefined) written++;
    else existing++;
  });
  return { written, existing };
}

/** One import run: its counters and the way each kind of file is stored. */
class Importer {
  readonly errors: ImportError[] = [];
  omitted = 0;
  failed = 0;
  resources = 0;
  existing = 0;
  files = 0;
  bytes = 0;
  #stored = 0;
  readonly #target: ImportTarget;
  readonly #options: BundleOptions;
  readonly #strict: boolean;
  readonly #chunk: number;
  readonly #onProgress: ((state: ImportState) => void) | undefined;

  constructor(target: ImportTarget, options: ImportOptions) {
    this.#target = target;
    // The CLI acts as the data owner on its own store: every interaction is allowed.
    this.#options = { fhirBaseUrl: target.fhirBaseUrl, authorize: () => undefined, mayCreate: () => true, minimal: true };
    this.#strict = options.strict === true;
    this.#chunk = Math.max(1, options.chunk ?? 500);
    this.#onProgress = options.onProgress;
  }

  progress(): void {
    this.#onProgress?.({ files: this.files, bytes: this.bytes, resources: this.resources, failed: this.failed });
  }

  /** Records a failure; under --strict, ends the import. */
  fail(error: ImportError): void {
    this.failed++;
    if (this.errors.length < MAX_ERRORS) this.errors.push(error);
    else this.omitted++;
    if (this.#strict) throw new Stopped();
  }

  async file(file: ImportFile, bytesBefore: number): Promise<void> {
    if (file.format === 'ndjson') await this.#ndjson(file, bytesBefore);
    else await this.#json(file);
  }

  /** Stores entries as one transaction and counts what it wrote. */
  async #run(entries: BundleEntry[], turn?: Turn): Promise<void> {
    // Each stored transaction is audited with its writes, as the operator's import.
    const audit: AuditDraft = { type: 'rest', subtype: 'import', action: 'C', client: 'vigil-cli', user: `os:${userInfo().username}`, entities: [], patients: [] };
    const options = { ...this.#options, audit, ...(turn === undefined ? {} : { turn }) };
    const response = await processBundle(this.#target.repository, { resourceType: 'Bundle', type: 'transaction', entry: entries }, options);
    const { written, existing } = tally(entries, response);
    this.resources += written;
    this.existing += existing;
  }

  /**
   * Stores entries each as its own transaction (what a batch does with each entry). Up to
   * IN_FLIGHT are sent to the store at once, which commits them together, each in a savepoint of
   * its own: one that fails is rolled back alone, and in the transaction each sees what those
   * before it wrote (windowEnd keeps apart the entries that must see it sooner). Failures are
   * reported in entry order.
   */
  async #each(items: readonly Item[]): Promise<void> {
    await runInWindows(
      items,
      // Under --strict nothing after a failure may be stored: one at a time.
      this.#strict ? 1 : IN_FLIGHT,
      describeItem,
      async (item, turn) => this.#run([item.entry], turn),
      (part, outcomes) =>
        part.forEach((item, i) => {
          const outcome = outcomes[i];
          if (outcome?.status === 'rejected') this.fail(importError(outcome.reason, item.place));
          // A big batch file moves the bar too.
          if (++this.#stored % 100 === 0) this.progress();
        }),
    );
  }

  /**
   * Stores independent writes in order: a chunk at a time in one transaction (one commit instead
   * of hundreds), and one by one when the chunk fails, so the failures are found and the rest stored.
   */
  async #independent(items: readonly (Item | ImportError)[]): Promise<void> {
    for (let start = 0; start < items.length; start += this.#chunk) {
      const good: Item[] = [];
      for (const item of items.slice(start, start + this.#chunk)) {
        if ('place' in item) {
          good.push(item);
        } else {
          // Under --strict what stands before a bad item is stored, and nothing after it.
          if (this.#strict) await this.#flush(good.splice(0));
          this.fail(item);
        }
      }
      await this.#flush(good);
      this.progress();
    }
  }

  async #flush(items: Item[]): Promise<void> {
    if (items.length === 0) return;
    if (items.length > 1 && items.every((i) => isPlainWrite(i.entry))) {
      try {
        // fullUrls are left out: independent entries must not resolve references to one another.
        await this.#run(items.map((i) => ({ request: i.entry.request, resource: i.entry.resource })));
        return;
      } catch {
        // Some entry failed and nothing was stored: go one by one to find which.
      }
    }
    await this.#each(items);
  }

  async #json(file: ImportFile): Promise<void> {
    const read = await readJsonFile(file.path);
    if ('error' in read) return this.fail(read.error);
    const value = read.value;
    const type = isObject(value) ? (value as { resourceType?: unknown }).resourceType : undefined;
    if (typeof type !== 'string') {
      return this.fail({ file: file.path, code: 'ERR_BAD_REQUEST', message: 'The file holds neither a FHIR resource nor a Bundle' });
    }
    if (type !== 'Bundle') {
      const item = writeEntry(value as Resource, { file: file.path });
      return 'place' in item ? this.#each([item]) : this.fail(item);
    }
    const bundle = value as Bundle;
    const kind = typeof bundle.type === 'string' ? bundle.type : '';
    const entries: unknown[] = bundle.entry ?? [];
    if (!Array.isArray(entries)) return this.fail({ file: file.path, code: 'ERR_BAD_REQUEST', message: 'Bundle.entry must be an array' });
    const notObject = (index: number): ImportError => ({ file: file.path, entry: index, code: 'ERR_BAD_REQUEST', message: 'The entry is not a JSON object' });
    if (kind === 'transaction') {
      // processBundle expects every entry to be an object: a transaction with another fails whole.
      const bad = entries.findIndex((e) => !isObject(e));
      if (bad !== -1) return this.fail(notObject(bad));
      try {
        await this.#run(bundle.entry ?? []);
      } catch (err) {
        this.fail(importError(err, { file: file.path }, (sent) => sent));
      }
      return undefined;
    }
    if (kind === 'batch') {
      // Entry by entry, so an entry with a malformed request fails alone, in its place.
      const items: Item[] = [];
      for (const [index, entry] of entries.entries()) {
        if (isObject(entry)) {
          items.push({ entry: entry as BundleEntry, place: { file: file.path, entry: index } });
        } else {
          await this.#each(items.splice(0));
          this.fail(notObject(index));
        }
      }
      return this.#each(items);
    }
    if (COLLECTIONS.has(kind)) return this.#independent(collectionItems(bundle, file.path, () => this.#target.repository.newId()));
    return this.fail({
      file: file.path,
      code: 'ERR_NOT_SUPPORTED',
      message: NOT_IMPORTED.has(kind) ? `A ${kind} Bundle is not imported` : 'Bundle.type is missing or not known',
    });
  }

  async #ndjson(file: ImportFile, bytesBefore: number): Promise<void> {
    try {
      for await (const c of ndjsonChunks(file.path, this.#chunk)) {
        const items: (Item | ImportError)[] = [...c.errors, ...c.resources.map((r) => writeEntry(r.resource, { file: file.path, line: r.line }))];
        // Back in line order, so a bad line fails between the lines around it.
        items.sort((a, b) => lineOf(a) - lineOf(b));
        this.bytes = bytesBefore + Math.min(c.bytesRead, file.size);
        await this.#independent(items);
      }
    } catch (err) {
      if (err instanceof Stopped) throw err;
      this.fail({ file: file.path, code: 'ERR_BAD_REQUEST', message: `The file could not be read (${(err as { code?: string }).code ?? 'unknown error'})` });
    }
  }
}

/**
 * Imports the listed files into the repository, one file in memory at a time. Transaction Bundles
 * are stored whole or not at all; batch entries, collection entries, single resources and NDJSON
 * lines each stand alone, so one bad one does not stop the rest (unless `strict`).
 *
 * @example
 * const report = await importFiles({ repository: vigil.repository, fhirBaseUrl: vigil.config.fhirBaseUrl }, await listFiles(['data/']));
 */
export async function importFiles(target: ImportTarget, list: FileList, options: ImportOptions = {}): Promise<ImportReport> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const run = new Importer(target, options);
  let stopped = false;
  try {
    for (const e of list.errors) run.fail(e);
    let bytesBefore = 0;
    for (const file of list.files) {
      run.files++;
      await run.file(file, bytesBefore);
      bytesBefore += file.size;
      run.bytes = bytesBefore;
      run.progress();
    }
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
    stopped = true;
  }
  const seconds = (now() - started) / 1000;
  return {
    files: run.files,
    skipped: list.skipped,
    resources: run.resources,
    existing: run.existing,
    failed: run.failed,
    errors: run.errors,
    ...(run.omitted > 0 ? { errorsOmitted: run.omitted } : {}),
    ...(stopped ? { stopped } : {}),
    seconds: Math.round(seconds * 1000) / 1000,
    resourcesPerSecond: seconds > 0 ? Math.round(run.resources / seconds) : 0,
  };
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lineOf(item: Item | ImportError): number {
  return ('place' in item ? item.place.line : item.line) ?? 0;
}
