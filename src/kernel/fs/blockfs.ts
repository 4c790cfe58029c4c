// blockfs: an ext4-like filesystem on the simulated block device, mounted at
// /data. Unlike tmpfs, the page cache is only a cache: pages are read from
// blocks through ->read_folio (filemap_fault, filemap_read, readahead) and
// written back by fsync. One block per page; each inode maps page indices to
// extents {block, generation, unwritten}.
//
// Allocation policy: delayed allocation, as ext4's default (delalloc).
// write() only dirties page-cache pages; a hole gets its block when the
// dirty page is written back (fsync, msync(MS_SYNC), and the writeback that
// collapse/insert range do first). fallocate preallocates *unwritten*
// extents, which read as zeroes without I/O until written back. Writeback
// here keeps the page locked until the write completes (Linux uses
// PG_writeback and unlocks early): truncation, which locks each page, thus
// waits for it.
//
// The page killers (truncate, punch hole, collapse/insert/zero range) take
// i_rwsem and mapping->invalidate_lock for write around both the page-cache
// truncation and the block-map update, with a preemption point between them:
// that window is entry E2's (seed 004), harmless while invalidate_lock keeps
// page creators out, a stale-data bug with `invalidate_lock=off`.

import { ascending, Completion, type Gen, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, pageOffset, rem, PageImages, pageCopy, pagesFor, type Page } from '../page.js';
import { EFBIG, EINTR, EINVAL, EIO, ENOMEM, ENOSPC, EOPNOTSUPP } from '../errno.js';
import { deleteFromPageCache, filemapAddPage, truncatePagecache, truncatePagecacheRange } from './filemap.js';
import { O_APPEND, type File, type FsOps, type Inode } from './inode.js';
import {
  FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE,
  genericPerformWrite, iovCount,
} from './shmem.js';
import { BioOp, BlockDevice, BLOCK_SIZE, type Bio, type BlockDeviceOptions } from './blockdev.js';
import { filemapFault, filemapRead } from './filemap_fault.js';
import { VM_FAULT_LOCKED, VM_FAULT_NOPAGE, ioWaitCheck, type FaultResult, type Vmf } from '../mm/fault.js';
import { forcePageCacheRa, invalidateLock, invalidateLockShared, invalidateUnlock, invalidateUnlockShared, type AddressSpaceOps } from './readahead.js';

export type BlockFsOptions = BlockDeviceOptions;

/** s_maxbytes of ext4 with 4 KiB blocks: 2^32 - 1 blocks. */
export const BLOCKFS_MAX_BYTES = (2 ** 32 - 1) * BLOCK_SIZE;

/** One block's worth of a file: where page `index` lives on the device. */
export interface Extent {
  readonly block: number;
  /** The block's generation when it was allocated to this file (the allocator bumps it at each reuse). */
  readonly gen: number;
  /** Preallocated, never written: reads as zeroes without I/O. */
  readonly unwritten: boolean;
}

/** Where a clean cached page's contents came from: a block and generation, or a hole (block -1). */
export interface PageSource {
  readonly block: number;
  readonly gen: number;
  /** The kernel path that filled the page (filemap_fault, filemap_read, ...), for reports. */
  readonly by: string;
}

/** The filesystem-private half of an inode (ext4_inode_info). */
export class BlockfsInode {
  /** The block map: page index -> extent. */
  readonly map = new Map<number, Extent>();
  /** The operation that last changed each index's mapping (for stale-data reports). */
  readonly changedBy = new Map<number, string>();
}

/** The victim files made at mount time: data on disk, nothing cached. */
export const BLOCKFS_VICTIMS: readonly { path: string; size: number; byteAt(off: number): number }[] = [
  { path: '/data/file0', size: 16 * PAGE_SIZE, byteAt: (off) => (off < 16 * PAGE_SIZE ? 0x41 + Math.floor(off / PAGE_SIZE) : 0) },
  { path: '/data/file1', size: 5 * PAGE_SIZE + 100, byteAt: (off) => (off < 5 * PAGE_SIZE + 100 ? 0x61 + Math.floor(off / PAGE_SIZE) : 0) },
];

/** Victim page contents, built once per process (every execution mounts a fresh blockfs; poke copies the image). */
const PAGE_IMAGES = new PageImages();

/** Bounded retry loops (a page keeps being truncated under us). */
const RETRY_MAX = 64;
/** fallocate yields (cond_resched) every this many blocks. */
const ALLOC_BATCH = 64;
/** Kernel paths that fill pages, innermost first in a stack, for PageSource.by. */
const FILLERS = new Set([
  'filemap_fault', 'filemap_read', 'madvise', 'blockfs_write_begin', 'blockfs_zero_partial_block',
]);

function fillerOf(t: Task): string {
  for (let i = t.stack.length - 1; i >= 0; i--) if (FILLERS.has(t.stack[i]!)) return t.stack[i]!;
  return t.where();
}

/**
 * The page lock now belongs to the bio: the completion unlocks it. The
 * submitter may wait on the page like anybody else, so it must not stay the
 * recorded owner (the wait-for graph would see it wait on itself).
 */
function passLockToIo(page: Page): void {
  page.owner = null;
  page.ownerWhere = 'block I/O in flight';
}

/**
 * blk_throttle_bio's sleep check, made outside the constructor: a closure
 * over the constructor's scope (which holds `this`) stored on the device
 * made V8 keep every kernel alive across scavenges and promote it -- most
 * of the fuzzer's GC time. This one captures only the kernel.
 */
function throttleSleepHook(k: Kernel): (t: Task) => void {
  return (t) => ioWaitCheck(k, t, 'a throttled bio (blk_throttle_bio)');
}

/**
 * The block filesystem. Its handlers that the operations tables (BlockfsOps,
 * BlockfsAops, at the end of this file) call are public for them; nothing
 * else calls them directly.
 */
export class BlockFs {
  readonly dev: BlockDevice;
  readonly ops: FsOps;
  readonly aops: AddressSpaceOps;
  readonly pageSource = new WeakMap<Page, PageSource>();
  private readonly inodes = new Map<Inode, BlockfsInode>();

  constructor(k: Kernel, opts: BlockFsOptions = {}) {
    this.dev = new BlockDevice(k.sim, opts);
    this.dev.onIoSleep = throttleSleepHook(k);
    this.aops = new BlockfsAops(this);
    this.ops = new BlockfsOps(this);
  }

  /** The fs-private inode info, created on first use. */
  info(inode: Inode): BlockfsInode {
    let bi = this.inodes.get(inode);
    if (bi === undefined) {
      if (inode.ops !== this.ops) throw new Error(`${inode.path} is not on blockfs`);
      bi = new BlockfsInode();
      this.inodes.set(inode, bi);
    }
    return bi;
  }

  /** Every blockfs inode with its info, in creation order. */
  entries(): IterableIterator<[Inode, BlockfsInode]> {
    return this.inodes.entries();
  }

  /** The blockfs inodes, in creation order (entries() without a pair per inode). */
  inodeList(): IterableIterator<Inode> {
    return this.inodes.keys();
  }

  /** The blockfs half of the inodes inodeList() gives (entries() without a pair per inode). */
  infoList(): IterableIterator<BlockfsInode> {
    return this.inodes.values();
  }

  /** mkfs-time file: data written straight to the device, nothing cached. */
  mkfsFile(k: Kernel, path: string, size: number, byteAt: (off: number) => number): Inode {
    const inode = k.createInode(path, this.ops);
    const bi = this.info(inode);
    inode.size = size;
    for (let idx = 0; idx < pagesFor(size); idx++) {
      const b = this.dev.alloc();
      if (b === null) throw new Error('blockfs: device too small for the victim files');
      this.dev.pokeShared(b.block, PAGE_IMAGES.get(path, idx, byteAt));
      bi.map.set(idx, { block: b.block, gen: b.gen, unwritten: false });
    }
    return inode;
  }

  // ------------------------------------------------------------- reading

  /**
   * ->read_folio. The page is locked by the caller. A hole or an unwritten
   * extent reads as zeroes at once; otherwise a read is submitted and its
   * completion (interrupt context) fills the page, marks it uptodate and
   * unlocks it -- or, with `done`, completes `done` and leaves the page
   * locked for the caller (block_write_begin reading under the page lock).
   */
  *readPage(k: Kernel, t: Task, page: Page, done: Completion | null): Gen<number> {
    const mapping = page.mapping;
    if (mapping === null || !page.locked) throw new Error(`read_folio of ${page}: not locked in a page cache`);
    const d = t.enter('blockfs_read_folio');
    const ext = this.info(mapping.host).map.get(page.index);
    if (ext === undefined || ext.unwritten) {
      k.cov.hit(ext === undefined ? 'blockfs:read-hole' : 'blockfs:read-unwritten');
      page.zero();
      page.uptodate = true;
      this.pageSource.set(page, { block: -1, gen: 0, by: fillerOf(t) });
      if (done === null) page.unlock(k.sim);
      else done.complete();
      t.leave(d);
      return 0;
    }
    const src: PageSource = { block: ext.block, gen: ext.gen, by: fillerOf(t) };
    const bio = new ReadBio(ext.block, this, k, page, src, done);
    if (done === null) passLockToIo(page);
    k.cov.hit('blockfs:read-io');
    yield* this.dev.submit(t, bio);
    t.leave(d);
    return 0;
  }

  /**
   * The page at `idx`, locked, referenced and uptodate (read from disk under
   * the page lock if needed), created if not cached. -ENOMEM or -EIO.
   */
  private *grabUptodatePage(k: Kernel, t: Task, inode: Inode, idx: number): Gen<Page | number> {
    const mapping = inode.mapping;
    for (let tries = 0; tries < RETRY_MAX; tries++) {
      yield; // might_alloc / find_lock_entry may sleep
      let page = mapping.pages.get(idx);
      if (page === undefined) {
        const np = yield* k.allocPage(t, mapping, idx, false);
        if (np === null) return -ENOMEM;
        if (mapping.pages.has(idx)) {
          // Added by someone else while the allocation slept in reclaim (-EEXIST): look again.
          k.putPage(np);
          continue;
        }
        filemapAddPage(k, t, mapping, np, idx);
        page = np;
      } else {
        k.getPage(page);
        yield* page.lock(k.sim);
        if (page.mapping !== mapping) {
          k.cov.hit('blockfs:grab-raced-eviction');
          page.unlock(k.sim);
          k.putPage(page);
          continue;
        }
      }
      if (!page.uptodate) {
        const done = new Completion(k.sim, 'blockfs read');
        yield* this.readPage(k, t, page, done);
        yield* done.wait();
        if (!page.uptodate) {
          page.unlock(k.sim);
          k.putPage(page);
          return -EIO;
        }
      }
      return page;
    }
    throw new Error(`blockfs: page ${idx} of ${inode.path} kept being evicted`);
  }

  /** fadvise/madvise(WILLNEED): force_page_cache_ra, without waiting for the reads. */
  *readahead(k: Kernel, t: Task, file: File, index: number, nr: number): Gen<void> {
    const d = t.enter('generic_fadvise');
    k.cov.hit('blockfs:willneed');
    yield* forcePageCacheRa(k, t, this.aops, file, index, nr);
    t.leave(d);
  }

  // ------------------------------------------------------------- writing

  /**
   * ->write_begin for generic_perform_write: the page locked and uptodate.
   * A page not uptodate is read first even if it will be wholly overwritten
   * (block_write_begin reads only partial blocks; the extra read is harmless).
   */
  private *writeBegin(k: Kernel, t: Task, inode: Inode, idx: number): Gen<Page | null | number> {
    const d = t.enter('blockfs_write_begin');
    const r = yield* this.grabUptodatePage(k, t, inode, idx);
    t.leave(d);
    return r;
  }

  *writeIter(k: Kernel, t: Task, file: File, pos: number, iov: readonly (readonly [number, number])[]): Gen<number> {
    const inode = file.inode;
    const d = t.enter('blockfs_file_write_iter');
    yield* inode.iRwsem.downWrite();
    if (file.flags & O_APPEND) pos = inode.size;
    const total = iovCount(iov);
    let ret: number;
    if (total > 0 && pos >= BLOCKFS_MAX_BYTES) ret = -EFBIG;
    else {
      const limited: (readonly [number, number])[] = [];
      let room = BLOCKFS_MAX_BYTES - pos;
      for (const [a, l] of iov) {
        if (room <= 0) break;
        limited.push([a, Math.min(l, room)]);
        room -= l;
      }
      ret = yield* genericPerformWrite(k, t, inode, pos, limited, (idx) => this.writeBegin(k, t, inode, idx));
    }
    inode.iRwsem.upWrite(t);
    t.leave(d);
    return ret;
  }

  /**
   * ->writepage for a locked dirty page: allocate its block if it has none
   * (delayed allocation) or convert an unwritten extent, snapshot the data
   * (zeroing what lies beyond EOF) and submit the write; the completion
   * unlocks the page. Returns 1 if submitted, 0 if skipped (beyond EOF; page
   * unlocked), or -ENOSPC (page unlocked, still dirty).
   */
  *writePage(k: Kernel, t: Task, inode: Inode, page: Page): Gen<number> {
    const bi = this.info(inode);
    const idx = page.index;
    const size = inode.size;
    if (idx >= pagesFor(size)) {
      // Entirely beyond EOF: truncation is about to remove it.
      page.dirty = false;
      page.unlock(k.sim);
      return 0;
    }
    let ext = bi.map.get(idx);
    if (ext === undefined) {
      const b = this.dev.alloc();
      if (b === null) {
        page.unlock(k.sim);
        return -ENOSPC;
      }
      ext = { block: b.block, gen: b.gen, unwritten: false };
      bi.map.set(idx, ext);
      k.cov.hit('blockfs:delalloc');
    } else if (ext.unwritten) {
      ext = { block: ext.block, gen: ext.gen, unwritten: false };
      bi.map.set(idx, ext);
      k.cov.hit('blockfs:convert-unwritten');
    }
    // The page straddling EOF is zeroed beyond it on every writepage.
    if (size < (idx + 1) * PAGE_SIZE) page.zero(size - idx * PAGE_SIZE, PAGE_SIZE);
    page.dirty = false;
    page.writeback = true;
    this.pageSource.set(page, { block: ext.block, gen: ext.gen, by: 'writeback' });
    const bio = new WriteBio(ext.block, page.data === null ? null : pageCopy(page.data), k, page);
    passLockToIo(page);
    yield* this.dev.submit(t, bio);
    return 1;
  }

  /** Write back the dirty pages in [first, last] and wait for the writes (WB_SYNC_ALL). */
  *writebackRange(k: Kernel, t: Task, inode: Inode, first: number, last: number): Gen<number> {
    const mapping = inode.mapping;
    const d = t.enter('blockfs_writepages');
    const submitted: Page[] = [];
    let err = 0;
    for (const idx of mapping.indicesIn(first, last)) {
      const page = mapping.pages.get(idx);
      if (page === undefined || !page.dirty) continue;
      k.getPage(page);
      yield* page.lock(k.sim);
      if (page.mapping !== mapping || !page.dirty) {
        page.unlock(k.sim);
        k.putPage(page);
        continue;
      }
      const r = yield* this.writePage(k, t, inode, page);
      if (r < 0) err = r;
      submitted.push(page);
    }
    for (const page of submitted) {
      yield* page.waitUnlocked(k.sim);
      k.putPage(page);
    }
    k.cov.hit(submitted.length > 0 ? 'blockfs:writeback' : 'blockfs:writeback-clean');
    t.leave(d);
    return err;
  }

  /**
   * ->page_mkwrite (ext4_page_mkwrite, delalloc): under invalidate_lock
   * shared -- a store waits for a truncate or a punch in progress, as a
   * fault that creates a page does -- lock the page, and give up with
   * VM_FAULT_NOPAGE if it was truncated or lies past EOF by then
   * (block_page_mkwrite); else dirty it and return it locked. Writeback
   * holds the page lock here, so the lock also waits for a write in
   * flight (wait_for_stable_folio). The delayed allocation's reservation
   * is not modelled.
   */
  *pageMkwrite(k: Kernel, vmf: Vmf, page: Page): Gen<FaultResult> {
    const t = vmf.t;
    const inode = vmf.vma.file!.inode;
    const mapping = inode.mapping;
    const d = t.enter('ext4_page_mkwrite');
    yield* invalidateLockShared(k, mapping);
    yield* page.lock(k.sim);
    let ret = VM_FAULT_LOCKED;
    if (page.mapping !== mapping || page.index * PAGE_SIZE >= inode.size) {
      page.unlock(k.sim);
      k.cov.hit('blockfs:mkwrite-truncated');
      ret = VM_FAULT_NOPAGE;
    } else {
      page.dirty = true;
      k.cov.hit('blockfs:mkwrite');
    }
    invalidateUnlockShared(k, t, mapping);
    t.leave(d);
    return ret;
  }

  /** ->fsync (ext4_sync_file): write back every dirty page and wait. */
  *fsync(k: Kernel, t: Task, inode: Inode): Gen<number> {
    const d = t.enter('blockfs_sync_file');
    const r = yield* this.writebackRange(k, t, inode, 0, Number.MAX_SAFE_INTEGER);
    t.leave(d);
    return r;
  }

  /**
   * drop_caches (echo 1 > /proc/sys/vm/drop_caches): evict every clean,
   * unlocked, unmapped, otherwise unreferenced page. Dirty pages stay.
   * Returns the number of pages evicted.
   */
  *dropCaches(k: Kernel, t: Task): Gen<number> {
    const d = t.enter('drop_pagecache');
    let n = 0;
    for (const inode of [...this.inodes.keys()]) {
      const mapping = inode.mapping;
      for (const idx of mapping.indicesIn(0, Number.MAX_SAFE_INTEGER)) {
        yield;
        const page = mapping.pages.get(idx);
        if (page === undefined || page.locked || page.dirty || page.writeback || page.mapcount > 0 || page.refcount !== 1) continue;
        k.getPage(page);
        page.trylock(k.sim, t);
        deleteFromPageCache(k, page);
        page.unlock(k.sim);
        k.putPage(page);
        n++;
      }
    }
    k.cov.hit('blockfs:drop-caches');
    t.leave(d);
    return n;
  }

  // --------------------------------------------------- block map surgery

  /** Mapped indices in [first, last), ascending. */
  private mappedIn(bi: BlockfsInode, first: number, last: number): number[] {
    const out: number[] = [];
    if (last - first <= bi.map.size) {
      for (let i = first; i < last; i++) if (bi.map.has(i)) out.push(i);
    } else {
      for (const i of bi.map.keys()) if (i >= first && i < last) out.push(i);
      out.sort(ascending);
    }
    return out;
  }

  /** Free the blocks of [first, last) (ext4_ext_remove_space). */
  private removeSpace(bi: BlockfsInode, first: number, last: number, why: string): void {
    for (const idx of this.mappedIn(bi, first, last)) {
      this.dev.free(bi.map.get(idx)!.block);
      bi.map.delete(idx);
      bi.changedBy.set(idx, why);
    }
  }

  /**
   * Give every hole in [first, last) an unwritten extent; with `convert`,
   * written extents become unwritten too (zero range). Yields now and then.
   * 0, -ENOSPC or -EINTR.
   */
  private *allocUnwritten(k: Kernel, t: Task, bi: BlockfsInode, first: number, last: number, convert: boolean, why: string): Gen<number> {
    let n = 0;
    for (let idx = first; idx < last; idx++) {
      const ext = bi.map.get(idx);
      if (ext !== undefined) {
        if (convert && !ext.unwritten) {
          bi.map.set(idx, { block: ext.block, gen: ext.gen, unwritten: true });
          bi.changedBy.set(idx, why);
        }
        continue;
      }
      const b = this.dev.alloc();
      if (b === null) return -ENOSPC;
      bi.map.set(idx, { block: b.block, gen: b.gen, unwritten: true });
      if (++n % ALLOC_BATCH === 0) {
        yield; // cond_resched
        if (t.fatalPending) return -EINTR;
      }
    }
    return 0;
  }

  /**
   * ext4_block_zero_page_range: zero [from, to) of page `idx` through the
   * page cache, reading it first if the block holds data; the page becomes
   * dirty so the zeroes reach the disk. Nothing to do for a hole that is not
   * cached.
   */
  private *zeroPartialBlock(k: Kernel, t: Task, inode: Inode, idx: number, from: number, to: number): Gen<number> {
    const bi = this.info(inode);
    const ext = bi.map.get(idx);
    if ((ext === undefined || ext.unwritten) && !inode.mapping.pages.has(idx)) return 0;
    const d = t.enter('blockfs_zero_partial_block');
    const page = yield* this.grabUptodatePage(k, t, inode, idx);
    if (typeof page === 'number') {
      t.leave(d);
      return page;
    }
    page.zero(from, to);
    const now = bi.map.get(idx);
    if (now !== undefined && !now.unwritten) page.dirty = true;
    page.unlock(k.sim);
    k.putPage(page);
    k.cov.hit('blockfs:zero-partial');
    t.leave(d);
    return 0;
  }

  /** ext4_zero_partial_blocks: the unaligned head and tail of [off, off + len). */
  private *zeroPartialBlocks(k: Kernel, t: Task, inode: Inode, off: number, len: number): Gen<number> {
    const firstIdx = Math.floor(off / PAGE_SIZE);
    const lastIdx = Math.floor((off + len - 1) / PAGE_SIZE);
    const head = pageOffset(off);
    const tail = pageOffset(off + len);
    if (firstIdx === lastIdx) {
      if (head === 0 && tail === 0) return 0;
      return yield* this.zeroPartialBlock(k, t, inode, firstIdx, head, tail === 0 ? PAGE_SIZE : tail);
    }
    let r = 0;
    if (head !== 0) r = yield* this.zeroPartialBlock(k, t, inode, firstIdx, head, PAGE_SIZE);
    if (r === 0 && tail !== 0) r = yield* this.zeroPartialBlock(k, t, inode, lastIdx, 0, tail);
    return r;
  }

  // ------------------------------------------------------------ truncate

  /**
   * ->setattr(ATTR_SIZE), i_rwsem held for write (ext4_setattr). Growing
   * leaves a hole. Otherwise (the same size too: preallocated blocks beyond
   * EOF go), under invalidate_lock: lower i_size, truncate the page cache
   * (unmapping even COW copies), zero the tail of the new EOF block on disk
   * (ext4_block_truncate_page), free the blocks beyond it.
   */
  *setSize(k: Kernel, t: Task, inode: Inode, size: number): Gen<number> {
    const d = t.enter('blockfs_setattr');
    const old = inode.size;
    if (size > old) {
      inode.size = size;
      t.leave(d);
      return 0;
    }
    const mapping = inode.mapping;
    yield* invalidateLock(k, mapping);
    inode.size = size;
    yield* truncatePagecache(k, t, inode, size);
    if (pageOffset(size) !== 0) yield* this.zeroPartialBlock(k, t, inode, Math.floor(size / PAGE_SIZE), pageOffset(size), PAGE_SIZE);
    yield; // between the page-cache truncation and the block-map update
    const bi = this.info(inode);
    this.removeSpace(bi, pagesFor(size), Number.MAX_SAFE_INTEGER, 'truncate');
    invalidateUnlock(k, t, mapping);
    k.cov.hit('blockfs:truncate');
    t.leave(d);
    return 0;
  }

  // ----------------------------------------------------------- fallocate

  /** ->fallocate (ext4_fallocate): the modes ext4 accepts; anything else EOPNOTSUPP. */
  *fallocate(k: Kernel, t: Task, file: File, mode: number, off: number, len: number): Gen<number> {
    const supported = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE;
    if (mode & ~supported) {
      k.cov.hit('blockfs:falloc-unsupported');
      return -EOPNOTSUPP;
    }
    const d = t.enter('blockfs_fallocate');
    let r: number;
    if (mode & FALLOC_FL_PUNCH_HOLE) r = yield* this.punchHole(k, t, file.inode, off, len);
    else if (mode & FALLOC_FL_COLLAPSE_RANGE) r = yield* this.collapseRange(k, t, file.inode, off, len);
    else if (mode & FALLOC_FL_INSERT_RANGE) r = yield* this.insertRange(k, t, file.inode, off, len);
    else if (mode & FALLOC_FL_ZERO_RANGE) r = yield* this.zeroRange(k, t, file.inode, off, len, mode);
    else r = yield* this.allocRange(k, t, file.inode, off, len, mode);
    t.leave(d);
    return r;
  }

  /** Mode 0 / KEEP_SIZE: unwritten extents for the holes of the range; i_size grows unless KEEP_SIZE. */
  private *allocRange(k: Kernel, t: Task, inode: Inode, off: number, len: number, mode: number): Gen<number> {
    yield* inode.iRwsem.downWrite();
    const r = yield* this.allocUnwritten(k, t, this.info(inode), Math.floor(off / PAGE_SIZE), Math.ceil((off + len) / PAGE_SIZE), false, 'fallocate');
    if (r === 0 && !(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode.size) inode.size = off + len;
    inode.iRwsem.upWrite(t);
    k.cov.hit(r === 0 ? 'blockfs:falloc' : 'blockfs:falloc-failed');
    return r;
  }

  /**
   * ext4_punch_hole: nothing to do from EOF on; a hole reaching past EOF
   * ends after the EOF page. Under i_rwsem and invalidate_lock: truncate the
   * page cache over the whole blocks, zero the partial blocks at the edges,
   * then -- after a preemption point, the E2 window -- free the blocks.
   */
  private *punchHole(k: Kernel, t: Task, inode: Inode, off: number, len: number): Gen<number> {
    const d = t.enter('blockfs_punch_hole');
    yield* inode.iRwsem.downWrite();
    if (off >= inode.size) {
      inode.iRwsem.upWrite(t);
      t.leave(d);
      return 0;
    }
    if (off + len > inode.size) len = inode.size + PAGE_SIZE - pageOffset(inode.size) - off;
    const mapping = inode.mapping;
    yield* invalidateLock(k, mapping);
    const firstBlockOff = Math.ceil(off / BLOCK_SIZE) * BLOCK_SIZE;
    const lastBlockOff = Math.floor((off + len) / BLOCK_SIZE) * BLOCK_SIZE - 1;
    if (lastBlockOff > firstBlockOff) yield* truncatePagecacheRange(k, t, inode, firstBlockOff, lastBlockOff);
    const r = yield* this.zeroPartialBlocks(k, t, inode, off, len);
    yield; // the window: page cache truncated, block map not updated yet (entry E2)
    this.removeSpace(this.info(inode), Math.ceil(off / BLOCK_SIZE), Math.floor((off + len) / BLOCK_SIZE), 'punch hole');
    invalidateUnlock(k, t, mapping);
    inode.iRwsem.upWrite(t);
    k.cov.hit('blockfs:punch');
    t.leave(d);
    return r;
  }

  /**
   * ext4_collapse_range: block-aligned, and must end before EOF ("use
   * ftruncate"). Write back everything from the offset on, truncate the page
   * cache from there, then -- after the E2 window -- free the range's blocks
   * and shift the later extents down.
   */
  private *collapseRange(k: Kernel, t: Task, inode: Inode, off: number, len: number): Gen<number> {
    if (rem(off, BLOCK_SIZE) !== 0 || rem(len, BLOCK_SIZE) !== 0) return -EINVAL;
    const d = t.enter('blockfs_collapse_range');
    yield* inode.iRwsem.downWrite();
    if (off + len >= inode.size) {
      inode.iRwsem.upWrite(t);
      t.leave(d);
      return -EINVAL;
    }
    const mapping = inode.mapping;
    yield* invalidateLock(k, mapping);
    // The data to be shifted must be on disk before the cache is dropped.
    let r = yield* this.writebackRange(k, t, inode, off / PAGE_SIZE, Number.MAX_SAFE_INTEGER);
    if (r === 0) {
      yield* truncatePagecache(k, t, inode, off);
      yield; // the window (entry E2)
      const bi = this.info(inode);
      const start = off / BLOCK_SIZE;
      const n = len / BLOCK_SIZE;
      this.removeSpace(bi, start, start + n, 'collapse range');
      for (const idx of this.mappedIn(bi, start + n, Number.MAX_SAFE_INTEGER)) {
        bi.map.set(idx - n, bi.map.get(idx)!);
        bi.map.delete(idx);
        bi.changedBy.set(idx - n, 'collapse range');
        bi.changedBy.set(idx, 'collapse range');
      }
      inode.size -= len;
      k.cov.hit('blockfs:collapse');
    }
    invalidateUnlock(k, t, mapping);
    inode.iRwsem.upWrite(t);
    t.leave(d);
    return r;
  }

  /**
   * ext4_insert_range: block-aligned, starting before EOF. Write back from
   * the offset on, truncate the page cache from there, grow i_size, then --
   * after the E2 window -- shift the extents from the offset up.
   */
  private *insertRange(k: Kernel, t: Task, inode: Inode, off: number, len: number): Gen<number> {
    if (rem(off, BLOCK_SIZE) !== 0 || rem(len, BLOCK_SIZE) !== 0) return -EINVAL;
    const d = t.enter('blockfs_insert_range');
    yield* inode.iRwsem.downWrite();
    let r = 0;
    if (len > BLOCKFS_MAX_BYTES - inode.size) r = -EFBIG;
    else if (off >= inode.size) r = -EINVAL;
    if (r !== 0) {
      inode.iRwsem.upWrite(t);
      t.leave(d);
      return r;
    }
    const mapping = inode.mapping;
    yield* invalidateLock(k, mapping);
    r = yield* this.writebackRange(k, t, inode, off / PAGE_SIZE, Number.MAX_SAFE_INTEGER);
    if (r === 0) {
      yield* truncatePagecache(k, t, inode, off);
      // Grown first, as ext4 does, so an error while shifting loses nothing.
      inode.size += len;
      yield; // the window (entry E2)
      const bi = this.info(inode);
      const start = off / BLOCK_SIZE;
      const n = len / BLOCK_SIZE;
      for (const idx of this.mappedIn(bi, start, Number.MAX_SAFE_INTEGER).reverse()) {
        bi.map.set(idx + n, bi.map.get(idx)!);
        bi.map.delete(idx);
        bi.changedBy.set(idx, 'insert range');
        bi.changedBy.set(idx + n, 'insert range');
      }
      k.cov.hit('blockfs:insert');
    }
    invalidateUnlock(k, t, mapping);
    inode.iRwsem.upWrite(t);
    t.leave(d);
    return r;
  }

  /**
   * ext4_zero_range: preallocate the range (unwritten), then for the whole
   * blocks inside it, under invalidate_lock, truncate the page cache and --
   * after the E2 window -- convert their extents to unwritten (zeroes);
   * finally zero the partial blocks at the edges through the page cache.
   */
  private *zeroRange(k: Kernel, t: Task, inode: Inode, off: number, len: number, mode: number): Gen<number> {
    const d = t.enter('blockfs_zero_range');
    const start = Math.ceil(off / BLOCK_SIZE) * BLOCK_SIZE;
    const end = Math.floor((off + len) / BLOCK_SIZE) * BLOCK_SIZE;
    yield* inode.iRwsem.downWrite();
    const bi = this.info(inode);
    const newSize = !(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode.size ? off + len : 0;
    let r = 0;
    if (rem(off, BLOCK_SIZE) !== 0 || rem(off + len, BLOCK_SIZE) !== 0) {
      r = yield* this.allocUnwritten(k, t, bi, Math.floor(off / BLOCK_SIZE), Math.ceil((off + len) / BLOCK_SIZE), false, 'zero range');
    }
    if (r === 0 && end > start) {
      const mapping = inode.mapping;
      yield* invalidateLock(k, mapping);
      yield* truncatePagecacheRange(k, t, inode, start, end - 1);
      yield; // the window (entry E2)
      r = yield* this.allocUnwritten(k, t, bi, start / BLOCK_SIZE, end / BLOCK_SIZE, true, 'zero range');
      invalidateUnlock(k, t, mapping);
    }
    if (r === 0) r = yield* this.zeroPartialBlocks(k, t, inode, off, len);
    if (r === 0 && newSize > inode.size) inode.size = newSize;
    inode.iRwsem.upWrite(t);
    k.cov.hit(r === 0 ? 'blockfs:zero-range' : 'blockfs:zero-range-failed');
    t.leave(d);
    return r;
  }
}


// Bios as classes with their completions as methods, not an arrow function
// made for each I/O (see sim/arrays.ts).

/** A read of one page's block: its completion fills the page and unlocks it, or completes `done`. */
class ReadBio implements Bio {
  readonly op = BioOp.Read;
  data: Uint8Array | null = null;
  error = false;

  constructor(
    readonly block: number,
    private readonly fs: BlockFs,
    private readonly k: Kernel,
    private readonly page: Page,
    private readonly src: PageSource,
    private readonly done: Completion | null,
  ) {}

  endIo(): void {
    // Interrupt context: no sleeping, no allocation.
    const page = this.page;
    if (!this.error) {
      page.data = this.data;
      page.uptodate = true;
      this.fs.pageSource.set(page, this.src);
    }
    if (this.done === null) page.unlock(this.k.sim);
    else this.done.complete();
  }
}

/** The write of one page (writepage): its completion ends the page's writeback and unlocks it. */
class WriteBio implements Bio {
  readonly op = BioOp.Write;
  error = false;

  constructor(
    readonly block: number,
    public data: Uint8Array | null,
    private readonly k: Kernel,
    private readonly page: Page,
  ) {}

  endIo(): void {
    this.page.writeback = false;
    this.page.unlock(this.k.sim);
  }
}

// The operations tables, as classes whose methods exist once, not arrow
// functions made for every kernel (see sim/arrays.ts).

/** blockfs's address_space_operations. */
class BlockfsAops implements AddressSpaceOps {
  constructor(private readonly fs: BlockFs) {}

  readPage(k: Kernel, t: Task, _file: File | null, page: Page): Gen<number> {
    return this.fs.readPage(k, t, page, null);
  }
}

/** blockfs's file, inode and vm operations. */
class BlockfsOps implements FsOps {
  readonly fsName = 'blockfs';
  readonly maxBytes = BLOCKFS_MAX_BYTES;

  constructor(private readonly fs: BlockFs) {}

  fault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
    return filemapFault(k, vmf, this.fs.aops);
  }

  pageMkwrite(k: Kernel, vmf: Vmf, page: Page): Gen<FaultResult> {
    return this.fs.pageMkwrite(k, vmf, page);
  }

  readIter(k: Kernel, t: Task, file: File, pos: number, addr: number, len: number): Gen<number> {
    return filemapRead(k, t, file, this.fs.aops, pos, addr, len);
  }

  writeIter(k: Kernel, t: Task, file: File, pos: number, iov: readonly (readonly [number, number])[]): Gen<number> {
    return this.fs.writeIter(k, t, file, pos, iov);
  }

  setSize(k: Kernel, t: Task, inode: Inode, size: number): Gen<number> {
    return this.fs.setSize(k, t, inode, size);
  }

  fallocate(k: Kernel, t: Task, file: File, mode: number, off: number, len: number): Gen<number> {
    return this.fs.fallocate(k, t, file, mode, off, len);
  }

  fsync(k: Kernel, t: Task, file: File): Gen<number> {
    return this.fs.fsync(k, t, file.inode);
  }

  readahead(k: Kernel, t: Task, file: File, index: number, nr: number): Gen<void> {
    return this.fs.readahead(k, t, file, index, nr);
  }

  // Reclaim's pageout() (kswapd) and the writeback flusher.

  writepage(k: Kernel, t: Task, page: Page): Gen<number> {
    return this.fs.writePage(k, t, page.mapping!.host, page);
  }

  writepages(k: Kernel, t: Task, inode: Inode): Gen<number> {
    return this.fs.writebackRange(k, t, inode, 0, Number.MAX_SAFE_INTEGER);
  }
}
