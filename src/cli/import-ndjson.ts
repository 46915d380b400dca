import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Resource } from '@medplum/fhirtypes';
import type { ImportError } from './import-report.js';
import { locateJsonError } from './import-json-error.js';

/** A resource read from one NDJSON line. */
export interface NdjsonResource {
  readonly line: number;
  readonly resource: Resource;
}

/** Up to `size` resources, the lines that could not be read since the previous chunk, and the bytes read so far. */
export interface NdjsonChunk {
  readonly resources: NdjsonResource[];
  readonly errors: ImportError[];
  readonly bytesRead: number;
}

/** A parsed line, or why it is not a resource (by line and column, never by content). */
function parseLine(path: string, line: number, text: string): NdjsonResource | ImportError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the line: only the locator's words and column are reported.
    const place = locateJsonError(text);
    return { file: path, line, code: 'ERR_BAD_REQUEST', message: place === undefined ? 'The line is not valid JSON' : `The line is not valid JSON: ${place.reason} at column ${place.column}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { resourceType?: unknown }).resourceType !== 'string') {
    return { file: path, line, code: 'ERR_BAD_REQUEST', message: 'The line is not a FHIR resource (a JSON object with a resourceType)' };
  }
  return { line, resource: value as Resource };
}

/**
 * Reads an NDJSON file as a stream, one resource per line (blank lines are ignored), in chunks of
 * `size` resources: however big the file, only one chunk is in memory.
 */
export async function* ndjsonChunks(path: string, size: number): AsyncGenerator<NdjsonChunk> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let resources: NdjsonResource[] = [];
  let errors: ImportError[] = [];
  let n = 0;
  try {
    for await (const raw of lines) {
      n++;
      const text = n === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (text.trim() === '') continue;
      const parsed = parseLine(path, n, text);
      if ('resource' in parsed) resources.push(parsed);
      else errors.push(parsed);
      if (resources.length >= size) {
        yield { resources, errors, bytesRead: stream.bytesRead };
        resources = [];
        errors = [];
      }
    }
    if (resources.length > 0 || errors.length > 0) yield { resources, errors, bytesRead: stream.bytesRead };
  } finally {
    lines.close();
    stream.destroy();
  }
}
