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
 * - one whose target an earlier entry of the window names, so it is written after that one;
 * - one holding a conditional reference, which is looked up before the store takes the entries
 *   (what the window's earlier entries create would not be found yet);
 * - a read, which also ends its own window.
 * Conditions of conditional creates, updates and deletes need no cut: the transaction resolves
 * them again under the write lock, and plans an entry anew when they changed.
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
