// The simulated kernel: one instance owns all of its state (processes, the
// VFS namespace, the page allocator), so two simulations never interfere.

import { Rcu, Sim, Stream, type Gen, type LockClass, type Task, type WaitQueue } from '../sim/index.js';
import { Inode, File, S_IFDIR, S_IFREG, type FsOps } from './fs/inode.js';
import { MM, Vma, PROT_READ, PROT_WRITE } from './mm/vma.js';
import { HPAGE_PMD_NR, PAGE_SIZE, Page } from './page.js';
import { tmpfsOps } from './fs/shmem.js';
import { BlockFs, BLOCKFS_VICTIMS, type BlockFsOptions } from './fs/blockfs.js';
import { FuseFs, FUSE_VICTIMS, type FuseOptions } from './fs/fuse/index.js';
import { Coverage } from './coverage.js';
import {
  COSTLY_PAGES, Kswapd, Lruvec, MAX_RECLAIM_RETRIES, RECLAIM_THROTTLE_NS, reclaimableFilePages, tryToFreePages, watermarks, writebackPending,
  type Watermarks,
} from './mm/vmscan.js';
import { VmStat } from './mm/vmstat.js';
import { Writeback } from './fs/writeback.js';
import { Khugepaged } from './mm/khugepaged.js';

export interface KernelOptions {
  /** Page budget: allocations beyond it fail (reclaim comes with memory pressure). */
  memoryPages?: number;
  /** Fault injection (fail_page_alloc): each allocation fails with this probability. */
  failAllocRate?: number;
  /** fault_around_bytes / PAGE_SIZE (16 in Linux). */
  faultAroundPages?: number;
  /** Profile switches (buggy historical code paths); empty = the fixed kernel. */
  switches?: Readonly<Record<string, string>>;
  /** The block device under /data (latency, throttle, capacity). */
  blockfs?: BlockFsOptions;
  /** The virtiofs mount at /mnt/virtiofs: the daemon's latency, stalls, errors and cache mode. */
  fuse?: FuseOptions;
  /** Kernel threads (each optional, for swarm testing): kswapd0, the writeback flusher, khugepaged. */
  kswapd?: boolean;
  flusher?: boolean;
  khugepaged?: boolean;
}

export class Process {
  readonly fds: (File | null)[] = [];
  readonly threads: Task[] = [];
  exited = false;
  /** Where a parent waits for this process to exit (wait4), if one does. */
  exitWait: WaitQueue | null = null;

  constructor(readonly pid: number, readonly name: string, public mm: MM) {}

  get cmdline(): string {
    return `${this.name}\0`;
  }
}

export const RLIMIT_NOFILE = 1024;

/**
 * The tmpfs victims, which exist at boot as the shared files of a real
 * machine do: sized, sparse, no page allocated yet. Their size lets a
 * program map and fault many pages of a tmpfs file without first growing
 * it, as the block fs and virtiofs victims already allow.
 */
export const TMPFS_VICTIMS: readonly { path: string; size: number }[] = [
  { path: '/tmp/victim0', size: 16 * PAGE_SIZE }, { path: '/tmp/victim1', size: 5 * PAGE_SIZE + 100 }, { path: '/dev/shm/victim2', size: 16 * PAGE_SIZE },
];

export class Kernel {
  readonly processes: Process[] = [];
  /** fork() calls so far: the number in the next child's name. */
  forks = 0;
  /** The namespace: absolute path -> inode. */
  readonly dentries = new Map<string, Inode>();
  readonly rcu: Rcu;
  readonly fsReclaim: LockClass;
  readonly cov: Coverage;
  readonly memoryPages: number;
  readonly faultAroundPages: number;
  readonly switches: Readonly<Record<string, string>>;
  /** The block-backed filesystem mounted at /data. */
  readonly blockfs: BlockFs;
  /** The virtiofs (FUSE) mount at /mnt/virtiofs. */
  readonly fuse: FuseFs;
  /** Tasks inside a system call: zero means quiescent (no transient state). */
  inSyscall = 0;
  /**
   * Fault flags of the fault each task is handling (handle_mm_fault), for
   * invariant B, by task id; -1 or absent: none. An array, not a Map: a
   * one-entry Map set and deleted at every fault reallocates its table.
   */
  readonly faultFlags: number[] = [];
  /** Invariant B has been reported in this run. */
  ioWaitWarned = false;
  /** Pages allocated and not yet freed (the zero page excluded). */
  pagesInUse = 0;
  pagesAllocated = 0;
  allocFailures = 0;
  readonly zeroPage: Page;
  /** fail_page_alloc probability: each allocation fails with this chance (0 = off). */
  readonly failAllocRate: number;
  /** fail_nth: the allocation number (1-based, per task) that fails, 0 = none. */
  readonly failNth = new Map<number, { nth: number; count: number }>();
  private nextIno = 1;
  private nextPfn = 1;
  private nextFileId = 1;
  private readonly fsReclaimToken = {};
  /** Tasks in reclaim (PF_MEMALLOC): their allocations neither annotate fs_reclaim nor reclaim again. */
  private readonly memalloc = new Set<number>();
  /** The file LRU lists (mm/vmscan.ts), the zone watermarks, /proc/vmstat. */
  readonly lru = new Lruvec();
  readonly wmark: Watermarks;
  readonly vmstat = new VmStat();
  /** Kernel threads, null when the run has them off. */
  readonly kswapd: Kswapd | null;
  readonly writeback: Writeback | null;
  /** NR_FILE_DIRTY of the filesystems that can write back (blockfs, virtiofs): what balance_dirty_pages and the flusher weigh. */
  nrFileDirty = 0;
  readonly khugepaged: Khugepaged | null;

  constructor(readonly sim: Sim, opts: KernelOptions = {}) {
    this.rcu = new Rcu(sim);
    this.cov = new Coverage(sim);
    this.fsReclaim = sim.lockdep.classFor('fs_reclaim');
    this.memoryPages = opts.memoryPages ?? 1 << 20;
    this.faultAroundPages = opts.faultAroundPages ?? 16;
    this.failAllocRate = opts.failAllocRate ?? 0;
    this.switches = opts.switches ?? {};
    this.zeroPage = new Page(0, null, 0, true);
    this.zeroPage.uptodate = true;
    this.zeroPage.refcount = 1 << 30;
    this.mkdir('/');
    this.mkdir('/tmp');
    this.mkdir('/dev');
    this.mkdir('/dev/shm');
    for (const v of TMPFS_VICTIMS) this.createInode(v.path, tmpfsOps).size = v.size;
    this.blockfs = this.mountBlockfs(opts.blockfs ?? {});
    this.fuse = this.mountFuse(opts.fuse ?? {});
    this.wmark = watermarks(this.memoryPages);
    this.kswapd = opts.kswapd ? new Kswapd(this) : null;
    this.writeback = opts.flusher ? new Writeback(this) : null;
    this.khugepaged = opts.khugepaged ? new Khugepaged(this) : null;
  }

  /** Mount blockfs at /data with its victim files: data on disk, nothing cached. */
  private mountBlockfs(opts: BlockFsOptions): BlockFs {
    this.mkdir('/data');
    const fs = new BlockFs(this, opts);
    for (const v of BLOCKFS_VICTIMS) fs.mkfsFile(this, v.path, v.size, v.byteAt);
    return fs;
  }

  /** Mount virtiofs at /mnt/virtiofs with its victim files: data in the server's store, nothing cached. */
  private mountFuse(opts: FuseOptions): FuseFs {
    this.mkdir('/mnt');
    this.mkdir('/mnt/virtiofs');
    const fs = new FuseFs(this, opts);
    for (const v of FUSE_VICTIMS) fs.mkfsFile(this, v.path, v.size, v.byteAt);
    return fs;
  }

  /** A profile switch's value, or `fallback` (the fixed code path). */
  sw(name: string, fallback = 'fixed'): string {
    return this.switches[name] ?? fallback;
  }

  // ------------------------------------------------------------ namespace

  private mkdir(path: string): Inode {
    const ino = new Inode(this, this.nextIno++, S_IFDIR | 0o755, tmpfsOps, path);
    this.dentries.set(path, ino);
    return ino;
  }

  /** The filesystem a new file under `dir` belongs to. */
  fsFor(dir: string): FsOps | null {
    if (dir === '/tmp' || dir.startsWith('/tmp/') || dir === '/dev/shm' || dir.startsWith('/dev/shm/')) return tmpfsOps;
    if (dir === '/data' || dir.startsWith('/data/')) return this.blockfs.ops;
    if (dir === '/mnt/virtiofs' || dir.startsWith('/mnt/virtiofs/')) return this.fuse.ops;
    return null;
  }

  createInode(path: string, ops: FsOps): Inode {
    const ino = new Inode(this, this.nextIno++, S_IFREG | 0o666, ops, path);
    this.dentries.set(path, ino);
    return ino;
  }

  /** Every file ever opened, in creation order (for the leak check). */
  readonly files: File[] = [];

  newFile(inode: Inode, flags: number): File {
    inode.openCount++;
    const f = new File(this.nextFileId++, inode, flags);
    this.files.push(f);
    return f;
  }

  /** get_file. */
  getFile(f: File): File {
    f.count++;
    return f;
  }

  /** fput: the last reference releases the file (->release, which must not sleep here). */
  fput(f: File): void {
    f.count--;
    if (f.count === 0) {
      f.inode.openCount--;
      f.inode.ops.release?.(this, f);
    }
  }

  // ------------------------------------------------------------ processes

  createProcess(name: string): Process {
    const pid = this.processes.length + 1;
    const p = new Process(pid, name, new MM(this, pid));
    this.processes.push(p);
    return p;
  }

  process(pid: number): Process | null {
    const p = this.processes[pid - 1];
    return p !== undefined && !p.exited ? p : null;
  }

  /**
   * Map an anonymous private read/write region before the run starts (the
   * executor's data area, as syzkaller's at 0x20000000): buffers for read()
   * and write() live there.
   */
  mapDataArea(p: Process, start: number, len: number): void {
    p.mm.insertVma(new Vma(this, p.mm, start, start + len, PROT_READ | PROT_WRITE, false, true, null, start / 4096));
  }

  spawnThread(p: Process, name: string, body: (t: Task) => Gen<unknown>): Task {
    const t = this.sim.spawn(name, body);
    p.threads.push(t);
    this.taskProc.set(t.id, p);
    return t;
  }

  readonly taskProc = new Map<number, Process>();

  // ------------------------------------------------------------ allocator

  /**
   * The one page allocator. GFP_KERNEL allocations may enter reclaim, so
   * lockdep sees them take the fs_reclaim pseudo-lock (might_alloc). Returns
   * null when fault injection fails it, or when the budget is exhausted and
   * reclaim cannot free enough (atomic allocations do not reclaim).
   */
  *allocPage(t: Task, mapping: Page['mapping'], index: number, anon: boolean, atomic = false): Gen<Page | null> {
    if (!(yield* this.allocPages(t, 1, atomic))) return null;
    return new Page(this.nextPfn++, mapping, index, anon);
  }

  /**
   * An order-9 allocation for a transparent huge page (khugepaged): 512
   * pages, each with its own reference, the first the compound's head. A
   * costly order: direct reclaim is tried once, then it fails.
   */
  *allocHugePage(t: Task): Gen<Page[] | null> {
    if (!(yield* this.allocPages(t, HPAGE_PMD_NR, false))) return null;
    const pages: Page[] = [];
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      const p = new Page(this.nextPfn++, null, 0, true);
      p.compoundHead = pages[0] ?? p;
      pages.push(p);
    }
    return pages;
  }

  /**
   * __alloc_pages for `nr` pages: fault injection, then the budget. Short of
   * memory, kswapd is woken and a GFP_KERNEL allocation enters direct
   * reclaim (mm/vmscan.ts), retrying while reclaim makes progress
   * (MAX_RECLAIM_RETRIES; once for a costly order). After an allocation
   * that leaves free memory below the low watermark, kswapd is woken.
   */
  private *allocPages(t: Task, nr: number, atomic: boolean): Gen<boolean> {
    const inReclaim = this.memalloc.has(t.id);
    if (!atomic && !inReclaim) this.sim.lockdep.acquireRelease(t, this.fsReclaim, 0, 0);
    if (this.shouldFailAlloc(t)) {
      this.allocFailures++;
      return false;
    }
    let noProgress = 0;
    for (let retry = 0; this.pagesInUse + nr > this.memoryPages; retry++) {
      this.kswapd?.wakeup(this);
      if (atomic || inReclaim || retry >= (nr > COSTLY_PAGES ? 1 : 4 * MAX_RECLAIM_RETRIES)) {
        this.allocFailures++;
        this.cov.hit('alloc:budget');
        return false;
      }
      const deficit = this.pagesInUse + nr - this.memoryPages;
      if ((yield* tryToFreePages(this, t, deficit)) > 0) {
        noProgress = 0;
        continue;
      }
      // No progress. should_reclaim_retry: try again while the LRU holds
      // enough pages that could still be reclaimed (pages only referenced
      // lately are taken on a later pass), up to MAX_RECLAIM_RETRIES times;
      // pages on their way to being clean are worth waiting for
      // (reclaim_throttle; see RECLAIM_THROTTLE_NS). Else out
      // of memory: the caller turns it into -ENOMEM or VM_FAULT_OOM.
      if (nr <= COSTLY_PAGES && ++noProgress <= MAX_RECLAIM_RETRIES && reclaimableFilePages(this) >= deficit) {
        if (writebackPending(this)) {
          this.cov.hit('alloc:throttle');
          const d = t.enter('reclaim_throttle');
          yield* this.sim.sleepNs(RECLAIM_THROTTLE_NS);
          t.leave(d);
        }
        continue;
      }
      this.allocFailures++;
      this.cov.hit('alloc:oom');
      return false;
    }
    this.pagesInUse += nr;
    this.pagesAllocated += nr;
    if (this.memoryPages - this.pagesInUse < this.wmark.low) this.kswapd?.wakeup(this);
    return true;
  }

  /** Reclaim context (fs_reclaim_acquire plus PF_MEMALLOC): held for a whole direct reclaim or kswapd run. */
  fsReclaimAcquire(t: Task): void {
    this.sim.lockdep.acquire(t, this.fsReclaim, 0, 0, false, this.fsReclaimToken);
    this.memalloc.add(t.id);
  }

  fsReclaimRelease(t: Task): void {
    this.memalloc.delete(t.id);
    this.sim.lockdep.release(t, this.fsReclaimToken, this.fsReclaim);
  }

  /** __mark_inode_dirty: a page of `inode` became dirty (the flusher queues the inode). */
  markInodeDirty(inode: Inode): void {
    this.writeback?.markInodeDirty(inode);
  }

  /**
   * Fault injection: the task's fail_nth, or fail_page_alloc's probability
   * (adversarial phase only, drawn from the run's fault stream so a replay
   * fails the same allocations).
   */
  private shouldFailAlloc(t: Task): boolean {
    const f = this.failNth.get(t.id);
    if (f !== undefined && f.nth > 0) {
      f.count++;
      if (f.count === f.nth) return true;
    }
    if (this.failAllocRate > 0 && this.sim.faultsEnabled && this.sim.chance(Stream.Fault, this.failAllocRate)) {
      this.cov.hit('alloc:injected');
      return true;
    }
    return false;
  }

  /** Page-table allocation (pte_alloc_one): also a GFP_KERNEL allocation. */
  *allocPageTable(t: Task, mm: MM, table: number): Gen<boolean> {
    if (mm.ptTables.has(table)) return true;
    const pg = yield* this.allocPage(t, null, 0, true);
    if (pg === null) return false;
    // Populated by another thread while the allocation slept in reclaim: pte_free ours.
    if (mm.ptTables.has(table)) this.putPage(pg);
    else mm.ptTables.add(table);
    return true;
  }

  freePageTable(mm: MM, table: number): void {
    if (mm.ptTables.delete(table)) this.pagesInUse--;
  }

  /** put_page: drop a reference; the last one frees the page. */
  putPage(p: Page): void {
    if (p === this.zeroPage) return;
    p.refcount--;
    if (p.refcount === 0) {
      this.pagesInUse--;
      p.data = null;
    }
  }

  getPage(p: Page): void {
    if (p !== this.zeroPage) p.refcount++;
  }
}
