// Weighted draws over a list that only grows: running sums of the weights,
// and a binary search for where a uniform draw lands.

import type { Rng } from '../sim/index.js';

/** Appends an item's weight to the running sums. */
export function pushSum(sums: number[], w: number): void {
  sums.push((sums[sums.length - 1] ?? 0) + w);
}

/** The index of an item drawn in proportion to its weight (the sums must end above 0). */
export function drawIndex(rng: Rng, sums: ArrayLike<number>): number {
  const x = rng.float() * sums[sums.length - 1]!;
  let lo = 0;
  let hi = sums.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sums[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
