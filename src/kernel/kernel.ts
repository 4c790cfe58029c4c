// The simulated kernel: one instance owns all of its state (processes, the
// VFS namespace, the page allocator), so two simulations never interfere.

import { Rcu, Sim, type Gen, type LockClass, type Task } from '../sim/index.js';
import { Inode, File, S_IFDIR, S_IFREG, type FsOps } from './fs/inode.js';
import { MM, Vma, PROT_READ, PROT_WRITE } from './mm/vma.js';
import { Page } from './page.js';
import { tmpfsOps } from './fs/shmem.js';
import { BlockFs, BLOCKFS_VICTIMS, type BlockFsOptions } from './fs/blockfs.js';
import { Coverage } from './coverage.js';

export interface KernelOptions {
  /** Page budget: allocations beyond it fail (reclaim comes with memory pressure). */
  memoryPages?: number;
  /** fault_around_bytes / PAGE_SIZE (16 in Linux). */
  faultAroundPages?: number;
  /** Profile switches (buggy historical code paths); empty = the fixed kernel. */
  switches?: Readonly<Record<string, string>>;
  /** The block device under /data (latency, throttle, capacity). */
  blockfs?: BlockFsOptions;
}

export class Process {
  readonly fds: (File | null)[] = [];
  readonly threads: Task[] = [];
  exited = false;

  constructor(readonly pid: number, readonly name: string, public mm: MM) {}

  get cmdline(): string {
    return `${this.name}\0`;
  }
}

export const RLIMIT_NOFILE = 1024;

export class Kernel {
  readonly processes: Process[] = [];
  /** The namespace: absolute path -> inode. */
  readonly dentries = new Map<string, Inode>();
  readonly rcu: Rcu;
  readonly fsReclaim: LockClass;
  readonly cov = new Coverage();
  readonly memoryPages: number;
  readonly faultAroundPages: number;
  readonly switches: Readonly<Record<string, string>>;
  /** The block-backed filesystem mounted at /data. */
  readonly blockfs: BlockFs;
  /** Tasks inside a system call: zero means quiescent (no transient state). */
  inSyscall = 0;
  /** Fault flags of the fault each task is handling (handle_mm_fault), for invariant B. */
  readonly faultFlags = new Map<number, number>();
  /** Invariant B has been reported in this run. */
  ioWaitWarned = false;
  /** Pages allocated and not yet freed (the zero page excluded). */
  pagesInUse = 0;
  pagesAllocated = 0;
  allocFailures = 0;
  readonly zeroPage: Page;
  /** fail_nth: the allocation number (1-based, per task) that fails, 0 = none. */
  readonly failNth = new Map<number, { nth: number; count: number }>();
  private nextIno = 1;
  private nextPfn = 1;
  private nextFileId = 1;
  private readonly fsReclaimToken = {};

  constructor(readonly sim: Sim, opts: KernelOptions = {}) {
    this.rcu = new Rcu(sim);
    this.fsReclaim = sim.lockdep.classFor('fs_reclaim');
    this.memoryPages = opts.memoryPages ?? 1 << 20;
    this.faultAroundPages = opts.faultAroundPages ?? 16;
    this.switches = opts.switches ?? {};
    this.zeroPage = new Page(0, null, 0, true);
    this.zeroPage.uptodate = true;
    this.zeroPage.refcount = 1 << 30;
    this.mkdir('/');
    this.mkdir('/tmp');
    this.mkdir('/dev');
    this.mkdir('/dev/shm');
    this.blockfs = this.mountBlockfs(opts.blockfs ?? {});
  }

  /** Mount blockfs at /data with its victim files: data on disk, nothing cached. */
  private mountBlockfs(opts: BlockFsOptions): BlockFs {
    this.mkdir('/data');
    const fs = new BlockFs(this, opts);
    for (const v of BLOCKFS_VICTIMS) fs.mkfsFile(this, v.path, v.size, v.byteAt);
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

  /** fput: the last reference releases the file. */
  fput(f: File): void {
    f.count--;
    if (f.count === 0) f.inode.openCount--;
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
   * null when the budget is exhausted or fault injection fails it.
   */
  allocPage(t: Task, mapping: Page['mapping'], index: number, anon: boolean, atomic = false): Page | null {
    if (!atomic) {
      this.sim.lockdep.acquire(t, this.fsReclaim, 0, 0, false, this.fsReclaimToken);
      this.sim.lockdep.release(t, this.fsReclaimToken, this.fsReclaim);
    }
    if (this.shouldFailAlloc(t)) {
      this.allocFailures++;
      return null;
    }
    if (this.pagesInUse >= this.memoryPages) {
      this.allocFailures++;
      this.cov.hit('alloc:budget');
      return null;
    }
    this.pagesInUse++;
    this.pagesAllocated++;
    return new Page(this.nextPfn++, mapping, index, anon);
  }

  private shouldFailAlloc(t: Task): boolean {
    const f = this.failNth.get(t.id);
    if (f === undefined || f.nth <= 0) return false;
    f.count++;
    return f.count === f.nth;
  }

  /** Page-table allocation (pte_alloc_one): also a GFP_KERNEL allocation. */
  allocPageTable(t: Task, mm: MM, table: number): boolean {
    if (mm.ptTables.has(table)) return true;
    const pg = this.allocPage(t, null, 0, true);
    if (pg === null) return false;
    mm.ptTables.add(table);
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
