import { VigilError, type ErrorCode } from '../errors.js';
import { isKnownResourceType } from '../fhir/index.js';

/**
 * One failure of an import: a file, a Bundle entry or an NDJSON line. Every field is a place or a
 * code: nothing from the file's content (health data) is ever copied into it.
 */
export interface ImportError {
  readonly file: string;
  /** 1-based line: of an NDJSON line, or where a JSON file stops being valid. */
  readonly line?: number;
  /** 0-based index of the Bundle entry. */
  readonly entry?: number;
  readonly code: ErrorCode;
  readonly message: string;
}

/** What `vigil import --json` prints. */
export interface ImportReport {
  readonly files: number;
  /** Files in the folders that were not .json, .ndjson or .jsonl. */
  readonly skipped: number;
  /** Resources created or updated. */
  readonly resources: number;
  /** Conditional creates (If-None-Exist) that found their resource already there: nothing stored. */
  readonly existing: number;
  /** Failed entries, lines and files (a failed transaction counts once). */
  readonly failed: number;
  /** The first failures, in the order they happened (at most MAX_ERRORS). */
  readonly errors: ImportError[];
  /** Failures left out of `errors` to keep the report bounded. */
  readonly errorsOmitted?: number;
  /** True when --strict stopped the import at its first failure. */
  readonly stopped?: boolean;
  readonly seconds: number;
  readonly resourcesPerSecond: number;
}

export const MAX_ERRORS = 1000;

/** Where a failure happened: the file and, when known, the line or the entry. */
export interface Place {
  readonly file: string;
  readonly line?: number;
  readonly entry?: number;
  /** The resource type, when known, to name issue paths of resources that were not in a Bundle. */
  readonly type?: string;
}

const ENTRY_PREFIX = /^Bundle entry (\d+): /;
const ENTRY_PATH = /^Bundle\.entry\[\d+\]\.resource\./;

/**
 * Turns what processBundle (or a read) threw into an ImportError. VigilError messages and issues
 * are written to hold no health data; anything else is reported by its kind alone.
 * `entryOf` maps the index of an entry in the Bundle sent to its index in the file's Bundle.
 */
export function importError(err: unknown, place: Place, entryOf?: (sent: number) => number | undefined): ImportError {
  if (!(err instanceof VigilError)) {
    return { ...where(place), code: 'ERR_INTERNAL', message: `An internal error occurred (${(err as Error | undefined)?.name ?? 'unknown'})` };
  }
  const m = ENTRY_PREFIX.exec(err.message);
  const sent = m === null ? undefined : Number(m[1]);
  const entry = place.entry ?? (sent === undefined || entryOf === undefined ? undefined : entryOf(sent));
  const prefix = place.type !== undefined && isKnownResourceType(place.type) ? `${place.type}.` : '';
  const issues = err.issues.slice(0, 5).map((i) => {
    const text = i.message.replace(ENTRY_PREFIX, '');
    if (i.path === undefined) return text;
    const path = entry === undefined ? `${prefix}${i.path.replace(ENTRY_PATH, '')}` : i.path.replace(/^Bundle\.entry\[\d+\]/, `Bundle.entry[${entry}]`);
    return `${path}: ${text}`;
  });
  const more = err.issues.length > 5 ? `; and ${err.issues.length - 5} more` : '';
  const base = err.message.replace(ENTRY_PREFIX, '');
  const message = issues.length === 0 || (issues.length === 1 && issues[0] === base) ? base : `${base} (${issues.join('; ')}${more})`;
  return { ...where({ ...place, ...(entry === undefined ? {} : { entry }) }), code: err.code, message };
}

function where(place: Place): Pick<ImportError, 'file' | 'line' | 'entry'> {
  return { file: place.file, ...(place.line === undefined ? {} : { line: place.line }), ...(place.entry === undefined ? {} : { entry: place.entry }) };
}

/** `file:line`, `file entry N` or `file`, then the code and the message. */
export function describeError(e: ImportError): string {
  const at = e.line !== undefined ? `${e.file}:${e.line}` : e.file;
  const entry = e.entry !== undefined ? ` entry ${e.entry}` : '';
  return `${at}${entry}: ${e.code} ${e.message}`;
}

/** The human summary printed at the end (errors first, so the totals stay on screen). */
export function humanReport(r: ImportReport): string {
  const lines = r.errors.map(describeError);
  if (r.errorsOmitted !== undefined) lines.push(`... and ${r.errorsOmitted} more failures (not listed)`);
  if (r.stopped === true) lines.push('stopped at the first failure (--strict)');
  const skipped = r.skipped > 0 ? `, ${r.skipped} skipped` : '';
  const existing = r.existing > 0 ? `, ${r.existing} already there (conditional create)` : '';
  lines.push(
    `imported ${r.resources} resources from ${r.files} files${skipped} in ${r.seconds} s (${r.resourcesPerSecond} resources/s)${existing}; ${r.failed} failed`,
  );
  return lines.join('\n');
}
