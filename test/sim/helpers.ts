// Shared helpers for the engine's tests.

import assert from 'node:assert/strict';
import type { Gen, RunResult } from '../../src/sim/index.js';

/** Spin (yielding) until cond holds; a bounded spin so a broken primitive fails fast. */
export function* until(cond: () => boolean, limit = 20_000): Gen<void> {
  for (let i = 0; !cond(); i++) {
    if (i >= limit) throw new Error('until: condition never became true');
    yield;
  }
}

/** n preemption points. */
export function* pause(n: number): Gen<void> {
  for (let i = 0; i < n; i++) yield;
}

/** "kind: title" of every report. */
export function titles(r: RunResult): string[] {
  return r.reports.map((x) => `${x.kind}: ${x.title}`);
}

export function assertClean(r: RunResult, msg = ''): void {
  assert.deepEqual(titles(r), [], `the run must produce no report ${msg}`);
  assert.equal(r.outcome, 'completed', msg);
}
