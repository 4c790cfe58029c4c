// Hammering, the fuzzer's way of showing livelocks: a lookup that keeps
// racing a truncation retries as often as Linux does (without bound) and
// yields while it does, so on the fixed kernel a hammered reader against a
// hammered hole punch is neither a report nor a simulator error. (Until
// the bound became a preemption point, 19 of these 40 runs ended in
// "simulator-error: filemap_get_pages(0) kept racing with truncation".)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execute } from '../../src/fuzz/execute.js';
import { parseProgram } from '../../src/fuzz/format.js';

const hammered = (path: string, seed: string, strategy: string): string => `profile: default
seed: ${seed}
strategy: ${strategy}
option: maxSteps=20000
option: livenessSteps=20000

proc 0:
  thread 0:
    r0 = open("${path}", O_RDWR)
    fallocate(r0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x12000) (rerun: 20000)
  thread 1:
    r1 = open("${path}", O_RDWR)
    pread64(r1, 0x20000000, 0x1000, 0x0) (rerun: 20000)
`;

test('a hammered reader against a hammered hole punch: no report on the fixed kernel (virtiofs and the block fs)', () => {
  for (const path of ['/mnt/virtiofs/file0', '/data/file0']) {
    for (let s = 0; s < 10; s++) {
      for (const strategy of ['random', 'pct:3']) {
        const r = execute(parseProgram(hammered(path, `h${s}`, strategy)));
        assert.deepEqual(r.reports.map((x) => x.title), [], `${path} seed h${s} ${strategy}`);
        assert.ok(r.calls > 100, 'both calls kept running');
      }
    }
  }
});

const repeated = (rerun: number): string => `profile: default
seed: 1
strategy: random
option: maxSteps=200
option: livenessSteps=4000

proc 0:
  thread 0:
    r0 = open("/tmp/victim0", O_RDWR)
    lseek(r0, 0x0, SEEK_SET) (rerun: ${rerun})
    lseek(r0, 0x1000, SEEK_SET)
`;

test('in the liveness phase a repeated call starts no more runs and the thread goes on; a hammered call keeps running', () => {
  // 200 adversarial steps, then the liveness phase: a thousand reruns stop
  // there (repeating a call is adversarial pressure), and the thread's
  // next call still runs.
  const rep = execute(parseProgram(repeated(1000)));
  assert.equal(rep.outcome, 'completed');
  assert.ok(rep.calls > 50 && rep.calls < 300, `${rep.calls} calls`);
  assert.deepEqual(rep.results.map((c) => [c.name, c.ret]), [['open', 0], ['lseek', 0], ['lseek', 0x1000]]);
  // A hammered call is the workload on trial: it runs on until the liveness budget is spent.
  const hammer = execute(parseProgram(repeated(20000)));
  assert.ok(hammer.calls > 3000, `${hammer.calls} calls`);
});
