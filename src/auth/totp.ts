import { Secret, TOTP } from 'otpauth';

/** RFC 6238 parameters every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
const ALGORITHM = 'SHA1';
const DIGITS = 6;
const PERIOD = 30;
/** Steps either side of now that are accepted, for clock drift (one step is NIST's usual allowance). */
const WINDOW = 1;
const ISSUER = 'Vigil';

function totp(secret: string, label = 'user'): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: ALGORITHM, digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secret) });
}

/** A new random TOTP secret (160 bits, RFC 4226's recommendation), in base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/...` URI an authenticator app scans; it holds the secret, so show it only to its user. */
export function totpUri(secret: string, label: string): string {
  return totp(secret, label).toString();
}

/** The code for a time (tests and the enrolment page's self-check). */
export function totpCode(secret: string, at: Date): string {
  return totp(secret).generate({ timestamp: at.getTime() });
}

/** The 30-second time step a moment falls in. */
export function timeStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / PERIOD);
}

/**
 * Checks a code against a secret at a time and returns the time step it was made for, or
 * undefined when it is wrong, malformed, or not newer than `lastStep` (the step of the last code
 * this account used): a code, or an older one, can never be used twice.
 */
export function acceptTotp(secret: string, code: unknown, at: Date, lastStep: number | undefined): number | undefined {
  if (typeof code !== 'string' || !/^[0-9]{6}$/.test(code)) return undefined;
  let delta: number | null;
  try {
    delta = totp(secret).validate({ token: code, timestamp: at.getTime(), window: WINDOW });
  } catch {
    return undefined;
  }
  if (delta === null) return undefined;
  const step = timeStep(at) + delta;
  // Replays (and codes older than one already used) are refused.
  if (lastStep !== undefined && step <= lastStep) return undefined;
  return step;
}
