// filemap_fault and filemap_read (mm/filemap.c) for filesystems whose page
// cache is filled from backing storage through ->read_folio (blockfs).
//
// The fault follows current Linux: every point that may do I/O or wait long
// (sync/async readahead, waiting for a page lock, re-reading a page) first
// pins the file (get_file, kept in fpin) and drops mmap_lock
// (maybe_unlock_mmap_for_io, when FAULT_FLAG_ALLOW_RETRY is set on the first
// try and FAULT_FLAG_RETRY_NOWAIT is not), and then returns VM_FAULT_RETRY
// once it has an uptodate page or an error (Josef Bacik, merged for 5.1 as
// 6b4c9f446981; seed 001). A page is created, or brought uptodate, only under
// mapping->invalidate_lock shared (Jan Kara, 5.15, 730633f0b7f9; entry E2);
// a page that is cached and uptodate needs no lock beyond its own.
//
// Profile switches (the fixed path is the default):
//   fault_io=hold   entry B before 5.1: readahead, ->readpage and the re-read
//                   wait all run with mmap_lock held; only lock_page_or_retry
//                   drops it, for a page some other task has locked.
//   fault_io=leaky  entry B, Josef's v4 as Andrew Morton reviewed it: when
//                   the page-cache allocation fails after mmap_lock was
//                   dropped, VM_FAULT_OOM is returned without fput(fpin) and
//                   without VM_FAULT_RETRY (the arch handler unlocks again).
//   invalidate_lock=off  entry E2 before 5.15 (see readahead.ts).

import { WAIT_INTERRUPTED, type Gen, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, pageOffset, pagesFor, type Page } from '../page.js';
import { EFAULT, EINTR, EIO, ENOMEM } from '../errno.js';
import {
  FAULT_FLAG_KILLABLE, FAULT_FLAG_RETRY_NOWAIT, FAULT_FLAG_TRIED, VM_FAULT_LOCKED,
  VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY, VM_FAULT_SIGBUS, allowRetryFirst, ioWaitCheck, type FaultResult, type Vmf,
} from '../mm/fault.js';
import { copyToUser } from '../mm/uaccess.js';
import type { AddressSpace, File } from './inode.js';
import {
  doPageCacheRa, findGetPage, invalidateLockShared, invalidateUnlockShared, pageCacheAsyncRa, pageCacheSyncRa,
  pageReadahead, type AddressSpaceOps,
} from './readahead.js';
import { filemapAddPage } from './filemap.js';

/** Misses after which mmap read-around stops (MMAP_LOTSAMISS). */
const MMAP_LOTSAMISS = 100;
/** AOP_TRUNCATED_PAGE: the page went away under us; look it up again. */
const AOP_TRUNCATED_PAGE = 0x80001;
/**
 * Linux retries a lookup that raced with truncation without bound: a reader
 * or faulter can starve under a truncate or punch that keeps removing its
 * page. Past this many retries in one call each retry is also a preemption
 * point, so such a loop always costs steps and shows as starvation (the
 * liveness monitor), never as a spin of the simulator.
 */
const RETRY_FIND_MAX = 64;
/** Pages taken per filemap_get_pages batch (a folio_batch). */
const READ_BATCH_PAGES = 16;

/** What one filemap_fault carries across its gotos. */
interface FaultState {
  /** The file pinned when mmap_lock was dropped (null while it is held). */
  fpin: File | null;
  /** invalidate_lock held shared. */
  mappingLocked: boolean;
}

/**
 * maybe_unlock_mmap_for_io: about to block on I/O; if the fault may be
 * retried, pin the file and drop mmap_lock (the VMA may go away from now
 * on: only the pinned file may be used). Returns the pin, or null if
 * mmap_lock is still held.
 */
function maybeUnlockMmapForIo(k: Kernel, vmf: Vmf, fpin: File | null): File | null {
  if (fpin !== null) return fpin;
  if (!allowRetryFirst(vmf.flags) || (vmf.flags & FAULT_FLAG_RETRY_NOWAIT)) return null;
  const pin = k.getFile(vmf.vma.file!);
  vmf.vma.mm.mmapLock.upRead(vmf.t);
  k.cov.hit('filemap_fault:drop-mmap-lock');
  return pin;
}

/**
 * lock_folio_maybe_drop_mmap: trylock, else (unless RETRY_NOWAIT) drop
 * mmap_lock and sleep on the page lock, killably if allowed. A killed wait
 * without a pin drops mmap_lock itself, so that the RETRY return is honest.
 */
function* lockPageMaybeDropMmap(k: Kernel, vmf: Vmf, page: Page, st: FaultState): Gen<boolean> {
  if (page.trylock(k.sim, vmf.t)) return true;
  // NOTE: returns VM_FAULT_RETRY with mmap_lock still held: RETRY_NOWAIT's contract.
  if (vmf.flags & FAULT_FLAG_RETRY_NOWAIT) return false;
  const mm = vmf.vma.mm;
  st.fpin = maybeUnlockMmapForIo(k, vmf, st.fpin);
  k.cov.hit('filemap_fault:lock-contended');
  ioWaitCheck(k, vmf.t, 'a page lock (__lock_page_killable)');
  if (vmf.flags & FAULT_FLAG_KILLABLE) {
    if ((yield* page.lock(k.sim, true)) === WAIT_INTERRUPTED) {
      if (st.fpin === null) mm.mmapLock.upRead(vmf.t);
      k.cov.hit('filemap_fault:lock-killed');
      return false;
    }
  } else {
    yield* page.lock(k.sim);
  }
  return true;
}

/**
 * filemap_read_folio: `page` is locked by the caller; read it and wait
 * (killably) for the read to finish. The page is unlocked on return.
 */
export function* filemapReadPage(k: Kernel, t: Task, file: File | null, aops: AddressSpaceOps, page: Page, killable = true): Gen<number> {
  const r = yield* aops.readPage(k, t, file, page);
  if (r < 0) return r;
  if (page.locked) ioWaitCheck(k, t, 'a page read (wait_on_page_locked)');
  if ((yield* page.waitUnlocked(k.sim, killable)) === WAIT_INTERRUPTED) return -EINTR;
  if (page.uptodate) return 0;
  k.cov.hit('filemap:read-error');
  return -EIO;
}

/**
 * do_sync_mmap_readahead: the page is not cached. MADV_RANDOM: no
 * readahead; MADV_SEQUENTIAL: a sequential window; else read-around centred
 * on the fault, until the file misses much more than it hits. `drop`: drop
 * mmap_lock before the I/O (the fixed path).
 */
function* doSyncMmapReadahead(k: Kernel, vmf: Vmf, aops: AddressSpaceOps, file: File, drop: boolean): Gen<File | null> {
  const t = vmf.t;
  const vma = vmf.vma;
  let fpin: File | null = null;
  if (vma.randRead) {
    k.cov.hit('filemap_fault:ra-random');
    return null;
  }
  if (file.raPages === 0) return null;
  const d = t.enter('do_sync_mmap_readahead');
  if (vma.seqRead) {
    k.cov.hit('filemap_fault:ra-sequential');
    if (drop) fpin = maybeUnlockMmapForIo(k, vmf, fpin);
    yield* pageCacheSyncRa(k, t, aops, file, vmf.pgoff, file.raPages);
    t.leave(d);
    return fpin;
  }
  if (file.mmapMiss < MMAP_LOTSAMISS * 10) file.mmapMiss++;
  if (file.mmapMiss > MMAP_LOTSAMISS) {
    // It misses much more than it hits: readahead would only hurt.
    k.cov.hit('filemap_fault:ra-lotsamiss');
    t.leave(d);
    return fpin;
  }
  // mmap read-around
  if (drop) fpin = maybeUnlockMmapForIo(k, vmf, fpin);
  file.raStart = Math.max(0, vmf.pgoff - Math.floor(file.raPages / 2));
  file.raSize = file.raPages;
  file.raAsyncSize = Math.floor(file.raPages / 4);
  k.cov.hit('filemap_fault:ra-around');
  yield* doPageCacheRa(k, t, aops, file, file.raStart, file.raSize, file.raAsyncSize);
  t.leave(d);
  return fpin;
}

/** do_async_mmap_readahead: the page is cached; a PG_readahead mark pushes the window on. */
function* doAsyncMmapReadahead(k: Kernel, vmf: Vmf, aops: AddressSpaceOps, file: File, page: Page, drop: boolean): Gen<File | null> {
  let fpin: File | null = null;
  if (vmf.vma.randRead || file.raPages === 0) return null;
  if (file.mmapMiss > 0) file.mmapMiss--;
  if (pageReadahead(page)) {
    const d = vmf.t.enter('do_async_mmap_readahead');
    if (drop) fpin = maybeUnlockMmapForIo(k, vmf, fpin);
    k.cov.hit('filemap_fault:ra-async');
    yield* pageCacheAsyncRa(k, vmf.t, aops, file, page, vmf.pgoff, file.raPages);
    vmf.t.leave(d);
  }
  return fpin;
}

/**
 * __filemap_get_folio(FGP_CREAT | FGP_FOR_MMAP): the cached page with a
 * reference, or a new one added to the cache unlocked and !uptodate (the
 * fault locks it next and reads it). Null when the allocation fails.
 */
function* grabPageForMmap(k: Kernel, t: Task, mapping: AddressSpace, index: number): Gen<Page | null> {
  yield; // might_alloc
  const page = findGetPage(k, mapping, index);
  if (page !== null) return page;
  const np = yield* k.allocPage(t, mapping, index, false);
  if (np === null) return null;
  const raced = findGetPage(k, mapping, index);
  if (raced !== null) {
    // Added by someone else while the allocation slept in reclaim (filemap_add_folio's -EEXIST).
    k.putPage(np);
    return raced;
  }
  filemapAddPage(k, t, mapping, np, index, false);
  k.cov.hit('filemap_fault:create-page');
  return np;
}

/** out_retry: drop what we hold and ask for a retry (mmap_lock is already dropped). */
function outRetry(k: Kernel, t: Task, mapping: AddressSpace, page: Page | null, st: FaultState, ret: FaultResult): FaultResult {
  if (page !== null) k.putPage(page);
  if (st.mappingLocked) invalidateUnlockShared(k, t, mapping);
  if (st.fpin !== null) k.fput(st.fpin);
  k.cov.hit('filemap_fault:retry');
  return ret | VM_FAULT_RETRY;
}

/** filemap_fault: ->fault for page-cache-backed files. */
export function* filemapFault(k: Kernel, vmf: Vmf, aops: AddressSpaceOps): Gen<FaultResult> {
  const d = vmf.t.enter('filemap_fault');
  const mode = k.sw('fault_io', 'drop');
  const ret = mode === 'hold' ? yield* filemapFaultHoldingMmapLock(k, vmf, aops) : yield* filemapFaultDroppingMmapLock(k, vmf, aops, mode === 'leaky');
  vmf.t.leave(d);
  return ret;
}

function* filemapFaultDroppingMmapLock(k: Kernel, vmf: Vmf, aops: AddressSpaceOps, leaky: boolean): Gen<FaultResult> {
  const t = vmf.t;
  const file = vmf.vma.file!;
  const inode = file.inode;
  const mapping = inode.mapping;
  const index = vmf.pgoff;
  if (index >= pagesFor(inode.size)) {
    k.cov.hit('filemap_fault:beyond-eof');
    return VM_FAULT_SIGBUS;
  }
  const st: FaultState = { fpin: null, mappingLocked: false };
  let ret: FaultResult = 0;
  let page = findGetPage(k, mapping, index);
  if (page !== null) {
    // Found it: try async readahead before waiting for the lock.
    if (!(vmf.flags & FAULT_FLAG_TRIED)) st.fpin = yield* doAsyncMmapReadahead(k, vmf, aops, file, page, true);
    if (!page.uptodate) {
      // Bringing it uptodate may need a read: that is page creation, for E2.
      yield* invalidateLockShared(k, mapping);
      st.mappingLocked = true;
    }
  } else {
    k.cov.hit('filemap_fault:major');
    ret = VM_FAULT_MAJOR;
    st.fpin = yield* doSyncMmapReadahead(k, vmf, aops, file, true);
  }
  for (let tries = 0; ; tries++) {
    if (tries > RETRY_FIND_MAX) yield;
    if (page === null) {
      // retry_find: the page is created here if readahead did not.
      if (!st.mappingLocked) {
        yield* invalidateLockShared(k, mapping);
        st.mappingLocked = true;
      }
      page = yield* grabPageForMmap(k, t, mapping, index);
      if (page === null) {
        if (st.fpin !== null) {
          if (leaky) {
            // fault_io=leaky: `return vmf_error(-ENOMEM)` with mmap_lock already
            // dropped: fpin's reference leaks, and without VM_FAULT_RETRY the
            // arch handler releases mmap_lock a second time.
            k.cov.hit('filemap_fault:oom-after-drop-leaks-fpin');
            if (st.mappingLocked) invalidateUnlockShared(k, t, mapping);
            return VM_FAULT_OOM;
          }
          k.cov.hit('filemap_fault:oom-after-drop');
          return outRetry(k, t, mapping, null, st, ret);
        }
        k.cov.hit('filemap_fault:oom');
        invalidateUnlockShared(k, t, mapping);
        return VM_FAULT_OOM;
      }
    }
    if (!(yield* lockPageMaybeDropMmap(k, vmf, page, st))) return outRetry(k, t, mapping, page, st, ret);
    if (page.mapping !== mapping) {
      // Truncated while we waited for the lock.
      k.cov.hit('filemap_fault:truncated');
      page.unlock(k.sim);
      k.putPage(page);
      page = null;
      continue;
    }
    if (!page.uptodate) {
      if (!st.mappingLocked) {
        // It was uptodate when found and is not now (a failed read): take
        // invalidate_lock and look again.
        k.cov.hit('filemap_fault:not-uptodate-relock');
        page.unlock(k.sim);
        k.putPage(page);
        page = null;
        continue;
      }
      // page_not_uptodate: read it, once, synchronously -- mmap_lock dropped first.
      k.cov.hit('filemap_fault:page-not-uptodate');
      st.fpin = maybeUnlockMmapForIo(k, vmf, st.fpin);
      const err = yield* filemapReadPage(k, t, file, aops, page);
      if (st.fpin !== null) return outRetry(k, t, mapping, page, st, ret);
      k.putPage(page);
      page = null;
      if (err === 0) continue;
      invalidateUnlockShared(k, t, mapping);
      return VM_FAULT_SIGBUS;
    }
    if (st.fpin !== null) {
      // We had to drop mmap_lock: the retry re-finds the VMA and maps the page.
      page.unlock(k.sim);
      return outRetry(k, t, mapping, page, st, ret);
    }
    if (st.mappingLocked) invalidateUnlockShared(k, t, mapping);
    // Found the page, locked and uptodate: re-check i_size under the lock.
    if (index >= pagesFor(inode.size)) {
      k.cov.hit('filemap_fault:beyond-eof-locked');
      page.unlock(k.sim);
      k.putPage(page);
      return VM_FAULT_SIGBUS;
    }
    vmf.page = page;
    return ret | VM_FAULT_LOCKED;
  }
}

/**
 * lock_page_or_retry (before 5.1): trylock; else, on the first try of a
 * retryable fault, drop mmap_lock, wait for the page to be unlocked and ask
 * for a retry; else lock it with mmap_lock held.
 */
function* lockPageOrRetry(k: Kernel, vmf: Vmf, page: Page): Gen<boolean> {
  if (page.trylock(k.sim, vmf.t)) return true;
  const mm = vmf.vma.mm;
  if (allowRetryFirst(vmf.flags)) {
    if (vmf.flags & FAULT_FLAG_RETRY_NOWAIT) return false;
    mm.mmapLock.upRead(vmf.t);
    yield* page.waitUnlocked(k.sim, (vmf.flags & FAULT_FLAG_KILLABLE) !== 0);
    return false;
  }
  ioWaitCheck(k, vmf.t, 'a page lock (__lock_page)');
  if (vmf.flags & FAULT_FLAG_KILLABLE) {
    if ((yield* page.lock(k.sim, true)) === WAIT_INTERRUPTED) {
      mm.mmapLock.upRead(vmf.t);
      return false;
    }
  } else {
    yield* page.lock(k.sim);
  }
  return true;
}

/**
 * fault_io=hold: filemap_fault as in 4.20, before Josef Bacik's series.
 * Readahead, page_cache_read's ->readpage and the page_not_uptodate re-read
 * (which waits for the I/O) all run with mmap_lock held for read, so a slow
 * or throttled device keeps mmap_lock held for the whole I/O; a queued
 * mmap_lock writer then blocks every later reader (/proc/<pid>/maps) behind
 * it. invalidate_lock is taken where 5.15 would, so E2 stays independent.
 */
function* filemapFaultHoldingMmapLock(k: Kernel, vmf: Vmf, aops: AddressSpaceOps): Gen<FaultResult> {
  const t = vmf.t;
  const file = vmf.vma.file!;
  const inode = file.inode;
  const mapping = inode.mapping;
  const index = vmf.pgoff;
  if (index >= pagesFor(inode.size)) return VM_FAULT_SIGBUS;
  let ret: FaultResult = 0;
  let page = findGetPage(k, mapping, index);
  if (page !== null && !(vmf.flags & FAULT_FLAG_TRIED)) {
    yield* doAsyncMmapReadahead(k, vmf, aops, file, page, false);
  } else if (page === null) {
    ret = VM_FAULT_MAJOR;
    k.cov.hit('filemap_fault:major-holding-mmap-lock');
    yield* doSyncMmapReadahead(k, vmf, aops, file, false);
  }
  for (let tries = 0; ; tries++) {
    if (tries > RETRY_FIND_MAX) yield;
    if (page === null) {
      // retry_find
      page = findGetPage(k, mapping, index);
      if (page === null) {
        // no_cached_page: page_cache_read starts the read, under mmap_lock.
        const err = yield* pageCacheRead(k, t, file, aops, index);
        if (err === 0) continue;
        return err === -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
      }
    }
    if (!(yield* lockPageOrRetry(k, vmf, page))) {
      k.putPage(page);
      return ret | VM_FAULT_RETRY;
    }
    if (page.mapping !== mapping) {
      page.unlock(k.sim);
      k.putPage(page);
      page = null;
      continue;
    }
    if (!page.uptodate) {
      // page_not_uptodate: re-read and wait for it, mmap_lock held throughout.
      k.cov.hit('filemap_fault:reread-holding-mmap-lock');
      yield* invalidateLockShared(k, mapping);
      const err = yield* filemapReadPage(k, t, file, aops, page, false);
      invalidateUnlockShared(k, t, mapping);
      k.putPage(page);
      page = null;
      if (err === 0) continue;
      return VM_FAULT_SIGBUS;
    }
    if (index >= pagesFor(inode.size)) {
      page.unlock(k.sim);
      k.putPage(page);
      return VM_FAULT_SIGBUS;
    }
    vmf.page = page;
    return ret | VM_FAULT_LOCKED;
  }
}

/** page_cache_read (before 5.1): add a locked page and start its read; 0, or -ENOMEM. */
function* pageCacheRead(k: Kernel, t: Task, file: File, aops: AddressSpaceOps, index: number): Gen<number> {
  const mapping = file.inode.mapping;
  yield; // might_alloc
  const page = yield* k.allocPage(t, mapping, index, false);
  if (page === null) return -ENOMEM;
  yield* invalidateLockShared(k, mapping);
  if (mapping.pages.has(index)) {
    invalidateUnlockShared(k, t, mapping);
    k.putPage(page);
    return 0; // -EEXIST: someone else added it; look again
  }
  filemapAddPage(k, t, mapping, page, index);
  const err = yield* aops.readPage(k, t, file, page);
  invalidateUnlockShared(k, t, mapping);
  k.putPage(page);
  return err;
}

// ------------------------------------------------------------- filemap_read

/** filemap_get_read_batch: referenced cached pages from `first`, up to the first !uptodate or PG_readahead one. */
function getReadBatch(k: Kernel, mapping: AddressSpace, first: number, last: number): Page[] {
  const out: Page[] = [];
  for (let i = first; i <= last && out.length < READ_BATCH_PAGES; i++) {
    const page = mapping.pages.get(i);
    if (page === undefined) break;
    k.getPage(page);
    out.push(page);
    if (!page.uptodate || pageReadahead(page)) break;
  }
  return out;
}

/**
 * filemap_create_folio: a page for a read that readahead did not bring in.
 * Created and read under invalidate_lock shared, so a hole punch cannot
 * have truncated the cache and not yet updated the block map meanwhile.
 */
function* filemapCreatePage(k: Kernel, t: Task, file: File, aops: AddressSpaceOps, index: number): Gen<Page | number> {
  const mapping = file.inode.mapping;
  const page = yield* k.allocPage(t, mapping, index, false);
  if (page === null) return -ENOMEM;
  yield* invalidateLockShared(k, mapping);
  if (mapping.pages.has(index)) {
    invalidateUnlockShared(k, t, mapping);
    k.putPage(page);
    return AOP_TRUNCATED_PAGE;
  }
  filemapAddPage(k, t, mapping, page, index);
  k.cov.hit('filemap_read:create-page');
  const err = yield* filemapReadPage(k, t, file, aops, page);
  invalidateUnlockShared(k, t, mapping);
  if (err !== 0) {
    k.putPage(page);
    return err;
  }
  return page;
}

/**
 * filemap_update_page: the batch ends in a !uptodate page. Usually a
 * readahead read is still in flight: wait for the page to be unlocked and
 * look again. Otherwise lock it and read it, under invalidate_lock shared.
 * Returns 0 (uptodate, still referenced), AOP_TRUNCATED_PAGE (reference
 * dropped) or -errno.
 */
function* filemapUpdatePage(k: Kernel, t: Task, file: File, aops: AddressSpaceOps, page: Page): Gen<number> {
  const mapping = file.inode.mapping;
  yield* invalidateLockShared(k, mapping);
  if (!page.trylock(k.sim, t)) {
    invalidateUnlockShared(k, t, mapping);
    k.cov.hit('filemap_read:wait-for-read');
    yield* page.waitUnlocked(k.sim, true);
    k.putPage(page);
    return AOP_TRUNCATED_PAGE;
  }
  if (page.mapping === null) {
    page.unlock(k.sim);
    invalidateUnlockShared(k, t, mapping);
    k.putPage(page);
    return AOP_TRUNCATED_PAGE;
  }
  if (page.uptodate) {
    page.unlock(k.sim);
    invalidateUnlockShared(k, t, mapping);
    return 0;
  }
  k.cov.hit('filemap_read:reread');
  const err = yield* filemapReadPage(k, t, file, aops, page);
  invalidateUnlockShared(k, t, mapping);
  return err;
}

/** filemap_get_pages: a batch of uptodate, referenced pages starting at `pos`, or -errno. */
function* filemapGetPages(k: Kernel, t: Task, file: File, aops: AddressSpaceOps, pos: number, count: number): Gen<Page[] | number> {
  const mapping = file.inode.mapping;
  const index = Math.floor(pos / PAGE_SIZE);
  const lastIndex = Math.ceil((pos + count) / PAGE_SIZE);
  for (let tries = 0; ; tries++) {
    if (tries > RETRY_FIND_MAX) yield;
    if (t.fatalPending) return -EINTR;
    let batch = getReadBatch(k, mapping, index, lastIndex - 1);
    if (batch.length === 0) {
      yield* pageCacheSyncRa(k, t, aops, file, index, lastIndex - index);
      batch = getReadBatch(k, mapping, index, lastIndex - 1);
    }
    if (batch.length === 0) {
      const r = yield* filemapCreatePage(k, t, file, aops, index);
      if (r === AOP_TRUNCATED_PAGE) continue;
      if (typeof r === 'number') return r;
      return [r];
    }
    const last = batch[batch.length - 1]!;
    if (pageReadahead(last)) yield* pageCacheAsyncRa(k, t, aops, file, last, last.index, lastIndex - last.index);
    if (!last.uptodate) {
      const err = yield* filemapUpdatePage(k, t, file, aops, last);
      if (err !== 0) {
        if (err < 0) k.putPage(last);
        batch.pop();
        if (batch.length > 0) return batch;
        if (err === AOP_TRUNCATED_PAGE) continue;
        return err;
      }
    }
    return batch;
  }
}

/**
 * filemap_read: ->read_iter through the page cache. Pages are found or
 * read in (readahead, or created under invalidate_lock), and copied to user
 * memory with only a page reference held: no page lock, no invalidate_lock,
 * so the copy may fault (even on a mapping of this very file).
 */
export function* filemapRead(k: Kernel, t: Task, file: File, aops: AddressSpaceOps, pos: number, addr: number, len: number): Gen<number> {
  const inode = file.inode;
  const proc = k.taskProc.get(t.id)!;
  const d = t.enter('filemap_read');
  let done = 0;
  let error = 0;
  let lastPos = -1;
  while (done < len && error === 0) {
    yield; // cond_resched
    if (pos + done >= inode.size) break;
    const got = yield* filemapGetPages(k, t, file, aops, pos + done, len - done);
    if (typeof got === 'number') {
      error = got;
      break;
    }
    // i_size only now that the pages are uptodate: the EOF page's zero tail is not copied.
    const isize = inode.size;
    const end = Math.min(isize, pos + len);
    // Indexed loops: an iterator's registers would be saved and restored at every scheduling point of the copy.
    for (let i = 0; i < got.length; i++) {
      const page = got[i]!;
      const q = pos + done;
      if (q >= end || error !== 0) break;
      const off = pageOffset(q);
      const n = Math.min(PAGE_SIZE - off, end - q);
      // Straight from the page, with only a reference held, as copy_folio_to_iter.
      let left = copyToUser(k, t, proc, addr + done, page.bytesToRead(), off, n);
      if (typeof left !== 'number') left = yield* left;
      done += n - left;
      lastPos = pos + done;
      if (left > 0) error = -EFAULT;
    }
    for (let i = 0; i < got.length; i++) k.putPage(got[i]!);
    if (pos + done >= isize) break;
  }
  if (lastPos >= 0) file.raPrevPos = lastPos;
  t.leave(d);
  return done > 0 ? done : error;
}
