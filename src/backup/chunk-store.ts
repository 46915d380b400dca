import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../errors.js';
import { CHUNKS_DIR, MANIFESTS_DIR, sha256Hex } from './format.js';

/**
 * The files of a backup set. Nothing is ever overwritten: a file is written whole under a fresh
 * temporary name (opened `wx`), flushed to disk, then hard-linked to its final name, which fails
 * if the name exists. A crash leaves at most a `.tmp-*` file behind, never a half-written chunk or
 * manifest under a real name, so earlier backups stay intact and verifiable.
 */
export class ChunkStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the set's folders (mode 0700) when missing. */
  prepare(): void {
    mkdirSync(join(this.dir, CHUNKS_DIR), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, MANIFESTS_DIR), { recursive: true, mode: 0o700 });
  }

  chunkPath(sha256: string): string {
    // A name from a manifest is only ever a hex digest: never a path out of the set.
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new VigilError('ERR_BACKUP', 'A backup manifest names a chunk that is not a SHA-256 digest');
    return join(this.dir, CHUNKS_DIR, sha256);
  }

  /**
   * Stores bytes under their SHA-256. Returns whether a new file was written (false: the same
   * content is already there, from this or an earlier backup).
   */
  putChunk(bytes: Buffer): { sha256: string; written: boolean } {
    const sha256 = sha256Hex(bytes);
    const path = this.chunkPath(sha256);
    if (existsSync(path)) return { sha256, written: false };
    return { sha256, written: this.#publish(join(this.dir, CHUNKS_DIR), path, bytes) };
  }

  /** Writes a manifest file; refuses when one of that name exists. */
  putManifest(id: string, bytes: Buffer): void {
    const path = join(this.dir, MANIFESTS_DIR, `${id}.json`);
    if (!this.#publish(join(this.dir, MANIFESTS_DIR), path, bytes)) throw new VigilError('ERR_BACKUP', `A backup named ${id} already exists`);
  }

  /** Reads a chunk and checks that its bytes still hash to its name and have the listed size. */
  readChunk(sha256: string, size?: number): Buffer {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.chunkPath(sha256));
    } catch (err) {
      throw new VigilError('ERR_BACKUP', `Backup chunk ${sha256.slice(0, 16)}… is missing`, { cause: err });
    }
    if ((size !== undefined && bytes.length !== size) || sha256Hex(bytes) !== sha256) throw new VigilError('ERR_BACKUP', `Backup chunk ${sha256.slice(0, 16)}… was altered (its hash does not match)`);
    return bytes;
  }

  /** Names of the manifest files, oldest first (ids sort by time). */
  manifestNames(): string[] {
    const dir = join(this.dir, MANIFESTS_DIR);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .sort();
  }

  readManifest(name: string): Buffer {
    return readFileSync(join(this.dir, MANIFESTS_DIR, name));
  }

  /** Writes `bytes` to a fresh temporary file, syncs it, links it to `path`; false when `path` already exists. */
  #publish(folder: string, path: string, bytes: Buffer): boolean {
    const tmp = join(folder, `.tmp-${randomBytes(8).toString('hex')}`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      let at = 0;
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') return false;
      throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
}
