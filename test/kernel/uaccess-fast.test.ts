// The load/store fast path (userAccessMapped) must be exactly the generator
// path for a range that faults nowhere, and touch nothing for one that does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proc, runKernel, type Ctx } from './harness.js';
import { userAccessMapped } from '../../src/kernel/mm/uaccess.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import type { Gen } from '../../src/sim/index.js';

const PS = 4096;

test('userAccessMapped: mapped pages are loaded and stored at once; a range that would fault is left untouched', () => {
  let checked = false;
  const o = runKernel(1, (k) => {
    proc(k, 'p', function* (c: Ctx): Gen<void> {
      const a = yield* c.sys('mmap', 0, 3 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      assert.ok(a > 0);
      // Page 0 faulted in by the generator path; pages 1 and 2 never touched.
      assert.equal(yield* c.sys('mem_write', a, 100, 0x11), 100);
      const mm = c.p.mm;
      const pte0 = mm.pt.get(Math.floor(a / PS))!;
      assert.ok(pte0 !== undefined);
      // Within page 0: done here, as the generator would have done it.
      pte0.young = false;
      assert.equal(userAccessMapped(c.p, a + 50, 200, true, 0x22), 200);
      assert.equal(pte0.young, true);
      assert.deepEqual(yield* c.load(a + 48, 4), [0x11, 0x11, 0x22, 0x22]);
      assert.equal(userAccessMapped(c.p, a, 10, false, 0), 10);
      // Across into page 1, not present: nothing done, not even the accessed bit of page 0.
      pte0.young = false;
      assert.equal(userAccessMapped(c.p, a + PS - 8, 16, true, 0x33), -1);
      assert.equal(pte0.young, false);
      assert.deepEqual(yield* c.load(a + PS - 8, 4), [0, 0, 0, 0]);
      // Bad ranges and zero lengths answer as the generator does (signals from the generator).
      assert.equal(userAccessMapped(c.p, -1, 4, false, 0), -1);
      assert.equal(userAccessMapped(c.p, a, 0, true, 0x44), 0);
      // Once page 1 is faulted in, the same store goes through whole.
      assert.equal(yield* c.sys('mem_read', a + PS, 1), 1);
      assert.equal(userAccessMapped(c.p, a + PS - 8, 16, false, 0), 16);
      // Read-only mapping: a store would fault, a load does not.
      assert.equal(yield* c.sys('mprotect', a, PS, PROT_READ), 0);
      assert.equal(userAccessMapped(c.p, a, 8, true, 0x55), -1);
      assert.equal(userAccessMapped(c.p, a, 8, false, 0), 8);
      checked = true;
    });
  });
  assert.equal(o.r.reports.length, 0, JSON.stringify(o.r.reports.map((r) => r.title)));
  assert.ok(checked);
});
