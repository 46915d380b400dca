import { createHmac } from 'node:crypto';

/** Strings are indexed by hashed prefixes up to this many characters; longer queries are confirmed by decryption. */
export const PREFIX_MAX = 12;
/** Token text (`:text`) is indexed by prefixes of these lengths only: displays repeat across many resources. */
export const TEXT_PREFIXES = [3, 6, 9, 12] as const;

/** The longest indexed text prefix length not above `n` (0 when `n` < 3). */
export function textPrefixLength(n: number): number {
  return TEXT_PREFIXES.filter((l) => l <= n).pop() ?? 0;
}

/** Bytes kept of each HMAC: 128 bits leave no practical collisions and halve the index size. */
const HASH_BYTES = 16;

/** The form of a value a hash stands for; part of the HMAC input, so forms never collide. */
export type HashTag =
  | 'm' // the parameter has a value (for :missing)
  | 'p' // a prefix of a normalised string
  | 'e' // an exact string, case and accents kept (for :exact)
  | 'g' // a trigram of a normalised string (for :contains)
  | 'c' // a token code, any system
  | 's' // a token system|code
  | 'n' // a token code that has no system
  | 'y' // a token system
  | 'x' // a prefix of a token's normalised text (for :text)
  | 'r' // a reference, normalised to Type/id
  | 'i' // the id part of a Type/id reference (for a bare-id search)
  | 'u' // a uri
  | 'dy' // year bucket of an identifying date
  | 'dm' // month bucket of an identifying date
  | 'dd'; // day bucket of an identifying date

/**
 * String normalisation for search, as FHIR asks for strings: case-insensitive and
 * accent-insensitive (NFD, combining marks removed, lower case, spaces collapsed).
 */
export function normalize(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The first `n` characters (code points) of a string. */
export function prefix(text: string, n: number): string {
  return Array.from(text).slice(0, n).join('');
}

/** Trigrams of a normalised string, for `:contains`. */
export function trigrams(normalized: string): string[] {
  const chars = Array.from(normalized);
  const out = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) out.add(chars.slice(i, i + 3).join(''));
  return [...out];
}

/**
 * Keyed blind index (HMAC-SHA256 under a per-tenant key derived from the master key). The hash
 * binds the resource type and parameter, so equal values of different parameters look unrelated.
 */
export class BlindIndex {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  hash(type: string, param: string, tag: HashTag, value: string): Buffer {
    return createHmac('sha256', this.#key).update(`${type}\u0000${param}\u0000${tag}\u0000${value}`).digest().subarray(0, HASH_BYTES);
  }
}
