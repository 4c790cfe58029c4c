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

// Functions made per call on hot paths. An arrow function written inside a
// function is a new function object each time that runs; V8 keeps its
// optimized code weakly, so at each full GC after the objects that used it
// are gone the code goes too, and once the site is hot again it is compiled
// again -- a background thread's work, taken from the other worker when two
// run on two cores. The fuzz loop made such functions per execution (the
// filesystems' operations tables, bio and FUSE request completions) and per
// call (mutation's and the executor's map callbacks); they are methods and
// loops now. Counted with `node --log-code` (TurboFan code created after
// warm-up): 428 compiles, 1.49 MB of code, in 8000 executions before; and
// `npm run bench -- fuzz` prints the background threads' share of a core.

/** The comparator of a numeric sort, `xs.sort(ascending)`: one function for every caller. */
export function ascending(a: number, b: number): number {
  return a - b;
}
