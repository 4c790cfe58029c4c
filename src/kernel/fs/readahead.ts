// Readahead (mm/readahead.c): page_cache_sync_ra, page_cache_async_ra,
// force_page_cache_ra and page_cache_ra_unbounded, driven by the file's
// struct file_ra_state (File.ra*). Readahead only *starts* I/O: it adds
// locked, !uptodate pages to the page cache and hands them to ->read_folio,
// whose completion marks them uptodate and unlocks them; nobody waits here.
//
// Readahead creates pages, so it holds mapping->invalidate_lock shared
// (entry E2, 5.15's 730633f0b7f9): a hole punch holding it exclusive cannot
// see pages instantiated from the old block map between its page-cache
// truncation and its block-map update.

import type { Gen, Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, type Page } from '../page.js';
import type { AddressSpace, File } from './inode.js';
import { filemapAddPage } from './filemap.js';

/** The address_space_operations the generic page-cache code needs from a filesystem. */
export interface AddressSpaceOps {
  /**
   * ->read_folio: `page` is locked (and referenced) by the caller. Start the
   * read; the completion (or this call itself, for a hole) sets uptodate
   * (unless the read failed) and unlocks the page. May sleep in submission
   * (throttling), never waits for the I/O. Returns 0 or -errno (not started,
   * page unlocked).
   */
  readPage(k: Kernel, t: Task, file: File | null, page: Page): Gen<number>;
  /**
   * ->readahead: start reads of `pages` (contiguous, ascending, locked,
   * !uptodate, in the cache) in as few requests as the filesystem likes
   * (FUSE batches them into READ requests). Same contract as readPage for
   * each page. Absent: readPage on each page.
   */
  readahead?(k: Kernel, t: Task, file: File, pages: readonly Page[]): Gen<void>;
}

/** Readahead window default (VM_READAHEAD_PAGES: 128 KiB). */
export const RA_PAGES_DEFAULT = 32;
/** force_page_cache_ra's chunk (2 MiB). */
const FORCE_RA_CHUNK_PAGES = (2 * 1024 * 1024) / PAGE_SIZE;

// ------------------------------------------------------- invalidate_lock

/**
 * Entry E2's switch: `invalidate_lock=off` is the kernel before 5.15, where
 * nothing kept page creators (fault, read, readahead) out of the window
 * between a hole punch's page-cache truncation and its block-map update.
 */
export function invalidateLockOn(k: Kernel): boolean {
  return k.sw('invalidate_lock', 'on') !== 'off';
}

/** filemap_invalidate_lock_shared (a no-op before 5.15). */
export function* invalidateLockShared(k: Kernel, mapping: AddressSpace): Gen<void> {
  if (invalidateLockOn(k)) yield* mapping.invalidateLock.downRead();
}

export function invalidateUnlockShared(k: Kernel, t: Task, mapping: AddressSpace): void {
  if (invalidateLockOn(k)) mapping.invalidateLock.upRead(t);
}

/** filemap_invalidate_lock: the page killers (truncate, punch, collapse, insert, zero range). */
export function* invalidateLock(k: Kernel, mapping: AddressSpace): Gen<void> {
  if (invalidateLockOn(k)) yield* mapping.invalidateLock.downWrite();
}

export function invalidateUnlock(k: Kernel, t: Task, mapping: AddressSpace): void {
  if (invalidateLockOn(k)) mapping.invalidateLock.upWrite(t);
}

// ------------------------------------------------------------ PG_readahead

export function pageReadahead(page: Page): boolean {
  return page.mapping !== null && page.readahead;
}

function clearPageReadahead(page: Page): void {
  if (page.mapping !== null) page.readahead = false;
}

// --------------------------------------------------------------- the core

/** find_get_page: the cached page at `index` with a reference, or null. */
export function findGetPage(k: Kernel, mapping: AddressSpace, index: number): Page | null {
  const page = mapping.pages.get(index);
  if (page === undefined) return null;
  k.getPage(page);
  return page;
}

/** read_pages: hand the batch to ->read_folio, then drop the batch's references. */
function* readPages(k: Kernel, t: Task, aops: AddressSpaceOps, file: File, batch: Page[]): Gen<void> {
  if (aops.readahead !== undefined && batch.length > 0) {
    yield* aops.readahead(k, t, file, batch);
    for (const page of batch) k.putPage(page);
  } else {
    for (const page of batch) {
      yield* aops.readPage(k, t, file, page);
      k.putPage(page);
    }
  }
  batch.length = 0;
}

/**
 * page_cache_ra_unbounded: add locked pages for [index, index + nr) that are
 * not cached yet, marking the one `lookahead` pages before the end
 * PG_readahead, and start their reads. An allocation failure ends the
 * window early (readahead allocations are __GFP_NORETRY and NOFS, so they
 * do not enter fs reclaim: allocated atomic here).
 */
export function* pageCacheRaUnbounded(k: Kernel, t: Task, aops: AddressSpaceOps, file: File, index: number, nr: number, lookahead: number): Gen<void> {
  const mapping = file.inode.mapping;
  const d = t.enter('page_cache_ra_unbounded');
  const mark = lookahead > 0 ? nr - lookahead : -1;
  yield* invalidateLockShared(k, mapping);
  const batch: Page[] = [];
  for (let i = 0; i < nr; i++) {
    if (mapping.pages.has(index + i)) {
      // Already cached: submit the contiguous batch so far and go on.
      yield* readPages(k, t, aops, file, batch);
      continue;
    }
    const page = yield* k.allocPage(t, mapping, index + i, false, true);
    if (page === null) {
      k.cov.hit('readahead:alloc-failed');
      break;
    }
    // In the cache, locked, !uptodate.
    filemapAddPage(k, t, mapping, page, index + i);
    if (i === mark) page.readahead = true;
    batch.push(page);
  }
  yield* readPages(k, t, aops, file, batch);
  invalidateUnlockShared(k, t, mapping);
  k.cov.hit('readahead:window');
  t.leave(d);
}

/** do_page_cache_ra: clip the window to EOF (never read past the page holding the last byte). */
export function* doPageCacheRa(k: Kernel, t: Task, aops: AddressSpaceOps, file: File, index: number, nr: number, lookahead: number): Gen<void> {
  const isize = file.inode.size;
  if (isize === 0 || nr <= 0) return;
  const endIndex = Math.floor((isize - 1) / PAGE_SIZE);
  if (index > endIndex) return;
  if (nr > endIndex - index) nr = endIndex - index + 1;
  yield* pageCacheRaUnbounded(k, t, aops, file, index, nr, lookahead);
}

/** force_page_cache_ra: read [index, index + nr) as is (fadvise/madvise WILLNEED, ra disabled). */
export function* forcePageCacheRa(k: Kernel, t: Task, aops: AddressSpaceOps, file: File, index: number, nr: number): Gen<void> {
  const d = t.enter('force_page_cache_ra');
  nr = Math.min(nr, Math.max(file.raPages, RA_PAGES_DEFAULT));
  while (nr > 0) {
    const chunk = Math.min(FORCE_RA_CHUNK_PAGES, nr);
    yield* doPageCacheRa(k, t, aops, file, index, chunk, 0);
    index += chunk;
    nr -= chunk;
  }
  t.leave(d);
}

function roundupPowOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** get_init_ra_size: the first window, bigger for small requests. */
function initRaSize(size: number, max: number): number {
  const n = roundupPowOfTwo(size);
  if (n <= max / 32) return n * 4;
  if (n <= max / 4) return n * 2;
  return max;
}

/** get_next_ra_size: ramp the window up. */
function nextRaSize(cur: number, max: number): number {
  if (cur < max / 16) return 4 * cur;
  if (cur <= max / 2) return 2 * cur;
  return max;
}

/** page_cache_prev_miss: the first index at or below `index` not cached, scanning back `max` pages; -1 past the file start. */
function prevMiss(mapping: AddressSpace, index: number, max: number): number {
  for (let i = index; i > index - max; i--) {
    if (i < 0) return -1;
    if (!mapping.pages.has(i)) return i;
  }
  return index - max;
}

/** page_cache_next_miss: the first index at or above `index` not cached, scanning `max` pages. */
function nextMiss(mapping: AddressSpace, index: number, max: number): number {
  for (let i = index; i < index + max; i++) if (!mapping.pages.has(i)) return i;
  return index + max;
}

/**
 * page_cache_sync_ra: a cache miss at `index` for a request of `req` pages.
 * A sequential miss (or the file start, or an oversized read) opens a new
 * window; otherwise the page cache's history decides (a standalone random
 * read reads just what it needs).
 */
export function* pageCacheSyncRa(k: Kernel, t: Task, aops: AddressSpaceOps, file: File, index: number, req: number): Gen<void> {
  if (file.raPages === 0) {
    // Readahead disabled: still read what the request needs.
    yield* forcePageCacheRa(k, t, aops, file, index, 1);
    return;
  }
  const d = t.enter('page_cache_sync_ra');
  const max = file.raPages;
  const prevIndex = file.raPrevPos < 0 ? -2 : Math.floor(file.raPrevPos / PAGE_SIZE);
  if (index === 0 || req > max || prevIndex === index || prevIndex === index - 1) {
    k.cov.hit('readahead:sync-sequential');
    file.raStart = index;
    file.raSize = initRaSize(req, max);
    file.raAsyncSize = file.raSize > req ? file.raSize - req : file.raSize >> 1;
  } else {
    const miss = prevMiss(file.inode.mapping, index - 1, max);
    let contig = index - miss - 1;
    if (contig <= req) {
      // A standalone, small random read: read as is, leave the state alone.
      k.cov.hit('readahead:sync-random');
      yield* doPageCacheRa(k, t, aops, file, index, req, 0);
      t.leave(d);
      return;
    }
    if (miss === -1) contig *= 2; // cached from the file start: a long stream
    k.cov.hit('readahead:sync-history');
    file.raStart = index;
    file.raSize = Math.min(contig + req, max);
    file.raAsyncSize = 1;
  }
  yield* doPageCacheRa(k, t, aops, file, file.raStart, file.raSize, file.raAsyncSize);
  t.leave(d);
}

/**
 * page_cache_async_ra: a PG_readahead page was hit at `index`; push the
 * window forward (ramping it up) before the reader gets there.
 */
export function* pageCacheAsyncRa(k: Kernel, t: Task, aops: AddressSpaceOps, file: File, page: Page, index: number, req: number): Gen<void> {
  if (file.raPages === 0 || page.writeback) return;
  clearPageReadahead(page);
  const d = t.enter('page_cache_async_ra');
  const max = file.raPages;
  const expected = file.raStart + file.raSize - file.raAsyncSize;
  if (index === expected) {
    k.cov.hit('readahead:async-expected');
    file.raStart += file.raSize;
    file.raSize = Math.max(file.raSize, nextRaSize(file.raSize, max));
    file.raAsyncSize = file.raSize;
  } else {
    // A marked page without matching state (interleaved streams): size from the cache.
    const start = nextMiss(file.inode.mapping, index + 1, max);
    if (start - index > max) {
      t.leave(d);
      return;
    }
    k.cov.hit('readahead:async-interleaved');
    file.raStart = start;
    file.raSize = nextRaSize(start - index + req, max);
    file.raAsyncSize = file.raSize;
  }
  yield* doPageCacheRa(k, t, aops, file, file.raStart, file.raSize, file.raAsyncSize);
  t.leave(d);
}
