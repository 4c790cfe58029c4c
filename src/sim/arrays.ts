// Array edits for hot paths that allocate nothing. Array.prototype.splice
// returns a new array of what it removed, and a small array emptied by
// splice or by a length store has its backing store trimmed, so the next
// push allocates a new one (about 200 bytes per lock release or wake-up);
// moving elements down and popping keeps the backing store.

/** a.splice(i, 1) without the removed-elements array. */
export function removeAt<T>(a: T[], i: number): void {
  const n = a.length;
  for (let j = i + 1; j < n; j++) a[j - 1] = a[j]!;
  a.pop();
}

/** a.splice(i, 0, x) without the (empty) removed-elements array. */
export function insertAt<T>(a: T[], i: number, x: T): void {
  a.push(x);
  for (let j = a.length - 1; j > i; j--) a[j] = a[j - 1]!;
  a[i] = x;
}

/** a.length = 0, keeping the backing store. */
export function clear<T>(a: T[]): void {
  while (a.length > 0) a.pop();
}
