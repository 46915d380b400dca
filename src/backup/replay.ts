import { MerkleFrontier } from '../audit/frontier.js';
import { openCheckpoint } from '../audit/checkpoint.js';
import { auditLeafData, leafHash, rewrapLeafData, sha256, versionLeafData } from '../audit/leaf.js';
import { sameHash } from '../audit/tree-hash.js';
import { auditRows } from '../store/sqlite/log-reads.js';
import type { NoteVerifier } from '../audit/note-key.js';
import type { ChunkStore } from './chunk-store.js';
import type { Manifest, TableName } from './format.js';
import { TABLES, decodeChunk, type Row } from './tables.js';

/** The rows of one backup's table, decoded one chunk at a time, in the table's order. */
export function* eachRow(chunks: ChunkStore, manifest: Manifest, table: TableName): Generator<Row> {
  for (const f of manifest.files) if (f.table === table) yield* decodeChunk(TABLES[table], chunks.readChunk(f.sha256, f.size));
}

/** The rows of one backup, decoded from its chunks, by table. */
export function rowsOf(chunks: ChunkStore, manifest: Manifest, table: TableName): Row[] {
  return [...eachRow(chunks, manifest, table)];
}

/**
 * Rows in ascending sequence order (first column), looked up by ascending sequence numbers: a
 * row passed over is gone, so a leaf naming a row out of order finds nothing (and fails).
 */
class SeqCursor {
  readonly #rows: Iterator<Row>;
  #head: Row | undefined;

  constructor(rows: Iterable<Row>) {
    this.#rows = rows[Symbol.iterator]();
    this.#head = this.#next();
  }

  #next(): Row | undefined {
    const n = this.#rows.next();
    return n.done === true ? undefined : n.value;
  }

  get(seq: number): Row | undefined {
    while (this.#head !== undefined && Number(this.#head[0]) < seq) this.#head = this.#next();
    return this.#head !== undefined && Number(this.#head[0]) === seq ? this.#head : undefined;
  }
}

/**
 * Replays a chain of backups without the database: every leaf is recomputed from the row it
 * commits to (as `vigil verify` does on the live store), the tree is rebuilt leaf by leaf, and
 * every signed checkpoint met on the way, and each manifest's own, must match its root.
 */
export class LogReplay {
  readonly frontier = new MerkleFrontier();
  readonly #verifier: NoteVerifier;
  readonly #origin: string;
  /** Checkpoints from the chunks, by size, waiting for the tree to reach them. */
  readonly #pending = new Map<number, Uint8Array>();
  versions = 0;

  constructor(verifier: NoteVerifier, origin: string) {
    this.#verifier = verifier;
    this.#origin = origin;
  }

  /** Adds one backup's rows and leaves; returns the problems found (empty when it replays cleanly). */
  add(chunks: ChunkStore, m: Manifest): string[] {
    const problems: string[] = [];
    // Versions and audit entries are read a chunk at a time beside the leaves, which name them in sequence order.
    const versions = new SeqCursor(eachRow(chunks, m, 'resource_versions'));
    const audit = new SeqCursor(eachRow(chunks, m, 'audit_events'));
    const rewrapRows = rowsOf(chunks, m, 'rewraps');
    const rewraps = new Map(rewrapRows.map((r) => [Number(r[0]), r]));
    const chainOf = new Map<number, Row[]>();
    for (const r of rewrapRows) chainOf.set(Number(r[1]), [...(chainOf.get(Number(r[1])) ?? []), r]);
    for (const r of rowsOf(chunks, m, 'checkpoints')) {
      try {
        const cp = openCheckpoint(String(r[2]), { verifier: this.#verifier, origin: this.#origin });
        if (cp.size !== Number(r[0])) throw new Error('size');
        this.#pending.set(cp.size, cp.rootHash);
      } catch {
        problems.push(`a checkpoint row of ${String(r[0])} leaves is not signed by the log key`);
      }
    }
    // A re-encrypted older version: its new ciphertext must be the one the rewrap leaf names.
    for (const r of rowsOf(chunks, m, 'reboxes')) {
      const last = chainOf.get(Number(r[0]))?.at(-1);
      if (last === undefined || !sameHash(sha256(r[2] as Buffer), last[3] as Buffer)) problems.push(`the re-encrypted ciphertext of version ${String(r[0])} does not match its rewrap`);
    }
    for (const leaf of eachRow(chunks, m, 'log_leaves')) {
      const position = Number(leaf[0]);
      if (position !== this.frontier.size + 1) {
        problems.push(`leaf ${this.frontier.size + 1} is missing`);
        return problems;
      }
      const kind = String(leaf[1]);
      const ref = Number(leaf[2]);
      let data: Buffer | undefined;
      if (kind === 'version') {
        const v = versions.get(ref);
        if (v !== undefined) {
          const box = v[8] as Buffer | null;
          const chain = chainOf.get(ref) ?? [];
          const first = (chain[0]?.[2] as Buffer | undefined) ?? (box === null ? null : sha256(box));
          data = versionLeafData({ tenant: String(v[1]), type: String(v[2]), id: String(v[3]), versionId: Number(v[4]), lastUpdated: String(v[5]), deleted: Number(v[6]) === 1, boxDigest: first, indexDigest: v[9] as Buffer });
          this.versions += 1;
        }
      } else if (kind === 'audit') {
        const a = audit.get(ref);
        // Backups hold the columns in the store's order (tables.ts), the order the log reads them in.
        const [row] = a === undefined ? [] : auditRows([a]);
        if (row !== undefined) data = auditLeafData(row);
      } else if (kind === 'rewrap') {
        const w = rewraps.get(ref);
        if (w !== undefined) data = rewrapLeafData({ seq: Number(w[0]), versionSeq: Number(w[1]), before: w[2] as Buffer, after: w[3] as Buffer });
      }
      if (data === undefined) {
        problems.push(`the ${kind} row of leaf ${position} is missing from the backup`);
        return problems;
      }
      if (!sameHash(leafHash(data), leaf[3] as Buffer)) {
        problems.push(`the ${kind} row of leaf ${position} does not match its leaf (altered row)`);
        return problems;
      }
      this.frontier.append(leaf[3] as Buffer);
      const expected = this.#pending.get(this.frontier.size);
      if (expected !== undefined && !sameHash(expected, this.frontier.root())) problems.push(`the tree of ${this.frontier.size} leaves does not match its signed checkpoint`);
    }
    if (this.frontier.size !== m.tree.size || !sameHash(this.frontier.root(), Buffer.from(m.tree.root, 'base64'))) {
      problems.push(`the leaves rebuild a tree of ${this.frontier.size} leaves whose root is not the manifest's`);
      return problems;
    }
    try {
      const cp = openCheckpoint(m.checkpoint, { verifier: this.#verifier, origin: this.#origin });
      if (cp.size !== this.frontier.size || !sameHash(cp.rootHash, this.frontier.root())) problems.push("the manifest's checkpoint does not match the rebuilt tree");
    } catch {
      problems.push("the manifest's checkpoint is not signed by the log key");
    }
    return problems;
  }
}
