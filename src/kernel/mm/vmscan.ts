// Page reclaim (mm/vmscan.c, mm/rmap.c): the file LRU lists, direct reclaim
// from the page allocator, and kswapd.
//
// What is reclaimable: clean page-cache pages of filesystems with backing
// storage (blockfs, virtiofs). tmpfs/shmem and anonymous pages are
// swap-backed and this kernel has no swap, so, as Linux without swap
// (get_scan_count: "If we have no swap space, do not bother scanning anon
// pages"), they are never scanned: they are not put on any list here at
// all. Dirty file pages are written back only by kswapd (->writepage,
// pageout()); direct reclaim does not write them (since 3.2, ee72886d8ed5
// "mm: vmscan: do not writeback filesystem pages in direct reclaim": the
// page is marked for reclaim and activated), so a dirty page survives until
// it has been written. An allocation whose reclaim made no progress retries
// while the LRU still holds enough pages (should_reclaim_retry), waiting
// for writeback in flight (reclaim_throttle), before it fails.
//
// The order of work follows shrink_node -> shrink_lruvec: age the active
// list when the inactive one is smaller (inactive_is_low, ratio 1 below
// 1 GiB), then isolate up to SWAP_CLUSTER_MAX pages at a time from the cold
// end of the inactive list and run shrink_page_list on them:
//   trylock_page (a locked page is skipped, reclaim never waits for one);
//   page_check_references: for a mapped page an rmap walk (page_referenced
//     -> rmap_walk_file) over mapping->i_mmap under i_mmap_rwsem taken for
//     read -- a blocking down_read, as in 4.13 (since 6.0, 6d4675e60135,
//     folio_referenced only trylocks it). Done under the fs_reclaim
//     pseudo-lock, this is the fs_reclaim -> &mapping->i_mmap_rwsem
//     dependency of entry C. A page referenced through two PTEs, or again
//     after PG_referenced, is activated; once: kept with PG_referenced;
//   try_to_unmap: the same walk, clearing the PTEs under each mm's PTL;
//   dirty: pageout() from kswapd, activation from direct reclaim;
//   __remove_mapping: with the page locked, the mapping re-checked, no PTE
//     left and only the page cache's and the isolation's references
//     (page_ref_freeze(page, 2)), delete it from the page cache -- the
//     same protocol as truncation.
// Isolated pages are off the lists; whoever truncates one meanwhile
// (truncate takes the page lock, reclaim only trylocks) leaves it to the
// putback, which then just drops the isolation reference.
//
// Bounded everywhere: the priority loop (DEF_PRIORITY .. 0, scanning
// size >> priority), the allocator's retries (MAX_RECLAIM_RETRIES with
// progress, one pass for a costly order), kswapd's failures.

import { SimAssertionError, TaskState, WaitQueue, type Gen, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { LRU_ACTIVE_FILE, LRU_INACTIVE_FILE, LRU_ISOLATED, LRU_NONE, PAGE_SIZE, type Page } from '../page.js';
import type { AddressSpace } from '../fs/inode.js';
import { deleteFromPageCache } from '../fs/filemap.js';
import { PROT_EXEC, type Vma } from './vma.js';

export const SWAP_CLUSTER_MAX = 32;
export const DEF_PRIORITY = 12;
/** Reclaim attempts without progress before an allocation fails, and kswapd gives up on the node. */
export const MAX_RECLAIM_RETRIES = 16;
/** Orders above this are "costly": the allocator tries reclaim once, then fails (PAGE_ALLOC_COSTLY_ORDER = 3). */
export const COSTLY_PAGES = 1 << 3;

/** The node's file LRU lists (one node, no memcg). Insertion order is age: the first page is the coldest. */
export class Lruvec {
  readonly inactiveFile = new Set<Page>();
  readonly activeFile = new Set<Page>();
  /**
   * lruvec->nonresident_age (mm/workingset.c): a clock advanced by every
   * eviction and every refault activation. A page's shadow entry records
   * it at eviction; at refault the difference is how many pages would have
   * had to be reclaimed for the page to stay.
   */
  nonresidentAge = 0;
}

/** Zone watermarks in pages (__setup_per_zone_wmarks, scaled to the budget). */
export interface Watermarks {
  readonly min: number;
  readonly low: number;
  readonly high: number;
}

/**
 * min_free_kbytes scaled: 1/64 of memory; low and high a quarter and a half
 * of that above min. GFP_KERNEL allocations here may use memory down to 0
 * (the model's min watermark for them is the budget itself); kswapd is woken
 * below `low` and reclaims up to `high`.
 */
export function watermarks(memoryPages: number): Watermarks {
  const min = Math.max(1, memoryPages >> 6);
  const gap = Math.max(1, min >> 2);
  return { min, low: min + gap, high: min + 2 * gap };
}

/** shmem/tmpfs pages are swap-backed: without swap nothing can reclaim them. */
export function swapBacked(mapping: AddressSpace): boolean {
  return mapping.host.ops.fsName === 'tmpfs';
}

/**
 * lru_cache_add for a page just added to the page cache: the inactive file
 * list's tail -- or, for a refault (workingset_refault), the active list
 * when the page was evicted less than the active list's size of evictions
 * and activations ago: with more room it would have stayed, so it is part
 * of the workingset. Without swap the workingset is the active file list.
 */
export function lruCacheAdd(k: Kernel, page: Page): void {
  const mapping = page.mapping;
  if (mapping === null || swapBacked(mapping)) return;
  if (page.lru !== LRU_NONE) throw new SimAssertionError(`lru_cache_add: ${page} is already on an LRU list`);
  const shadow = mapping.shadows.get(page.index);
  if (shadow !== undefined) {
    mapping.shadows.delete(page.index);
    k.vmstat.workingsetRefault++;
    if (k.lru.nonresidentAge - shadow <= k.lru.activeFile.size) {
      k.cov.hit('workingset:refault-activate');
      k.vmstat.workingsetActivate++;
      k.lru.nonresidentAge++;
      page.lru = LRU_ACTIVE_FILE;
      k.lru.activeFile.add(page);
      return;
    }
    k.cov.hit('workingset:refault');
  }
  page.lru = LRU_INACTIVE_FILE;
  k.lru.inactiveFile.add(page);
}

/** The page leaves the page cache: off its list (an isolated page is the isolator's to put back). */
export function lruDel(k: Kernel, page: Page): void {
  if (page.lru === LRU_INACTIVE_FILE) k.lru.inactiveFile.delete(page);
  else if (page.lru === LRU_ACTIVE_FILE) k.lru.activeFile.delete(page);
  else return;
  page.lru = LRU_NONE;
}

/**
 * How long an allocation whose reclaim made no progress waits before trying
 * again, when waiting can help (reclaim_throttle). Linux sleeps up to HZ/10
 * and is woken early as writeback completes; here a fixed, short
 * io_schedule_timeout: ten requests' worth of the default device latency.
 */
export const RECLAIM_THROTTLE_NS = 1e6;

/**
 * Reclaim made no progress, but waiting may help: an LRU page is locked
 * (a read or a write in flight, or another reclaimer's), under writeback,
 * or dirty with kswapd around to write it back.
 */
export function writebackPending(k: Kernel): boolean {
  for (const list of [k.lru.inactiveFile, k.lru.activeFile]) {
    for (const page of list) {
      if (page.locked || page.writeback) return true;
      if (page.dirty && k.kswapd !== null && k.kswapd.failures < MAX_RECLAIM_RETRIES && page.mapping!.host.ops.writepage !== undefined) return true;
    }
  }
  return false;
}

/**
 * zone_reclaimable_pages, for should_reclaim_retry: the file LRU pages that
 * some reclaim pass could still free -- dirty ones only if somebody
 * (kswapd, the flusher) may write them back.
 */
export function reclaimableFilePages(k: Kernel): number {
  const writer = k.kswapd !== null || k.writeback !== null;
  let n = 0;
  for (const list of [k.lru.inactiveFile, k.lru.activeFile]) {
    for (const page of list) if (writer || !page.dirty) n++;
  }
  return n;
}

/** Pages the allocator can still hand out. */
export function freePages(k: Kernel): number {
  return k.memoryPages - k.pagesInUse;
}

/** struct scan_control. */
class ScanControl {
  reclaimed = 0;
  constructor(
    /** nr_to_reclaim. */
    readonly target: number,
    readonly kswapd: boolean,
    /** may_writepage: only kswapd writes dirty file pages back. */
    readonly mayWritepage: boolean,
  ) {}
}

const enum Verdict {
  Keep,
  Activate,
  Freed,
}

/** The page's address in `vma`, or -1 if the VMA does not map its index (vma_address). */
function vmaAddress(vma: Vma, index: number): number {
  if (index < vma.pgoff || index >= vma.pgoff + vma.pages) return -1;
  return vma.start + (index - vma.pgoff) * PAGE_SIZE;
}

/**
 * page_referenced -> rmap_walk_file: under i_mmap_rwsem for read, test and
 * clear the accessed bit of every PTE mapping the (locked) page. A
 * reference through a VM_SEQ_READ mapping does not count. Returns the PTEs
 * found young, and whether one of their VMAs is executable.
 */
function* pageReferenced(k: Kernel, t: Task, page: Page): Gen<{ referenced: number; exec: boolean }> {
  const mapping = page.mapping!;
  const d = t.enter('page_referenced');
  t.enter('rmap_walk_file');
  yield* mapping.iMmapRwsem.downRead();
  k.vmstat.rmapWalks++;
  k.cov.hit('vmscan:page-referenced');
  let referenced = 0;
  let exec = false;
  for (const vma of mapping.iMmap) {
    const addr = vmaAddress(vma, page.index);
    if (addr < 0) continue;
    const mm = vma.mm;
    mm.ptl.lock(t);
    const pte = mm.pt.get(addr / PAGE_SIZE);
    if (pte !== undefined && pte.page === page && pte.young === true) {
      pte.young = false;
      if (!vma.seqRead) referenced++;
      if (vma.prot & PROT_EXEC) exec = true;
    }
    mm.ptl.unlock(t);
  }
  k.sim.chargeNs(100 * mapping.iMmap.length);
  mapping.iMmapRwsem.upRead(t);
  t.leave(d);
  return { referenced, exec };
}

/** try_to_unmap (TTU for a file page): the same walk, removing every PTE that maps the locked page. */
function* tryToUnmap(k: Kernel, t: Task, page: Page): Gen<void> {
  const mapping = page.mapping!;
  const d = t.enter('try_to_unmap');
  t.enter('rmap_walk_file');
  yield* mapping.iMmapRwsem.downRead();
  k.vmstat.rmapWalks++;
  for (const vma of mapping.iMmap) {
    const addr = vmaAddress(vma, page.index);
    if (addr < 0) continue;
    const mm = vma.mm;
    const vpn = addr / PAGE_SIZE;
    mm.ptl.lock(t);
    const pte = mm.pt.get(vpn);
    if (pte !== undefined && pte.page === page) {
      // The PTE's dirty bit is already on the page: every write through it sets PG_dirty here.
      mm.pt.delete(vpn);
      page.mapcount--;
      k.putPage(page);
      k.vmstat.pgunmapped++;
    }
    mm.ptl.unlock(t);
  }
  k.sim.chargeNs(100 * mapping.iMmap.length);
  mapping.iMmapRwsem.upRead(t);
  t.leave(d);
}

/** isolate_lru_pages: up to `n` pages from the cold end of `list`, off the list and referenced. */
function isolateLruPages(k: Kernel, list: Set<Page>, n: number): Page[] {
  const out: Page[] = [];
  for (const page of list) {
    if (out.length >= n) break;
    out.push(page);
  }
  for (const page of out) {
    list.delete(page);
    page.lru = LRU_ISOLATED;
    k.getPage(page);
  }
  return out;
}

/** putback_lru_page: back to a list (the hot end), unless it left the page cache meanwhile; drop the isolation reference. */
function putbackLruPage(k: Kernel, page: Page, active: boolean): void {
  if (page.lru !== LRU_ISOLATED) throw new SimAssertionError(`putback of ${page}, which is not isolated`);
  if (page.mapping === null) page.lru = LRU_NONE;
  else if (active) {
    page.lru = LRU_ACTIVE_FILE;
    k.lru.activeFile.add(page);
    k.vmstat.pgactivate++;
  } else {
    page.lru = LRU_INACTIVE_FILE;
    k.lru.inactiveFile.add(page);
  }
  k.putPage(page);
}

/** shrink_page_list's work on one isolated page. Leaves the page unlocked (or locked by its writeback I/O). */
function* shrinkPage(k: Kernel, t: Task, page: Page, sc: ScanControl): Gen<Verdict> {
  if (!page.trylock(k.sim, t)) {
    k.cov.hit('vmscan:locked');
    return Verdict.Keep;
  }
  const mapping = page.mapping;
  if (mapping === null || page.writeback) {
    // Truncated while isolated (the putback drops it), or still being written.
    page.unlock(k.sim);
    return Verdict.Keep;
  }
  // page_check_references
  if (page.mapcount > 0) {
    const { referenced, exec } = yield* pageReferenced(k, t, page);
    const wasReferenced = page.referenced;
    page.referenced = false;
    if (referenced > 0) {
      if (wasReferenced || referenced > 1 || exec) {
        k.cov.hit('vmscan:referenced-activate');
        page.unlock(k.sim);
        return Verdict.Activate;
      }
      k.cov.hit('vmscan:referenced-keep');
      page.referenced = true;
      page.unlock(k.sim);
      return Verdict.Keep;
    }
  }
  // We held the page lock across the walks: truncation cannot have removed it.
  if (page.mapcount > 0) {
    yield* tryToUnmap(k, t, page);
    if (page.mapcount > 0) {
      page.unlock(k.sim);
      return Verdict.Activate;
    }
  }
  if (page.dirty) {
    const ops = mapping.host.ops;
    if (!sc.mayWritepage || ops.writepage === undefined) {
      // Direct reclaim does not write file pages back (SetPageReclaim; activate_locked).
      k.cov.hit('vmscan:dirty-activate');
      page.unlock(k.sim);
      return Verdict.Activate;
    }
    // pageout(): the write unlocks the page when it completes; a later pass frees it once clean.
    k.cov.hit('vmscan:pageout');
    k.vmstat.pageout++;
    const r = yield* ops.writepage(k, t, page);
    return r < 0 ? Verdict.Activate : Verdict.Keep;
  }
  // __remove_mapping: page_ref_freeze(page, 2) -- the page cache's reference and ours, nobody else's.
  if (page.mapping === mapping && page.mapcount === 0 && !page.dirty && page.refcount === 2) {
    const index = page.index;
    deleteFromPageCache(k, page);
    // workingset_eviction: age the clock, leave it in a shadow entry.
    mapping.shadows.set(index, ++k.lru.nonresidentAge);
    page.unlock(k.sim);
    k.cov.hit('vmscan:evict');
    return Verdict.Freed;
  }
  k.cov.hit('vmscan:busy');
  page.unlock(k.sim);
  return Verdict.Keep;
}

/** shrink_inactive_list: isolate batches of up to SWAP_CLUSTER_MAX and shrink them. */
function* shrinkInactiveList(k: Kernel, t: Task, nrToScan: number, sc: ScanControl): Gen<void> {
  while (nrToScan > 0 && sc.reclaimed < sc.target) {
    const batch = isolateLruPages(k, k.lru.inactiveFile, Math.min(nrToScan, SWAP_CLUSTER_MAX));
    if (batch.length === 0) break;
    nrToScan -= batch.length;
    if (sc.kswapd) k.vmstat.pgscanKswapd += batch.length;
    else k.vmstat.pgscanDirect += batch.length;
    const d = t.enter('shrink_page_list');
    for (const page of batch) {
      yield; // cond_resched
      const v = yield* shrinkPage(k, t, page, sc);
      putbackLruPage(k, page, v === Verdict.Activate);
      if (v === Verdict.Freed) {
        sc.reclaimed++;
        if (sc.kswapd) k.vmstat.pgstealKswapd++;
        else k.vmstat.pgstealDirect++;
      }
    }
    t.leave(d);
  }
}

/**
 * shrink_active_list: move pages from the cold end of the active list to
 * the inactive one. page_referenced (trylock, rmap walk) clears their
 * accessed bits; only executable mapped pages that were referenced stay.
 */
function* shrinkActiveList(k: Kernel, t: Task, nrToScan: number): Gen<void> {
  if (nrToScan <= 0) return;
  const batch = isolateLruPages(k, k.lru.activeFile, Math.min(nrToScan, SWAP_CLUSTER_MAX));
  k.vmstat.pgrefill += batch.length;
  const d = t.enter('shrink_active_list');
  for (const page of batch) {
    yield; // cond_resched
    let keepActive = false;
    if (page.mapping !== null && page.mapcount > 0 && page.trylock(k.sim, t)) {
      if (page.mapping !== null) {
        const { referenced, exec } = yield* pageReferenced(k, t, page);
        keepActive = referenced > 0 && exec;
      }
      page.unlock(k.sim);
    }
    if (!keepActive && page.mapping !== null) k.vmstat.pgdeactivate++;
    putbackLruPage(k, page, keepActive);
  }
  t.leave(d);
}

function scanCount(size: number, priority: number): number {
  return priority === 0 ? size : size >> priority;
}

/** shrink_node at one priority. */
function* shrinkNode(k: Kernel, t: Task, sc: ScanControl, priority: number): Gen<void> {
  const lru = k.lru;
  if (lru.activeFile.size > lru.inactiveFile.size) yield* shrinkActiveList(k, t, scanCount(lru.activeFile.size, priority));
  yield* shrinkInactiveList(k, t, scanCount(lru.inactiveFile.size, priority), sc);
}

/** do_try_to_free_pages: raise the scan pressure until enough is reclaimed. */
function* doTryToFreePages(k: Kernel, t: Task, sc: ScanControl): Gen<void> {
  for (let priority = DEF_PRIORITY; priority >= 0 && sc.reclaimed < sc.target; priority--) {
    yield* shrinkNode(k, t, sc, priority);
  }
}

/**
 * Direct reclaim's batch: SWAP_CLUSTER_MAX, scaled down for tiny budgets so
 * that one allocation does not empty the whole cache.
 */
function reclaimBatch(k: Kernel): number {
  return Math.min(SWAP_CLUSTER_MAX, Math.max(1, k.memoryPages >> 4));
}

/**
 * try_to_free_pages: direct reclaim by an allocating task (__perform_reclaim),
 * holding the fs_reclaim pseudo-lock for the whole reclaim, with PF_MEMALLOC
 * set (no recursion into reclaim). `deficit`: pages the allocation still
 * needs. Returns the pages reclaimed.
 */
export function* tryToFreePages(k: Kernel, t: Task, deficit: number): Gen<number> {
  k.vmstat.allocstall++;
  const d = t.enter('try_to_free_pages');
  k.fsReclaimAcquire(t);
  const sc = new ScanControl(Math.max(deficit, reclaimBatch(k)), false, false);
  yield* doTryToFreePages(k, t, sc);
  k.fsReclaimRelease(t);
  t.leave(d);
  if (sc.reclaimed > 0 && k.kswapd !== null) k.kswapd.failures = 0;
  k.cov.hit(sc.reclaimed > 0 ? 'vmscan:direct-progress' : 'vmscan:direct-nothing');
  return sc.reclaimed;
}

/**
 * kswapd0: sleeps (interruptible, no timer) until the allocator finds free
 * memory below the low watermark, then reclaims -- with fs_reclaim held, as
 * balance_pgdat does, and allowed to write dirty pages back -- until free
 * memory is above the high watermark or a pass makes no progress. After
 * MAX_RECLAIM_RETRIES fruitless runs the node is left alone (kswapd_failures)
 * until some reclaim makes progress again.
 */
export class Kswapd {
  readonly wait: WaitQueue;
  readonly task: Task;
  failures = 0;
  private wanted = false;

  constructor(k: Kernel) {
    this.wait = new WaitQueue(k.sim, 'kswapd_wait');
    this.task = k.sim.spawn('kswapd0', (t) => this.kswapd(k, t), { daemon: true });
  }

  /** wakeup_kswapd. Never sleeps: callable from any allocation context. */
  wakeup(k: Kernel): void {
    if (this.wanted || this.failures >= MAX_RECLAIM_RETRIES) return;
    this.wanted = true;
    if (this.wait.wakeUp() > 0) k.vmstat.kswapdWakeups++;
  }

  private *kswapd(k: Kernel, t: Task): Gen<void> {
    t.enter('kswapd');
    for (;;) {
      yield* this.wait.waitEvent(() => this.wanted, TaskState.Interruptible);
      this.wanted = false;
      k.inSyscall++; // busy: reclaim holds transient page references
      yield* this.balancePgdat(k, t);
      k.inSyscall--;
    }
  }

  private *balancePgdat(k: Kernel, t: Task): Gen<void> {
    const d = t.enter('balance_pgdat');
    k.vmstat.kswapdRuns++;
    k.fsReclaimAcquire(t);
    let progress = false;
    for (let pass = 0; pass < MAX_RECLAIM_RETRIES && freePages(k) < k.wmark.high; pass++) {
      const sc = new ScanControl(k.wmark.high - freePages(k), true, true);
      yield* doTryToFreePages(k, t, sc);
      if (sc.reclaimed === 0) break;
      progress = true;
    }
    k.fsReclaimRelease(t);
    if (progress) this.failures = 0;
    else this.failures++;
    t.leave(d);
  }
}
