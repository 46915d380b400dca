/**
 * A fixed-window request counter per key (the caller's address): at most `limit` requests in each
 * `windowMs`. Kept in memory and bounded in size; enough to keep one address from flooding an
 * expensive endpoint (each token request runs a scrypt check of about 32 MiB).
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number, windowMs: number, now: () => number = () => Date.now()) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts one request; returns the seconds to wait when over the limit, else 0. */
  take(key: string): number {
    const now = this.#now();
    let w = this.#windows.get(key);
    if (w === undefined || now - w.start >= this.#windowMs) {
      if (this.#windows.size >= 100_000) this.#sweep(now);
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count++;
    return w.count > this.#limit ? Math.max(1, Math.ceil((w.start + this.#windowMs - now) / 1000)) : 0;
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) if (now - w.start >= this.#windowMs) this.#windows.delete(k);
    if (this.#windows.size >= 100_000) this.#windows.clear();
  }
}
