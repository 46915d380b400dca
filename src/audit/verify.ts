import { existsSync, readFileSync } from 'node:fs';
import type { AuditRow, RewrapRow, Store, VersionRow } from '../store/index.js';
import { openCheckpoint } from './checkpoint.js';
import { MerkleFrontier } from './frontier.js';
import { VigilError } from '../errors.js';
import { checkIndexHere, startIndexWorker, type IndexCheckResult } from './index-check.js';
import { auditLeafText, leafHash, leafHashOfText, rewrapLeafData, sha256, versionLeafText } from './leaf.js';
import type { NoteVerifier } from './note-key.js';
import { sameHash } from './tree-hash.js';
import { fetchWitnessCheckpoint } from './witness-fetch.js';

/** Where verification first failed. */
export interface Broken {
  readonly position: number;
  /** version | audit | rewrap | missing-row | extra-row | order | index | log | checkpoint | witness */
  readonly kind: string;
  readonly detail: string;
}

/** What `vigil verify --json` prints. */
export interface VerifyResult {
  readonly ok: boolean;
  readonly leaves: number;
  readonly checkpoints: number;
  readonly firstBroken: Broken | null;
  /** Leaves per second over the whole run. */
  readonly leavesPerSecond: number;
  /** Where the time went: the leaf walk (with the tree and the pointers), and the index check (on a worker thread when `indexInWorker`). */
  readonly phases: { readonly leafMs: number; readonly leafLeavesPerSecond: number; readonly indexMs: number; readonly indexInWorker: boolean; readonly totalMs: number };
}

export interface VerifyOptions {
  readonly store: Store;
  readonly tenant: string;
  readonly origin: string;
  /** The log key, derived from the master key: never taken from the database being checked. */
  readonly verifier: NoteVerifier;
  readonly witnessFile?: string;
  /** A remote witness whose newest checkpoint (GET, JSON `{ origin, size, note }`) is checked too. */
  readonly witnessUrl?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Check the search index on a worker thread beside the leaf walk; default: when the log has 20,000 leaves or more. */
  readonly indexWorker?: boolean;
}

const BATCH = 10_000;
/** No signed roots at this size (shared, so the walk allocates nothing per leaf for it). */
const NONE: readonly { root: Uint8Array; source: 'checkpoint' | 'witness' }[] = [];
/** Below this many leaves, starting a worker thread costs more than the index check it would take over. */
const WORKER_THRESHOLD = 20_000;

interface Newest {
  readonly seq: number;
  readonly deleted: boolean;
}

/** Reads rows of one kind in sequence order, a page at a time; only an empty page costs an await. */
class Stream<T extends { seq: number }> {
  #rows: T[] = [];
  #at = 0;
  #next = 1;
  #done = false;
  readonly #read: (from: number, limit: number) => Promise<T[]>;

  constructor(read: (from: number, limit: number) => Promise<T[]>) {
    this.#read = read;
  }

  /** True when the next row must be read from the store first (`fill`). */
  get empty(): boolean {
    return this.#at >= this.#rows.length && !this.#done;
  }

  async fill(): Promise<void> {
    this.#rows = await this.#read(this.#next, BATCH);
    this.#at = 0;
    if (this.#rows.length < BATCH) this.#done = true;
    const last = this.#rows[this.#rows.length - 1];
    if (last !== undefined) this.#next = last.seq + 1;
  }

  get head(): T | undefined {
    return this.#rows[this.#at];
  }

  shift(): void {
    this.#at += 1;
  }
}

/**
 * Recomputes every leaf from the rows it commits to, rebuilds the tree, and checks it against
 * every signed checkpoint (and the witness file): the verifier is separate from the writer and
 * trusts nothing in the database but what it can recompute. Stops at the first broken leaf.
 */
export async function verifyLog(o: VerifyOptions): Promise<VerifyResult> {
  // The network is asked before the read transaction starts, so a slow witness does not hold it open.
  let remote: string[] | undefined = [];
  if (o.witnessUrl !== undefined) {
    try {
      remote = [await fetchWitnessCheckpoint(o.witnessUrl)];
    } catch (err) {
      if (err instanceof VigilError && err.code === 'ERR_CONFIG') throw err;
      remote = undefined;
    }
  }
  return o.store.snapshot(() => verifySnapshot(o, remote));
}

async function verifySnapshot(o: VerifyOptions, remote: string[] | undefined): Promise<VerifyResult> {
  const started = performance.now();
  const store = o.store;
  const total = await store.countLeaves();
  const checkpoints = await store.listCheckpoints();
  const fromFile = readWitness(o.witnessFile);
  const witnessed = fromFile === undefined ? undefined : [...fromFile, ...(remote ?? [])];
  let leafPhaseMs = 0;
  let index: IndexCheckResult | undefined;
  const result = (firstBroken: Broken | null, leaves: number): VerifyResult => {
    const elapsed = performance.now() - started;
    return {
      ok: firstBroken === null,
      leaves,
      checkpoints: checkpoints.length,
      firstBroken,
      leavesPerSecond: perSecond(leaves, elapsed),
      phases: { leafMs: Math.round(leafPhaseMs), leafLeavesPerSecond: perSecond(leaves, leafPhaseMs), indexMs: Math.round(index?.ms ?? 0), indexInWorker: index?.inWorker ?? false, totalMs: Math.round(elapsed) },
    };
  };
  if (witnessed === undefined) return result({ position: 0, kind: 'witness', detail: 'the witness file is missing or unreadable' }, 0);
  if (remote === undefined) return result({ position: 0, kind: 'witness', detail: 'the remote witness could not be read' }, 0);

  // Without any signed checkpoint nothing proves the leaves were not all recomputed.
  if (total > 0 && checkpoints.length === 0 && witnessed.length === 0) {
    return result({ position: 0, kind: 'checkpoint', detail: 'no signed checkpoint covers the log (deleted checkpoints?)' }, 0);
  }
  // Signed statements first: each must carry the log's own key; the roots are compared as the tree grows.
  const expected = new Map<number, { root: Uint8Array; source: 'checkpoint' | 'witness' }[]>();
  for (const [source, list] of [['checkpoint', checkpoints.map((c) => c.note)], ['witness', witnessed]] as const) {
    for (const note of list) {
      let cp;
      try {
        cp = openCheckpoint(note, { verifier: o.verifier, origin: o.origin });
      } catch {
        return result({ position: 0, kind: source, detail: 'a checkpoint is not signed by this log\'s key' }, 0);
      }
      if (cp.size > total) return result({ position: total, kind: source, detail: `the log has ${total} leaves but a checkpoint signed ${cp.size} (truncated or rolled back)` }, 0);
      const at = expected.get(cp.size) ?? [];
      at.push({ root: cp.rootHash, source });
      expected.set(cp.size, at);
    }
  }

  // The index check (step 5) reads other tables than the walk: on a large log it runs on the other core meanwhile.
  const worker = (o.indexWorker ?? total >= WORKER_THRESHOLD) ? startIndexWorker(store) : undefined;
  try {
    // Rewraps explain how a version's ciphertext changed after it was written.
    const rewraps = new Map<number, RewrapRow[]>();
    for (let from = 1; ; ) {
      const rows = await store.readRewraps(from, BATCH);
      for (const r of rows) {
        const chain = rewraps.get(r.versionSeq);
        if (chain === undefined) rewraps.set(r.versionSeq, [r]);
        else chain.push(r);
      }
      if (rows.length < BATCH) break;
      from = (rows[rows.length - 1]?.seq ?? from) + 1;
    }

    const streams: Streams = {
      version: new Stream<VersionRow>((from, limit) => store.readVersionsBySeq(from, limit)),
      audit: new Stream<AuditRow>((from, limit) => store.readAuditBySeq(from, limit)),
      rewrap: new Stream<RewrapRow>((from, limit) => store.readRewraps(from, limit)),
    };
    const frontier = new MerkleFrontier();
    /** The newest version of each resource, in log order: what its current pointer must name. */
    const newest = new Map<string, Newest>();

    for (let from = 1; from <= total; from += BATCH) {
      const leaves = await store.readLeaves(from, BATCH);
      for (const leaf of leaves) {
        const position = frontier.size + 1;
        if (leaf.position !== position) return result({ position, kind: 'log', detail: 'a leaf is missing from the log' }, position - 1);
        const stream: Stream<{ seq: number }> | undefined = leaf.kind === 'version' || leaf.kind === 'audit' || leaf.kind === 'rewrap' ? streams[leaf.kind] : undefined;
        if (stream === undefined) return result({ position, kind: 'log', detail: 'a leaf has an unknown kind' }, position - 1);
        if (stream.empty) await stream.fill();
        const broken = checkLeaf(leaf.kind, leaf.ref, leaf.hash, o.tenant, stream, rewraps, newest);
        if (broken !== undefined) return result({ position, ...broken }, position - 1);
        frontier.append(leaf.hash);
        for (const e of expected.get(frontier.size) ?? NONE) {
          if (!sameHash(e.root, frontier.root())) {
            return result({ position, kind: e.source, detail: `the tree of ${frontier.size} leaves does not match its signed root (edited, reordered or forked log)` }, position);
          }
        }
        if (position % 5000 === 0) o.onProgress?.(position, total);
      }
      if (leaves.length < Math.min(BATCH, total - from + 1)) return result({ position: frontier.size + 1, kind: 'log', detail: 'a leaf is missing from the log' }, frontier.size);
    }
    o.onProgress?.(total, total);
    for (const [kind, stream] of Object.entries(streams) as [string, Stream<{ seq: number }>][]) {
      if (stream.empty) await stream.fill();
      const extra = stream.head;
      if (extra !== undefined) return result({ position: total + 1, kind: 'extra-row', detail: `a ${kind} row (sequence ${extra.seq}) is in no leaf (inserted row)` }, total);
    }

    // Every current pointer must name the newest version the log recorded for its resource.
    for (let from = 1; ; ) {
      const rows = await store.listCurrent(from, BATCH);
      for (const r of rows) {
        const key = `${r.tenant}/${r.type}/${r.id}`;
        const n = newest.get(key);
        // A pointer moved back to an older version (or a deletion undone) names the wrong row.
        if (n === undefined || n.seq !== r.seq || n.deleted !== r.deleted) {
          return result({ position: total, kind: 'current', detail: "a resource's current version is not its newest one (rolled back or undeleted)" }, total);
        }
        newest.delete(key);
      }
      if (rows.length < BATCH) break;
      from = (rows[rows.length - 1]?.rid ?? from) + 1;
    }
    if (newest.size > 0) return result({ position: total, kind: 'current', detail: 'a resource has versions but no current pointer (deleted row)' }, total);
    leafPhaseMs = performance.now() - started;

    // The search index of every current version must still be the one its leaf committed to.
    // A worker that read another state (a write landed between the two snapshots) is not trusted: check here.
    const fromWorker = await worker?.result;
    index = fromWorker !== undefined && fromWorker.leaves === total ? fromWorker : await checkIndexHere(store, total);
    if (index.brokenRid !== null) return result({ position: total, kind: 'index', detail: 'the search index rows of a current resource were changed' }, total);
    return result(null, total);
  } finally {
    await worker?.stop();
  }
}

type Streams = { version: Stream<VersionRow>; audit: Stream<AuditRow>; rewrap: Stream<RewrapRow> };

function perSecond(n: number, ms: number): number {
  return Math.round(n / Math.max(ms / 1000, 1e-6));
}

/** Checks one leaf against the row it commits to (the head of its stream); returns what is wrong, if anything. */
function checkLeaf(
  kind: string,
  ref: number,
  hash: Uint8Array,
  tenant: string,
  stream: Stream<{ seq: number }>,
  rewraps: Map<number, RewrapRow[]>,
  newest: Map<string, Newest>,
): Omit<Broken, 'position'> | undefined {
  const row = stream.head;
  if (row === undefined || row.seq > ref) return { kind: 'missing-row', detail: `the ${kind} row this leaf commits to is missing (deleted row)` };
  if (row.seq < ref) return { kind: 'order', detail: `a ${kind} row is not where the log puts it (inserted or reordered rows)` };
  stream.shift();
  let computed: Buffer;
  if (kind === 'version') {
    const v = row as VersionRow;
    const chain = rewraps.get(v.seq) ?? [];
    // The leaf saw the first ciphertext; each rewrap must lead from it to the one stored now.
    const current = v.box === null ? null : sha256(v.box);
    const first = chain[0]?.before ?? current;
    const last = chain[chain.length - 1]?.after ?? current;
    if ((current === null) !== (last === null) || (current !== null && last !== null && !sameHash(current, last))) {
      return { kind: 'version', detail: 'a resource version\'s ciphertext was changed' };
    }
    for (let i = 1; i < chain.length; i++) {
      if (!sameHash(chain[i - 1]?.after ?? Buffer.alloc(0), chain[i]?.before ?? Buffer.alloc(1))) return { kind: 'rewrap', detail: 'a re-encryption does not follow the previous one' };
    }
    computed = leafHashOfText(versionLeafText({ tenant: v.tenant, type: v.type, id: v.id, versionId: v.versionId, lastUpdated: v.lastUpdated, deleted: v.deleted, boxDigest: first, indexDigest: v.indexDigest }));
    if (v.tenant === tenant) newest.set(`${v.tenant}/${v.type}/${v.id}`, { seq: v.seq, deleted: v.deleted });
  } else if (kind === 'audit') {
    const a = row as AuditRow;
    const body = JSON.parse(a.body) as { recorded?: string; action?: string; outcome?: string; subtype?: string; client?: string; user?: string; patients?: string[] };
    // The searchable columns must say what the body says, or a search could hide an entry.
    if (body.recorded !== a.recorded || body.action !== a.action || body.outcome !== a.outcome || body.subtype !== a.subtype || (body.user ?? body.client ?? null) !== a.agent || ` ${(body.patients ?? []).join(' ')} ` !== a.patients) {
      return { kind: 'audit', detail: 'an audit entry\'s columns do not match its body' };
    }
    computed = leafHashOfText(auditLeafText(a.tenant, a.body));
  } else {
    computed = leafHash(rewrapLeafData(row as RewrapRow));
  }
  if (!sameHash(computed, hash)) return { kind, detail: `the ${kind} row does not match its leaf (edited row)` };
  return undefined;
}

/** The checkpoint notes of a witness file (one JSON object per line); undefined when it cannot be read. */
function readWitness(path: string | undefined): string[] | undefined {
  if (path === undefined) return [];
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { note: string }).note);
  } catch {
    return undefined;
  }
}
