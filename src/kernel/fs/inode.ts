// struct inode, struct address_space, struct file.

import { ascending, RwSemaphore, Spinlock, type Gen, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import type { Page } from '../page.js';
import type { Vma } from '../mm/vma.js';
import type { Vmf, FaultResult } from '../mm/fault.js';

export const S_IFREG = 0o100000, S_IFDIR = 0o040000;

/** The filesystem's operations on one of its inodes (inode, file, address_space and vm operations folded together). */
export interface FsOps {
  readonly fsName: string;
  /** ->fault: return a locked, uptodate page for vmf.pgoff, or an error/retry. */
  fault(k: Kernel, vmf: Vmf): Gen<FaultResult>;
  /**
   * ->page_mkwrite: a page of a shared mapping (unlocked, referenced) is
   * about to become writable. VM_FAULT_LOCKED with the page locked, or
   * VM_FAULT_NOPAGE (it was truncated meanwhile: the access retries) or an
   * error, unlocked. Absent: nothing to do (tmpfs).
   */
  pageMkwrite?(k: Kernel, vmf: Vmf, page: Page): Gen<FaultResult>;
  /** ->read_iter from the page cache into user memory at `addr`. */
  readIter(k: Kernel, t: Task, file: File, pos: number, addr: number, len: number): Gen<number>;
  /** ->write_iter from user memory (segments of [addr, len]). */
  writeIter(k: Kernel, t: Task, file: File, pos: number, iov: readonly (readonly [number, number])[]): Gen<number>;
  /** ->setattr(ATTR_SIZE): the caller holds i_rwsem for write. */
  setSize(k: Kernel, t: Task, inode: Inode, size: number): Gen<number>;
  /** ->fallocate, after the VFS checks. */
  fallocate(k: Kernel, t: Task, file: File, mode: number, off: number, len: number): Gen<number>;
  fsync(k: Kernel, t: Task, file: File): Gen<number>;
  /** Start readahead of pages [index, index + nr) (fadvise/madvise WILLNEED); absent: nothing to read ahead. */
  readahead?(k: Kernel, t: Task, file: File, index: number, nr: number): Gen<void>;
  /** Largest file size (s_maxbytes). */
  readonly maxBytes: number;
  /** ->open, before the fd is installed (FUSE: LOOKUP/OPEN, or CREATE when `created`); 0 or -errno. Absent: nothing to do. */
  open?(k: Kernel, t: Task, file: File, created: boolean): Gen<number>;
  /** ->flush, at every close of a descriptor (filp_close); its error is close()'s. */
  flush?(k: Kernel, t: Task, file: File): Gen<number>;
  /** ->release, at the last fput; must not sleep (FUSE queues RELEASE in the background). */
  release?(k: Kernel, file: File): void;
  /**
   * ->writepage for reclaim's pageout(): `page` is locked, dirty and
   * unmapped. 1: the write is submitted and its completion unlocks the page;
   * 0: not written (page unlocked); -errno (page unlocked, still dirty).
   * Absent: the pages cannot be written back (tmpfs: there is no swap).
   */
  writepage?(k: Kernel, t: Task, page: Page): Gen<number>;
  /** ->writepages for the writeback flusher (do_writepages): write back every dirty page and wait; 0 or -errno. */
  writepages?(k: Kernel, t: Task, inode: Inode): Gen<number>;
}

/** struct address_space: the page cache of one inode and the VMAs that map it. */
export class AddressSpace {
  /** i_pages: page index -> page. */
  readonly pages = new Map<number, Page>();
  /**
   * i_pages' shadow entries: page index -> the node's nonresident age when
   * reclaim evicted the page there (mm/workingset.c). Truncation drops them.
   */
  readonly shadows = new Map<number, number>();
  /** i_mmap: the VMAs mapping this file, in insertion order. */
  readonly iMmap: Vma[] = [];
  readonly iMmapRwsem: RwSemaphore;
  /** Guards page cache contents against block-map changes during invalidation (5.15). */
  readonly invalidateLock: RwSemaphore;
  /** Dirty pages in this cache (the mapping's share of NR_FILE_DIRTY). */
  nrDirty = 0;
  private readonly k: Kernel;

  constructor(k: Kernel, readonly host: Inode) {
    this.k = k;
    this.iMmapRwsem = new RwSemaphore(k.sim, '&mapping->i_mmap_rwsem');
    this.invalidateLock = new RwSemaphore(k.sim, '&mapping->invalidate_lock');
  }

  /** A cached page became dirty or clean (Page.dirty): account it; a newly dirty inode is queued for writeback. */
  accountDirty(dirty: boolean): void {
    this.nrDirty += dirty ? 1 : -1;
    if (this.host.ops.writepages !== undefined) this.k.nrFileDirty += dirty ? 1 : -1;
    if (dirty) this.k.markInodeDirty(this.host);
  }

  get nrpages(): number {
    return this.pages.size;
  }

  /** Cached page indices in [first, last], ascending. */
  indicesIn(first: number, last: number): number[] {
    const out: number[] = [];
    if (last - first < this.pages.size) {
      for (let i = first; i <= last; i++) if (this.pages.has(i)) out.push(i);
    } else {
      for (const i of this.pages.keys()) if (i >= first && i <= last) out.push(i);
      out.sort(ascending);
    }
    return out;
  }
}

/** Record published in inode->i_private while shmem punches a hole (seed 003). */
export interface ShmemFalloc {
  start: number;
  next: number;
  /** Faulters in the range wait here until the punch is done (null for plain allocation). */
  waitq: import('../../sim/index.js').WaitQueue | null;
}

export class Inode {
  size = 0;
  nlink = 1;
  readonly mapping: AddressSpace;
  /** i_rwsem (i_mutex before 4.7): class named as lockdep names it. */
  readonly iRwsem: RwSemaphore;
  readonly iLock: Spinlock;
  iPrivate: ShmemFalloc | null = null;
  /** Open files and mappings holding the inode (the VFS's i_count, roughly). */
  openCount = 0;

  constructor(
    k: Kernel,
    readonly ino: number,
    readonly mode: number,
    readonly ops: FsOps,
    readonly path: string,
  ) {
    this.mapping = new AddressSpace(k, this);
    // One class per filesystem type, one printed name (lockdep_set_class
    // with sb->s_type->i_mutex_key): a write to a block-fs file faulting on
    // a tmpfs mapping nests two classes, not one.
    this.iRwsem = new RwSemaphore(k.sim, '&sb->s_type->i_mutex_key', `&sb->s_type->i_mutex_key:${ops.fsName}`);
    this.iLock = new Spinlock(k.sim, '&inode->i_lock');
  }

  get isDir(): boolean {
    return (this.mode & S_IFDIR) !== 0;
  }

  get isReg(): boolean {
    return (this.mode & S_IFREG) !== 0;
  }
}

export const O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200,
  O_TRUNC = 0o1000, O_APPEND = 0o2000, O_NONBLOCK = 0o4000, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000;

/** struct file: an open file description. */
export class File {
  /** f_count: fds, mappings (vma->vm_file) and transient pins (fpin) each hold one. */
  count = 1;
  pos = 0;
  /** Readahead state (struct file_ra_state). */
  raStart = 0;
  raSize = 0;
  raAsyncSize = 0;
  /** ra_pages: the window limit (VM_READAHEAD_PAGES, 128 KiB); 0 disables readahead. */
  raPages = 32;
  /** prev_pos: where the last read() ended (-1: none yet). */
  raPrevPos = -1;
  mmapMiss = 0;

  constructor(readonly id: number, readonly inode: Inode, readonly flags: number) {}

  get readable(): boolean {
    const m = this.flags & O_ACCMODE;
    return m === O_RDONLY || m === O_RDWR;
  }

  get writable(): boolean {
    const m = this.flags & O_ACCMODE;
    return m === O_WRONLY || m === O_RDWR;
  }
}
