// tmpfs (mm/shmem.c): the page cache *is* the storage. Reads, writes
// (generic_perform_write), faults, truncation and fallocate.

import { TaskState, WaitQueue, type Gen, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, ZERO_BYTES, pageOffset, pagesFor, type Page } from '../page.js';
import { EFAULT, EFBIG, EINTR, EINVAL, ENOMEM, ENOSPC, EOPNOTSUPP } from '../errno.js';
import {
  FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_RETRY_NOWAIT, VM_FAULT_LOCKED, VM_FAULT_NOPAGE, VM_FAULT_OOM,
  VM_FAULT_RETRY, VM_FAULT_SIGBUS, type FaultResult, type Vmf,
} from '../mm/fault.js';
import { copyFromUserAtomic, copyToUser, faultInReadable } from '../mm/uaccess.js';
import { deleteFromPageCache, filemapAddPage, truncateInodePagesRange, truncatePagecache, unmapMappingRange } from './filemap.js';
import type { File, FsOps, Inode, ShmemFalloc } from './inode.js';
import { O_APPEND } from './inode.js';
import { balanceDirtyPages, overDirtyLimit } from './writeback.js';

export const FALLOC_FL_KEEP_SIZE = 0x01, FALLOC_FL_PUNCH_HOLE = 0x02, FALLOC_FL_NO_HIDE_STALE = 0x04,
  FALLOC_FL_COLLAPSE_RANGE = 0x08, FALLOC_FL_ZERO_RANGE = 0x10, FALLOC_FL_INSERT_RANGE = 0x20,
  FALLOC_FL_UNSHARE_RANGE = 0x40, FALLOC_FL_WRITE_ZEROES = 0x80;

/** shmem_getpage's sgp_type: what a missing page means to the caller. */
const enum Sgp {
  /** Don't allocate: a hole reads as zeroes. */
  Read,
  /** Allocate, but not beyond EOF (faults). */
  Cache,
  /** Allocate (write_begin, fallocate). */
  Write,
}

/**
 * shmem_get_folio: the page at `idx`, locked and with a reference for the
 * caller, allocating it (zeroed, uptodate) unless sgp says otherwise.
 * Returns the page, null for a hole under Sgp.Read, or -errno.
 */
function* shmemGetPage(k: Kernel, t: Task, inode: Inode, idx: number, sgp: Sgp): Gen<Page | null | number> {
  const mapping = inode.mapping;
  // Unbounded, as in Linux: every retry passes a preemption point, so a
  // lookup that keeps racing a truncation starves instead of spinning.
  for (;;) {
    yield; // might_alloc / find_lock_entry may sleep
    if (sgp !== Sgp.Write && idx >= pagesFor(inode.size)) return -EINVAL;
    const page = mapping.pages.get(idx);
    if (page !== undefined) {
      k.getPage(page);
      yield* page.lock(k.sim);
      if (page.mapping !== mapping) {
        // Truncated while we slept on the lock: look again.
        k.cov.hit('shmem:getpage-raced-truncate');
        page.unlock(k.sim);
        k.putPage(page);
        continue;
      }
      if (sgp !== Sgp.Write && idx >= pagesFor(inode.size)) {
        page.unlock(k.sim);
        k.putPage(page);
        return -EINVAL;
      }
      return page;
    }
    if (sgp === Sgp.Read) return null;
    const np = yield* k.allocPage(t, mapping, idx, false);
    if (np === null) return -ENOMEM;
    if (mapping.pages.has(idx)) {
      // Added by someone else while the allocation slept in reclaim (-EEXIST): look again.
      k.putPage(np);
      continue;
    }
    np.uptodate = true;
    filemapAddPage(k, t, mapping, np, idx);
    // "Perhaps the file has been truncated since we checked": the
    // allocation may have slept in reclaim while a truncation lowered i_size
    // and swept the cache. A fault must not instantiate a page beyond EOF.
    if (sgp !== Sgp.Write && idx >= pagesFor(inode.size)) {
      k.cov.hit('shmem:alloc-raced-truncate');
      deleteFromPageCache(k, np);
      np.unlock(k.sim);
      k.putPage(np);
      return -EINVAL;
    }
    k.cov.hit('shmem:alloc');
    return np;
  }
}

/**
 * shmem_falloc_wait (the fix merged as "take 3" for 3.16, CVE-2014-4171):
 * while a hole punch is in progress over this index, faulters must not keep
 * refilling the hole. Trinity showed that otherwise the punch never ends.
 * Take 1 waited on i_mutex here (lockdep: write() holds i_mutex while it
 * faults); take 2 left faults alone and made the punch finite instead (see
 * shmemFallocate: the puncher still starved). The merged
 * design: drop mmap_lock if allowed, then sleep on a wait queue that lives on
 * the puncher's stack until it is done.
 */
function* shmemFallocWait(k: Kernel, vmf: Vmf, inode: Inode): Gen<FaultResult> {
  const t = vmf.t;
  const variant = k.sw('shmem_punch', 'waitq');
  inode.iLock.lock(t);
  const sf: ShmemFalloc | null = inode.iPrivate;
  if (sf === null || (variant === 'waitq' && sf.waitq === null) || vmf.pgoff < sf.start || vmf.pgoff >= sf.next) {
    inode.iLock.unlock(t);
    return 0;
  }
  if (variant === 'take1') {
    inode.iLock.unlock(t);
    return yield* shmemFallocTake1(k, vmf, inode);
  }
  k.cov.hit('shmem:fault-waits-for-punch');
  let ret: FaultResult = VM_FAULT_NOPAGE;
  let fpin: File | null = null;
  if ((vmf.flags & FAULT_FLAG_ALLOW_RETRY) && !(vmf.flags & FAULT_FLAG_RETRY_NOWAIT)) {
    // maybe_unlock_mmap_for_io: pin the file, drop mmap_lock, ask for a retry.
    fpin = k.getFile(vmf.vma.file!);
    vmf.vma.mm.mmapLock.upRead(t);
    ret = VM_FAULT_RETRY;
  }
  const waitq = sf.waitq!; // the merged fix always publishes a queue for a punch
  const d = t.enter('shmem_falloc_wait');
  waitq.add(t);
  inode.iLock.unlock(t);
  // As merged: TASK_UNINTERRUPTIBLE.
  k.sim.block(t, TaskState.Uninterruptible, waitq, () => inode.iPrivate !== sf);
  yield;
  inode.iLock.lock(t);
  waitq.remove(t);
  inode.iLock.unlock(t);
  t.leave(d);
  if (fpin !== null) k.fput(fpin);
  return ret;
}

/**
 * The first fix tried for seed 003, kept as a profile switch. Take 1
 * (f00cdc6df7d7, 3.16-rc): wait for the punch by taking i_mutex after
 * dropping mmap_lock -- but write() holds an i_mutex while it faults on its
 * user buffer, so faults now nest i_mutex inside i_mutex (Sasha Levin's
 * lockdep report). A fault that may not drop mmap_lock returns
 * VM_FAULT_NOPAGE and the access retries.
 */
function* shmemFallocTake1(k: Kernel, vmf: Vmf, inode: Inode): Gen<FaultResult> {
  const t = vmf.t;
  k.cov.hit('shmem:fault-in-punch-take1');
  if ((vmf.flags & FAULT_FLAG_ALLOW_RETRY) && !(vmf.flags & FAULT_FLAG_RETRY_NOWAIT)) {
    vmf.vma.mm.mmapLock.upRead(t);
    const d = t.enter('shmem_fault');
    yield* inode.iRwsem.downWrite();
    inode.iRwsem.upWrite(t);
    t.leave(d);
    return VM_FAULT_RETRY;
  }
  return VM_FAULT_NOPAGE;
}

function* shmemFault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
  const t = vmf.t;
  const inode = vmf.vma.file!.inode;
  const d = t.enter('shmem_fault');
  k.cov.hit('shmem:fault');
  if (inode.iPrivate !== null) {
    // shmem_fault's unlikely(inode->i_private) branch: a punch is published.
    k.cov.hit('shmem:fault-during-punch');
    const r = yield* shmemFallocWait(k, vmf, inode);
    if (r !== 0) {
      t.leave(d);
      return r;
    }
  }
  const got = yield* shmemGetPage(k, t, inode, vmf.pgoff, Sgp.Cache);
  t.leave(d);
  if (typeof got === 'number') return got === -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
  vmf.page = got!;
  return VM_FAULT_LOCKED;
}

function* shmemReadIter(k: Kernel, t: Task, file: File, pos: number, addr: number, len: number): Gen<number> {
  const inode = file.inode;
  const d = t.enter('shmem_file_read_iter');
  let done = 0;
  while (done < len) {
    const p = pos + done;
    if (p >= inode.size) break;
    const idx = Math.floor(p / PAGE_SIZE);
    const off = pageOffset(p);
    const got = yield* shmemGetPage(k, t, inode, idx, Sgp.Read);
    if (typeof got === 'number') break; // beyond EOF now
    // i_size is re-read after the page is found, as filemap_read does.
    const n = Math.min(PAGE_SIZE - off, len - done, inode.size - p);
    if (n <= 0) {
      if (got !== null) {
        got.unlock(k.sim);
        k.putPage(got);
      }
      break;
    }
    // Straight from the page (a hole reads as zeroes), with only a reference held, as copy_page_to_iter.
    if (got !== null) got.unlock(k.sim);
    const src = got !== null ? got.bytesToRead() : ZERO_BYTES;
    let left = copyToUser(k, t, k.taskProc.get(t.id)!, addr + done, src, off, n);
    if (typeof left !== 'number') left = yield* left;
    if (got !== null) k.putPage(got);
    done += n - left;
    if (left > 0) {
      t.leave(d);
      return done > 0 ? done : -EFAULT;
    }
  }
  t.leave(d);
  return done;
}

/**
 * generic_perform_write with i_rwsem held for write: for each page, fault in
 * the source first (no page lock held), then lock the page (write_begin),
 * copy with page faults disabled, and unlock (write_end). A short atomic
 * copy retries after faulting in again ("Otherwise there's a nasty deadlock
 * on copying from the same page as we're writing to").
 */
export function* genericPerformWrite(
  k: Kernel, t: Task, inode: Inode, pos: number, iov: readonly (readonly [number, number])[],
  /** ->write_begin for the page at `idx`, to be written at `off` for `len` bytes: locked, referenced. */
  getPage: (idx: number, off: number, len: number) => Gen<Page | null | number>,
): Gen<number> {
  const proc = k.taskProc.get(t.id)!;
  const d = t.enter('generic_perform_write');
  let written = 0;
  let seg = 0;
  let segOff = 0;
  const total = iovCount(iov);
  let zeroProgress = 0;
  while (written < total) {
    const p = pos + written;
    const off = pageOffset(p);
    // Bytes for this page: up to the page end, and within the current segment.
    while (seg < iov.length && segOff >= iov[seg]![1]) {
      seg++;
      segOff = 0;
    }
    if (seg >= iov.length) break;
    const segAddr = iov[seg]![0];
    const segLen = iov[seg]![1];
    const bytes = Math.min(PAGE_SIZE - off, segLen - segOff);
    let missed = faultInReadable(k, t, proc, segAddr + segOff, bytes);
    if (typeof missed !== 'number') missed = yield* missed;
    if (missed === bytes) {
      if (written === 0) written = -EFAULT;
      break;
    }
    const got = yield* getPage(Math.floor(p / PAGE_SIZE), off, bytes);
    if (typeof got === 'number' || got === null) {
      if (written === 0) written = typeof got === 'number' ? got : -ENOSPC;
      break;
    }
    // Straight into the locked page, as copy_page_from_iter_atomic.
    const copied = copyFromUserAtomic(proc, segAddr + segOff, got.bytes(), off, bytes);
    if (copied > 0) {
      got.dirty = true;
      got.uptodate = true;
      if (p + copied > inode.size) inode.size = p + copied;
    }
    got.unlock(k.sim);
    k.putPage(got);
    if (copied === 0) {
      // The source went away between fault-in and copy: try again, boundedly.
      k.cov.hit('write:short-copy-retry');
      if (++zeroProgress > 8) {
        if (written === 0) written = -EFAULT;
        break;
      }
      continue;
    }
    zeroProgress = 0;
    written += copied;
    segOff += copied;
    if (overDirtyLimit(k, inode)) yield* balanceDirtyPages(k, t, inode);
  }
  t.leave(d);
  return written;
}

function* shmemWriteIter(k: Kernel, t: Task, file: File, pos: number, iov: readonly (readonly [number, number])[]): Gen<number> {
  const inode = file.inode;
  const d = t.enter('shmem_file_write_iter');
  yield* inode.iRwsem.downWrite();
  if (file.flags & O_APPEND) pos = inode.size;
  const total = iovCount(iov);
  let ret: number;
  if (total > 0 && pos >= tmpfsOps.maxBytes) ret = -EFBIG;
  else {
    const limited = limitIov(iov, tmpfsOps.maxBytes - pos);
    ret = yield* genericPerformWrite(k, t, inode, pos, limited, (idx) => shmemGetPage(k, t, inode, idx, Sgp.Write));
  }
  inode.iRwsem.upWrite(t);
  t.leave(d);
  return ret;
}

/**
 * The bytes an iovec covers (iov_iter_count). A loop in a function of its
 * own: inside a generator, reduce's callback and destructuring add
 * registers that every scheduling point below saves and restores.
 */
export function iovCount(iov: readonly (readonly [number, number])[]): number {
  let n = 0;
  for (let i = 0; i < iov.length; i++) n += iov[i]![1];
  return n;
}

/** The iovec cut to its first `max` bytes (iov_iter_truncate). */
export function limitIov(iov: readonly (readonly [number, number])[], max: number): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  for (const [a, l] of iov) {
    if (max <= 0) break;
    out.push([a, Math.min(l, max)]);
    max -= l;
  }
  return out;
}

/** shmem_setattr(ATTR_SIZE), i_rwsem held for write. */
function* shmemSetSize(k: Kernel, t: Task, inode: Inode, size: number): Gen<number> {
  const d = t.enter('shmem_setattr');
  const old = inode.size;
  inode.size = size;
  if (size < old) yield* truncatePagecache(k, t, inode, size);
  t.leave(d);
  return 0;
}

/**
 * shmem_fallocate: mode 0 and KEEP_SIZE allocate pages; PUNCH_HOLE|KEEP_SIZE
 * removes them, publishing a shmem_falloc record so faulters in the range
 * wait instead of refilling the hole. Everything else: EOPNOTSUPP.
 */
function* shmemFallocate(k: Kernel, t: Task, file: File, mode: number, off: number, len: number): Gen<number> {
  const inode = file.inode;
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  const d = t.enter('shmem_fallocate');
  yield* inode.iRwsem.downWrite();
  let ret = 0;
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    const variant = k.sw('shmem_punch', 'waitq');
    const unmapStart = Math.ceil(off / PAGE_SIZE);
    const unmapEnd = Math.floor((off + len) / PAGE_SIZE);
    // Only the merged fix gives faulters a queue to sleep on; take 1
    // publishes the range without one. The original publishes nothing, and
    // neither does take 2 ("a completely different approach"): it reverted
    // take 1 and only made the punch below finite.
    const waitq = variant === 'waitq' ? new WaitQueue(k.sim, 'shmem_falloc_waitq') : null;
    const sf: ShmemFalloc = { start: unmapStart, next: unmapEnd, waitq };
    const publish = variant === 'waitq' || variant === 'take1';
    if (publish) {
      inode.iLock.lock(t);
      inode.iPrivate = sf;
      inode.iLock.unlock(t);
    }
    if (unmapEnd > unmapStart) yield* unmapMappingRange(k, t, inode.mapping, unmapStart, unmapEnd - unmapStart, false);
    if (variant === 'original') {
      // 3.15's shmem_undo_range: rescan from the start until a pass finds no
      // page in the range. Concurrent faults keep refilling the hole, so
      // under trinity the punch never ends (and writers hang on i_mutex).
      for (;;) {
        yield* truncateInodePagesRange(k, t, inode.mapping, off, off + len - 1, false);
        if (inode.mapping.indicesIn(unmapStart, Math.max(unmapStart, unmapEnd - 1)).length === 0 || unmapEnd <= unmapStart) break;
        k.cov.hit('shmem:punch-rescan');
      }
    } else {
      // shmem_truncate_range: one finite pass for a punch (take 2's "belt and
      // braces"). Alone (take 2), faulters still refill the range during the
      // pass, and every page they map again costs the pass a single-page
      // unmap_mapping_range over the whole i_mmap: with many mappings of the
      // file (trinity forks) the puncher starves while it holds i_rwsem.
      yield* truncateInodePagesRange(k, t, inode.mapping, off, off + len - 1, false);
    }
    if (publish) {
      inode.iLock.lock(t);
      inode.iPrivate = null;
      if (waitq !== null) waitq.wakeUpAll();
      inode.iLock.unlock(t);
    }
    k.cov.hit('shmem:punch');
  } else {
    if (off + len > tmpfsOps.maxBytes) ret = -EFBIG;
    else {
      const first = Math.floor(off / PAGE_SIZE);
      const last = Math.floor((off + len - 1) / PAGE_SIZE);
      for (let idx = first; idx <= last; idx++) {
        if (t.fatalPending) {
          ret = -EINTR;
          break;
        }
        const got = yield* shmemGetPage(k, t, inode, idx, Sgp.Write);
        if (typeof got === 'number' || got === null) {
          ret = got === -ENOMEM ? -ENOSPC : typeof got === 'number' ? got : -ENOSPC;
          break;
        }
        got.unlock(k.sim);
        k.putPage(got);
      }
      if (ret === 0 && !(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode.size) inode.size = off + len;
      k.cov.hit('shmem:falloc');
    }
  }
  inode.iRwsem.upWrite(t);
  t.leave(d);
  return ret;
}

export const tmpfsOps: FsOps = {
  fsName: 'tmpfs',
  maxBytes: Number.MAX_SAFE_INTEGER,
  fault: shmemFault,
  readIter: shmemReadIter,
  writeIter: shmemWriteIter,
  setSize: shmemSetSize,
  fallocate: shmemFallocate,
  *fsync() {
    return 0;
  },
};
