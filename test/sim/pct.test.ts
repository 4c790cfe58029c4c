// PCT against uniform random on a crafted depth-2 ordering bug.
//
// Task A performs a 30-step update; between its 15th and 16th step the object
// is half-updated. Task B checks the object once: the bug is B's check
// landing exactly in that gap. Uniform random runs B's first step after
// exactly 15 of A's steps with probability 2^-16. PCT (depth 2, n = 2 tasks,
// k ~ 32 steps) hits it when A starts with the higher priority (1/2) and the
// single change point falls on the 15th step (1/k): about 1/(n*k) = 1/64.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, PctStrategy, RandomStrategy, type Strategy } from '../../src/sim/index.js';

// 1/64 per PCT run: 1000 runs give ~15 expected hits, so the margin does not
// hang on one or two lucky seeds.
const RUNS = 1000;
const A_STEPS = 30;
const GAP_AFTER = 15;

/** One run of the program; true if B observed the half-updated object. */
function runOnce(seed: string | number, strategy: Strategy): boolean {
  const sim = new Sim({ seed, strategy, record: false });
  let aSteps = 0;
  let hit = false;
  sim.spawn('A', function* (t) {
    t.enter('update_object');
    for (let i = 0; i < A_STEPS; i++) {
      aSteps++;
      yield;
    }
  });
  sim.spawn('B', function* (t) {
    t.enter('check_object');
    if (aSteps === GAP_AFTER) hit = true; // the single check, in B's first step
  });
  const r = sim.run();
  assert.equal(r.outcome, 'completed');
  assert.deepEqual(r.reports, []);
  assert.equal(r.steps, A_STEPS + 2, 'A: 30 yields and its return; B: one step');
  return hit;
}

test('PCT (depth 2) finds a depth-2 ordering bug clearly more often than uniform random', () => {
  const seeds = Array.from({ length: RUNS }, (_, i) => `pct-vs-random-${i}`);

  let randomHits = 0;
  for (const seed of seeds) if (runOnce(seed, new RandomStrategy())) randomHits++;

  // One strategy object across runs: it learns k from the longest run seen.
  const pct = new PctStrategy(2, 1);
  let pctHits = 0;
  for (const seed of seeds) if (runOnce(seed, pct)) pctHits++;
  assert.equal(pct.estimatedSteps, A_STEPS + 2, 'PCT estimated the run length');

  const rate = (h: number): string => `${h}/${RUNS} = ${((100 * h) / RUNS).toFixed(2)}%`;
  console.log(`depth-2 ordering bug: random hit it in ${rate(randomHits)} runs, PCT(depth 2) in ${rate(pctHits)} runs`);
  console.log(`  (expected: random 2^-16 per run, PCT about 1/(n*k) = 1/${2 * (A_STEPS + 2)})`);

  assert.ok(pctHits >= 3, `PCT must hit the bug a few times (hit ${pctHits})`);
  assert.ok(pctHits >= 3 * randomHits, `PCT (${pctHits}) must beat random (${randomHits}) at least 3x`);
  assert.ok(pctHits > randomHits);
});

test('PCT (depth 3) also finds it clearly more often than uniform random', () => {
  const seeds = Array.from({ length: RUNS }, (_, i) => `pct3-vs-random-${i}`);
  let randomHits = 0;
  for (const seed of seeds) if (runOnce(seed, new RandomStrategy())) randomHits++;
  const pct = new PctStrategy(3, 1);
  let pctHits = 0;
  for (const seed of seeds) if (runOnce(seed, pct)) pctHits++;
  console.log(`depth-2 ordering bug: random ${randomHits}/${RUNS}, PCT(depth 3) ${pctHits}/${RUNS}`);
  assert.ok(pctHits >= 3, `PCT must hit the bug a few times (hit ${pctHits})`);
  assert.ok(pctHits >= 3 * randomHits);
});

test('PCT replaces an initial step estimate far above the run length by the run length it observes', () => {
  // k is the initial guess only until a run has been seen; afterwards it is
  // the longest run so far (shuttle/Coyote), so a bad guess costs one run.
  const seeds = Array.from({ length: RUNS }, (_, i) => `pct-vs-random-${i}`);
  const guessed = new PctStrategy(2, 1000);
  assert.equal(guessed.estimatedSteps, 1000);
  let hits = 0;
  for (const seed of seeds) if (runOnce(seed, guessed)) hits++;
  assert.equal(guessed.estimatedSteps, A_STEPS + 2);
  const learned = new PctStrategy(2, 1);
  let learnedHits = 0;
  for (const seed of seeds) if (runOnce(seed, learned)) learnedHits++;
  console.log(`PCT(depth 2): initial estimate 1000 -> ${hits}/${RUNS}; initial estimate 1 -> ${learnedHits}/${RUNS}`);
  assert.ok(hits >= 3, `a bad initial guess still finds the bug (${hits} hits)`);
  assert.ok(Math.abs(hits - learnedHits) <= Math.max(5, learnedHits / 2), `${hits} vs ${learnedHits}`);
});

test('PCT runs are deterministic for a seed', () => {
  const a: boolean[] = [];
  const b: boolean[] = [];
  const p1 = new PctStrategy(2, A_STEPS + 2);
  const p2 = new PctStrategy(2, A_STEPS + 2);
  for (let i = 0; i < 50; i++) a.push(runOnce(`det-${i}`, p1));
  for (let i = 0; i < 50; i++) b.push(runOnce(`det-${i}`, p2));
  assert.deepEqual(a, b);
});
