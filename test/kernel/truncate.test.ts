// truncate_inode_pages_range's restart (mm/truncate.c's second loop): a page
// instantiated behind the cursor while the truncation runs is removed by a
// later scan from the start. The loop ends when a scan from the start finds
// nothing, or when a batch took the range's last page (while (index < end);
// see test/fuzz/regressions.test.ts for a virtiofs punch that relies on it).
// shmem_undo_range's hole punch (restart false) makes one pass and is done.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKernel, proc, scratch } from './harness.js';
import { filemapAddPage, truncateInodePagesRange } from '../../src/kernel/fs/filemap.js';
import { O_CREAT, O_RDWR } from '../../src/kernel/fs/inode.js';
import { PAGE_SIZE } from '../../src/kernel/page.js';

/** Pages left in the range after a truncation during which another task refilled index 0, behind the cursor. */
function refillBehindCursor(restart: boolean, seed: string): { left: number[]; refilled: boolean } {
  let left: number[] = [];
  let refilled = false;
  const o = runKernel(seed, (k) => {
    let ready = false;
    let done = false;
    let fd = -1;
    proc(k, 'p',
      function* (c) {
        // The truncating thread: waits for the four pages and for page 2 to be held.
        while (!ready) yield;
        const file = c.p.fds[fd]!;
        yield* truncateInodePagesRange(k, c.t, file.inode.mapping, 0, 4 * PAGE_SIZE - 1, restart);
        left = file.inode.mapping.indicesIn(0, 3);
        done = true;
      },
      function* (c) {
        fd = yield* c.sys('open', '/dev/shm/trunc', O_RDWR | O_CREAT);
        assert.ok(fd >= 0);
        const buf = yield* scratch(c, 4);
        assert.equal(yield* c.sys('pwrite64', fd, buf, 4 * PAGE_SIZE, 0), 4 * PAGE_SIZE);
        const mapping = c.p.fds[fd]!.inode.mapping;
        const page2 = mapping.pages.get(2)!;
        k.getPage(page2);
        yield* page2.lock(k.sim);
        ready = true;
        // Let the truncation remove pages 0 and 1 and block on page 2.
        while (mapping.pages.has(0) || mapping.pages.has(1)) yield;
        const np = (yield* k.allocPage(c.t, mapping, 0, false))!;
        filemapAddPage(k, c.t, mapping, np, 0);
        np.uptodate = true;
        np.unlock(k.sim);
        k.putPage(np);
        refilled = true;
        page2.unlock(k.sim);
        k.putPage(page2);
        while (!done) yield;
      });
  });
  assert.deepEqual(o.r.reports.map((x) => x.title), [], seed);
  return { left, refilled };
}

test('truncate_inode_pages_range scans again from the start until no page is left', () => {
  for (const seed of ['a', 'b', 'c']) {
    const r = refillBehindCursor(true, seed);
    assert.ok(r.refilled, seed);
    assert.deepEqual(r.left, [], `seed ${seed}`);
  }
});

test('a single pass (shmem hole punch) leaves a page refilled behind its cursor', () => {
  for (const seed of ['a', 'b', 'c']) {
    const r = refillBehindCursor(false, seed);
    assert.ok(r.refilled, seed);
    assert.deepEqual(r.left, [0], `seed ${seed}`);
  }
});
