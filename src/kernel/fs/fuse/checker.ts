// The virtiofs data checker, kept apart from the model it judges (as
// blockfs_checker is): at a quiescent point, every page-cache page of a
// virtiofs file that is clean, uptodate, unlocked and not under FUSE
// writeback holds, below i_size, exactly what the server's store holds. A
// difference means readers see data the server does not have, or the server
// has data no reader will see -- a lost or stale write. Files a failed WRITE
// touched are skipped: after a write error Linux too may keep data the
// server never got.
//
// It is not part of the quiescent sweep (invariants.ts): the fuzzer found,
// on the fixed kernel, that a store through a shared mapping during a
// partial-page FALLOC_FL_PUNCH_HOLE can reach the server after the
// FALLOCATE while truncate_pagecache_range then zeroes the cached page --
// and fuse_file_fallocate, like ours, blocks page faults only for DAX. That
// looks like Linux's own behaviour, not the model's; until it is checked on a
// real virtiofs mount, the checker runs from the FUSE tests.

import type { Kernel } from '../../kernel.js';
import type { Violation } from '../../invariants.js';
import { PAGE_SIZE, ZERO_BYTES } from '../../page.js';

export function checkFuse(k: Kernel): Violation[] {
  const out: Violation[] = [];
  for (const [inode, fi] of k.fuse.entries()) {
    if (fi.writeFailed) continue;
    for (const [idx, page] of inode.mapping.pages) {
      if (page.locked || page.dirty || !page.uptodate || fi.writeback.has(idx)) continue;
      const from = idx * PAGE_SIZE;
      const len = Math.min(PAGE_SIZE, inode.size - from);
      if (len <= 0) continue;
      // The store keeps page-sized chunks: compare the page with its chunk in place.
      const want = k.fuse.server.pageImage(inode.path, idx);
      const at = firstDifference(page.data, want, len);
      if (at < 0) continue;
      out.push({
        kind: 'invariant',
        title: 'BUG: clean page-cache page differs from the FUSE server',
        details: `${inode.path} page ${idx}: byte ${from + at} is ${page.byte(at)} in the page cache, ${want === null ? 0 : want[at]} on the server (i_size ${inode.size})`,
      });
      if (out.length >= 8) return out;
    }
  }
  return out;
}

/** The first of `len` bytes where two page images differ (null: zeroes), or -1; memcmp first, then a scan only on a difference. */
function firstDifference(a: Uint8Array | null, b: Uint8Array | null, len: number): number {
  if (a === null && b === null) return -1;
  const x = a ?? ZERO_BYTES;
  const y = b ?? ZERO_BYTES;
  if (Buffer.compare(x.subarray(0, len), y.subarray(0, len)) === 0) return -1;
  for (let i = 0; i < len; i++) if (x[i] !== y[i]) return i;
  return -1;
}
