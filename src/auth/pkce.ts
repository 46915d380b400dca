import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * PKCE (RFC 7636), S256 only. `plain` is refused: it protects nothing against an attacker who
 * can read the authorization request, which is the attack PKCE exists for.
 */

/** A code verifier: 43 to 128 characters of `[A-Z] [a-z] [0-9] - . _ ~` (RFC 7636 section 4.1). */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 challenge: the base64url (no padding) of a SHA-256 digest, always 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** True when `challenge` has the shape of an S256 challenge. */
export function isS256Challenge(challenge: string | undefined): challenge is string {
  return challenge !== undefined && CHALLENGE.test(challenge);
}

/** The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * True only when `verifier` is a well-formed code verifier whose S256 challenge equals
 * `challenge`. Missing, blank, short, long or wrong verifiers all answer false.
 */
export function verifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !VERIFIER.test(verifier) || !CHALLENGE.test(challenge)) return false;
  const a = Buffer.from(s256(verifier));
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}
