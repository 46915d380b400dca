import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import type { ImportError } from './import-report.js';
import { locateJsonError } from './import-json-error.js';

export type FileFormat = 'json' | 'ndjson';

export interface ImportFile {
  readonly path: string;
  readonly format: FileFormat;
  readonly size: number;
}

export interface FileList {
  readonly files: ImportFile[];
  /** Files in the folders with another extension. */
  readonly skipped: number;
  /** Paths given that do not exist (a bad argument). */
  readonly missing: string[];
  /** Folders inside the paths that could not be listed. */
  readonly errors: ImportError[];
}

const FORMATS: Readonly<Record<string, FileFormat>> = { '.json': 'json', '.ndjson': 'ndjson', '.jsonl': 'ndjson' };

/**
 * Synthea (and `vigil generate`) write these beside the patient Bundles, which reference their
 * Organizations, Locations and Practitioners conditionally: they must be stored first.
 */
export const FIRST = [/^hospitalInformation.*\.json$/, /^practitionerInformation.*\.json$/, /^organizations-practitioners\.json$/];

function rank(path: string): number {
  const name = basename(path);
  const i = FIRST.findIndex((r) => r.test(name));
  return i === -1 ? FIRST.length : i;
}

/** Code-point order, the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatOf(path: string): FileFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

function reasonOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/**
 * The files to import, in order: the paths in the order given; inside a folder (walked
 * recursively) Synthea's hospitalInformation*.json, then practitionerInformation*.json, then every
 * other file by path. A named file is read whatever its extension (.ndjson and .jsonl as NDJSON,
 * anything else as JSON); in folders only .json, .ndjson and .jsonl are, the others are counted as
 * skipped. A file reached twice is imported once.
 */
export async function listFiles(paths: readonly string[]): Promise<FileList> {
  const files: ImportFile[] = [];
  const missing: string[] = [];
  const errors: ImportError[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  const add = async (path: string, format: FileFormat, size: number): Promise<void> => {
    const real = await realpath(path).catch(() => path);
    if (seen.has(real)) return;
    seen.add(real);
    files.push({ path, format, size });
  };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      missing.push(path);
      continue;
    }
    if (info.isFile()) {
      await add(path, formatOf(path) ?? 'json', info.size);
      continue;
    }
    if (!info.isDirectory()) {
      missing.push(path);
      continue;
    }
    const found: { path: string; format: FileFormat; size: number }[] = [];
    const visited = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      const real = await realpath(dir).catch(() => dir);
      // A symbolic link back up the tree is walked once, not forever.
      if (visited.has(real)) return;
      visited.add(real);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        errors.push({ file: dir, code: 'ERR_BAD_REQUEST', message: `The folder could not be read (${reasonOf(err)})` });
        return;
      }
      for (const name of names) {
        const child = join(dir, name);
        let s;
        try {
          s = await stat(child);
        } catch {
          skipped++;
          continue;
        }
        if (s.isDirectory()) await walk(child);
        else {
          const format = s.isFile() ? formatOf(child) : undefined;
          if (format === undefined) skipped++;
          else found.push({ path: child, format, size: s.size });
        }
      }
    };
    await walk(path);
    found.sort((a, b) => rank(a.path) - rank(b.path) || compare(relative(path, a.path), relative(path, b.path)));
    for (const f of found) await add(f.path, f.format, f.size);
  }
  return { files, skipped, missing, errors };
}

/** A JSON file's value, or why it could not be read (by line and column, never by content). */
export async function readJsonFile(path: string): Promise<{ value: unknown } | { error: ImportError }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { error: { file: path, code: 'ERR_BAD_REQUEST', message: `The file could not be read (${reasonOf(err)})` } };
  }
  // A byte order mark is allowed before JSON text read from a file (RFC 8259 section 8.1).
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    // JSON.parse's message quotes the text near the error: only our own locator's words are used.
    const place = locateJsonError(text);
    return {
      error:
        place === undefined
          ? { file: path, code: 'ERR_BAD_REQUEST', message: 'The file is not valid JSON' }
          : { file: path, line: place.line, code: 'ERR_BAD_REQUEST', message: `The file is not valid JSON: ${place.reason} at column ${place.column}` },
    };
  }
}
