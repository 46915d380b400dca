import type { Store } from '../../store/index.js';

/**
 * The newest audit sequence number (or `after` when there is none beyond it), found with
 * O(log n) one-row reads: the store has no "max seq" query, and the progress bar needs a total.
 */
export async function lastAuditSeq(store: Pick<Store, 'readAuditBySeq'>, after = 0): Promise<number> {
  const exists = async (seq: number): Promise<boolean> => (await store.readAuditBySeq(seq, 1)).length > 0;
  if (!(await exists(after + 1))) return after;
  // Invariant: some entry has seq >= lo; none has seq >= hi.
  let lo = after + 1;
  let step = 1024;
  let hi = lo + step;
  while (await exists(hi)) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await exists(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
