// Pausing a session (the live view's 'p'): no executions while paused, the
// run goes on after resume, and stop still ends a paused run -- inline and
// with worker threads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_FUZZ_CONFIG } from '../../src/fuzz/fuzzer.js';
import { Session } from '../../src/fuzz/session.js';

const sink = { record: () => ({ isNew: true }), addCorpus: () => {} };

async function until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

for (const workers of [1, 2]) {
  test(`a paused session (${workers} worker${workers > 1 ? 's' : ''}) executes nothing until resumed, and stop ends it`, async () => {
    const s = new Session({ ...DEFAULT_FUZZ_CONFIG, seed: 'pause' }, { workers, maxExecs: Number.POSITIVE_INFINITY, durationMs: 60_000, stopOnFirst: false }, sink);
    const done = s.run();
    await until(() => s.stats().execs > 0, 'the first executions');
    s.pause();
    // Let the slices under way finish and report (worker threads report every 250 ms).
    await sleep(600);
    const held = s.stats().execs;
    await sleep(600);
    assert.equal(s.stats().execs, held, 'no executions while paused');
    s.resume();
    await until(() => s.stats().execs > held, 'executions after resume');
    s.pause();
    s.stop();
    const final = await done;
    assert.ok(final.execs > held);
  });
}
