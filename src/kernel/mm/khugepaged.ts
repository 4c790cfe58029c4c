// khugepaged (mm/khugepaged.c): collapse ranges of small anonymous pages
// into transparent huge pages.
//
// Model of THP "always" without fault-time huge pages (as if the fault's
// GFP_TRANSHUGE_LIGHT allocation always failed): anonymous faults map 4 KiB
// pages, and khugepaged collapses them. An mm is registered
// (khugepaged_enter_vma) when mmap or vma_merge produces an anonymous
// private VMA that contains a whole aligned 2 MiB range; it stays registered
// until the process is gone. With no mm registered khugepaged sleeps with no
// timer (wait_event_freezable); otherwise it scans up to
// khugepaged_pages_to_scan pages and sleeps scan_sleep_millisecs (10 s),
// or alloc_sleep_millisecs (60 s) after a failed huge-page allocation.
//
// One collapse, as collapse_huge_page does it:
//   1. under mmap_lock for read, khugepaged_scan_pmd finds a candidate: at
//      most max_ptes_none empty PTEs, only exclusive (mapcount 1, no extra
//      reference) anonymous pages, at least one writable and one young;
//   2. mmap_lock is dropped and the huge page allocated: order 9, 512 pages
//      against the budget, GFP_TRANSHUGE with direct reclaim -- under the
//      fs_reclaim pseudo-lock (Sergey's splat in seed 002 is this
//      allocation's reclaim walking a file page's rmap);
//   3. mmap_lock for write, hugepage_vma_revalidate, the anon_vma lock for
//      write, and under the PTL the range is isolated again, copied into
//      the huge page (empty and zero-page PTEs become zeroed subpages) and
//      mapped. A THP is represented as a PTE-mapped compound: 512 Page
//      objects, each mapped by one PTE with its own reference, so a later
//      partial munmap frees subpages one by one.
// A speculative fault racing with the collapse needs no extra protection:
// both install PTEs under the PTL and the SPF commit re-checks pte_none.

import { TaskState, WaitQueue, type Gen, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { HPAGE_PMD_NR, PAGE_SIZE, type Page } from '../page.js';
import { PROT_WRITE, type MM, type Vma } from './vma.js';

export const HPAGE_PMD_SIZE = HPAGE_PMD_NR * PAGE_SIZE;
/** khugepaged_pages_to_scan: 8 PMDs per wake-up. */
export const KHUGEPAGED_PAGES_TO_SCAN = 8 * HPAGE_PMD_NR;
/** khugepaged_max_ptes_none: all but one PTE may be empty. */
export const KHUGEPAGED_MAX_PTES_NONE = HPAGE_PMD_NR - 1;
export const KHUGEPAGED_SCAN_SLEEP_NS = 10e9;
export const KHUGEPAGED_ALLOC_SLEEP_NS = 60e9;

/** hugepage_vma_check for THP "always": anonymous, private, covering an aligned 2 MiB range. */
export function hugepageVmaCheck(vma: Vma): boolean {
  return vma.file === null && !vma.shared && hpageStart(vma) + HPAGE_PMD_SIZE <= vma.end;
}

function hpageStart(vma: Vma): number {
  return Math.ceil(vma.start / HPAGE_PMD_SIZE) * HPAGE_PMD_SIZE;
}

/** khugepaged_enter_vma: called from mmap and vma_merge (no-op without khugepaged). */
export function khugepagedEnterVma(k: Kernel, vma: Vma): void {
  if (k.khugepaged !== null && hugepageVmaCheck(vma)) k.khugepaged.enter(k, vma.mm);
}

const enum Scan {
  Fail,
  Succeed,
}

export class Khugepaged {
  /** khugepaged_scan.mm_head: registered mms, in registration order. */
  readonly mms: MM[] = [];
  readonly wait: WaitQueue;
  readonly task: Task;
  /** Where the scan resumes: index into `mms`, and the address within it. */
  private cursor = 0;
  private address = 0;

  constructor(k: Kernel) {
    this.wait = new WaitQueue(k.sim, 'khugepaged_wait');
    this.task = k.sim.spawn('khugepaged', (t) => this.khugepaged(k, t), { daemon: true });
  }

  /** __khugepaged_enter: register the mm (once); the first one wakes khugepaged. */
  enter(k: Kernel, mm: MM): void {
    if (this.mms.includes(mm)) return;
    this.mms.push(mm);
    k.cov.hit('khugepaged:enter');
    if (this.mms.length === 1) this.wait.wakeUp();
  }

  private *khugepaged(k: Kernel, t: Task): Gen<void> {
    t.enter('khugepaged');
    for (;;) {
      // khugepaged_wait_work: no registered mm, no timer.
      if (this.mms.length === 0) yield* this.wait.waitEvent(() => this.mms.length > 0, TaskState.Interruptible);
      k.inSyscall++; // busy: collapse holds transient references and locks
      const allocFailed = yield* this.doScan(k, t);
      k.inSyscall--;
      if (this.mms.length > 0) yield* k.sim.sleepNs(allocFailed ? KHUGEPAGED_ALLOC_SLEEP_NS : KHUGEPAGED_SCAN_SLEEP_NS, TaskState.Interruptible);
    }
  }

  /** khugepaged_do_scan: returns true if a huge-page allocation failed. */
  private *doScan(k: Kernel, t: Task): Gen<boolean> {
    const d = t.enter('khugepaged_do_scan');
    let budget = KHUGEPAGED_PAGES_TO_SCAN;
    let allocFailed = false;
    for (let visits = 0; budget > 0 && this.mms.length > 0 && visits <= this.mms.length && !allocFailed; visits++) {
      if (this.cursor >= this.mms.length) this.cursor = 0;
      const mm = this.mms[this.cursor]!;
      if (k.process(mm.owner) === null) {
        // khugepaged_test_exit: the mm is gone; collect its slot.
        this.mms.splice(this.cursor, 1);
        this.address = 0;
        continue;
      }
      const r = yield* this.scanMm(k, t, mm, budget);
      budget -= r.scanned;
      allocFailed = r.allocFailed;
      if (r.done) {
        this.cursor++;
        this.address = 0;
      }
    }
    t.leave(d);
    return allocFailed;
  }

  /** khugepaged_scan_mm_slot: scan from the cursor address; `done` when the mm was scanned to its end. */
  private *scanMm(k: Kernel, t: Task, mm: MM, budget: number): Gen<{ scanned: number; done: boolean; allocFailed: boolean }> {
    const d = t.enter('khugepaged_scan_mm_slot');
    yield* mm.mmapLock.downRead();
    let scanned = 0;
    for (const vma of [...mm.vmas]) {
      if (!hugepageVmaCheck(vma) || !vma.anonVma) continue;
      for (let a = Math.max(hpageStart(vma), this.address); a + HPAGE_PMD_SIZE <= vma.end; a += HPAGE_PMD_SIZE) {
        if (scanned >= budget) {
          mm.mmapLock.upRead(t);
          t.leave(d);
          return { scanned, done: false, allocFailed: false };
        }
        scanned += HPAGE_PMD_NR;
        k.vmstat.thpScanned += HPAGE_PMD_NR;
        this.address = a + HPAGE_PMD_SIZE;
        if (scanPmd(k, t, mm, a) !== Scan.Succeed) continue;
        // collapse_huge_page drops mmap_lock; the scan of this mm ends here.
        mm.mmapLock.upRead(t);
        const ok = yield* collapseHugePage(k, t, mm, a);
        t.leave(d);
        return { scanned, done: false, allocFailed: !ok };
      }
    }
    mm.mmapLock.upRead(t);
    t.leave(d);
    return { scanned, done: true, allocFailed: false };
  }
}

/**
 * khugepaged_scan_pmd (and __collapse_huge_page_isolate's checks): is
 * [address, address + 2 MiB) worth collapsing, and can it be?
 */
function scanPmd(k: Kernel, t: Task, mm: MM, address: number): Scan {
  mm.ptl.lock(t);
  const r = checkPmdLocked(k, mm, address);
  mm.ptl.unlock(t);
  k.cov.hit(r === Scan.Succeed ? 'khugepaged:candidate' : 'khugepaged:scan-fail');
  return r;
}

/** The checks, with the PTL held. */
function checkPmdLocked(k: Kernel, mm: MM, address: number): Scan {
  const first = address / PAGE_SIZE;
  if (!mm.ptTables.has(Math.floor(first / HPAGE_PMD_NR))) return Scan.Fail; // SCAN_PMD_NULL
  let none = 0;
  let writable = false;
  let referenced = false;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = mm.pt.get(first + i);
    if (pte === undefined || pte.page === k.zeroPage) {
      if (++none > KHUGEPAGED_MAX_PTES_NONE) return Scan.Fail; // SCAN_EXCEED_NONE_PTE
      continue;
    }
    const page = pte.page;
    // Not anonymous, already huge, locked, shared with a fork child, or pinned.
    if (!page.anon || page.compoundHead !== null || page.locked || page.mapcount !== 1 || page.refcount !== 1) return Scan.Fail;
    if (pte.writable) writable = true;
    if (pte.young === true || page.referenced) referenced = true;
  }
  // SCAN_PAGE_RO / SCAN_LACK_REFERENCED_PAGE
  return writable && referenced ? Scan.Succeed : Scan.Fail;
}

/** collapse_huge_page, entered with mmap_lock dropped. Returns false if the huge page could not be allocated. */
function* collapseHugePage(k: Kernel, t: Task, mm: MM, address: number): Gen<boolean> {
  const d = t.enter('collapse_huge_page');
  // khugepaged_alloc_page: order 9, may enter direct reclaim (fs_reclaim), without mmap_lock.
  t.enter('khugepaged_alloc_page');
  const huge = yield* k.allocHugePage(t);
  t.leave(d + 1);
  if (huge === null) {
    k.vmstat.thpCollapseAllocFailed++;
    k.cov.hit('khugepaged:alloc-failed');
    t.leave(d);
    return false;
  }
  k.vmstat.thpCollapseAlloc++;
  yield* mm.mmapLock.downWrite();
  // hugepage_vma_revalidate: the VMA may have changed or gone while unlocked.
  const vma = k.process(mm.owner) === null ? null : mm.vmaAt(address);
  let ok = vma !== null && hugepageVmaCheck(vma) && vma.anonVma && vma.start <= address && address + HPAGE_PMD_SIZE <= vma.end;
  if (ok) {
    yield* mm.anonVmaLock.downWrite();
    mm.ptl.lock(t);
    // __collapse_huge_page_isolate: check again under the PTL (a speculative
    // fault needs no mmap_lock and may have mapped a page meanwhile).
    ok = checkPmdLocked(k, mm, address) === Scan.Succeed;
    if (!ok) {
      mm.ptl.unlock(t);
      mm.anonVmaLock.upWrite(t);
    }
  }
  if (!ok) {
    k.cov.hit('khugepaged:revalidate-failed');
    mm.mmapLock.upWrite(t);
    for (const p of huge) k.putPage(p);
    t.leave(d);
    return true;
  }
  const first = address / PAGE_SIZE;
  const writable = (vma!.prot & PROT_WRITE) !== 0;
  // __collapse_huge_page_copy: copy each small page into its subpage (empty
  // and zero-page PTEs become zeroed subpages), free it, and map the subpage.
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const vpn = first + i;
    const sub: Page = huge[i]!;
    const old = mm.pt.get(vpn);
    if (old !== undefined && old.page !== k.zeroPage) {
      sub.copyFrom(old.page);
      old.page.mapcount--;
      k.putPage(old.page);
    }
    sub.uptodate = true;
    sub.mapcount = 1; // the allocation's reference becomes this PTE's
    mm.pt.set(vpn, { page: sub, writable, by: 'collapse_huge_page', young: true });
  }
  mm.ptl.unlock(t);
  mm.anonVmaLock.upWrite(t);
  mm.mmapLock.upWrite(t);
  k.vmstat.thpCollapsed++;
  k.cov.hit('khugepaged:collapsed');
  k.sim.chargeNs(100 * HPAGE_PMD_NR);
  t.leave(d);
  return true;
}
