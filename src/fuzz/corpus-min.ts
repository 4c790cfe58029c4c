// Corpus minimization (afl-cmin, syzkaller's corpus minimization): keep the
// smallest subset of the corpus whose signal -- coverage plus interleaving
// signal -- is the union of everyone's, preferring short programs. Weighted
// greedy set cover (most new signal per call first, lazily re-scored), then
// a pass that drops any kept program the others already cover, longest
// first. The union never shrinks: a program whose signal cannot be computed
// (it no longer parses or runs) is kept as it is.

import { execute, type ExecResult } from './execute.js';
import { callCount, type Program } from './program.js';
import { SignalTable } from './signal.js';

/**
 * A program's signal: its run (replaying its recorded schedule, if it has
 * one that still fits) plus what was recorded for it before. Null if it
 * cannot run.
 */
export function programSignal(p: Program, recorded: readonly number[] = []): number[] | null {
  let r: ExecResult;
  try {
    r = execute(p, { replay: p.header.schedule !== undefined, record: false });
    if (r.divergence !== null) r = execute(p, { record: false });
  } catch {
    return null;
  }
  // Signal ids as the fuzzer computes them (see signal.ts).
  return [...new Set([...new SignalTable().of(r), ...recorded])];
}

export interface CoverItem {
  /** Its signal; null if unknown (always kept). */
  signal: readonly number[] | null;
  /** What keeping it costs: calls (ties broken by `bytes`). */
  calls: number;
  bytes: number;
}

export interface CorpusMinResult {
  /** Indices of the items to keep, in their original order. */
  keep: number[];
  before: { programs: number; signal: number };
  after: { programs: number; signal: number };
}

/** The subset of `items` to keep (see the file comment). */
export function minimizeCorpus(items: readonly CoverItem[]): CorpusMinResult {
  const universe = new Set<number>();
  for (const it of items) if (it.signal) for (const s of it.signal) universe.add(s);
  const cost = (i: number): number => Math.max(1, items[i]!.calls) + items[i]!.bytes / 1e6;
  const chosen = new Set<number>();
  const covered = new Set<number>();
  items.forEach((it, i) => {
    if (it.signal === null) chosen.add(i);
  });
  // Lazy greedy: scores only go down as coverage grows, so a popped item whose
  // fresh score still beats the next best is the true best.
  const heap: [number, number][] = [];
  items.forEach((it, i) => {
    if (it.signal !== null && it.signal.length > 0) heapPush(heap, [new Set(it.signal).size / cost(i), i]);
  });
  while (heap.length > 0 && covered.size < universe.size) {
    const [score, i] = heapPop(heap)!;
    let fresh = 0;
    for (const s of new Set(items[i]!.signal!)) if (!covered.has(s)) fresh++;
    if (fresh === 0) continue;
    const now = fresh / cost(i);
    if (heap.length > 0 && now < heap[0]![0] && now < score) {
      heapPush(heap, [now, i]);
      continue;
    }
    chosen.add(i);
    for (const s of items[i]!.signal!) covered.add(s);
  }
  // Redundancy: drop a kept item whose every signal someone else kept has too.
  const count = new Map<number, number>();
  for (const i of chosen) for (const s of new Set(items[i]!.signal ?? [])) count.set(s, (count.get(s) ?? 0) + 1);
  const byCost = [...chosen].filter((i) => items[i]!.signal !== null).sort((a, b) => cost(b) - cost(a) || b - a);
  for (const i of byCost) {
    const sig = [...new Set(items[i]!.signal!)];
    if (sig.every((s) => count.get(s)! > 1)) {
      chosen.delete(i);
      for (const s of sig) count.set(s, count.get(s)! - 1);
    }
  }
  const keep = [...chosen].sort((a, b) => a - b);
  const after = new Set<number>();
  for (const i of keep) for (const s of items[i]!.signal ?? []) after.add(s);
  if (after.size !== universe.size) throw new Error(`corpus minimization lost signal (${after.size} of ${universe.size}): a bug`);
  return { keep, before: { programs: items.length, signal: universe.size }, after: { programs: keep.length, signal: after.size } };
}

/** Cover items for programs (null: could not be parsed), with their recorded signal. */
export function coverItems(entries: readonly { program: Program | null; text: string; recorded: readonly number[] }[]): CoverItem[] {
  return entries.map((e) => ({
    signal: e.program === null ? null : programSignal(e.program, e.recorded),
    calls: e.program === null ? 0 : callCount(e.program),
    bytes: e.text.length,
  }));
}

// A binary max-heap of [score, index], ties to the lower index.
function better(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function heapPush(h: [number, number][], x: [number, number]): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!better(h[i]!, h[p]!)) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function heapPop(h: [number, number][]): [number, number] | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last !== undefined) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && better(h[l]!, h[m]!)) m = l;
      if (r < h.length && better(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}
