/**
 * A pacer that lets at most `perSecond` requests start in any second: each caller waits for the
 * next free slot. The scanner is sequential, but the pacer is safe for concurrent callers too.
 * The hospital's systems are production systems; a scan must never look like a flood.
 */
export interface RateLimiterOptions {
  readonly perSecond: number;
  /** Milliseconds since some epoch; tests pin it. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class RateLimiter {
  readonly #interval: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #next = 0;

  constructor(o: RateLimiterOptions) {
    if (!Number.isFinite(o.perSecond) || o.perSecond <= 0) throw new RangeError('perSecond must be a positive number');
    this.#interval = 1000 / o.perSecond;
    this.#now = o.now ?? (() => performance.now());
    this.#sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Resolves when the caller may send its request. */
  async take(): Promise<void> {
    const now = this.#now();
    const slot = Math.max(now, this.#next);
    // Reserve the slot before waiting, so concurrent callers queue behind each other.
    this.#next = slot + this.#interval;
    if (slot > now) await this.#sleep(slot - now);
  }
}
