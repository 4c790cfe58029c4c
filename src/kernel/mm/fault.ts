// The page-fault path: do_user_addr_fault -> handle_mm_fault -> the anonymous,
// read (with fault-around), copy-on-write and shared fault handlers, with the
// VM_FAULT_RETRY protocol (a handler that returns RETRY has already dropped
// mmap_lock).

import { SimAssertionError, type Gen, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, pageOffset, rem, pagesFor, type Page } from '../page.js';
import { PROT_READ, PROT_WRITE, type MM, type Vma, type Pte } from './vma.js';
import { spfMode } from './vm_sequence.js';
import { balanceDirtyPages, overDirtyLimit } from '../fs/writeback.js';

export const FAULT_FLAG_WRITE = 0x01, FAULT_FLAG_ALLOW_RETRY = 0x04, FAULT_FLAG_RETRY_NOWAIT = 0x08,
  FAULT_FLAG_KILLABLE = 0x10, FAULT_FLAG_TRIED = 0x20, FAULT_FLAG_USER = 0x40;

export const VM_FAULT_OOM = 0x1, VM_FAULT_SIGBUS = 0x2, VM_FAULT_MAJOR = 0x4, VM_FAULT_SIGSEGV = 0x40,
  VM_FAULT_NOPAGE = 0x100, VM_FAULT_LOCKED = 0x200, VM_FAULT_RETRY = 0x400, VM_FAULT_COMPLETED = 0x4000;
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

/** fault_flag_allow_retry_first: retrying allowed, and this is the first try. */
export function allowRetryFirst(flags: number): boolean {
  return (flags & FAULT_FLAG_ALLOW_RETRY) !== 0 && (flags & FAULT_FLAG_TRIED) === 0;
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
  if (user && spfMode(k) !== 'off') {
    // The SPF series tried the speculative path first for user-mode faults.
    const r = yield* handleSpeculativeFault(k, t, mm, addr - pageOffset(addr), write);
    if (r !== SPF_FALLBACK) {
      t.leave(d);
      return r;
    }
  }
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
    const ret = yield* handleMmFault(k, t, vma, addr - pageOffset(addr), flags);
    if (ret & VM_FAULT_COMPLETED) {
      // The handler finished the fault and dropped mmap_lock (to throttle).
      t.leave(d);
      return FAULT_OK;
    }
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
  const outer = faultFlagsOf(k, t);
  setFaultFlags(k, t, flags);
  const mm = vma.mm;
  const vpn = address / PAGE_SIZE;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  let ret: FaultResult;
  const pte = mm.pt.get(vpn);
  if (pte !== undefined) {
    ret = write && !pte.writable ? yield* doWpPage(k, t, vma, address, pte, flags) : 0;
  } else if (!(yield* k.allocPageTable(t, mm, Math.floor(vpn / 512)))) {
    ret = VM_FAULT_OOM;
  } else if (vma.anonymous) {
    ret = yield* doAnonymousPage(k, t, vma, address, write);
  } else {
    const vmf: Vmf = { t, vma, address, pgoff: vma.pgoffAt(address), flags, page: null };
    if (!write) ret = yield* doReadFault(k, vmf);
    else if (!vma.shared) ret = yield* doCowFault(k, vmf);
    else ret = yield* doSharedFault(k, vmf);
  }
  setFaultFlags(k, t, outer);
  t.leave(d);
  return ret;
}

/** The flags of the fault `t` is handling, or -1. */
function faultFlagsOf(k: Kernel, t: Task): number {
  return k.faultFlags[t.id] ?? -1;
}

/** Set (or with -1 clear) the flags of the fault `t` is handling; the array stays packed. */
function setFaultFlags(k: Kernel, t: Task, flags: number): void {
  const a = k.faultFlags;
  while (a.length <= t.id) a.push(-1);
  a[t.id] = flags;
}

/**
 * Invariant B (seed 001): a fault on its first, retryable try
 * (ALLOW_RETRY without TRIED or RETRY_NOWAIT) must not sleep on I/O or on a
 * page lock while holding mmap_lock -- it must pin the file, drop the lock
 * and return VM_FAULT_RETRY. Called at the I/O sleep sites; independent of
 * how long the I/O takes. Reported once per run.
 */
export function ioWaitCheck(k: Kernel, t: Task, what: string): void {
  const f = faultFlagsOf(k, t);
  if (f < 0 || k.ioWaitWarned) return;
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
    mm.pt.set(vpn, { page, writable, by: t.where(), young: true });
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
  vma.anonVma = true; // anon_vma_prepare (mmap_lock is held)
  yield; // might_alloc
  const page = yield* k.allocPage(t, null, 0, true);
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
  vmf.vma.anonVma = true; // anon_vma_prepare
  yield; // might_alloc
  const cow = yield* k.allocPage(t, null, 0, true);
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

/** do_shared_fault: map the page-cache page writable and dirty it, after the filesystem's ->page_mkwrite. */
function* doSharedFault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
  const ret = yield* doFault(k, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  const page = vmf.page!;
  const ops = vmf.vma.file!.inode.ops;
  if (ops.pageMkwrite !== undefined) {
    // do_page_mkwrite, with the page unlocked; it comes back locked.
    page.unlock(k.sim);
    const tmp = yield* ops.pageMkwrite(k, vmf, page);
    if (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) {
      k.putPage(page);
      return tmp;
    }
  }
  k.cov.hit('fault:shared-write');
  finishFault(k, vmf, page, true);
  page.dirty = true;
  page.unlock(k.sim);
  k.putPage(page);
  return ret | (yield* faultDirtySharedPage(k, vmf.t, vmf.vma, vmf.flags));
}

/**
 * fault_dirty_shared_page: a write fault dirtied a page of a shared file
 * mapping, so the dirtier is throttled to the speed of writeback
 * (balance_dirty_pages_ratelimited) exactly as write() is: a loop of stores
 * into a shared mapping would otherwise fill memory with dirty pages that
 * reclaim can only wait on, and every other task's allocation crawls
 * through direct reclaim. Since 5.4 ("mm: drop mmap_sem before calling
 * balance_dirty_pages() in write fault") it first drops mmap_lock when the
 * fault may (maybe_unlock_mmap_for_io: the first, retryable try), holding
 * the file, and reports VM_FAULT_COMPLETED: the fault is done and
 * mmap_lock released, so a throttled writer blocks no mmap() or /proc
 * reader of its process.
 */
function* faultDirtySharedPage(k: Kernel, t: Task, vma: Vma, flags: number): Gen<FaultResult> {
  const inode = vma.file!.inode;
  if (!overDirtyLimit(k, inode)) return 0;
  k.cov.hit('fault:dirty-throttle');
  // maybe_unlock_mmap_for_io's test, as filemap_fault's: the first, retryable try may drop mmap_lock.
  if (allowRetryFirst(flags) && !(flags & FAULT_FLAG_RETRY_NOWAIT)) {
    const fpin = k.getFile(vma.file!);
    vma.mm.mmapLock.upRead(t);
    yield* balanceDirtyPages(k, t, inode);
    k.fput(fpin);
    return VM_FAULT_COMPLETED;
  }
  yield* balanceDirtyPages(k, t, inode);
  return 0;
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
function* doWpPage(k: Kernel, t: Task, vma: Vma, address: number, pte: Pte, flags: number): Gen<FaultResult> {
  const old = pte.page;
  const mm = vma.mm;
  const ops = vma.shared && !old.anon ? vma.file?.inode.ops : undefined;
  if (ops?.pageMkwrite !== undefined) {
    // wp_page_shared with ->page_mkwrite: the PTL dropped, the filesystem
    // called (it may sleep, and the page may be truncated meanwhile), then
    // finish_mkwrite_fault makes the PTE writable if it is still the same.
    k.getPage(old);
    const tmp = yield* ops.pageMkwrite(k, { t, vma, address, pgoff: vma.pgoffAt(address), flags, page: old }, old);
    if (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) {
      k.putPage(old);
      return tmp;
    }
    k.cov.hit('fault:wp-mkwrite');
    mm.ptl.lock(t);
    const same = mm.pt.get(address / PAGE_SIZE) === pte;
    if (same) {
      pte.writable = true;
      old.dirty = true;
    }
    mm.ptl.unlock(t);
    old.unlock(k.sim);
    k.putPage(old);
    return same ? yield* faultDirtySharedPage(k, t, vma, flags) : 0;
  }
  if (vma.shared) {
    // wp_page_shared: the page-cache page becomes writable and dirty.
    k.cov.hit('fault:wp-shared');
    mm.ptl.lock(t);
    pte.writable = true;
    old.dirty = true;
    mm.ptl.unlock(t);
    return old.anon ? 0 : yield* faultDirtySharedPage(k, t, vma, flags);
  }
  if (old.anon && old !== k.zeroPage && old.mapcount === 1 && old.refcount === 1) {
    // wp_page_reuse: we are the only user of this anonymous page.
    k.cov.hit('fault:wp-reuse');
    pte.writable = true;
    return 0;
  }
  vma.anonVma = true; // anon_vma_prepare
  yield; // might_alloc
  const cow = yield* k.allocPage(t, null, 0, true);
  if (cow === null) return VM_FAULT_OOM;
  cow.copyFrom(old);
  cow.uptodate = true;
  k.cov.hit('fault:wp-copy');
  const vpn = address / PAGE_SIZE;
  mm.ptl.lock(t);
  if (mm.pt.get(vpn) === pte) {
    mm.pt.set(vpn, { page: cow, writable: true, by: t.where(), young: true });
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
  const winStart = Math.max(vpn - rem(vpn, nr), vma.start / PAGE_SIZE, vpn - rem(vpn, 512));
  const winEnd = Math.min(vpn - rem(vpn, nr) + nr, vma.end / PAGE_SIZE, vpn - rem(vpn, 512) + 512);
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

// ------------------------------------------------------ speculative faults

/** handle_speculative_fault's "try the classic fault" result (VM_FAULT_RETRY in the series). */
const SPF_FALLBACK = -1;

/**
 * vma_has_changed: the VMA was unlinked (RB_EMPTY_NODE) or its sequence
 * count moved since `seq` was sampled.
 */
function vmaHasChanged(vma: Vma, seq: number): boolean {
  return vma.dead || vma.vmSequence.readRetry(seq);
}

/**
 * handle_speculative_fault (entry C's series, spf=v2/raw): a user fault on
 * an anonymous VMA handled without mmap_lock. The VMA is found with a
 * lockless lookup (find_vma_srcu: the series freed VMAs through SRCU, whose
 * readers may sleep; here VMA objects are never reused, so a stale one is
 * only ever "dead", which the checks see), its sequence count sampled with
 * raw_read_seqcount (odd: a writer is inside, fall back), and the VMA
 * checked as the series did: no vm_ops (anonymous), an anon_vma already set
 * up (allocating one needs mmap_lock), access allowed, the page table
 * present (the speculative path never allocates page tables). Then
 * do_anonymous_page: the zero page for a read, a new page for a write --
 * a GFP allocation that may enter direct reclaim under fs_reclaim -- and
 * pte_map_lock: under the PTL, the VMA must be unchanged and the PTE still
 * none before the PTE is set. Anything else falls back to the classic
 * fault with mmap_lock. Returns a FAULT_* outcome, or SPF_FALLBACK.
 */
function* handleSpeculativeFault(k: Kernel, t: Task, mm: MM, address: number, write: boolean): Gen<number> {
  const d = t.enter('handle_speculative_fault');
  k.vmstat.spfAttempts++;
  const r = yield* speculativeFault(k, t, mm, address, write);
  if (r === SPF_FALLBACK) k.vmstat.spfFallbacks++;
  t.leave(d);
  return r;
}

function* speculativeFault(k: Kernel, t: Task, mm: MM, address: number, write: boolean): Gen<number> {
  const vma = mm.vmaAt(address);
  if (vma === null) return spfAbort(k, 'no-vma');
  const seq = vma.vmSequence.rawReadBegin();
  if (seq & 1 || vma.dead) return spfAbort(k, 'seq-odd');
  if (vma.file !== null) return spfAbort(k, 'file'); // vm_ops: "we don't know what they would do with the VMA"
  if (!vma.anonVma) return spfAbort(k, 'no-anon-vma'); // allocating one needs mmap_lock
  if (write ? !(vma.prot & PROT_WRITE) : !(vma.prot & (PROT_READ | PROT_WRITE))) return spfAbort(k, 'access');
  if (vmaHasChanged(vma, seq)) return spfAbort(k, 'seq-changed');
  const vpn = address / PAGE_SIZE;
  if (!mm.ptTables.has(Math.floor(vpn / 512))) return spfAbort(k, 'no-pgtable');
  const pte = mm.pt.get(vpn);
  if (pte !== undefined) {
    // Present: a spurious fault if the access is allowed; a write to a
    // read-only PTE (do_wp_page) is left to the classic path here.
    if (!write || pte.writable) return FAULT_OK;
    return spfAbort(k, 'wp');
  }
  let page: Page = k.zeroPage;
  if (write) {
    yield; // might_alloc
    const p = yield* k.allocPage(t, null, 0, true);
    if (p === null) return FAULT_OOM; // do_anonymous_page's VM_FAULT_OOM is final, not a fallback
    p.uptodate = true;
    page = p;
  }
  // pte_map_lock
  mm.ptl.lock(t);
  if (vmaHasChanged(vma, seq)) {
    mm.ptl.unlock(t);
    k.putPage(page);
    return spfAbort(k, 'seq-changed');
  }
  if (mm.pt.has(vpn)) {
    // Somebody else mapped it meanwhile: the access simply retries.
    mm.ptl.unlock(t);
    k.putPage(page);
    k.cov.hit('spf:raced');
    return FAULT_OK;
  }
  // The semantic invariant: the committing fault saw the same even sequence before and now, under the PTL.
  if (seq & 1 || vma.vmSequence.seq !== seq || vma.dead || address < vma.start || address >= vma.end) {
    throw new SimAssertionError(`speculative fault commits at ${address.toString(16)} with sequence ${seq} -> ${vma.vmSequence.seq}`);
  }
  mm.pt.set(vpn, { page, writable: write, by: 'handle_speculative_fault', young: true });
  if (page !== k.zeroPage) page.mapcount++;
  mm.ptl.unlock(t);
  k.vmstat.spfCommitted++;
  k.cov.hit(write ? 'spf:anon-new' : 'spf:anon-zero');
  return FAULT_OK;
}

function spfAbort(k: Kernel, why: string): number {
  k.cov.hit(`spf:fallback-${why}`);
  return SPF_FALLBACK;
}
