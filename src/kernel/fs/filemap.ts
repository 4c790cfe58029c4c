// The page killers' protocol (mm/truncate.c, mm/memory.c): unmap_mapping_range,
// truncate_inode_pages_range, truncate_pagecache. A page is removed from the
// cache only under its lock, and unmapped under that lock if it is mapped, so
// a fault (which installs its PTE under the same page lock, after checking
// page->mapping) can never leave a PTE to a removed page.

import type { Gen, Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, pageOffset, pageAlign, type Page } from '../page.js';
import { zapRange } from '../mm/memory.js';
import type { AddressSpace, Inode } from './inode.js';
import { lruCacheAdd, lruDel } from '../mm/vmscan.js';

/**
 * unmap_mapping_range over file pages [first, first + nr) (nr 0 = to EOF):
 * zap the PTEs of every VMA in i_mmap, under i_mmap_rwsem for read. With
 * evenCows, private COW copies go too (POSIX wants SIGBUS beyond EOF even
 * for them); hole punch leaves them alone.
 */
export function* unmapMappingRange(k: Kernel, t: Task, mapping: AddressSpace, first: number, nr: number, evenCows: boolean): Gen<void> {
  const d = t.enter('unmap_mapping_range');
  yield* mapping.iMmapRwsem.downRead();
  const last = nr === 0 ? Infinity : first + nr;
  for (const vma of mapping.iMmap) {
    const vFirst = vma.pgoff;
    const vLast = vma.pgoff + vma.pages;
    const lo = Math.max(first, vFirst);
    const hi = Math.min(last, vLast);
    if (lo >= hi) continue;
    const start = vma.start + (lo - vFirst) * PAGE_SIZE;
    const end = vma.start + (hi - vFirst) * PAGE_SIZE;
    zapRange(k, t, vma, start, end, evenCows || vma.shared ? null : mapping);
    // zap_pmd_range's cond_resched: a preemption point per VMA, so the walk
    // costs steps in proportion to |i_mmap| (seed 003: trinity's forks made
    // every single-page unmap of a refaulted page expensive).
    yield;
  }
  k.sim.chargeNs(200 * mapping.iMmap.length);
  mapping.iMmapRwsem.upRead(t);
  t.leave(d);
}

/**
 * filemap_add_folio: insert a freshly allocated page at `index` (the slot
 * must be empty), locked unless `locked` is false (FGP_FOR_MMAP), and take
 * the page cache's reference; the allocation's reference stays the caller's.
 */
export function filemapAddPage(k: Kernel, t: Task, mapping: AddressSpace, page: Page, index: number, locked = true): void {
  if (mapping.pages.has(index)) throw new Error(`filemap_add_folio: index ${index} of ${mapping.host.path} is occupied`);
  if (locked && !page.trylock(k.sim, t)) throw new Error('filemap_add_folio: a new page is already locked');
  mapping.pages.set(index, page);
  page.refcount++;
  lruCacheAdd(k, page);
}

/**
 * delete_from_page_cache: the page is locked and unmapped. A dirty page's
 * data is being thrown away: its dirty state is cancelled first
 * (folio_cancel_dirty), and it leaves the LRU.
 */
export function deleteFromPageCache(k: Kernel, page: Page): void {
  const mapping = page.mapping!;
  if (mapping.pages.get(page.index) === page) mapping.pages.delete(page.index);
  page.dirty = false;
  lruDel(k, page);
  page.mapping = null;
  k.cov.hit('truncate:delete');
  k.putPage(page); // the page cache's reference
}

/** Entries find_get_entries hands back at once (a folio_batch: PAGEVEC_SIZE). */
export const FOLIO_BATCH = 31;

/**
 * truncate_inode_pages_range(lstart, lend): remove whole pages in the byte
 * range [lstart, lend] (lend -1 = to EOF) and zero the partial pages at its
 * edges. Each page is locked, re-checked, unmapped if still mapped
 * (truncate_cleanup_folio) and deleted. Then mm/truncate.c's second loop:
 * from the start, batches of at most 31 pages, each lookup continuing
 * after the previous batch; a lookup that finds nothing after having moved
 * on goes back to the start ("Otherwise restart to make sure all gone"),
 * and the loop ends when a lookup from the start finds nothing -- or when
 * a batch reached the last page of the range (`while (index < end)`). So a
 * page instantiated behind the cursor is removed too, and a hole punch
 * whose range keeps being refilled still ends once a batch takes its last
 * page; a whole-file truncation (no last page) goes on until nothing is
 * left. `restart` false is shmem_undo_range's hole punch, which makes one
 * pass and is done.
 */
export function* truncateInodePagesRange(k: Kernel, t: Task, mapping: AddressSpace, lstart: number, lend: number, restart = true): Gen<void> {
  const d = t.enter('truncate_inode_pages_range');
  const startIdx = Math.ceil(lstart / PAGE_SIZE);
  const endIdx = lend < 0 ? Number.MAX_SAFE_INTEGER : Math.floor((lend + 1) / PAGE_SIZE) - 1;
  // Shadow entries of evicted pages in the range go too (truncate_folio_batch_exceptionals).
  for (const idx of mapping.shadows.keys()) if (idx >= startIdx && idx <= endIdx) mapping.shadows.delete(idx);
  if (endIdx >= startIdx) yield* truncatePages(k, t, mapping, mapping.indicesIn(startIdx, endIdx));
  // Partial pages at the edges are zeroed, not removed.
  const startOff = pageOffset(lstart);
  if (startOff !== 0) yield* zeroPartial(k, mapping, Math.floor(lstart / PAGE_SIZE), startOff, lend >= 0 && Math.floor(lend / PAGE_SIZE) === Math.floor(lstart / PAGE_SIZE) ? pageOffset(lend) + 1 : PAGE_SIZE);
  // The end page, unless the start branch already did it (same page, unaligned start).
  if (lend >= 0 && pageOffset(lend + 1) !== 0 && (startOff === 0 || Math.floor(lend / PAGE_SIZE) !== Math.floor(lstart / PAGE_SIZE))) {
    yield* zeroPartial(k, mapping, Math.floor(lend / PAGE_SIZE), 0, pageOffset(lend) + 1);
  }
  let index = startIdx;
  while (restart && index <= endIdx) {
    const found = mapping.indicesIn(index, endIdx);
    if (found.length === 0) {
      // All gone from the start onwards: done. Else look again from the start.
      if (index === startIdx) break;
      k.cov.hit('truncate:restart');
      index = startIdx;
      continue;
    }
    const batch = found.length > FOLIO_BATCH ? found.slice(0, FOLIO_BATCH) : found;
    index = batch[batch.length - 1]! + 1;
    yield* truncatePages(k, t, mapping, batch);
  }
  t.leave(d);
}

/** One pass of truncate_inode_pages_range over the pages found at `idxs`. */
function* truncatePages(k: Kernel, t: Task, mapping: AddressSpace, idxs: readonly number[]): Gen<void> {
  for (const idx of idxs) {
    const page = yield* lockPageUnmapped(k, t, mapping, idx);
    if (page === null) continue;
    deleteFromPageCache(k, page);
    page.unlock(k.sim);
    k.putPage(page);
  }
}

/**
 * The page killers' first steps on one index (truncate, invalidate): take a
 * reference to the cached page, lock it, check it is still this mapping's
 * (it may have been removed while we slept on the lock) and unmap it if it
 * is mapped (truncate_cleanup_folio's one-page unmap_mapping_range). Returns
 * the page locked, with the caller's reference, or null (nothing there, or
 * gone meanwhile: nothing held).
 */
export function* lockPageUnmapped(k: Kernel, t: Task, mapping: AddressSpace, idx: number): Gen<Page | null> {
  const page = mapping.pages.get(idx);
  if (page === undefined) return null;
  k.getPage(page);
  yield* page.lock(k.sim);
  if (page.mapping !== mapping) {
    page.unlock(k.sim);
    k.putPage(page);
    return null;
  }
  if (page.mapcount > 0) yield* unmapMappingRange(k, t, mapping, idx, 1, false);
  return page;
}

function* zeroPartial(k: Kernel, mapping: AddressSpace, idx: number, from: number, to: number): Gen<void> {
  const page = mapping.pages.get(idx);
  if (page === undefined) return;
  k.getPage(page);
  yield* page.lock(k.sim);
  if (page.mapping === mapping) page.zero(from, to);
  page.unlock(k.sim);
  k.putPage(page);
}

/**
 * truncate_pagecache after i_size was lowered to `newsize`: unmap, truncate,
 * unmap again (a racing COW fault may have mapped a private copy between).
 */
export function* truncatePagecache(k: Kernel, t: Task, inode: Inode, newsize: number): Gen<void> {
  const d = t.enter('truncate_pagecache');
  const holebegin = pageAlign(newsize) / PAGE_SIZE;
  yield* unmapMappingRange(k, t, inode.mapping, holebegin, 0, true);
  yield* truncateInodePagesRange(k, t, inode.mapping, newsize, -1);
  yield* unmapMappingRange(k, t, inode.mapping, holebegin, 0, true);
  t.leave(d);
}

/**
 * truncate_pagecache_range (a hole punch): unmap the whole pages of bytes
 * [lstart, lend] from every mapping (not COW copies), then drop them and
 * zero the partial pages at the edges.
 */
export function* truncatePagecacheRange(k: Kernel, t: Task, inode: Inode, lstart: number, lend: number): Gen<void> {
  const d = t.enter('truncate_pagecache_range');
  const unmapFirst = Math.ceil(lstart / PAGE_SIZE);
  const unmapLast = Math.floor((lend + 1) / PAGE_SIZE) - 1;
  if (unmapLast >= unmapFirst) yield* unmapMappingRange(k, t, inode.mapping, unmapFirst, unmapLast - unmapFirst + 1, false);
  yield* truncateInodePagesRange(k, t, inode.mapping, lstart, lend);
  t.leave(d);
}
