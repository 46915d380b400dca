import { sign, verify } from 'node:crypto';
import { VigilError } from '../errors.js';
import type { NoteSigner, NoteVerifier } from './note-key.js';
import { decodeBase64Strict, isKeyName, isNoteSafe } from './strict-text.js';

/**
 * C2SP signed notes: a text ending in a newline, a blank line, then one or more lines
 * `— <key name> <base64(key ID || signature)>`. Vigil signs its checkpoints this way so that the
 * tools of the transparency-log world (witnesses, monitors, the Go note package) can check them.
 */

/** At most this many signature lines (the spec asks verifiers to accept at least 16). */
export const MAX_NOTE_SIGNATURES = 100;
/** At most this many bytes in a whole note; checkpoints are a few hundred. */
export const MAX_NOTE_BYTES = 1024 * 1024;

const SIGNATURE_PREFIX = '\u2014 '; // em dash, space
const ED25519_SIGNATURE_SIZE = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The one error of every verification failure: which check failed is not told (no oracle). */
export function noteFailure(): VigilError {
  return new VigilError('ERR_INTEGRITY', 'The signed note does not verify');
}

/**
 * Signs a note text with one key and returns the signed note.
 *
 * @example
 * signNote('hello\n', noteSigner('vigil.example/acme', privateKey));
 * // 'hello\n\n— vigil.example/acme <base64>\n'
 */
export function signNote(text: string, signer: NoteSigner): string {
  if (text.length === 0 || !text.endsWith('\n') || !isNoteSafe(text) || !isKeyName(signer.name)) {
    throw new VigilError('ERR_INTERNAL', 'A note text is non-empty UTF-8 ending in a newline, without control characters');
  }
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  const blob = Buffer.concat([signer.keyId, signature]).toString('base64');
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${blob}\n`;
}

interface SignatureLine {
  readonly name: string;
  readonly keyId: Buffer;
  readonly signature: Buffer;
}

function parseSignatureLine(line: string): SignatureLine | undefined {
  if (!line.startsWith(SIGNATURE_PREFIX)) return undefined;
  const parts = line.slice(SIGNATURE_PREFIX.length).split(' ');
  if (parts.length !== 2) return undefined;
  const [name, encoded] = parts as [string, string];
  const blob = decodeBase64Strict(encoded);
  if (!isKeyName(name) || blob === undefined || blob.length < 5) return undefined;
  return { name, keyId: blob.subarray(0, 4), signature: blob.subarray(4) };
}

function splitNote(note: string): { text: string; lines: SignatureLine[] } {
  if (!isNoteSafe(note)) throw noteFailure();
  // The text is separated from the signatures by the last blank line; the text keeps its newline.
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw noteFailure();
  const text = note.slice(0, cut + 1);
  const block = note.slice(cut + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw noteFailure();
  const raw = block.slice(0, -1).split('\n');
  if (raw.length > MAX_NOTE_SIGNATURES) throw noteFailure();
  const lines: SignatureLine[] = [];
  for (const line of raw) {
    const parsed = parseSignatureLine(line);
    if (parsed === undefined) throw noteFailure(); // one malformed line spoils the whole note
    lines.push(parsed);
  }
  return { text, lines };
}

/**
 * Parses a signed note strictly and checks it against one trusted key; returns the note text.
 * Signatures of other keys (another name or another key ID) are skipped, as the spec requires;
 * every signature of the trusted key must verify, and at least one must be there. Any failure
 * throws `ERR_INTEGRITY` with one generic message.
 */
export function openNote(note: string | Uint8Array, verifier: NoteVerifier): string {
  if (note.length > MAX_NOTE_BYTES) throw noteFailure();
  let text: string;
  try {
    text = typeof note === 'string' ? note : utf8.decode(note);
  } catch {
    throw noteFailure(); // not UTF-8
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_NOTE_BYTES) throw noteFailure();
  const parsed = splitNote(text);
  const message = Buffer.from(parsed.text, 'utf8');
  let verified = 0;
  for (const line of parsed.lines) {
    if (line.name !== verifier.name || !line.keyId.equals(verifier.keyId)) continue;
    // A bad signature by the trusted key rejects the note, rather than being skipped like a stranger's.
    if (line.signature.length !== ED25519_SIGNATURE_SIZE || !verify(null, message, verifier.publicKey, line.signature)) {
      throw noteFailure();
    }
    verified += 1;
  }
  if (verified === 0) throw noteFailure();
  return parsed.text;
}
