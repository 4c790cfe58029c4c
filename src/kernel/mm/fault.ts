// The page-fault path: do_user_addr_fault -> handle_mm_fault -> the anonymous,
// read (with fault-around), copy-on-write and shared fault handlers, with the
// VM_FAULT_RETRY protocol (a handler that returns RETRY has already dropped
// mmap_lock).

import type { Gen, Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, pagesFor, type Page } from '../page.js';
import { PROT_READ, PROT_WRITE, type MM, type Vma, type Pte } from './vma.js';

export const FAULT_FLAG_WRITE = 0x01, FAULT_FLAG_ALLOW_RETRY = 0x04, FAULT_FLAG_RETRY_NOWAIT = 0x08,
  FAULT_FLAG_KILLABLE = 0x10, FAULT_FLAG_TRIED = 0x20, FAULT_FLAG_USER = 0x40;

export const VM_FAULT_OOM = 0x1, VM_FAULT_SIGBUS = 0x2, VM_FAULT_MAJOR = 0x4, VM_FAULT_SIGSEGV = 0x40,
  VM_FAULT_NOPAGE = 0x100, VM_FAULT_LOCKED = 0x200, VM_FAULT_RETRY = 0x400;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

export type FaultResult = number;

/** struct vm_fault. */
export interface Vmf {
  readonly t: Task;
  readonly vma: Vma;
  /** Page-aligned faulting address. */
  readonly address: number;
  readonly pgoff: number;
  flags: number;
  /** Set by ->fault: the locked page. */
  page: Page | null;
}

/** Outcome of a fault taken on behalf of a user access. */
export const FAULT_OK = 0, FAULT_SIGSEGV = 1, FAULT_SIGBUS = 2, FAULT_OOM = 3;

/** Longest retry chain before we call it a model bug (Linux has no bound; we want one). */
const MAX_FAULT_RETRIES = 64;

/**
 * do_user_addr_fault: take mmap_lock for read, find and check the VMA, run
 * handle_mm_fault, and retry after VM_FAULT_RETRY (5.7+: repeatedly, with
 * FAULT_FLAG_TRIED). `user` distinguishes a CPU access from a kernel uaccess
 * (which gets -EFAULT instead of a signal; the caller decides).
 */
export function* doUserAddrFault(k: Kernel, t: Task, mm: MM, addr: number, write: boolean, user: boolean): Gen<number> {
  const d = t.enter('do_user_addr_fault');
  let flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | (write ? FAULT_FLAG_WRITE : 0) | (user ? FAULT_FLAG_USER : 0);
  for (let attempt = 0; ; attempt++) {
    if (attempt > MAX_FAULT_RETRIES) throw new Error(`page fault at ${addr.toString(16)} retried ${attempt} times`);
    yield* mm.mmapLock.downRead();
    const vma = mm.vmaAt(addr);
    if (vma === null || (write && !(vma.prot & PROT_WRITE)) || (!write && !(vma.prot & (PROT_READ | PROT_WRITE)))) {
      k.cov.hit(vma === null ? 'fault:no-vma' : 'fault:bad-access');
      mm.mmapLock.upRead(t);
      t.leave(d);
      return FAULT_SIGSEGV;
    }
    const ret = yield* handleMmFault(k, t, vma, addr - (addr % PAGE_SIZE), flags);
    if (ret & VM_FAULT_RETRY) {
      // The handler dropped mmap_lock.
      k.cov.hit('fault:retry');
      if (t.fatalPending) {
        t.leave(d);
        return FAULT_SIGSEGV;
      }
      flags |= FAULT_FLAG_TRIED;
      continue;
    }
    mm.mmapLock.upRead(t);
    t.leave(d);
    if (ret & VM_FAULT_OOM) return FAULT_OOM;
    if (ret & VM_FAULT_SIGBUS) return FAULT_SIGBUS;
    if (ret & VM_FAULT_SIGSEGV) return FAULT_SIGSEGV;
    return FAULT_OK;
  }
}

/** handle_mm_fault with mmap_lock held for read; returns VM_FAULT_* bits. */
export function* handleMmFault(k: Kernel, t: Task, vma: Vma, address: number, flags: number): Gen<FaultResult> {
  const d = t.enter('handle_mm_fault');
  const outer = k.faultFlags.get(t.id);
  k.faultFlags.set(t.id, flags);
  const mm = vma.mm;
  const vpn = address / PAGE_SIZE;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  let ret: FaultResult;
  const pte = mm.pt.get(vpn);
  if (pte !== undefined) {
    ret = write && !pte.writable ? yield* doWpPage(k, t, vma, address, pte) : 0;
  } else if (!k.allocPageTable(t, mm, Math.floor(vpn / 512))) {
    ret = VM_FAULT_OOM;
  } else if (vma.anonymous) {
    ret = yield* doAnonymousPage(k, t, vma, address, write);
  } else {
    const vmf: Vmf = { t, vma, address, pgoff: vma.pgoffAt(address), flags, page: null };
    if (!write) ret = yield* doReadFault(k, vmf);
    else if (!vma.shared) ret = yield* doCowFault(k, vmf);
    else ret = yield* doSharedFault(k, vmf);
  }
  if (outer === undefined) k.faultFlags.delete(t.id);
  else k.faultFlags.set(t.id, outer);
  t.leave(d);
  return ret;
}

/**
 * Invariant B (seed 001): a fault on its first, retryable try
 * (ALLOW_RETRY without TRIED or RETRY_NOWAIT) must not sleep on I/O or on a
 * page lock while holding mmap_lock -- it must pin the file, drop the lock
 * and return VM_FAULT_RETRY. Called at the I/O sleep sites; independent of
 * how long the I/O takes. Reported once per run.
 */
export function ioWaitCheck(k: Kernel, t: Task, what: string): void {
  const f = k.faultFlags.get(t.id);
  if (f === undefined || k.ioWaitWarned) return;
  if (!(f & FAULT_FLAG_ALLOW_RETRY) || f & (FAULT_FLAG_TRIED | FAULT_FLAG_RETRY_NOWAIT)) return;
  const p = k.taskProc.get(t.id);
  if (p === undefined || !p.mm.mmapLock.holdsRead(t)) return;
  k.ioWaitWarned = true;
  const fn = [...t.stack].reverse().find((x) => x.endsWith('_fault')) ?? t.where();
  k.sim.report(
    'warning',
    `WARNING: mmap_lock held across I/O in ${fn}`,
    [
      `${t} sleeps on ${what} holding mmap_lock (read) in a fault that may retry (flags 0x${f.toString(16)}):`,
      `it should pin the file, drop mmap_lock and return VM_FAULT_RETRY first, or a queued`,
      `mmap_lock writer and every reader behind it (ps, /proc/<pid>/maps) wait for this I/O.`,
      `Call trace: ${[...t.stack].reverse().join(' <- ')}`,
    ].join('\n'),
    t,
  );
}

/** Install a PTE for `page` at `address` under the PTL if none is there; false if raced. */
export function setPte(k: Kernel, t: Task, vma: Vma, address: number, page: Page, writable: boolean): boolean {
  const mm = vma.mm;
  const vpn = address / PAGE_SIZE;
  mm.ptl.lock(t);
  const raced = mm.pt.has(vpn);
  if (!raced) {
    mm.pt.set(vpn, { page, writable, by: t.where() });
    if (page !== k.zeroPage) page.mapcount++;
    if (writable && !page.anon) page.dirty = true;
  }
  mm.ptl.unlock(t);
  return !raced;
}

function* doAnonymousPage(k: Kernel, t: Task, vma: Vma, address: number, write: boolean): Gen<FaultResult> {
  if (!write) {
    // Read fault: map the shared zero page read-only (a special PTE: no counts).
    k.cov.hit('fault:anon-zero');
    setPte(k, t, vma, address, k.zeroPage, false);
    return 0;
  }
  yield; // might_alloc
  const page = k.allocPage(t, null, 0, true);
  if (page === null) return VM_FAULT_OOM;
  page.uptodate = true;
  k.cov.hit('fault:anon-new');
  // The allocation's reference becomes the PTE's; if another thread raced us, drop it.
  if (!setPte(k, t, vma, address, page, true)) k.putPage(page);
  return 0;
}

/** do_read_fault: fault-around first (->map_pages), then ->fault. */
function* doReadFault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
  if (k.faultAroundPages > 1) {
    yield* doFaultAround(k, vmf);
    if (vmf.vma.mm.pt.has(vmf.address / PAGE_SIZE)) {
      k.cov.hit('fault:around-hit');
      return VM_FAULT_NOPAGE;
    }
  }
  const ret = yield* doFault(k, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  const page = vmf.page!;
  finishFault(k, vmf, page, false);
  page.unlock(k.sim);
  k.putPage(page);
  return ret;
}

/** do_cow_fault: copy the file page into a new anonymous page. */
function* doCowFault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
  const t = vmf.t;
  yield; // might_alloc
  const cow = k.allocPage(t, null, 0, true);
  if (cow === null) return VM_FAULT_OOM;
  const ret = yield* doFault(k, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) {
    k.putPage(cow);
    return ret;
  }
  const page = vmf.page!;
  cow.copyFrom(page);
  cow.uptodate = true;
  k.cov.hit('fault:cow');
  if (!setPte(k, t, vmf.vma, vmf.address, cow, true)) k.putPage(cow);
  page.unlock(k.sim);
  k.putPage(page);
  return ret;
}

/** do_shared_fault: map the page-cache page writable and dirty it. */
function* doSharedFault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
  const ret = yield* doFault(k, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  const page = vmf.page!;
  k.cov.hit('fault:shared-write');
  finishFault(k, vmf, page, true);
  page.dirty = true;
  page.unlock(k.sim);
  k.putPage(page);
  return ret;
}

/** __do_fault: ->fault returns a locked page with a reference for us. */
function* doFault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
  const ret = yield* vmf.vma.file!.inode.ops.fault(k, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  if (vmf.page === null || !vmf.page.locked) throw new Error('->fault returned without a locked page');
  return ret;
}

/** finish_fault: install the PTE (the page is locked, so truncation cannot race). */
function finishFault(k: Kernel, vmf: Vmf, page: Page, writable: boolean): void {
  if (setPte(k, vmf.t, vmf.vma, vmf.address, page, writable)) page.refcount++;
}

/** do_wp_page: write to a present read-only PTE. */
function* doWpPage(k: Kernel, t: Task, vma: Vma, address: number, pte: Pte): Gen<FaultResult> {
  const old = pte.page;
  const mm = vma.mm;
  if (vma.shared) {
    // wp_page_shared: the page-cache page becomes writable and dirty.
    k.cov.hit('fault:wp-shared');
    mm.ptl.lock(t);
    pte.writable = true;
    old.dirty = true;
    mm.ptl.unlock(t);
    return 0;
  }
  if (old.anon && old !== k.zeroPage && old.mapcount === 1 && old.refcount === 1) {
    // wp_page_reuse: we are the only user of this anonymous page.
    k.cov.hit('fault:wp-reuse');
    pte.writable = true;
    return 0;
  }
  yield; // might_alloc
  const cow = k.allocPage(t, null, 0, true);
  if (cow === null) return VM_FAULT_OOM;
  cow.copyFrom(old);
  cow.uptodate = true;
  k.cov.hit('fault:wp-copy');
  const vpn = address / PAGE_SIZE;
  mm.ptl.lock(t);
  if (mm.pt.get(vpn) === pte) {
    mm.pt.set(vpn, { page: cow, writable: true });
    if (old !== k.zeroPage) {
      old.mapcount--;
      k.putPage(old);
    }
    cow.mapcount++;
  } else {
    k.putPage(cow);
  }
  mm.ptl.unlock(t);
  return 0;
}

/**
 * do_fault_around: map the cached, uptodate pages around the fault through
 * ->map_pages, within the VMA and the same page table.
 */
function* doFaultAround(k: Kernel, vmf: Vmf): Gen<void> {
  const vma = vmf.vma;
  const nr = k.faultAroundPages;
  const vpn = vmf.address / PAGE_SIZE;
  const winStart = Math.max(vpn - (vpn % nr), vma.start / PAGE_SIZE, vpn - (vpn % 512));
  const winEnd = Math.min(vpn - (vpn % nr) + nr, vma.end / PAGE_SIZE, vpn - (vpn % 512) + 512);
  yield* filemapMapPages(k, vmf, vma.pgoff + (winStart - vma.start / PAGE_SIZE), vma.pgoff + (winEnd - 1 - vma.start / PAGE_SIZE));
}

/**
 * filemap_map_pages (mainline): under RCU, for each cached page that is not
 * locked and is uptodate: take a reference, re-check the xarray slot,
 * trylock (never sleep), re-check page->mapping, uptodate and EOF, then set a
 * read-only PTE under the PTL. Truncation unmaps under the page lock after
 * removing, so a page that passed these checks under its lock is safe to map.
 */
export function* filemapMapPages(k: Kernel, vmf: Vmf, first: number, last: number): Gen<void> {
  const t = vmf.t;
  const vma = vmf.vma;
  const mapping = vma.file!.inode.mapping;
  const d = t.enter('filemap_map_pages');
  const locked = k.sw('map_pages', 'trylock') === 'trylock';
  k.rcu.readLock(t);
  for (const idx of mapping.indicesIn(first, last)) {
    const page = mapping.pages.get(idx);
    if (page === undefined || page.locked || !page.uptodate) continue;
    const address = vma.start + (idx - vma.pgoff) * PAGE_SIZE;
    if (vma.mm.pt.has(address / PAGE_SIZE)) continue;
    k.getPage(page);
    yield; // preemptible RCU: another CPU may truncate right here
    if (!locked) {
      // Entry E1, buggy (Willy's "just check uptodate", seed 004): no page
      // lock and no re-check of page->mapping, the xarray slot or EOF, so a
      // page truncation removed meanwhile can still be mapped.
      if (!page.uptodate || !setPte(k, t, vma, address, page, false)) k.putPage(page);
      continue;
    }
    if (mapping.pages.get(idx) !== page || !page.trylock(k.sim, t)) {
      k.putPage(page);
      continue;
    }
    if (page.mapping !== mapping || !page.uptodate || idx >= pagesFor(mapping.host.size)) {
      k.cov.hit('map_pages:recheck-failed');
      page.unlock(k.sim);
      k.putPage(page);
      continue;
    }
    // Our reference becomes the PTE's.
    if (!setPte(k, t, vma, address, page, false)) k.putPage(page);
    else k.cov.hit('map_pages:mapped');
    page.unlock(k.sim);
  }
  k.rcu.readUnlock(t);
  t.leave(d);
}
