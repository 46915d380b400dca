import { holdsConditionalReference } from './references.js';

/** What deciding a window needs to know of one entry. */
export interface WindowEntry {
  /** What the entry writes, as its request names it (`Type/id`, or a condition); none for a plain create. */
  readonly target?: string | undefined;
  /** The resource it writes, whose conditional references are looked up before the write. */
  readonly resource?: unknown;
  /** A read: it runs in a window of its own, and so sees exactly what the entries before it wrote. */
  readonly read?: boolean;
}

/**
 * Where a window of entries that each stand alone (a batch's entries) ends when it starts at
 * `start`. The entries of a window are handed to the store at once, and it commits them together,
 * each in a savepoint of its own. A window holds at most `size` entries, and ends before the
 * first whose outcome could depend on the others being stored first, as they would be one by one:
 * - one holding a conditional reference, which is looked up before the store takes the entries
 *   (what the window's earlier entries create would not be found yet);
 * - a read, which also ends its own window: it reads once its transaction has committed, with
 *   the window's;
 * - one whose target an earlier entry of the window names: it is planned once that one is stored,
 *   instead of being planned again after the window (a repeated condition would have changed).
 * The entries hand their transactions to the store in entry order (turns), however long each
 * took to plan. Other conditions of conditional creates, updates and deletes need no cut: the
 * transaction resolves them again under the write lock, and plans an entry anew when they changed.
 */
export function windowEnd<T>(items: readonly T[], start: number, size: number, describe: (item: T) => WindowEntry): number {
  const targets = new Set<string>();
  let end = start;
  for (; end < items.length && end - start < size; end++) {
    const entry = describe(items[end] as T);
    if (entry.read === true) return end === start ? end + 1 : end;
    if (end > start && holdsConditionalReference(entry.resource)) break;
    if (entry.target === undefined) continue;
    if (targets.has(entry.target)) break;
    targets.add(entry.target);
  }
  return end;
}

/** An entry's turn to hand its transaction to the store: after the entry before it has. */
export interface Turn {
  /** Resolves once every entry before this one has handed its transaction over, or failed before it could. */
  wait(): Promise<void>;
  /** This entry has handed its transaction over (or never will); safe to call more than once. */
  pass(): void;
}

/** Turns for a window of `n` entries, so that their transactions reach the store in entry order. */
function turns(n: number): Turn[] {
  const out: Turn[] = [];
  let previous: Promise<void> = Promise.resolve();
  for (let i = 0; i < n; i++) {
    const before = previous;
    let pass: () => void = () => undefined;
    previous = new Promise<void>((resolve) => {
      pass = resolve;
    });
    out.push({ wait: () => before, pass });
  }
  return out;
}

/**
 * Runs entries window by window (windowEnd): a window's entries side by side, each with its turn
 * (passed when its run ends, whatever happened), then `settled` with the window's outcomes in entry
 * order, before the next window starts (it may throw to stop there).
 */
export async function runInWindows<T, R>(
  items: readonly T[],
  size: number,
  describe: (item: T) => WindowEntry,
  run: (item: T, turn: Turn) => Promise<R>,
  settled: (items: readonly T[], outcomes: readonly PromiseSettledResult<R>[]) => void,
): Promise<void> {
  for (let start = 0; start < items.length; ) {
    const end = windowEnd(items, start, size, describe);
    const part = items.slice(start, end);
    start = end;
    const order = turns(part.length);
    const outcomes = await Promise.allSettled(
      part.map(async (item, i) => {
        const turn = order[i] as Turn;
        try {
          return await run(item, turn);
        } finally {
          // An entry that failed before reaching the store lets the next one go.
          turn.pass();
        }
      }),
    );
    settled(part, outcomes);
  }
}
