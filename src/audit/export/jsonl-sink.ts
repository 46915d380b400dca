import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { VigilError } from '../../errors.js';
import { jsonLine, parseJsonLine, type ExportMark, type ExportRecord } from './record.js';
import type { ExportSink } from './sink.js';
import { fsyncDir } from './state.js';
import { describeTarget } from './target.js';

const CHUNK = 64 * 1024;

/**
 * Appends records to a JSON lines file, exactly once: each batch is fsynced before the state file
 * moves, and on open the file's own last line says where the export stands (so a crash between the
 * two neither repeats nor skips an entry). A line cut short by a crash is removed first.
 *
 * The file is created with mode 0600. When it is renamed or removed (log rotation), the next batch
 * goes to a new file at the same path.
 */
export class JsonlSink implements ExportSink {
  readonly target: string;
  readonly #path: string;
  #handle: FileHandle | undefined;
  #ino = 0;
  /** Entries up to this one are in the current file already. */
  #fileLast = 0;

  constructor(path: string) {
    this.#path = resolve(path);
    this.target = describeTarget({ kind: 'jsonl', path: this.#path });
  }

  async open(): Promise<ExportMark | undefined> {
    return this.#openFile();
  }

  async write(records: readonly ExportRecord[]): Promise<void> {
    if (this.#handle === undefined) throw new Error('JsonlSink: not open');
    if (await this.#rotated()) {
      await this.#handle.close();
      this.#handle = undefined;
      await this.#openFile();
    }
    const handle = this.#handle as FileHandle | undefined;
    if (handle === undefined) throw new Error('JsonlSink: not open');
    let text = '';
    let last = this.#fileLast;
    for (const r of records) {
      if (r.seq <= this.#fileLast) continue;
      text += jsonLine(r);
      last = r.seq;
    }
    if (text === '') return;
    const buf = Buffer.from(text, 'utf8');
    try {
      let off = 0;
      while (off < buf.length) off += (await handle.write(buf, off, buf.length - off)).bytesWritten;
      // The acknowledgement: only after this may the state file say these entries are exported.
      await handle.datasync();
    } catch (err) {
      // A partial line left behind is removed on the next start; the state still says where we were.
      throw new VigilError('ERR_INTERNAL', `cannot write ${this.#path} (${codeOf(err)})`, { cause: err });
    }
    this.#fileLast = last;
  }

  async close(): Promise<undefined> {
    await this.#handle?.close();
    this.#handle = undefined;
    return undefined;
  }

  /** Opens (creating, mode 0600) the file, drops a torn last line, and returns its last entry. */
  async #openFile(): Promise<ExportMark | undefined> {
    let existed = true;
    try {
      await stat(this.#path);
    } catch {
      existed = false;
    }
    let handle: FileHandle;
    try {
      handle = await open(this.#path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND, 0o600);
    } catch (err) {
      throw new VigilError('ERR_CONFIG', `cannot open ${this.#path} (${codeOf(err)})`, { cause: err });
    }
    this.#handle = handle;
    if (!existed) fsyncDir(dirname(this.#path));
    try {
      const info: Stats = await handle.stat();
      this.#ino = info.ino;
      const mark = await lastMarkOf(handle, info.size, this.#path);
      this.#fileLast = mark?.seq ?? 0;
      return mark;
    } catch (err) {
      this.#handle = undefined;
      await handle.close();
      throw err;
    }
  }

  /** Whether the path now names another file than the one open (rotated away, or removed). */
  async #rotated(): Promise<boolean> {
    try {
      return (await stat(this.#path)).ino !== this.#ino;
    } catch {
      return true;
    }
  }
}

/** Position of the last `\n` before `end`, or -1. */
async function lastNewline(handle: FileHandle, end: number): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  let hi = end;
  while (hi > 0) {
    const lo = Math.max(0, hi - CHUNK);
    const { bytesRead } = await handle.read(buf, 0, hi - lo, lo);
    const i = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (i !== -1) return lo + i;
    hi = lo;
  }
  return -1;
}

/**
 * The file's last line (undefined for an empty file). A trailing partial line (a write cut
 * short by a crash; it was never acknowledged) is truncated away. A last line that is not an
 * export line means the path names some other file: refused rather than appended to (or cut).
 */
async function lastMarkOf(handle: FileHandle, size: number, path: string): Promise<ExportMark | undefined> {
  if (size === 0) return undefined;
  const tail = Buffer.alloc(1);
  await handle.read(tail, 0, 1, size - 1);
  if (tail[0] === 0x0a) return markOfLineEndingAt(handle, size, path);
  const cut = (await lastNewline(handle, size)) + 1;
  const head = Buffer.alloc(Math.min(LINE_START.length, size - cut));
  await handle.read(head, 0, head.length, cut);
  if (!LINE_START.startsWith(head.toString('utf8'))) throw notOurs(path);
  // Check the line before too, before cutting anything from a file that might not be ours.
  const mark = cut === 0 ? undefined : await markOfLineEndingAt(handle, cut, path);
  await handle.truncate(cut);
  await handle.datasync();
  return mark;
}

const LINE_START = '{"seq":';

/** The export line that ends (with its newline) at byte `end`. */
async function markOfLineEndingAt(handle: FileHandle, end: number, path: string): Promise<ExportMark> {
  const start = (await lastNewline(handle, end - 1)) + 1;
  const line = Buffer.alloc(end - 1 - start);
  await handle.read(line, 0, line.length, start);
  const mark = parseJsonLine(line.toString('utf8'));
  if (mark === undefined) throw notOurs(path);
  return mark;
}

function notOurs(path: string): VigilError {
  return new VigilError('ERR_CONFIG', `${path} does not end with a Vigil audit export line; refusing to append to it`);
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}
