// fail_page_alloc-style fault injection (option failAllocRate): allocations
// fail at random, drawn from the run's fault stream. The fixed kernel must
// turn every failure into the errno or signal Linux gives (ENOMEM, SIGBUS,
// the OOM kill of a user fault) without breaking an invariant, and a run
// with injection replays exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/sim/index.js';
import { ChoiceTable, generate, DEFAULT_VICTIMS } from '../../src/fuzz/generate.js';
import { execute } from '../../src/fuzz/execute.js';
import { parseProgram, formatProgram } from '../../src/fuzz/format.js';
import type { Program } from '../../src/fuzz/program.js';
import { SYSCALL_DESCS } from '../../syscalls/index.js';

const enabled = new Set(SYSCALL_DESCS.map((d) => d.name));
const cfg = { procs: 2, threads: 2, calls: 12, victims: DEFAULT_VICTIMS, enabled };

function programs(n: number, rate: string): Program[] {
  const rng = new Rng('injection');
  const ct = new ChoiceTable(enabled);
  const out: Program[] = [];
  for (let i = 0; i < n; i++) {
    out.push(generate(rng, cfg, ct, { profile: 'default', seed: `inj-${i}`, strategy: i % 2 ? 'pct:3' : 'random', options: { failAllocRate: rate } }));
  }
  return out;
}

test('random programs with allocations failing at random keep every invariant on the fixed kernel', () => {
  let failedCalls = 0;
  let injected = 0;
  for (const p of programs(150, '0.2')) {
    const r = execute(p);
    assert.deepEqual(r.reports.map((x) => `${x.kind}: ${x.title}`), [], formatProgram(p));
    if (r.coverage.includes('alloc:injected')) injected++;
    failedCalls += r.results.filter((c) => c.ret !== null && c.ret < 0).length;
  }
  assert.ok(injected >= 30, `injection fired in ${injected}/150 runs`);
  assert.ok(failedCalls > 0);
});

test('injected allocation failures surface as the errno Linux gives', () => {
  const text = [
    'profile: default',
    'seed: 1',
    'strategy: random',
    'option: failAllocRate=1',
    '',
    'proc 0:',
    '  thread 0:',
    '    r0 = open("/tmp/f", O_RDWR|O_CREAT)',
    '    fallocate(r0, 0x0, 0x0, 0x4000)',
    '    write(r0, 0x20000000, 0x10)',
  ].join('\n');
  const r = execute(parseProgram(text, 'inline.prog'));
  assert.deepEqual(r.reports, []);
  // tmpfs: shmem_fallocate turns ENOMEM into ENOSPC, as Linux does. The
  // write's source buffer is not faulted in yet: the kernel-mode fault's
  // anonymous page cannot be allocated (VM_FAULT_OOM), the uaccess fixup
  // runs and the write fails with EFAULT.
  assert.deepEqual(r.results.map((c) => c.ret), [0, -28, -14]);
});

test('a run with injection replays to the same trace hash and results', () => {
  for (const p of programs(20, '0.05')) {
    const a = execute(p);
    const b = execute(parseProgram(formatProgram({ ...p, header: { ...p.header, schedule: a.schedule ?? undefined } })), { replay: true });
    assert.equal(b.traceHash, a.traceHash);
    assert.deepEqual(b.results, a.results);
  }
});
