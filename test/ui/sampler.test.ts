// The live view's memory between snapshots: rates over a window, a bounded
// history, and the append-only log of findings that <Static> prints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advance, HISTORY_MAX, type SamplerState } from '../../src/ui/sampler.js';
import { STREAM } from './fixtures.js';

function feed(n = STREAM.length): SamplerState {
  let s: SamplerState | null = null;
  for (const x of STREAM.slice(0, n)) s = advance(s, x);
  return s!;
}

test('rates are deltas per wall second over the last second', () => {
  const s = feed(3); // 0 -> 800 execs over 1000 ms
  assert.equal(s.rates.execsPerSec, 800);
  assert.equal(s.rates.callsPerSec, 48_000);
  assert.equal(s.rates.virtualNsPerSec, 16_000_000);
  assert.deepEqual(s.rates.workerExecsPerSec, [400, 400]);
});

test('the first snapshot has zero rates and an empty history', () => {
  const s = feed(1);
  assert.equal(s.rates.execsPerSec, 0);
  assert.deepEqual(s.history, []);
});

test('findings enter the log once, in order of arrival, and the last is the newest', () => {
  const s = feed();
  assert.deepEqual(s.log.map((e) => [e.title, e.atMs]), [['INFO: task hung in shmem_fallocate', 1000], ['possible deadlock in shmem_fault', 1500]]);
  assert.equal(s.newest, 'possible deadlock in shmem_fault');
  const again = advance(s, STREAM[STREAM.length - 1]!);
  assert.equal(again.log, s.log, 'no new finding: the same array, so <Static> prints nothing');
});

test('the sparkline history is bounded', () => {
  let s: SamplerState | null = null;
  for (let i = 0; i < HISTORY_MAX * 3; i++) s = advance(s, { ...STREAM[0]!, wallMs: i * 250, execs: i * 10 });
  assert.equal(s!.history.length, HISTORY_MAX);
});
