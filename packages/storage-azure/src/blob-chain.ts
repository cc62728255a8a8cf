/**
 * A checkpoint is a chain of append blobs: `<blob>`, then `<blob>.000001`,
 * `<blob>.000002`, … Each blob after the first is created only once the one
 * before it holds its full count of blocks, so the chain has no gaps and
 * every blob but the last is sealed by the block limit.
 */

/** The name of blob `index` of the chain of `base` (`index` 0 is `base` itself). */
export function chainBlobName(base: string, index: number): string {
  return index === 0 ? base : `${base}.${String(index).padStart(6, '0')}`;
}

/**
 * Finds the last blob of a chain in O(log n) probes: exponential steps
 * (1, 2, 4, 8, …) until a probe finds nothing, then a binary search between
 * the last hit and that miss. `probe(index)` returns what it learned about a
 * blob that exists (its properties), or `undefined` for one that does not.
 * Returns `undefined` when the chain's first blob does not exist.
 */
export async function findLast<T>(
  probe: (index: number) => Promise<T | undefined>,
): Promise<{ index: number; value: T } | undefined> {
  const first = await probe(0);
  if (first === undefined) return undefined;
  let lo = 0;
  let loValue = first;
  let hi = 1;
  for (;;) {
    const v = await probe(hi);
    if (v === undefined) break;
    lo = hi;
    loValue = v;
    hi *= 2;
  }
  // lo exists, hi does not; the last blob lies in [lo, hi).
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const v = await probe(mid);
    if (v === undefined) {
      hi = mid;
    } else {
      lo = mid;
      loValue = v;
    }
  }
  return { index: lo, value: loValue };
}
