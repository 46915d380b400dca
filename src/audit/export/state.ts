import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { VigilError } from '../../errors.js';

/** What the state file of one export target holds (JSON, version 1). */
export interface ExportState {
  readonly version: 1;
  /** The target, as describeTarget() writes it: a state file is never used for another. */
  readonly target: string;
  /** The last audit sequence number the target acknowledged. */
  readonly lastSeq: number;
  readonly updated: string;
}

/** Reads a state file; undefined when there is none. A file for another target, or garbled, is refused. */
export function readExportState(path: string, target: string): ExportState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VigilError('ERR_CONFIG', `cannot read the export state file ${path}`, { cause: err });
  }
  let state: Partial<ExportState>;
  try {
    state = JSON.parse(text) as Partial<ExportState>;
  } catch {
    throw new VigilError('ERR_CONFIG', `the export state file ${path} is not valid; move it away to export from the start`);
  }
  if (state.version !== 1 || typeof state.target !== 'string' || typeof state.lastSeq !== 'number' || !Number.isSafeInteger(state.lastSeq) || state.lastSeq < 0) {
    throw new VigilError('ERR_CONFIG', `the export state file ${path} is not valid; move it away to export from the start`);
  }
  // Resuming another target's position would silently skip entries for this one.
  if (state.target !== target) {
    throw new VigilError('ERR_CONFIG', `the export state file ${path} belongs to ${state.target}, not ${target}`);
  }
  return state as ExportState;
}

/**
 * Writes the state durably: a temporary file (mode 0600) written and fsynced, renamed over the
 * old one, then the directory fsynced, so a crash leaves either the old state or the new one.
 */
export function writeExportState(path: string, target: string, lastSeq: number, now: Date = new Date()): void {
  const state: ExportState = { version: 1, target, lastSeq, updated: now.toISOString() };
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      fchmodSync(fd, 0o600); // a leftover temporary file keeps its old mode otherwise
      writeSync(fd, `${JSON.stringify(state)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (err) {
    throw new VigilError('ERR_CONFIG', `cannot write the export state file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

/** Makes a rename or a new file in `dir` durable. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    // Some platforms cannot fsync a directory (EISDIR/EPERM on Windows); the data itself is synced.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
