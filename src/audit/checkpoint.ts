import { VigilError } from '../errors.js';
import { parseVerifierKey, type NoteSigner, type NoteVerifier } from './note-key.js';
import { noteFailure, openNote, signNote } from './note.js';
import { decodeBase64Strict, isKeyName, isNoteSafe } from './strict-text.js';
import { HASH_SIZE, isTreeHash } from './tree-hash.js';
import { isTreeSize } from './tree-math.js';

/**
 * C2SP tlog-checkpoint: the signed statement "the log `origin` had `size` leaves with root hash
 * `rootHash`", as the note text `<origin>\n<size>\n<base64 root>\n` plus optional extension
 * lines, signed as a C2SP signed note. Vigil names each tenant's log by its own origin, e.g.
 * `vigil.example/acme`, so a checkpoint of one tenant never verifies as another's.
 */

/** A tree head: what a checkpoint commits to. */
export interface Checkpoint {
  /** The log's identity; Vigil requires a key-name-like value (no spaces, no plus). */
  readonly origin: string;
  /** Number of leaves. */
  readonly size: number;
  /** MTH of those leaves (32 bytes). */
  readonly rootHash: Uint8Array;
  /** Optional further lines, each non-empty (C2SP discourages them; none are required). */
  readonly extensions?: readonly string[];
}

const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

function isExtensionLine(line: string): boolean {
  return line.length > 0 && !line.includes('\n') && isNoteSafe(line);
}

/**
 * The note text of a checkpoint. Refuses values that would not parse back to the same checkpoint.
 *
 * @example
 * checkpointText({ origin: 'vigil.example/acme', size: 8, rootHash });
 * // 'vigil.example/acme\n8\nXcnaeacGWamtVZy3Ad7Zoqudgjqt...=\n'
 */
export function checkpointText(checkpoint: Checkpoint): string {
  const extensions = checkpoint.extensions ?? [];
  if (!isKeyName(checkpoint.origin) || !isTreeSize(checkpoint.size) || !isTreeHash(checkpoint.rootHash) || !extensions.every(isExtensionLine)) {
    throw new VigilError('ERR_INTERNAL', 'The checkpoint has an invalid origin, size, root hash or extension line');
  }
  const lines = [checkpoint.origin, String(checkpoint.size), Buffer.from(checkpoint.rootHash).toString('base64'), ...extensions];
  return `${lines.join('\n')}\n`;
}

/**
 * Parses a checkpoint note text strictly: at least three lines, each ending in a newline; a
 * decimal size without leading zeros; a canonical base64 root of exactly 32 bytes; no empty line.
 * Throws the generic note failure on anything else, since it only ever runs on untrusted input.
 */
export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw noteFailure();
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (origin === undefined || size === undefined || root === undefined) throw noteFailure();
  if (!isKeyName(origin) || !DECIMAL.test(size) || !extensions.every(isExtensionLine)) throw noteFailure();
  const treeSize = Number(size);
  const rootHash = decodeBase64Strict(root);
  if (!isTreeSize(treeSize) || rootHash?.length !== HASH_SIZE) throw noteFailure();
  return { origin, size: treeSize, rootHash, extensions };
}

/**
 * Signs a checkpoint as a C2SP signed note.
 *
 * @example
 * const signer = noteSigner('vigil.example/acme', privateKey);
 * const note = signCheckpoint({ origin: 'vigil.example/acme', size: frontier.size, rootHash: frontier.root() }, signer);
 */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(checkpointText(checkpoint), signer);
}

/** What a checkpoint must match to be accepted. */
export interface CheckpointExpectation {
  /** The trusted key, as a `NoteVerifier` or a verifier key string. */
  readonly verifier: NoteVerifier | string;
  /** The origin of the log this checkpoint must be from. */
  readonly origin: string;
}

/**
 * Verifies a signed checkpoint and returns what it commits to. A bad signature, a missing one, a
 * malformed body or a checkpoint of another log all throw `ERR_INTEGRITY` with the same message;
 * only a malformed verifier key string (configuration, not input) throws `ERR_KEY`.
 */
export function openCheckpoint(note: string | Uint8Array, expected: CheckpointExpectation): Checkpoint {
  const verifier = typeof expected.verifier === 'string' ? parseVerifierKey(expected.verifier) : expected.verifier;
  const checkpoint = parseCheckpointText(openNote(note, verifier));
  if (checkpoint.origin !== expected.origin) throw noteFailure();
  return checkpoint;
}
