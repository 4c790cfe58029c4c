// The closing-note scenario of the kernel issue: several processes share a
// tmpfs file, fault, truncate and punch concurrently; every invariant holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proc, runKernel, titles, type Ctx } from './harness.js';
import { O_CREAT, O_RDWR } from '../../src/kernel/fs/inode.js';
import { MAP_SHARED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import { SIGBUS, signalResult } from '../../src/kernel/errno.js';

const PS = 4096;
const FILE = '/tmp/shared';

function* opener(c: Ctx, pages: number): Generator<undefined, [number, number], undefined> {
  const fd = yield* c.sys('open', FILE, O_RDWR | O_CREAT);
  assert.ok(fd >= 0, `open: ${fd}`);
  const r = yield* c.sys('ftruncate', fd, pages * PS);
  assert.equal(r, 0);
  const addr = yield* c.sys('mmap', 0, pages * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.ok(addr > 0, `mmap: ${addr}`);
  return [fd, addr];
}

function scenario(seed: number) {
  return runKernel(seed, (k) => {
    proc(k, 'writer', function* (c) {
      const [fd, a] = yield* opener(c, 8);
      for (let i = 0; i < 8; i++) yield* c.sys('mem_write', a + i * PS, 100, 0x41 + i);
      yield* c.sys('ftruncate', fd, 3 * PS);
      yield* c.sys('ftruncate', fd, 8 * PS);
      yield* c.sys('close', fd);
    });
    proc(k, 'reader', function* (c) {
      const [fd, a] = yield* opener(c, 8);
      for (let i = 0; i < 8; i++) yield* c.load(a + i * PS, 16);
      yield* c.sys('munmap', a + 2 * PS, PS);
      yield* c.sys('close', fd);
    });
    proc(k, 'puncher', function* (c) {
      const [fd, a] = yield* opener(c, 8);
      yield* c.sys('fallocate', fd, 3, 2 * PS, 4 * PS);
      yield* c.load(a + 5 * PS, 8);
      const priv = yield* c.sys('mmap', 0, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      yield* c.sys('mem_write', priv, 10, 0x7a);
      yield* c.sys('close', fd);
    });
  });
}

test('processes sharing a tmpfs file fault, truncate and punch with every invariant holding', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const o = scenario(seed);
    assert.equal(o.r.outcome, 'completed', `seed ${seed}: ${o.r.outcome} ${titles(o).join('; ')}`);
    assert.deepEqual(titles(o), [], `seed ${seed}`);
    assert.equal(o.k.pagesInUse, [...o.k.dentries.values()].reduce((n, i) => n + i.mapping.nrpages, 0), `seed ${seed}: only page-cache pages remain`);
  }
});

test('the same seed gives the same trace hash', () => {
  assert.equal(scenario(7).r.traceHash, scenario(7).r.traceHash);
  assert.notEqual(scenario(7).r.traceHash, scenario(8).r.traceHash);
});

test('an access beyond EOF of a shared file mapping raises SIGBUS, the partial EOF page reads zero past EOF', () => {
  const results: number[] = [];
  let tail: number[] | number = [];
  const o = runKernel(1, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE, O_RDWR | O_CREAT);
      yield* c.sys('ftruncate', fd, 2 * PS);
      const a = yield* c.sys('mmap', 0, 3 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      results.push(yield* c.sys('mem_write', a, 200, 0x41));
      results.push(yield* c.sys('mem_read', a + 2 * PS, 1));
      results.push(yield* c.sys('ftruncate', fd, 100));
      results.push(yield* c.sys('mem_read', a + PS, 1));
      tail = yield* c.load(a + 98, 4);
    });
  });
  assert.deepEqual(titles(o), []);
  assert.deepEqual(results, [200, signalResult(SIGBUS), 0, signalResult(SIGBUS)]);
  assert.deepEqual(tail, [0x41, 0x41, 0, 0]);
});
