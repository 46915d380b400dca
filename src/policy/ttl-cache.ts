/**
 * Answers kept for a short while by key (care relationships, Consents, detection's facts). The
 * promise is kept, so callers asking at once share one computation; a failed one is not kept.
 * Past `maxEntries` it starts again empty rather than tracking use.
 */
export class TtlCache<V> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(ttlMs: number, maxEntries: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get(key: string, make: () => Promise<V>): Promise<V> {
    const t = this.#now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && t - hit.at < this.#ttlMs) return hit.value;
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    const value = make();
    const entry = { at: t, value };
    this.#entries.set(key, entry);
    value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.#entries.clear();
  }
}
