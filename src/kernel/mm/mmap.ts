// mmap, munmap, mremap, mprotect, madvise, msync, and the VMA surgery they
// share (__split_vma, vma_merge, copy_vma, move_page_tables), fork's
// dup_mmap and exit_mmap. All run with mmap_lock held for write; changes to
// a file VMA's range also take that file's i_mmap_rwsem for write.

import { removeAt, type Gen, type Task } from '../../sim/index.js';
import type { Kernel, Process } from '../kernel.js';
import { EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP } from '../errno.js';
import { PAGE_SIZE, isPageAligned, pageAlign } from '../page.js';
import { fdget } from '../fs/vfs.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, tmpfsOps } from '../fs/shmem.js';
import { freePgtables, ptesIn, zapRange } from './memory.js';
import { doUserAddrFault } from './fault.js';
import { vmRawWriteBegin, vmRawWriteEnd, vmWriteBegin, vmWriteEnd } from './vm_sequence.js';
import { khugepagedEnterVma } from './khugepaged.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE,
  MAP_TYPE, MMAP_BASE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE, TASK_UNMAPPED_MIN, Vma, type MM,
} from './vma.js';

export const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
export const MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3, MADV_DONTNEED = 4,
  MADV_FREE = 8, MADV_REMOVE = 9;
export const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
/** vm.max_map_count. */
export const MAX_MAP_COUNT = 65530;
/** The flags MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK and friends). */
const MAP_KNOWN = 0x1 | 0x2 | 0x3 | MAP_FIXED | MAP_ANONYMOUS | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | MAP_POPULATE |
  0x10000 | 0x20000 | 0x40000 | MAP_FIXED_NOREPLACE;

// ------------------------------------------------------------- VMA surgery

/** Link a VMA into the mm and, for a file, into the file's i_mmap. */
function* linkVma(k: Kernel, t: Task, vma: Vma): Gen<void> {
  vma.mm.insertVma(vma);
  if (vma.file !== null) {
    const m = vma.file.inode.mapping;
    yield* m.iMmapRwsem.downWrite();
    m.iMmap.push(vma);
    m.iMmapRwsem.upWrite(t);
  }
}

/** Unlink (the PTEs must already be gone) and drop the file reference. */
function* unlinkVma(k: Kernel, t: Task, vma: Vma): Gen<void> {
  vma.mm.removeVma(vma);
  if (vma.file !== null) {
    const m = vma.file.inode.mapping;
    yield* m.iMmapRwsem.downWrite();
    const i = m.iMmap.indexOf(vma);
    if (i >= 0) removeAt(m.iMmap, i);
    m.iMmapRwsem.upWrite(t);
    k.fput(vma.file);
  }
}

/**
 * __split_vma: split at `addr`; returns the new upper part. __vma_adjust
 * shrinks `vma` with its sequence count written -- and, as the SPF series
 * did, the next VMA's too, nested (seed 002) -- inside i_mmap_rwsem for a
 * file VMA: the i_mmap_rwsem -> &vma->vm_sequence -> &vma->vm_sequence/1
 * part of entry C's chain when the writes are annotated (spf=v2).
 */
function* splitVma(k: Kernel, t: Task, vma: Vma, addr: number): Gen<Vma> {
  const d = t.enter('__split_vma');
  const mm = vma.mm;
  const upper = new Vma(k, mm, addr, vma.end, vma.prot, vma.shared, vma.mayWrite, vma.file, vma.pgoffAt(addr));
  upper.seqRead = vma.seqRead;
  upper.randRead = vma.randRead;
  upper.anonVma = vma.anonVma;
  const next = mm.vmas[mm.vmas.indexOf(vma) + 1] ?? null;
  const m = vma.file !== null ? vma.file.inode.mapping : null;
  if (vma.file !== null) k.getFile(vma.file);
  t.enter('__vma_adjust');
  // __vma_adjust: i_mmap_rwsem, then the sequence counts.
  if (m !== null) yield* m.iMmapRwsem.downWrite();
  vmRawWriteBegin(k, t, vma, 0);
  if (next !== null) vmRawWriteBegin(k, t, next, 1);
  vma.end = addr;
  if (m !== null) m.iMmap.push(upper);
  if (next !== null) vmRawWriteEnd(k, t, next);
  vmRawWriteEnd(k, t, vma);
  if (m !== null) m.iMmapRwsem.upWrite(t);
  mm.insertVma(upper);
  k.cov.hit(m === null ? 'vma:split' : next === null ? 'vma:split-file' : 'vma:split-file-next');
  t.leave(d);
  return upper;
}

function mergeable(a: Vma, b: Vma): boolean {
  if (a.end !== b.start || a.prot !== b.prot || a.shared !== b.shared || a.mayWrite !== b.mayWrite) return false;
  if (a.seqRead !== b.seqRead || a.randRead !== b.randRead) return false;
  if (a.file === null || b.file === null) return a.file === null && b.file === null;
  return a.file.inode === b.file.inode && a.pgoffAt(a.end) === b.pgoff;
}

/** vma_merge: fold `vma` into its neighbours where compatible; returns the survivor. */
function* mergeVma(k: Kernel, t: Task, vma: Vma): Gen<Vma> {
  const mm = vma.mm;
  let i = mm.vmas.indexOf(vma);
  const prev = i > 0 ? mm.vmas[i - 1]! : null;
  if (prev !== null && mergeable(prev, vma)) {
    yield* absorb(k, t, prev, vma);
    vma = prev;
    i--;
  }
  const next = mm.vmas[i + 1];
  if (next !== undefined && mergeable(vma, next)) yield* absorb(k, t, vma, next);
  khugepagedEnterVma(k, vma);
  return vma;
}

/** `a` grows over adjacent `b`, which goes away (__vma_adjust with remove_next). */
function* absorb(k: Kernel, t: Task, a: Vma, b: Vma): Gen<void> {
  const m = a.file !== null ? a.file.inode.mapping : null;
  const d = t.enter('__vma_adjust');
  if (m !== null) yield* m.iMmapRwsem.downWrite();
  vmRawWriteBegin(k, t, a, 0);
  vmRawWriteBegin(k, t, b, 1);
  a.end = b.end;
  a.anonVma ||= b.anonVma;
  if (m !== null) {
    const j = m.iMmap.indexOf(b);
    if (j >= 0) removeAt(m.iMmap, j);
  }
  a.mm.removeVma(b);
  vmRawWriteEnd(k, t, b);
  vmRawWriteEnd(k, t, a);
  if (m !== null) {
    m.iMmapRwsem.upWrite(t);
    k.fput(b.file!);
  }
  t.leave(d);
  k.cov.hit('vma:merge');
}

/** Make [start, end) a union of whole VMAs (split at both edges); returns them. */
function* isolate(k: Kernel, t: Task, mm: MM, start: number, end: number): Gen<Vma[]> {
  for (const v of mm.overlapping(start, end)) {
    if (v.start < start) yield* splitVma(k, t, v, start);
  }
  for (const v of mm.overlapping(start, end)) {
    if (v.end > end) yield* splitVma(k, t, v, end);
  }
  return mm.overlapping(start, end);
}

/** do_vmi_munmap: remove [start, end), splitting VMAs at the edges. */
export function* doMunmap(k: Kernel, t: Task, mm: MM, start: number, end: number): Gen<number> {
  const d = t.enter('do_munmap');
  const vmas = yield* isolate(k, t, mm, start, end);
  for (const v of vmas) {
    zapRange(k, t, v, v.start, v.end);
    yield* unlinkVma(k, t, v);
  }
  if (vmas.length > 0) freePgtables(k, mm);
  t.leave(d);
  return 0;
}

/** get_unmapped_area, top-down below MMAP_BASE; a free hint is honoured. */
function getUnmappedArea(mm: MM, hint: number, len: number): number {
  if (hint !== 0) {
    const h = pageAlign(hint);
    if (h >= TASK_UNMAPPED_MIN && h + len <= TASK_SIZE && mm.overlapping(h, h + len).length === 0) return h;
  }
  let top = MMAP_BASE;
  for (let i = mm.vmas.length - 1; i >= -1; i--) {
    const v = i >= 0 ? mm.vmas[i]! : null;
    if (v !== null && v.start >= top) continue;
    const floor = v === null ? TASK_UNMAPPED_MIN : v.end;
    if (top - floor >= len) return top - len;
    if (v !== null) top = Math.min(top, v.start);
  }
  return -ENOMEM;
}

// ------------------------------------------------------------------ mmap

export function* sysMmap(k: Kernel, t: Task, p: Process, addr: number, len: number, prot: number, flags: number, fd: number, off: number): Gen<number> {
  if (!isPageAligned(off) || off < 0) return -EINVAL;
  const file = flags & MAP_ANONYMOUS ? null : fdget(p, fd);
  if (!(flags & MAP_ANONYMOUS) && file === null) return -EBADF;
  const mm = p.mm;
  if (len === 0) return -EINVAL;
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  len = pageAlign(len);
  if (len <= 0 || len > TASK_SIZE) return -ENOMEM;
  if (mm.vmas.length > MAX_MAP_COUNT) return -ENOMEM;
  const d = t.enter('do_mmap');
  yield* mm.mmapLock.downWrite();
  const ret = yield* doMmap(k, t, p, file, addr, len, prot, flags, off / PAGE_SIZE);
  mm.mmapLock.upWrite(t);
  t.leave(d);
  if (ret >= 0 && flags & MAP_POPULATE) yield* populate(k, t, p, ret, len, (prot & PROT_WRITE) !== 0 && (flags & MAP_TYPE) !== MAP_PRIVATE);
  return ret;
}

function* doMmap(k: Kernel, t: Task, p: Process, file: import('../fs/inode.js').File | null, addr: number, len: number, prot: number, flags: number, pgoff: number): Gen<number> {
  const mm = p.mm;
  let start: number;
  if (flags & MAP_FIXED) {
    if (!isPageAligned(addr)) return -EINVAL;
    if (addr > TASK_SIZE - len || addr < 0) return -ENOMEM;
    start = addr;
    if (flags & MAP_FIXED_NOREPLACE && mm.overlapping(start, start + len).length > 0) return -EEXIST;
  } else {
    start = getUnmappedArea(mm, addr, len);
    if (start < 0) return start;
  }
  let shared: boolean;
  let mayWrite = true;
  if (file !== null) {
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
      case MAP_SHARED_VALIDATE:
        if ((flags & MAP_TYPE) === MAP_SHARED_VALIDATE && flags & ~MAP_KNOWN) return -EOPNOTSUPP;
        if (prot & PROT_WRITE && !file.writable) return -EACCES;
        shared = true;
        mayWrite = file.writable;
        if (!file.readable) return -EACCES;
        break;
      case MAP_PRIVATE:
        if (!file.readable) return -EACCES;
        shared = false;
        break;
      default:
        return -EINVAL;
    }
    if (!file.inode.isReg) return -ENODEV;
  } else {
    // do_mmap's anonymous switch knows no MAP_SHARED_VALIDATE: EINVAL.
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        shared = true;
        break;
      case MAP_PRIVATE:
        shared = false;
        break;
      default:
        return -EINVAL;
    }
    pgoff = start / PAGE_SIZE;
  }
  if (shared && file === null) {
    // Shared anonymous memory is a tmpfs file of its own (shmem_zero_setup).
    const inode = k.createInode(`/dev/zero (deleted)#${k.processes.length}:${start}`, tmpfsOps);
    k.dentries.delete(inode.path);
    inode.size = len;
    file = k.newFile(inode, 2);
    pgoff = 0;
  } else if (file !== null) {
    k.getFile(file);
  }
  // mmap_region: MAP_FIXED replaces what was there.
  if (mm.overlapping(start, start + len).length > 0) yield* doMunmap(k, t, mm, start, start + len);
  const vma = new Vma(k, mm, start, start + len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC), shared, mayWrite, file, pgoff);
  yield* linkVma(k, t, vma);
  yield* mergeVma(k, t, vma);
  k.cov.hit(file === null ? 'mmap:anon' : shared ? 'mmap:shared-file' : 'mmap:private-file');
  return start;
}

/** MAP_POPULATE / mm_populate: fault every page in (errors ignored, as Linux). */
function* populate(k: Kernel, t: Task, p: Process, start: number, len: number, write: boolean): Gen<void> {
  for (let a = start; a < start + len; a += PAGE_SIZE) {
    if (p.mm.pt.has(a / PAGE_SIZE)) continue;
    const r = yield* doUserAddrFault(k, t, p.mm, a, write, false);
    if (r !== 0) break;
  }
}

// ---------------------------------------------------------------- munmap

export function* sysMunmap(k: Kernel, t: Task, p: Process, addr: number, len: number): Gen<number> {
  if (!isPageAligned(addr) || addr < 0 || addr > TASK_SIZE || len > TASK_SIZE - addr) return -EINVAL;
  len = pageAlign(len);
  if (len === 0) return -EINVAL;
  const d = t.enter('vm_munmap');
  yield* p.mm.mmapLock.downWrite();
  const r = yield* doMunmap(k, t, p.mm, addr, addr + len);
  p.mm.mmapLock.upWrite(t);
  t.leave(d);
  return r;
}

// ---------------------------------------------------------------- mremap

export function* sysMremap(k: Kernel, t: Task, p: Process, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): Gen<number> {
  if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return -EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  if (!isPageAligned(addr)) return -EINVAL;
  oldLen = pageAlign(oldLen);
  newLen = pageAlign(newLen);
  if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLen !== newLen)) return -EINVAL;
  if (newLen === 0 || newLen > TASK_SIZE) return -EINVAL;
  // check_mremap_params: a new address (FIXED, DONTUNMAP) is checked before the VMA lookup, so EINVAL beats EFAULT.
  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
    if (!isPageAligned(newAddr) || newAddr < 0 || newAddr > TASK_SIZE - newLen) return -EINVAL;
    if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL;
  }
  const mm = p.mm;
  const d = t.enter('mremap');
  yield* mm.mmapLock.downWrite();
  const r = yield* doMremap(k, t, p, addr, oldLen, newLen, flags, newAddr);
  mm.mmapLock.upWrite(t);
  t.leave(d);
  return r;
}

function* doMremap(k: Kernel, t: Task, p: Process, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): Gen<number> {
  const mm = p.mm;
  let vma = mm.vmaAt(addr);
  if (vma === null) return -EFAULT;
  if (oldLen === 0 && !vma.shared) return -EINVAL;
  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
    if (flags & MREMAP_FIXED) {
      if (!isPageAligned(newAddr)) return -EINVAL;
      if (newLen > TASK_SIZE || newAddr > TASK_SIZE - newLen || newAddr < 0) return -EINVAL;
      if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL;
      yield* doMunmap(k, t, mm, newAddr, newAddr + newLen);
    } else {
      newAddr = getUnmappedArea(mm, 0, newLen);
      if (newAddr < 0) return newAddr;
    }
    if (oldLen > newLen) {
      yield* doMunmap(k, t, mm, addr + newLen, addr + oldLen);
      oldLen = newLen;
    }
    vma = mm.vmaAt(addr);
    const err = checkResizable(vma, addr, oldLen, newLen);
    if (err) return err;
    return yield* moveVma(k, t, vma!, addr, oldLen, newLen, newAddr, (flags & MREMAP_DONTUNMAP) !== 0);
  }
  if (oldLen >= newLen && oldLen !== 0) {
    // Shrinking is always in place.
    if (oldLen > newLen) yield* doMunmap(k, t, mm, addr + newLen, addr + oldLen);
    k.cov.hit('mremap:shrink');
    return addr;
  }
  const err = checkResizable(vma, addr, oldLen, newLen);
  if (err) return err;
  // Grow in place if the VMA ends here and the space after it is free.
  if (oldLen !== 0 && addr + oldLen === vma.end) {
    const next = mm.findVma(vma.end);
    const newEnd = addr + newLen;
    if (newEnd <= TASK_SIZE && (next === null || next.start >= newEnd)) {
      // vma_adjust, under i_mmap_rwsem for a file VMA.
      const m = vma.file !== null ? vma.file.inode.mapping : null;
      if (m !== null) yield* m.iMmapRwsem.downWrite();
      vmRawWriteBegin(k, t, vma, 0);
      vma.end = newEnd;
      vmRawWriteEnd(k, t, vma);
      if (m !== null) m.iMmapRwsem.upWrite(t);
      khugepagedEnterVma(k, vma);
      k.cov.hit('mremap:grow-in-place');
      return addr;
    }
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const dest = getUnmappedArea(mm, 0, newLen);
  if (dest < 0) return dest;
  return yield* moveVma(k, t, vma, addr, oldLen, newLen, dest, false);
}

/** vma_to_resize's checks. */
function checkResizable(vma: Vma | null, addr: number, oldLen: number, newLen: number): number {
  if (vma === null || vma.start > addr) return -EFAULT;
  if (oldLen > vma.end - addr) return -EFAULT;
  if (newLen === oldLen) return 0;
  if (vma.pages + (newLen - oldLen) / PAGE_SIZE > (1 << 40)) return -ENOMEM;
  return 0;
}

/**
 * move_vma: copy_vma for the destination, move_page_tables (allocating
 * destination tables: GFP_KERNEL, may reclaim), then unmap the source
 * (unless MREMAP_DONTUNMAP, which leaves it empty). oldLen 0 on a shared
 * mapping creates a second mapping of the same pages.
 */
function* moveVma(k: Kernel, t: Task, vma: Vma, oldAddr: number, oldLen: number, newLen: number, newAddr: number, dontUnmap: boolean): Gen<number> {
  const d = t.enter('move_vma');
  const mm = vma.mm;
  let src = vma;
  if (oldLen > 0) {
    const parts = yield* isolate(k, t, mm, oldAddr, oldAddr + oldLen);
    src = parts[0]!;
  }
  const pgoff = src.file !== null ? src.pgoffAt(oldAddr) : newAddr / PAGE_SIZE;
  if (src.file !== null) k.getFile(src.file);
  // copy_vma, then move_page_tables with both sequence counts written (the
  // new VMA's nested): page-table allocations under &vma->vm_sequence/1 are
  // the vm_sequence -> fs_reclaim part of entry C when they are annotated.
  const dst = new Vma(k, mm, newAddr, newAddr + newLen, src.prot, src.shared, src.mayWrite, src.file, pgoff);
  dst.anonVma = src.anonVma;
  yield* linkVma(k, t, dst);
  vmRawWriteBegin(k, t, src, 0);
  vmRawWriteBegin(k, t, dst, 1);
  // move_page_tables
  let moved = 0;
  let failed = false;
  for (const vpn of ptesIn(mm, oldAddr / PAGE_SIZE, (oldAddr + oldLen) / PAGE_SIZE)) {
    const nv = vpn - oldAddr / PAGE_SIZE + newAddr / PAGE_SIZE;
    if (!mm.ptTables.has(Math.floor(nv / 512))) k.cov.hit('mremap:pte-alloc');
    if (!(yield* k.allocPageTable(t, mm, Math.floor(nv / 512)))) {
      failed = true;
      break;
    }
    // The page-table allocation may have slept in reclaim, whose rmap walk
    // can have unmapped this PTE meanwhile: move what the PTL finds (a none
    // PTE moves nothing, as move_ptes skips pte_none).
    mm.ptl.lock(t);
    const pte = mm.pt.get(vpn);
    if (pte !== undefined) {
      mm.pt.delete(vpn);
      mm.pt.set(nv, pte);
      moved++;
    }
    mm.ptl.unlock(t);
  }
  vmRawWriteEnd(k, t, dst);
  vmRawWriteEnd(k, t, src);
  if (failed) {
    // Move the PTEs back and drop the new VMA, as move_vma's error path.
    mm.ptl.lock(t);
    for (const vpn of ptesIn(mm, newAddr / PAGE_SIZE, (newAddr + newLen) / PAGE_SIZE)) {
      const pte = mm.pt.get(vpn)!;
      mm.pt.delete(vpn);
      mm.pt.set(vpn - newAddr / PAGE_SIZE + oldAddr / PAGE_SIZE, pte);
    }
    mm.ptl.unlock(t);
    yield* unlinkVma(k, t, dst);
    t.leave(d);
    return -ENOMEM;
  }
  k.cov.hit(dontUnmap ? 'mremap:dontunmap' : oldLen === 0 ? 'mremap:dup-shared' : 'mremap:move');
  k.sim.chargeNs(100 * moved);
  if (!dontUnmap && oldLen > 0) {
    yield* unlinkVma(k, t, src);
    freePgtables(k, mm);
  }
  yield* mergeVma(k, t, dst);
  t.leave(d);
  return newAddr;
}

// -------------------------------------------------------------- mprotect

export function* sysMprotect(k: Kernel, t: Task, p: Process, start: number, len: number, prot: number): Gen<number> {
  const grows = prot & 0x03000000; // PROT_GROWSDOWN | PROT_GROWSUP
  if (grows === 0x03000000) return -EINVAL;
  if (!isPageAligned(start)) return -EINVAL;
  if (len === 0) return 0;
  len = pageAlign(len);
  const end = start + len;
  if (end <= start) return -ENOMEM;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | 0x8 /* PROT_SEM */ | 0x01000000 | 0x02000000)) return -EINVAL;
  const mm = p.mm;
  yield* mm.mmapLock.downWrite();
  let ret = 0;
  const first = mm.vmaAt(start);
  // No VMA here is VM_GROWSDOWN/VM_GROWSUP: with either flag, EINVAL once do_mprotect_pkey found its VMA.
  if (grows) ret = (grows & 0x01000000 ? mm.overlapping(start, end).length > 0 : first !== null) ? -EINVAL : -ENOMEM;
  else if (first === null) ret = -ENOMEM;
  else {
    // The whole range must be mapped without holes.
    let cursor = start;
    for (const v of mm.overlapping(start, end)) {
      if (v.start > cursor) break;
      cursor = v.end;
    }
    const covered = Math.min(cursor, end);
    const vmas = yield* isolate(k, t, mm, start, covered);
    for (const v of vmas) {
      if (prot & PROT_WRITE && v.shared && !v.mayWrite) {
        ret = -EACCES;
        break;
      }
      vmWriteBegin(k, t, v, 0);
      v.prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
      vmWriteEnd(k, t, v);
      if (!(prot & PROT_WRITE)) {
        // change_protection: write-protect existing PTEs.
        mm.ptl.lock(t);
        for (const vpn of ptesIn(mm, v.start / PAGE_SIZE, v.end / PAGE_SIZE)) mm.pt.get(vpn)!.writable = false;
        mm.ptl.unlock(t);
      }
      yield* mergeVma(k, t, v);
    }
    if (ret === 0 && covered < end) ret = -ENOMEM;
    k.cov.hit('mprotect');
  }
  mm.mmapLock.upWrite(t);
  return ret;
}

// --------------------------------------------------------------- madvise

const MADV_NOOPS = new Set([10, 11, 12, 13, 14, 15, 16, 17]);

export function* sysMadvise(k: Kernel, t: Task, p: Process, start: number, len: number, advice: number): Gen<number> {
  const known = advice === MADV_NORMAL || advice === MADV_RANDOM || advice === MADV_SEQUENTIAL || advice === MADV_WILLNEED ||
    advice === MADV_DONTNEED || advice === MADV_FREE || advice === MADV_REMOVE || MADV_NOOPS.has(advice);
  if (!known) return -EINVAL;
  if (!isPageAligned(start)) return -EINVAL;
  const alen = pageAlign(len);
  if (len !== 0 && alen === 0) return -EINVAL;
  const end = start + alen;
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  const mm = p.mm;
  const write = advice === MADV_NORMAL || advice === MADV_RANDOM || advice === MADV_SEQUENTIAL;
  if (write) yield* mm.mmapLock.downWrite();
  else yield* mm.mmapLock.downRead();
  let ret = 0;
  let unmapped = false;
  let cursor = start;
  const d = t.enter('madvise');
  for (const v of mm.overlapping(start, end)) {
    if (v.start > cursor) unmapped = true;
    cursor = v.end;
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    if (advice === MADV_DONTNEED || (advice === MADV_FREE && v.anonymous && !v.shared)) {
      zapRange(k, t, v, s, e);
      k.cov.hit('madvise:dontneed');
    } else if (advice === MADV_FREE) {
      ret = -EINVAL;
      break;
    } else if (advice === MADV_REMOVE) {
      if (v.file === null) {
        ret = -EINVAL;
        break;
      }
      if (!v.shared || !v.mayWrite) {
        ret = -EACCES;
        break;
      }
      // madvise_remove drops mmap_lock around vfs_fallocate (holding a file reference).
      const file = k.getFile(v.file);
      const off = (v.pgoffAt(s)) * PAGE_SIZE;
      mm.mmapLock.upRead(t);
      ret = yield* file.inode.ops.fallocate(k, t, file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, e - s);
      k.fput(file);
      k.cov.hit('madvise:remove');
      t.leave(d);
      if (ret < 0) return ret;
      // Continue with the rest of the range after retaking the lock.
      if (e < end) return yield* sysMadvise(k, t, p, e, end - e, advice);
      return unmapped ? -ENOMEM : 0;
    } else if (write) {
      const parts = yield* isolate(k, t, mm, s, e);
      for (const part of parts) {
        part.seqRead = advice === MADV_SEQUENTIAL;
        part.randRead = advice === MADV_RANDOM;
        yield* mergeVma(k, t, part);
      }
    } else if (advice === MADV_WILLNEED) {
      k.cov.hit('madvise:willneed');
      const ops = v.file?.inode.ops;
      if (v.file !== null && ops?.readahead !== undefined) {
        // madvise_willneed: vfs_fadvise(WILLNEED) with mmap_lock dropped and the file pinned.
        const file = k.getFile(v.file);
        mm.mmapLock.upRead(t);
        yield* ops.readahead(k, t, file, v.pgoffAt(s), (e - s) / PAGE_SIZE);
        k.fput(file);
        t.leave(d);
        if (e < end) return yield* sysMadvise(k, t, p, e, end - e, advice);
        return unmapped ? -ENOMEM : 0;
      }
    }
  }
  t.leave(d);
  if (cursor < end) unmapped = true;
  if (write) mm.mmapLock.upWrite(t);
  else mm.mmapLock.upRead(t);
  if (ret === 0 && unmapped) ret = -ENOMEM;
  return ret;
}

// ----------------------------------------------------------------- msync

export function* sysMsync(k: Kernel, t: Task, p: Process, start: number, len: number, flags: number): Gen<number> {
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return -EINVAL;
  if (!isPageAligned(start)) return -EINVAL;
  if (flags & MS_ASYNC && flags & MS_SYNC) return -EINVAL;
  const end = start + pageAlign(len);
  if (end < start) return -ENOMEM;
  if (end === start) return 0;
  const mm = p.mm;
  yield* mm.mmapLock.downRead();
  let ret = 0;
  let cursor = start;
  let unmapped = false;
  const vmas = mm.overlapping(start, end);
  if (vmas.length === 0) ret = -ENOMEM;
  for (const v of vmas) {
    if (v.start > cursor) unmapped = true;
    cursor = v.end;
  }
  if (cursor < end) unmapped = true;
  mm.mmapLock.upRead(t);
  if (ret === 0 && flags & MS_SYNC) {
    for (const v of vmas) if (v.file !== null && v.shared) yield* v.file.inode.ops.fsync(k, t, v.file);
  }
  if (ret === 0 && unmapped) ret = -ENOMEM;
  k.cov.hit('msync');
  return ret;
}

// ------------------------------------------------------------ fork, exit

/** dup_mmap: shared mappings stay shared; private ones become copy-on-write in both. */
export function* dupMmap(k: Kernel, t: Task, parent: MM, child: MM): Gen<number> {
  const d = t.enter('dup_mmap');
  yield* parent.mmapLock.downWrite();
  for (const v of parent.vmas) {
    if (v.file !== null) k.getFile(v.file);
    const c = new Vma(k, child, v.start, v.end, v.prot, v.shared, v.mayWrite, v.file, v.pgoff);
    c.seqRead = v.seqRead;
    c.randRead = v.randRead;
    c.anonVma = v.anonVma; // anon_vma_fork
    yield* linkVma(k, t, c);
    if (v.shared && v.file !== null) continue; // refaults in the child
    parent.ptl.lock(t);
    for (const vpn of ptesIn(parent, v.start / PAGE_SIZE, v.end / PAGE_SIZE)) {
      const pte = parent.pt.get(vpn)!;
      if (!v.shared) pte.writable = false;
      child.ptTables.add(Math.floor(vpn / 512));
      child.pt.set(vpn, { page: pte.page, writable: pte.writable });
      if (pte.page !== k.zeroPage) {
        pte.page.mapcount++;
        pte.page.refcount++;
      }
    }
    parent.ptl.unlock(t);
  }
  k.pagesInUse += child.ptTables.size;
  parent.mmapLock.upWrite(t);
  t.leave(d);
  return 0;
}

/** exit_mmap: unmap everything. */
export function* exitMmap(k: Kernel, t: Task, mm: MM): Gen<void> {
  const d = t.enter('exit_mmap');
  yield* mm.mmapLock.downWrite();
  for (const v of [...mm.vmas]) {
    zapRange(k, t, v, v.start, v.end);
    yield* unlinkVma(k, t, v);
  }
  freePgtables(k, mm);
  mm.mmapLock.upWrite(t);
  t.leave(d);
}

