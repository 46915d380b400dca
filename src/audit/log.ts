import { appendFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { CheckpointRow, Store } from '../store/index.js';
import { openCheckpoint, signCheckpoint } from './checkpoint.js';
import { consistencyProofPlan } from './consistency.js';
import { MerkleFrontier, merkleRoot } from './frontier.js';
import { inclusionProofPlan } from './inclusion.js';
import { noteSigner, noteVerifier, verifierKeyString, type NoteSigner, type NoteVerifier } from './note-key.js';
import { resolveProofAsync } from './subtree.js';
import { HASH_SIZE } from './tree-hash.js';
import { VigilError } from '../errors.js';
import type { SyslogWitness } from '../config/index.js';
import { sendCheckpointToSyslog } from './witness-syslog.js';

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const BATCH = 10_000;

/** The log's signing key, derived from the master key (so the database cannot swap it). */
export function logKeys(seed: Buffer, origin: string): { signer: NoteSigner; verifier: NoteVerifier; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { signer: noteSigner(origin, privateKey), verifier: noteVerifier(origin, publicKey), publicKey };
}

/**
 * The origin (and key name) of a tenant's log, e.g. `vigil.log/3f9a0c1d/default`: stable for the
 * life of the data (derived from the master key, not from the address the server listens on).
 */
export function logOrigin(keyId: Buffer, tenant: string): string {
  return `vigil.log/${keyId.subarray(0, 4).toString('hex')}/${tenant}`;
}

/** What an inclusion proof looks like on the wire and in a proof file (`vigil verify --proof`). */
export interface InclusionProofFile {
  readonly origin: string;
  /** 1-based position of the leaf in the log. */
  readonly position: number;
  readonly size: number;
  readonly leafHash: string;
  readonly proof: string[];
  /** The signed checkpoint of `size`, which the proof leads to. */
  readonly checkpoint: string;
}

export interface LogOptions {
  readonly store: Store;
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** An append-only file each new checkpoint is also written to (the outside witness). */
  readonly witnessFile?: string;
  /** A URL each new checkpoint is POSTed to as JSON `{ origin, size, note }` (a remote witness). */
  readonly witnessUrl?: string;
  /** A syslog receiver each new checkpoint is sent to as an RFC 5424 message (`VIGIL_WITNESS_SYSLOG`). */
  readonly witnessSyslog?: SyslogWitness;
  /** Told when a witness could not be reached (the checkpoint itself is stored regardless). */
  readonly onWitnessError?: (err: unknown) => void;
  readonly now?: () => Date;
}

/**
 * The tenant's transparency log over the store's leaves: keeps the Merkle frontier, signs
 * checkpoints, and serves inclusion and consistency proofs.
 */
export class TransparencyLog {
  readonly #o: LogOptions;
  #frontier = new MerkleFrontier();
  /** The last size at which a planted row stood in for this log's checkpoint (sent to the witness once). */
  #plantedAt = -1;

  constructor(options: LogOptions) {
    this.#o = options;
  }

  get verifierKey(): string {
    return verifierKeyString(this.#o.verifier);
  }

  get origin(): string {
    return this.#o.origin;
  }

  /**
   * Reads leaves appended since the last sync (by this or another process) into the frontier. The
   * first sync resumes from the newest checkpoint stored with its frontier, so a start reads the
   * leaves after it, not the whole log.
   */
  async sync(): Promise<number> {
    if (this.#frontier.size === 0) this.#frontier = (await this.#resume()) ?? this.#frontier;
    for (;;) {
      const leaves = await this.#o.store.readLeaves(this.#frontier.size + 1, BATCH);
      for (const leaf of leaves) this.#frontier.append(leaf.hash);
      if (leaves.length < BATCH) return this.#frontier.size;
    }
  }

  /**
   * The frontier of the newest checkpoint that has one, when it folds to the root that checkpoint
   * signs and the log still holds that many leaves. Anything else (no such checkpoint, a frontier
   * or root edited in the database, a log cut short) gives undefined: the leaves are read from the
   * start instead, as before frontiers were stored.
   */
  async #resume(): Promise<MerkleFrontier | undefined> {
    const cp = await this.#o.store.latestCheckpointWithFrontier();
    const bytes = cp?.frontier;
    if (cp === undefined || bytes === undefined || bytes.length % HASH_SIZE !== 0) return undefined;
    try {
      // The signed note, not the row's root column: the database is not trusted with either.
      const signed = this.open(cp.note);
      const hashes = Array.from({ length: bytes.length / HASH_SIZE }, (_, i) => bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      const frontier = MerkleFrontier.restore(signed.size, hashes);
      if (!frontier.root().equals(signed.rootHash)) return undefined;
      if (signed.size > 0 && (await this.#o.store.readLeaves(signed.size, 1)).length === 0) return undefined;
      return frontier;
    } catch {
      return undefined;
    }
  }

  /** Signs a checkpoint of the whole log (if it grew), stores it and hands it to the witness. */
  async checkpoint(): Promise<CheckpointRow | undefined> {
    const size = await this.sync();
    const last = await this.latest();
    if (last !== undefined && last.size >= size) return last;
    const root = this.#frontier.root();
    const note = signCheckpoint({ origin: this.#o.origin, size, rootHash: root }, this.#o.signer);
    const row: CheckpointRow = { size, root, note, createdAt: (this.#o.now?.() ?? new Date()).toISOString(), frontier: Buffer.concat(this.#frontier.hashes()) };
    try {
      await this.#o.store.addCheckpoint(row);
    } catch (err) {
      const stored = await this.#o.store.checkpointAt(size);
      if (stored === undefined) throw err;
      // Another process (the server, a CLI command) signed the same size meanwhile: the same
      // statement, since Ed25519 is deterministic and both read the same leaves; it told the witness.
      if (this.#signedHere(stored) && Buffer.from(stored.root).equals(root)) return row;
      // A row planted at this size, which `vigil verify` reports: the database cannot hold this
      // checkpoint, but the witness still gets it, so rows planted ahead open no gap in its copy.
      if (this.#plantedAt === size) return row;
      this.#plantedAt = size;
    }
    // The witness keeps its own copy: rolling the database back cannot roll this file back.
    if (this.#o.witnessFile !== undefined) appendFileSync(this.#o.witnessFile, `${JSON.stringify({ size, note })}\n`, { mode: 0o600 });
    if (this.#o.witnessUrl !== undefined) await this.#post(this.#o.witnessUrl, { origin: this.#o.origin, size, note });
    if (this.#o.witnessSyslog !== undefined) {
      await sendCheckpointToSyslog(this.#o.witnessSyslog, { origin: this.#o.origin, size, note }, new Date(row.createdAt)).catch((err: unknown) => this.#o.onWitnessError?.(err));
    }
    return row;
  }

  async #post(url: string, body: { origin: string; size: number; note: string }): Promise<void> {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new VigilError('ERR_INTERNAL', `the witness answered ${res.status}`);
    } catch (err) {
      this.#o.onWitnessError?.(err);
    }
  }

  /**
   * The newest checkpoint this log signed. A row planted in the database (a note under another
   * key, or a size or root its note does not state) is passed over: as the newest, it would stop
   * new checkpoints being signed and be served in their place. `vigil verify` reports such rows.
   */
  async latest(): Promise<CheckpointRow | undefined> {
    const newest = await this.#o.store.latestCheckpoint();
    if (newest === undefined || this.#signedHere(newest)) return newest;
    // Only after tampering: read them all, newest first, for the newest one that is ours.
    return (await this.#o.store.listCheckpoints()).reverse().find((cp) => this.#signedHere(cp));
  }

  #signedHere(row: CheckpointRow): boolean {
    try {
      const signed = this.open(row.note);
      return signed.size === row.size && Buffer.from(signed.rootHash).equals(Buffer.from(row.root));
    } catch {
      return false;
    }
  }

  /** Hashes of complete subtrees, computed from the stored leaf hashes. */
  #subtrees = async (ranges: readonly { start: number; end: number }[]): Promise<Buffer[]> => {
    const out: Buffer[] = [];
    for (const r of ranges) {
      const hashes: Uint8Array[] = [];
      for (let at = r.start; at < r.end; at += BATCH) {
        const rows = await this.#o.store.readLeaves(at + 1, Math.min(BATCH, r.end - at));
        hashes.push(...rows.map((l) => l.hash));
      }
      if (hashes.length !== r.end - r.start) throw new VigilError('ERR_INTEGRITY', 'The log is shorter than its checkpoint');
      out.push(merkleRoot(hashes));
    }
    return out;
  };

  /** An inclusion proof of the leaf at `position` (1-based) in the latest checkpoint. */
  async inclusion(position: number): Promise<InclusionProofFile> {
    const cp = await this.latest();
    if (cp === undefined || !Number.isInteger(position) || position < 1 || position > cp.size) {
      throw new VigilError('ERR_NOT_FOUND', 'No signed checkpoint covers this position yet');
    }
    const [leaf] = await this.#o.store.readLeaves(position, 1);
    if (leaf === undefined) throw new VigilError('ERR_NOT_FOUND');
    const proof = await resolveProofAsync(inclusionProofPlan(position - 1, cp.size), this.#subtrees);
    return { origin: this.#o.origin, position, size: cp.size, leafHash: Buffer.from(leaf.hash).toString('base64'), proof: proof.map((p) => p.toString('base64')), checkpoint: cp.note };
  }

  /** A consistency proof between two checkpointed sizes. */
  async consistency(from: number, to: number): Promise<{ from: number; to: number; proof: string[] }> {
    if (from > to || (await this.#o.store.checkpointAt(from)) === undefined || (await this.#o.store.checkpointAt(to)) === undefined) throw new VigilError('ERR_BAD_REQUEST', 'from and to must be sizes of signed checkpoints, from <= to');
    const proof = await resolveProofAsync(consistencyProofPlan(from, to), this.#subtrees);
    return { from, to, proof: proof.map((p) => p.toString('base64')) };
  }

  /** Opens a signed checkpoint with this log's key and origin (throws one generic error otherwise). */
  open(note: string): { size: number; rootHash: Uint8Array } {
    return openCheckpoint(note, { verifier: this.#o.verifier, origin: this.#o.origin });
  }
}
