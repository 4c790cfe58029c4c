// The fuzz loop's feedback beyond plain coverage: the session-wide lock-order
// graph that composes programs whose dependencies close a cycle together,
// coverage counted per call context, and the generation/mutation balance.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LockOrderGraph } from '../../src/fuzz/lockorder.js';
import { SourceYield } from '../../src/fuzz/fuzzer.js';
import { execute } from '../../src/fuzz/execute.js';
import { parseProgram } from '../../src/fuzz/format.js';
import { validate, type Program } from '../../src/fuzz/program.js';

const corpusFile = (name: string): Program =>
  parseProgram(readFileSync(fileURLToPath(new URL(`../../../corpus/${name}`, import.meta.url)), 'utf8'), name);

/** The program with only process `pi`, under its own seed. */
function oneProc(p: Program, pi: number, seed: string, options: Record<string, string> = p.header.options): Program {
  return { header: { ...p.header, seed, options }, procs: [p.procs[pi]!] };
}

const stub = (seed: string, options: Record<string, string> = {}): Program => ({
  header: { profile: 'default', seed, strategy: 'random', options },
  procs: [{ threads: [{ calls: [{ name: 'open', args: [{ kind: 'str', value: '/tmp/victim0' }, { kind: 'int', value: 2 }, { kind: 'int', value: 0 }], ret: 0, props: {} }] }] }],
});

test('two programs whose dependencies close a cycle are composed into one', () => {
  const g = new LockOrderGraph();
  assert.deepEqual(g.add(stub('a', { memoryPages: '64' }), ['A -> B']), []);
  assert.deepEqual(g.add(stub('b'), ['C -> D']), []);
  const out = g.add(stub('c', { memoryPages: '24', kswapd: '1' }), ['B -> A']);
  assert.equal(out.length, 1);
  const p = out[0]!;
  assert.equal(p.procs.length, 2, 'one process from each contributor');
  assert.deepEqual(validate(p), []);
  // Results renumbered apart: each process keeps its own fd.
  assert.deepEqual(p.procs.map((pr) => pr.threads[0]!.calls[0]!.ret), [0, 1]);
  assert.equal(p.header.options.memoryPages, '24', 'the smallest memory budget');
  assert.equal(p.header.options.kswapd, '1');
  // A cycle one program closes by itself is left to lockdep in that run.
  assert.deepEqual(g.add(stub('e'), ['E -> F', 'F -> E']), []);
  assert.equal(g.size, 5);
});

test('a cycle whose composition did not report is composed again with each program that records one of its dependencies, up to four times', () => {
  const g = new LockOrderGraph();
  const a = stub('a');
  g.add(a, ['A -> B']);
  const [first] = g.add(stub('b'), ['B -> A']);
  assert.ok(first !== undefined);
  // Another program records B -> A: the cycle again, with it in that place.
  const d = stub('d', { memoryPages: '32' });
  const again = g.add(d, ['B -> A']);
  assert.equal(again.length, 1);
  assert.equal(again[0]!.header.options.memoryPages, '32', 'the new recorder is in it');
  // The same program recording it again brings nothing new.
  assert.deepEqual(g.add(d, ['B -> A']), []);
  // Two more recorders, two more compositions; then the cycle is given up.
  assert.equal(g.add(stub('e'), ['A -> B']).length, 1);
  assert.equal(g.add(stub('f'), ['B -> A']).length, 1);
  assert.deepEqual(g.add(stub('g'), ['A -> B']), []);
  // Two open cycles through one dependency: both composed again, also when
  // the first is given up on the way.
  const t = new LockOrderGraph();
  t.add(stub('a'), ['A -> B']);
  assert.equal(t.add(stub('b'), ['B -> A']).length, 1);
  t.add(stub('c'), ['B -> C']);
  assert.equal(t.add(stub('d'), ['C -> A']).length, 1, 'A -> B -> C -> A');
  assert.equal(t.add(stub('e'), ['B -> A']).length, 1);
  assert.equal(t.add(stub('f'), ['B -> A']).length, 1);
  assert.equal(t.add(stub('g'), ['A -> B']).length, 2, 'the first cycle\'s fourth composition, the second\'s second');
  assert.equal(t.add(stub('h'), ['A -> B']).length, 1);
  // A reported cycle is never composed again.
  const h = new LockOrderGraph();
  h.add(stub('a'), ['A -> B']);
  const [c] = h.add(stub('b'), ['B -> A']);
  h.reported(c!);
  assert.deepEqual(h.add(stub('d'), ['B -> A']), []);
});

test('a cycle longer than the composition limit is not composed', () => {
  const g = new LockOrderGraph();
  const names = ['A', 'B', 'C', 'D', 'E'];
  for (let i = 0; i < 4; i++) assert.deepEqual(g.add(stub(`s${i}`), [`${names[i]} -> ${names[i + 1]}`]), []);
  assert.deepEqual(g.add(stub('s4'), ['E -> A']), []);
});

test('entry C split into its three processes: each run alone is silent; the graph composes them and lockdep reports the cycle', () => {
  const c = corpusFile('c-spf-vm-sequence.prog');
  const title = /^possible circular locking dependency: &mapping->i_mmap_rwsem, &vma->vm_sequence, fs_reclaim$/;
  const g = new LockOrderGraph();
  const composed: Program[] = [];
  for (let pi = 0; pi < c.procs.length; pi++) {
    const p = oneProc(c, pi, `part${pi}`);
    const r = execute(p);
    assert.deepEqual(r.reports.map((x) => x.title), [], `process ${pi} alone`);
    composed.push(...g.add(p, r.lockOrder));
  }
  assert.equal(composed.length, 1, 'the last process closes the cycle');
  const p = composed[0]!;
  assert.equal(p.procs.length, 3);
  assert.equal(p.header.options.memoryPages, '16');
  let hits = 0;
  for (let s = 0; s < 5; s++) if (execute({ ...p, header: { ...p.header, seed: `composed${s}` } }).reports.some((x) => title.test(x.title))) hits++;
  assert.ok(hits >= 4, `the composed program reported the cycle in ${hits}/5 runs`);
});

test('on the fixed profile (raw vm_sequence writes) the same parts record no cycle to compose', () => {
  const c = corpusFile('c-spf-vm-sequence.prog');
  const g = new LockOrderGraph();
  for (let pi = 0; pi < c.procs.length; pi++) {
    const p = { ...oneProc(c, pi, `fixed${pi}`), header: { ...c.header, profile: 'spf-raw', seed: `fixed${pi}` } };
    const r = execute(p);
    assert.deepEqual(g.add(p, r.lockOrder), []);
  }
});

test('coverage is also counted per call context: a write() faulting on its shmem buffer is its own signal', () => {
  const p = corpusFile('d1-shmem-take1-i-mutex.prog');
  const r = execute({ ...p, header: { ...p.header, profile: 'default' } });
  assert.ok(r.coverage.includes('shmem:fault'));
  assert.ok(r.coverageInContext.includes('shmem:fault@write'), r.coverageInContext.filter((x) => x.startsWith('shmem')).join(' '));
  assert.ok(!r.coverageInContext.includes('shmem:fault@mem_write'));
  for (const x of r.coverageInContext) assert.ok(r.coverage.includes(x.slice(0, x.lastIndexOf('@'))), x);
});

test('generation gets the executions when mutants stop finding signal, and the other way round, within 10-90%', () => {
  const y = new SourceYield();
  assert.equal(y.generateChance(), 0.5);
  for (let i = 0; i < 500; i++) {
    y.record(true, i % 5 === 0);
    y.record(false, false);
  }
  assert.equal(y.generateChance(), 0.9);
  for (let i = 0; i < 2000; i++) {
    y.record(true, false);
    y.record(false, i % 3 === 0);
  }
  assert.equal(y.generateChance(), 0.1);
});
