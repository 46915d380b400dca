import type { Keyring } from '../crypto/index.js';
import { logKeys } from '../audit/log.js';
import { openNote, signNote } from '../audit/note.js';
import { parseVerifierKey, verifierKeyString, type NoteSigner, type NoteVerifier } from '../audit/note-key.js';
import { VigilError } from '../errors.js';
import { signedText, type ManifestFile } from './format.js';

/**
 * The backup signing key: an Ed25519 key derived from the master key for this purpose alone (so a
 * manifest signature can never pass as a log checkpoint, and the database cannot swap it). Its
 * public half, as a verifier key string, is what `vigil backup key` prints and `backup verify --key` takes.
 */
export interface BackupKeys {
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** `vigil.backup/<id>/<tenant>+<key id>+<base64 key>` */
  readonly key: string;
}

export function backupKeys(keyring: Keyring, tenant: string): BackupKeys {
  const name = `vigil.backup/${keyring.derive('backup-key-name').subarray(0, 4).toString('hex')}/${tenant}`;
  const { signer, verifier } = logKeys(keyring.derive(`backup-signing:${tenant}`), name);
  return { signer, verifier, key: verifierKeyString(verifier) };
}

/** The signature of a manifest: a signed note over its format, id and canonical hash. */
export function signManifest(file: Omit<ManifestFile, 'signature'>, signer: NoteSigner): ManifestFile {
  return { manifest: file.manifest, signature: signNote(signedText(file.manifest), signer) };
}

/** True when the manifest carries a valid signature by `key` (a verifier key string or verifier). */
export function manifestSignedBy(file: ManifestFile, key: string | NoteVerifier): boolean {
  try {
    const verifier = typeof key === 'string' ? parseVerifierKey(key) : key;
    return openNote(file.signature, verifier) === signedText(file.manifest);
  } catch (err) {
    if (err instanceof VigilError && err.code === 'ERR_KEY' && typeof key === 'string') throw err;
    return false;
  }
}
