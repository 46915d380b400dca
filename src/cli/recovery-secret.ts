import { readFileSync } from 'node:fs';
import { VigilError } from '../errors.js';
import type { RecoverySecret } from '../backup/index.js';

/** Reads all of standard input as text, without its final line break. */
export async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}

/** Reads a 32-byte key file (base64, as master.key and recovery key files hold it). */
export function readKeyFile(path: string, what: string): Buffer {
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  } catch (err) {
    throw new VigilError('ERR_KEY', `The ${what} file cannot be read`, { cause: err });
  }
  if (key.length !== 32) throw new VigilError('ERR_KEY', `The ${what} file does not hold a 32-byte key`);
  return key;
}

/** The recovery secret of a key backup: a passphrase on stdin or a recovery key file, exactly one. */
export async function recoverySecret(opts: { passphraseStdin?: boolean; recoveryKey?: string }): Promise<RecoverySecret> {
  if ((opts.passphraseStdin === true) === (opts.recoveryKey !== undefined)) throw new VigilError('ERR_CONFIG', 'Give exactly one of --passphrase-stdin and --recovery-key FILE');
  // The passphrase only ever comes on standard input: never in argv, where `ps` and shell history show it.
  if (opts.passphraseStdin === true) return { passphrase: await readStdin() };
  return { recoveryKey: readKeyFile(opts.recoveryKey ?? '', 'recovery key') };
}
