// Property: random single- and multi-process programs on the fixed kernel
// keep every invariant and produce no report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { titles } from './harness.js';
import { randomProgram } from './random-program.js';

test('random multi-process programs on the fixed kernel keep every invariant and report nothing', () => {
  const failures: string[] = [];
  let steps = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const o = randomProgram(seed);
    steps += o.r.steps;
    const ts = titles(o);
    if (o.r.outcome !== 'completed' || ts.length > 0) failures.push(`seed ${seed}: ${o.r.outcome} ${ts.join('; ')}`);
  }
  console.log(`400 random programs, ${steps} scheduling steps`);
  assert.deepEqual(failures.slice(0, 5), []);
});
