// The fuzzer's signal ids: stable hashes of the names a run reports, so
// that ids stored with a corpus program (and merged by corpus
// minimization) mean the same in every process and session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignalTable, signalId } from '../../src/fuzz/signal.js';
import { execute } from '../../src/fuzz/execute.js';
import { parseProgram } from '../../src/fuzz/format.js';
import type { Program } from '../../src/fuzz/program.js';

const corpusFile = (name: string): Program =>
  parseProgram(readFileSync(fileURLToPath(new URL(`../../../corpus/${name}`, import.meta.url)), 'utf8'), name);

test('signal ids are FNV-1a 32 of the names (golden values)', () => {
  assert.equal(signalId(''), 0x811c9dc5);
  assert.equal(signalId('a'), 0xe40c292c);
  assert.equal(signalId('c:fault:no-vma'), signalId('c:fault:no-vma'));
  assert.notEqual(signalId('c:fault:no-vma'), signalId('x:fault:no-vma'));
});

test("a run's signal is the ids of its cover points, in context, interleavings and lock dependencies, in that order", () => {
  const r = execute(corpusFile('a-fuse-write-deadlock.prog'));
  const names = [
    ...r.coverage.map((x) => `c:${x}`),
    ...r.coverageInContext.map((x) => `x:${x}`),
    ...r.interleavings.map((x) => `i:${x}`),
    ...r.lockOrder.map((x) => `l:${x}`),
  ];
  assert.ok(r.coverage.length > 0 && r.coverageInContext.length >= r.coverage.length);
  // Once from fresh slots, once from the slots the first run filled.
  const t = new SignalTable();
  assert.deepEqual(t.of(r), names.map(signalId));
  assert.deepEqual(t.of(r), names.map(signalId));
});

test('unseen signal: what the session lacks, until it is added', () => {
  const p = corpusFile('a-fuse-write-deadlock.prog');
  const a = execute(p);
  const b = execute(corpusFile('e1-lockless-map-pages.prog'));
  const t = new SignalTable();
  const all = t.of(a);
  assert.deepEqual(t.of(a, true), all);
  t.add(all.slice(0, 3));
  assert.deepEqual(t.of(a, true), all.slice(3));
  assert.equal(t.size, 3);
  t.add(all);
  assert.deepEqual(t.of(a, true), []);
  // Another run: only its ids the session does not have.
  const allB = t.of(b);
  const have = new Set(all);
  assert.deepEqual(t.of(b, true), allB.filter((x) => !have.has(x)));
});
