import { createHash } from 'node:crypto';

/** Bumped whenever a change to the generator changes its output for the same seed. */
export const GENERATOR_VERSION = 1;

/**
 * A small, fast, seeded pseudo-random generator (sfc32, Chris Doty-Humphrey's "small fast
 * counting" generator) with the helpers the data generator needs. It is for synthetic data only:
 * nothing here is fit for keys, tokens or anything an attacker may guess.
 *
 * Streams are derived by label (`Rng.derive(seed, 'patient:17')`), so patient 17 comes out the same
 * whether or not patients 1 to 16 were generated first.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(a: number, b: number, c: number, d: number) {
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    // The first outputs of sfc32 are weakly mixed: skip them, as its author recommends.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** The stream named `label` of the data set with this `seed`. SHA-256 only spreads the seed's bits. */
  static derive(seed: string, label: string): Rng {
    const h = createHash('sha256').update(`vigil-synthetic/v${GENERATOR_VERSION}\0${seed}\0${label}`).digest();
    return new Rng(h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12));
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A uniform number in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A normally distributed number (Box-Muller). */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** One item of a non-empty list, uniformly. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('Rng.pick needs a non-empty list');
    return item;
  }

  /** One item of a non-empty list, with probability proportional to its weight. */
  weighted<T>(items: readonly T[], weight: (item: T) => number): T {
    let total = 0;
    for (const item of items) total += weight(item);
    let r = this.next() * total;
    for (const item of items) {
      r -= weight(item);
      if (r < 0) return item;
    }
    return this.pick(items);
  }

  /** Up to `count` distinct items of `items`, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) {
      const i = Math.floor(this.next() * pool.length);
      out.push(pool[i] as T);
      pool[i] = pool[pool.length - 1] as T;
      pool.pop();
    }
    return out;
  }

  /** A version 4 (random) UUID in canonical form, drawn from this stream. */
  uuid(): string {
    const h = (n: number): string => n.toString(16).padStart(8, '0');
    const a = h(this.u32());
    const b = h(((this.u32() & 0xffff0fff) | 0x00004000) >>> 0);
    const c = h(((this.u32() & 0x3fffffff) | 0x80000000) >>> 0);
    const d = h(this.u32());
    return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
  }
}
