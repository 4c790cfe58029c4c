// The user-access primitives' two ways out (MaybeGen): the result itself when
// every page is present, a generator that faults the rest in otherwise -- with
// the same bytes, results and scheduling points either way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gen, MaybeGen } from '../../src/sim/index.js';
import { copyToUser, faultInReadable, userAccess } from '../../src/kernel/mm/uaccess.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import { SIGSEGV, signalResult } from '../../src/kernel/errno.js';
import { proc, runKernel, titles, type Ctx } from './harness.js';

const PAGE = 4096;

/** Runs a MaybeGen to its result, counting the scheduling points it passed. */
function* settle(r: MaybeGen, steps: { n: number; gen: boolean }): Gen<number> {
  if (typeof r === 'number') return r;
  steps.gen = true;
  for (let x = r.next(); ; x = r.next()) {
    if (x.done) return x.value;
    steps.n++;
    yield;
  }
}

/** Two anonymous pages, the first faulted in (written), the second not. */
function* halfPresent(c: Ctx): Gen<number> {
  const a = yield* c.sys('mmap', 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.ok(a > 0);
  assert.equal(yield* c.sys('mem_write', a, 1, 0x11), 1);
  return a;
}

test('copy_to_user: the result itself into present pages, a generator that faults in the rest, the same bytes either way', () => {
  const src = new Uint8Array(PAGE + 100).map((_, i) => (i * 13 + 1) & 0xff);
  const o = runKernel('uaccess-copy', (k) => {
    proc(k, 'p', function* (c) {
      const a = yield* halfPresent(c);
      // Within the present page: no generator, nothing left.
      const fast = { n: 0, gen: false };
      assert.equal(yield* settle(copyToUser(c.k, c.t, c.p, a + 10, src, 0, 200), fast), 0);
      assert.deepEqual(fast, { n: 0, gen: false });
      // Across into the page not yet faulted in: a generator that takes the fault (mmap_lock: a scheduling point).
      const slow = { n: 0, gen: false };
      assert.equal(yield* settle(copyToUser(c.k, c.t, c.p, a + 100, src, 0, src.length), slow), 0);
      assert.ok(slow.gen && slow.n > 0, JSON.stringify(slow));
      const back = yield* c.load(a + 100, src.length);
      assert.deepEqual(back, [...src]);
      // From an offset in the source, across the page boundary: src[srcOff..srcOff+len).
      assert.equal(yield* settle(copyToUser(c.k, c.t, c.p, a + PAGE - 30, src, 1000, 60), { n: 0, gen: false }), 0);
      assert.deepEqual(yield* c.load(a + PAGE - 30, 60), [...src.subarray(1000, 1060)]);
      // Past the end of the mapping: the bytes not copied.
      const tail = { n: 0, gen: false };
      assert.equal(yield* settle(copyToUser(c.k, c.t, c.p, a + 2 * PAGE - 50, src, 0, 150), tail), 100);
      // Outside user space: nothing copied, no generator.
      assert.equal(copyToUser(c.k, c.t, c.p, -PAGE, src, 0, 10), 10);
    });
  });
  assert.deepEqual(titles(o), []);
});

test('userAccess (mem_read/mem_write): the byte count itself over present pages, a generator with SIGSEGV past the mapping', () => {
  const o = runKernel('uaccess-cpu', (k) => {
    proc(k, 'p', function* (c) {
      const a = yield* halfPresent(c);
      const out: number[] = [];
      const fast = { n: 0, gen: false };
      assert.equal(yield* settle(userAccess(c.k, c.t, c.p, a, 16, false, 0, out), fast), 16);
      assert.deepEqual(fast, { n: 0, gen: false });
      assert.deepEqual(out, [0x11, ...new Array(15).fill(0)]);
      // A store across into the second page faults it in; the bytes land on both pages.
      const slow = { n: 0, gen: false };
      assert.equal(yield* settle(userAccess(c.k, c.t, c.p, a + PAGE - 8, 16, true, 0x7f, null), slow), 16);
      assert.ok(slow.gen && slow.n > 0, JSON.stringify(slow));
      assert.deepEqual(yield* c.load(a + PAGE - 8, 16), new Array(16).fill(0x7f));
      // A load running off the mapping: the present part is read, then SIGSEGV.
      const over: number[] = [];
      const bad = { n: 0, gen: false };
      assert.equal(yield* settle(userAccess(c.k, c.t, c.p, a + 2 * PAGE - 4, 8, false, 0, over), bad), signalResult(SIGSEGV));
      assert.ok(bad.gen);
      assert.deepEqual(over, [0, 0, 0, 0]);
      // Beyond user space: SIGSEGV at once.
      assert.equal(userAccess(c.k, c.t, c.p, -1, 1, false, 0, null), signalResult(SIGSEGV));
    });
  });
  assert.deepEqual(titles(o), []);
});

test('fault_in_readable: 0 itself when present, a generator otherwise; the bytes it could not fault in', () => {
  const o = runKernel('uaccess-fir', (k) => {
    proc(k, 'p', function* (c) {
      const a = yield* halfPresent(c);
      assert.equal(faultInReadable(c.k, c.t, c.p, a, PAGE), 0);
      // The frame it entered is left on both ways out.
      const depth = c.t.enter('probe');
      const slow = { n: 0, gen: false };
      assert.equal(yield* settle(faultInReadable(c.k, c.t, c.p, a + PAGE - 1, PAGE + 1), slow), 0);
      assert.ok(slow.gen);
      // Past the mapping's end: the bytes of the page that would not fault in.
      assert.equal(yield* settle(faultInReadable(c.k, c.t, c.p, a + 2 * PAGE - 10, 110), { n: 0, gen: false }), 100);
      assert.equal(c.t.where(), 'probe');
      c.t.leave(depth);
    });
  });
  assert.deepEqual(titles(o), []);
});
