import { createHmac } from 'node:crypto';

/** Strings are indexed by hashed prefixes up to this many characters; longer queries are confirmed by decryption. */
export const PREFIX_MAX = 12;
/**
 * The prefix lengths stored for strings. Every row costs a random insert in the hash index, so
 * not every length is kept: a query of another length uses the longest stored one below it and
 * is confirmed by decryption.
 */
export const PREFIX_LENGTHS = [1, 2, 3, 4, 6, 8, 10, 12] as const;

/** The longest stored prefix length not above `n`. */
export function prefixLength(n: number): number {
  return PREFIX_LENGTHS.filter((l) => l <= n).pop() ?? 0;
}
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

/**
 * Trigrams of a normalised string starting at every `step`-th character from `offset`. Values are
 * indexed with step 3 from offset 0; a `:contains` query of 5 or more characters tries each of its
 * three alignments, one of which lines up with the value's indexed trigrams.
 */
export function trigrams(normalized: string, step = 1, offset = 0): string[] {
  const chars = Array.from(normalized);
  const out = new Set<string>();
  for (let i = offset; i + 3 <= chars.length; i += step) out.add(chars.slice(i, i + 3).join(''));
  return [...out];
}

/** The shortest `:contains` query the aligned trigrams answer; shorter ones are confirmed by decryption. */
export const CONTAINS_MIN = 5;

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
    // Taken as a binary string and copied into a pooled Buffer: a digest Buffer of its own costs
    // more (1.80 against 2.19 µs a value; an import hashes dozens per resource).
    const digest = createHmac('sha256', this.#key).update(`${type}\u0000${param}\u0000${tag}\u0000${value}`).digest('binary');
    return Buffer.from(digest.slice(0, HASH_BYTES), 'binary');
  }
}
