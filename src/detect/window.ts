/**
 * Sliding windows keyed by a string (a principal, an address): events with a time, a value and
 * the audit entry that carried them, kept for `spanMs`. Bounded: the oldest keys go first.
 */
export class SlidingWindows<V = string> {
  readonly #spanMs: number;
  readonly #maxKeys: number;
  readonly #events = new Map<string, { at: number; value: V; seq: number }[]>();

  constructor(spanMs: number, maxKeys = 50_000) {
    this.#spanMs = spanMs;
    this.#maxKeys = maxKeys;
  }

  /** Adds an event and returns the key's events still inside the window. */
  add(key: string, at: number, value: V, seq: number): readonly { at: number; value: V; seq: number }[] {
    let list = this.#events.get(key);
    if (list === undefined) {
      if (this.#events.size >= this.#maxKeys) {
        const oldest = this.#events.keys().next().value;
        if (oldest !== undefined) this.#events.delete(oldest);
      }
      list = [];
      this.#events.set(key, list);
    }
    list.push({ at, value, seq });
    const from = at - this.#spanMs;
    let drop = 0;
    while (drop < list.length && (list[drop]?.at ?? 0) < from) drop++;
    if (drop > 0) list.splice(0, drop);
    return list;
  }

  /** Forgets a key (after an alert, so one burst makes one alert). */
  reset(key: string): void {
    this.#events.delete(key);
  }
}

/** The distinct values of a window's events. */
export function distinct<V>(events: readonly { value: V }[]): Set<V> {
  return new Set(events.map((e) => e.value));
}
