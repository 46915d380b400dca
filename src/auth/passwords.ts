import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VigilError } from '../errors.js';
import { hashSecret, verifySecret } from './secrets.js';

/** Password length bounds (NIST SP 800-63B 3.1.1.2: at least 8, privileged accounts more; allow 64+). */
export const MIN_LENGTH = 8;
export const MIN_LENGTH_PRIVILEGED = 12;
export const MAX_LENGTH = 128;

/** Words of this service that make a password guessable wherever it is used (63B: "context-specific words"). */
const CONTEXT_WORDS = ['vigil'];

let common: Set<string> | undefined;

/** The repository or package root: the nearest folder above this file with a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new VigilError('ERR_CONFIG', 'The Vigil package root (with data/common-passwords.txt) was not found');
    dir = up;
  }
  return dir;
}

/** The shipped list of common and breached passwords (data/common-passwords.txt), loaded once. */
function commonPasswords(): Set<string> {
  if (common === undefined) {
    const text = readFileSync(join(packageRoot(), 'data', 'common-passwords.txt'), 'utf8');
    common = new Set(text.split('\n').filter((l) => l !== ''));
  }
  return common;
}

/** True when every step between neighbouring characters is the same +1 or -1 (`abcdefgh`, `87654321`). */
function isSequence(s: string): boolean {
  const codes = [...s].map((c) => c.codePointAt(0) ?? 0);
  const step = (codes[1] ?? 0) - (codes[0] ?? 0);
  if (step !== 1 && step !== -1) return false;
  return codes.every((c, i) => i === 0 || c - (codes[i - 1] ?? 0) === step);
}

export interface PasswordContext {
  /** The account's user name: a password containing it is refused. */
  readonly username?: string;
  /** Privileged roles need the longer minimum. */
  readonly privileged?: boolean;
}

/**
 * Checks a proposed password against the NIST SP 800-63B rules and returns the problems (empty
 * when it is acceptable). No composition rules: length, a blocklist and guessability only.
 * Messages never quote the password.
 */
export function passwordProblems(password: unknown, context: PasswordContext = {}): string[] {
  if (typeof password !== 'string') return ['The password must be a string'];
  const pw = password.normalize('NFKC');
  const length = [...pw].length;
  const min = context.privileged === true ? MIN_LENGTH_PRIVILEGED : MIN_LENGTH;
  if (length < min) return [`The password must have at least ${min} characters${context.privileged === true ? ' for a privileged role' : ''}`];
  if (length > MAX_LENGTH) return [`The password must have at most ${MAX_LENGTH} characters`];
  const problems: string[] = [];
  if (/[\u0000-\u001f\u007f]/.test(pw)) problems.push('The password must not contain control characters');
  const lower = pw.toLowerCase();
  // A common password with digits or symbols tacked on (`iloveyou2024!`) is as guessable as the stem.
  const stem = lower.replace(/[^a-z]+$/, '');
  if (commonPasswords().has(lower) || (stem.length >= MIN_LENGTH && commonPasswords().has(stem))) {
    problems.push('The password is on the list of common or breached passwords');
  }
  const name = context.username?.toLowerCase();
  const local = name?.split('@')[0];
  if (name !== undefined && name.length >= 3 && (lower.includes(name) || (local !== undefined && local.length >= 3 && lower.includes(local)))) {
    problems.push('The password must not contain the user name');
  }
  if (CONTEXT_WORDS.some((w) => lower.includes(w))) problems.push('The password must not contain the name of this service');
  // One character repeated, a short pattern repeated (`abcabcab`, `12121212`) or a run (`12345678`).
  if (/^(.{1,4})\1+.{0,3}$/su.test(lower) || isSequence(lower)) problems.push('The password is a repeated or sequential pattern');
  return problems;
}

/** Throws ERR_BAD_REQUEST naming every problem when a password is not acceptable. */
export function assertAcceptablePassword(password: unknown, context: PasswordContext = {}): void {
  const problems = passwordProblems(password, context);
  if (problems.length > 0) {
    throw new VigilError('ERR_BAD_REQUEST', problems.join('; '), { issues: problems.map((message) => ({ message, path: 'password' })) });
  }
}

/** Hashes a password (NFKC-normalized, as 63B asks) with scrypt. */
export function hashPassword(password: string): Promise<string> {
  return hashSecret(password.normalize('NFKC'));
}

/** Checks a password against its stored hash in constant time. */
export function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (typeof password !== 'string' || password.length > MAX_LENGTH * 4) return verifySecret('', stored).then(() => false);
  return verifySecret(password.normalize('NFKC'), stored);
}
