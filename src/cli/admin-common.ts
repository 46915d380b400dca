import { userInfo } from 'node:os';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';

/**
 * Records a CLI administration action as a security audit event naming the operator's OS
 * account. Entities are ids (`user/<id>`, `client/<id>`): never user names or secrets.
 */
export async function adminEvent(vigil: Vigil, subtype: string, entities: string[]): Promise<void> {
  await vigil.repository.trail.record({ type: 'security', subtype, action: 'E', outcome: '0', client: 'vigil-cli', user: `os:${userInfo().username}`, entities, patients: [] });
}

/** Commander collector for an option that may be given more than once. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Reads a secret from standard input (never from argv, where `ps` and shell history see it):
 * everything up to end of input, less one trailing newline.
 */
export async function readStdinSecret(what: string): Promise<string> {
  if (process.stdin.isTTY === true) process.stderr.write(`${what} (then Ctrl-D): `);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > 4096) throw new VigilError('ERR_BAD_REQUEST', `The ${what} on standard input is too long`);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') throw new VigilError('ERR_BAD_REQUEST', `No ${what} on standard input`);
  return text;
}
