// The blockfs checker, kept apart from the model it judges: entry E2's
// invariant -- every clean, uptodate cached page was filled from the block
// (and block generation) that still backs its offset, or from a hole where
// the file still reads as zeroes. A page cached from the old block map in a
// punch/collapse/insert/zero-range window breaks it.

import type { Kernel } from '../kernel.js';
import type { Violation } from '../invariants.js';

/** Run at quiescent points (no I/O or page lock in flight for the pages it judges). */
export function checkBlockfs(k: Kernel): Violation[] {
  const out: Violation[] = [];
  const fs = k.blockfs;
  // It runs after every quiescent call: keys and values walked side by side,
  // where an entries() walk would allocate a pair per inode and per page.
  const infos = fs.infoList();
  for (const inode of fs.inodeList()) {
    const bi = infos.next().value!;
    const idxs = inode.mapping.pages.keys();
    for (const page of inode.mapping.pages.values()) {
      const idx = idxs.next().value!;
      if (!page.uptodate || page.dirty || page.locked || page.writeback) continue;
      const src = fs.pageSource.get(page);
      if (src === undefined) continue;
      const ext = bi.map.get(idx);
      const fresh = src.block < 0
        ? ext === undefined || ext.unwritten
        : ext !== undefined && !ext.unwritten && ext.block === src.block && ext.gen === src.gen;
      if (fresh) continue;
      const now = ext === undefined ? 'a hole' : `${ext.unwritten ? 'unwritten ' : ''}block ${ext.block} gen ${ext.gen}`;
      out.push({
        kind: 'invariant',
        title: `BUG: stale data after ${bi.changedBy.get(idx) ?? 'block map change'} in ${src.by}`,
        details: `${inode.path}[${idx}] (${page}) is clean and uptodate with data from ${src.block < 0 ? 'a hole' : `block ${src.block} gen ${src.gen}`}, but the offset is now ${now}`,
      });
    }
  }
  return out;
}
