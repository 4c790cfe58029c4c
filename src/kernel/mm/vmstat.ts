// /proc/vmstat, the part the memory-pressure model keeps: what reclaim,
// the kernel threads and speculative faults did in one run. Plain counters
// on the Kernel, read by tests and printed by `faultline run`.

export class VmStat {
  /** allocstall: entries into direct reclaim (try_to_free_pages). */
  allocstall = 0;
  /** pgscan_direct / pgscan_kswapd: inactive-list pages scanned by reclaim. */
  pgscanDirect = 0;
  pgscanKswapd = 0;
  /** pgsteal_direct / pgsteal_kswapd: pages reclaimed (evicted from the page cache and freed). */
  pgstealDirect = 0;
  pgstealKswapd = 0;
  /** pgactivate / pgdeactivate: moves between the active and inactive file lists. */
  pgactivate = 0;
  pgdeactivate = 0;
  /** workingset_refault_file / workingset_activate_file: refaults of evicted pages, and those activated at once. */
  workingsetRefault = 0;
  workingsetActivate = 0;
  /** pgrefill: active-list pages scanned (shrink_active_list). */
  pgrefill = 0;
  /** rmap walks (page_referenced, try_to_unmap) and PTEs reclaim unmapped. */
  rmapWalks = 0;
  pgunmapped = 0;
  /** kswapd: wake-ups that found it asleep, and balance_pgdat runs. */
  kswapdWakeups = 0;
  kswapdRuns = 0;
  /** pageout: dirty pages kswapd wrote back through ->writepage. */
  pageout = 0;
  /** The writeback flusher: wb_workfn runs and pages it cleaned. */
  wbRuns = 0;
  wbPagesWritten = 0;
  /** khugepaged: pages scanned, huge-page allocations (and failures), collapses. */
  thpScanned = 0;
  thpCollapseAlloc = 0;
  thpCollapseAllocFailed = 0;
  thpCollapsed = 0;
  /** Speculative page faults: tried, committed a PTE, fell back to the classic fault. */
  spfAttempts = 0;
  spfCommitted = 0;
  spfFallbacks = 0;

  /** Pages reclaimed by anyone. */
  get pgsteal(): number {
    return this.pgstealDirect + this.pgstealKswapd;
  }

  get pgscan(): number {
    return this.pgscanDirect + this.pgscanKswapd;
  }

  /** The non-zero counters, in declaration order (for printing). */
  nonZero(): Record<string, number> {
    // The counters' names are the class's fields (taken once): every run
    // reads them, and Object.entries would build a pair for each.
    const keys = (counterNames ??= Object.keys(new VmStat()));
    const self = this as unknown as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (let i = 0; i < keys.length; i++) {
      const v = self[keys[i]!];
      if (typeof v === 'number' && v !== 0) out[keys[i]!] = v;
    }
    return out;
  }
}

/** VmStat's own fields, in declaration order. */
let counterNames: string[] | null = null;
