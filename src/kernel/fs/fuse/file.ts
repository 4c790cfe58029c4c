// virtiofs (fs/fuse/file.c, dir.c): the guest side of a FUSE mount whose
// data lives in the server's store. The page cache is only a cache: pages are
// filled by READ requests (->read_folio synchronously, ->readahead in
// background batches) and written by WRITE requests -- at once, holding
// i_rwsem, in write-through mode (the default without FUSE_WRITEBACK_CACHE),
// or at writeback (fsync, msync, close) in writeback-cache mode. Truncation
// is a SETATTR then truncate_pagecache; fallocate is forwarded and the page
// cache handled as fuse_file_fallocate does; close sends FLUSH, the last
// fput RELEASE.
//
// Entry A (seed 000) lives in fuse_fill_write_pages. Profile switch
// `fuse_write`:
//   partial_tail  (default) Vivek Goyal's "fuse: fix write deadlock"
//                 (4f06dd92b5d0, 5.13): a page wholly copied is marked
//                 uptodate and unlocked at once; a page left !uptodate (a
//                 partial write) stays locked and ends the request, so at
//                 most one page lock -- the last -- is held across the WRITE,
//                 and never across a fault-in of the user buffer; a partial
//                 head page becomes its own request.
//   lock_all      5.9 (since ea9b9907b82a "fuse: implement perform_write",
//                 2.6.26): every page of the request stays locked until the
//                 WRITE reply, including while the next chunk of the user
//                 buffer is faulted in. If that chunk is a not-yet-mapped
//                 MAP_SHARED mapping of a page this request already holds,
//                 filemap_fault waits killably on a page lock the writer owns:
//                 it waits on itself (Qian Cai's trinity report, Oct 2020).
//
// Simplifications (each says what Linux does instead): the kernel's
// attributes are authoritative, as the mount's only client -- no GETATTR,
// and LOOKUP replies do not change i_size; a short READ zero-fills without
// shrinking i_size (fuse_short_read); OPEN replies FOPEN_KEEP_CACHE; FUSE_INTERRUPT is never sent (virtiofs drops it anyway);
// no page_mkwrite wait for writeback and no write-back at munmap
// (fuse_vma_close) or release -- dirty pages reach the server at fsync,
// msync, close (fuse_flush) and the page killers.

import { WaitQueue, type Gen, type Task } from '../../../sim/index.js';
import type { Kernel, Process } from '../../kernel.js';
import { PAGE_SIZE, pageOffset, pageCopy, type Page } from '../../page.js';
import { EFAULT, EFBIG, EIO, ENOENT, ENOMEM, ENOSYS, EOPNOTSUPP } from '../../errno.js';
import { FOLIO_BATCH, deleteFromPageCache, filemapAddPage, lockPageUnmapped, truncatePagecache, truncatePagecacheRange } from '../filemap.js';
import { filemapFault, filemapRead } from '../filemap_fault.js';
import type { FaultResult, Vmf } from '../../mm/fault.js';
import { forcePageCacheRa, type AddressSpaceOps } from '../readahead.js';
import { O_APPEND, type AddressSpace, type File, type FsOps, type Inode } from '../inode.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE, genericPerformWrite, iovCount, limitIov } from '../shmem.js';
import { FuseConn, FuseOpcode, FuseReq, type FuseReqEnd } from './dev.js';
import { FuseServer } from './daemon.js';
import { IovIter, type Iovec } from './iov.js';
import { FUSE_LATENCY_DEFAULT, parseFuseLatency, parseFuseStall, type FuseLatency, type FuseOptions } from './options.js';

/** s_maxbytes of a FUSE mount (MAX_LFS_FILESIZE), within what a double holds exactly. */
export const FUSE_MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** Dentry validity after a LOOKUP (virtiofsd's default entry timeout, 1 s). */
const ENTRY_TIMEOUT_NS = 1e9;
/** FUSE_ROOT_ID: the export's root directory. */
const FUSE_ROOT_ID = 1;
/** Bounded retries (a short atomic copy, a page evicted under us). */
const RETRY_MAX = 64;

/** Files in the server's export at mount time: data there, nothing cached. */
export const FUSE_VICTIMS: readonly { path: string; size: number; byteAt(off: number): number }[] = [
  { path: '/mnt/virtiofs/file0', size: 8 * PAGE_SIZE, byteAt: (off) => (off < 8 * PAGE_SIZE ? 0x61 + Math.floor(off / PAGE_SIZE) : 0) },
  { path: '/mnt/virtiofs/file1', size: 3 * PAGE_SIZE + 100, byteAt: (off) => (off < 3 * PAGE_SIZE + 100 ? 0x30 + Math.floor(off / PAGE_SIZE) : 0) },
];

/** struct fuse_inode: the FUSE half of an inode. */
export class FuseInode {
  nodeid = 0;
  /** The dentry is valid until then; an open after it sends LOOKUP (fuse_dentry_revalidate). */
  entryValidUntilNs = 0;
  /** fi->writepages: page index -> writeback requests covering it (gathered, queued or in flight). */
  readonly writeback = new Map<number, number>();
  /** fi->writectr: writeback WRITEs in flight. */
  writectr = 0;
  /** FUSE_NOWRITE: truncation or fuse_sync_writes is waiting for the in-flight ones; new ones queue. */
  nowrite = false;
  readonly queuedWrites: { first: number; n: number; data: Uint8Array }[] = [];
  /** fi->page_waitq: writeback completions wake it. */
  readonly pageWaitq: WaitQueue;
  /** AS_EIO: a writeback WRITE failed; the next fsync or close reports it. */
  wbError = 0;
  /** Some WRITE of this file failed: the page cache may hold data the server never got (for the checker). */
  writeFailed = false;

  constructor(k: Kernel) {
    this.pageWaitq = new WaitQueue(k.sim, 'fi->page_waitq');
  }
}

/** struct fuse_file. */
interface FuseFile {
  readonly fh: number;
}

/** fuse_io_args of one write-through request: its pages, as fuse_fill_write_pages gathered them. */
interface WriteArgs {
  readonly pages: Page[];
  readonly lens: number[];
  /** descs[0].offset: where the data starts in the first page. */
  readonly offset: number;
  /** ia->write.page_locked: the last page is still locked (the fix). */
  pageLocked: boolean;
}

/**
 * Parsed latency models by text, so a mount does not parse the same text
 * (nearly always the default) every execution. A model is immutable data;
 * only texts that parse are kept, and only a bounded number of them.
 */
const LATENCY_MODELS = new Map<string, FuseLatency>();

function latencyModel(text: string): FuseLatency {
  let m = LATENCY_MODELS.get(text);
  if (m === undefined) {
    m = parseFuseLatency(text);
    if (LATENCY_MODELS.size < 256) LATENCY_MODELS.set(text, m);
  }
  return m;
}

/**
 * A virtiofs mount. Its handlers that the operations tables and request
 * completions (FuseOps, FuseAops, WritepageEnd, at the end of this file)
 * call are public for them; nothing else calls them directly.
 */
export class FuseFs {
  readonly conn: FuseConn;
  readonly server: FuseServer;
  readonly ops: FsOps;
  readonly aops: AddressSpaceOps;
  private readonly readpagesEnd: ReadpagesEnd;
  /** FUSE_WRITEBACK_CACHE negotiated: buffered writes, written back later. */
  readonly writebackCache: boolean;
  private readonly inodes = new Map<Inode, FuseInode>();
  private readonly files = new WeakMap<File, FuseFile>();

  constructor(private readonly k: Kernel, opts: FuseOptions = {}) {
    const latency = latencyModel(opts.latency ?? FUSE_LATENCY_DEFAULT);
    const stalls = parseFuseStall(opts.stall ?? '');
    const errorRate = opts.errorRate ?? 0;
    if (!(errorRate >= 0 && errorRate <= 1)) throw new Error(`fuse: error rate ${errorRate} is not a probability`);
    this.writebackCache = opts.writebackCache ?? false;
    this.server = new FuseServer(k, () => this.conn, latency, stalls, errorRate);
    this.conn = new FuseConn(k, this.server);
    this.readpagesEnd = new ReadpagesEnd(k);
    this.aops = new FuseAops(this);
    this.ops = new FuseOps(this);
  }

  /** The FUSE inode info, created on first use. */
  info(inode: Inode): FuseInode {
    let fi = this.inodes.get(inode);
    if (fi === undefined) {
      if (inode.ops !== this.ops) throw new Error(`${inode.path} is not on virtiofs`);
      fi = new FuseInode(this.k);
      this.inodes.set(inode, fi);
    }
    return fi;
  }

  /** Every virtiofs inode with its FUSE info, in creation order. */
  entries(): IterableIterator<[Inode, FuseInode]> {
    return this.inodes.entries();
  }

  /** A file in the export before the mount: the data is in the server's store, nothing cached. */
  mkfsFile(k: Kernel, path: string, size: number, byteAt: (off: number) => number): Inode {
    const inode = k.createInode(path, this.ops);
    inode.size = size;
    this.info(inode).nodeid = this.server.addFile(path, size, byteAt).nodeid;
    return inode;
  }

  private req(op: FuseOpcode, fi: FuseInode, offset = 0, size = 0, mode = 0, force = false): FuseReq {
    return new FuseReq(op, fi.nodeid, offset, size, mode, '', null, 0, null, force, null);
  }

  // ------------------------------------------------------ open, close

  /** fuse_open / fuse_create_open: CREATE for a new name, else LOOKUP (if the dentry timed out) and OPEN. */
  *open(k: Kernel, t: Task, file: File, created: boolean): Gen<number> {
    const inode = file.inode;
    const fi = this.info(inode);
    const d = t.enter(created ? 'fuse_create_open' : 'fuse_open');
    let err: number;
    let fh = 0;
    if (created) {
      const req = new FuseReq(FuseOpcode.CREATE, FUSE_ROOT_ID, 0, 0, file.flags, inode.path, null, 0, null, false, null);
      err = yield* this.conn.simpleRequest(t, req);
      if (err === 0) {
        fi.nodeid = req.outNodeid;
        fi.entryValidUntilNs = k.sim.nowNs + ENTRY_TIMEOUT_NS;
        fh = req.outFh;
      }
    } else {
      err = fi.nodeid === 0 || k.sim.nowNs >= fi.entryValidUntilNs ? yield* this.lookup(k, t, inode, fi) : 0;
      if (err === 0) {
        const req = this.req(FuseOpcode.OPEN, fi, 0, 0, file.flags);
        err = yield* this.conn.simpleRequest(t, req);
        fh = req.outFh;
      }
    }
    // A CREATE that failed, or a name the server no longer has: d_drop.
    if ((created && err < 0) || err === -ENOENT) {
      if (k.dentries.get(inode.path) === inode) k.dentries.delete(inode.path);
    }
    if (err === 0) this.files.set(file, { fh });
    k.cov.hit(err === 0 ? (created ? 'fuse:create' : 'fuse:open') : 'fuse:open-failed');
    t.leave(d);
    return err;
  }

  /**
   * LOOKUP of the inode's name: fuse_dentry_revalidate once the entry timed
   * out, or the first use of a name another task's CREATE is still making
   * (the simulated VFS has the dentry before the server has the file).
   */
  private *lookup(k: Kernel, t: Task, inode: Inode, fi: FuseInode): Gen<number> {
    const req = new FuseReq(FuseOpcode.LOOKUP, FUSE_ROOT_ID, 0, 0, 0, inode.path, null, 0, null, false, null);
    const err = yield* this.conn.simpleRequest(t, req);
    if (err === 0) {
      fi.nodeid = req.outNodeid;
      fi.entryValidUntilNs = k.sim.nowNs + ENTRY_TIMEOUT_NS;
    }
    return err;
  }

  /** fuse_flush: write back dirty pages, wait for all writeback, then FLUSH (forced). */
  *flush(k: Kernel, t: Task, file: File): Gen<number> {
    if (!this.files.has(file)) return 0;
    const inode = file.inode;
    const fi = this.info(inode);
    const d = t.enter('fuse_flush');
    yield* this.writepages(k, t, inode); // write_inode_now(inode, 1)
    yield* inode.iRwsem.downWrite();
    yield* this.syncWrites(k, t, inode, fi);
    inode.iRwsem.upWrite(t);
    let err = checkErrors(fi);
    if (err === 0 && !this.conn.noFlush) {
      err = yield* this.conn.simpleRequest(t, this.req(FuseOpcode.FLUSH, fi, 0, 0, 0, true));
      if (err === -ENOSYS) {
        this.conn.noFlush = true;
        err = 0;
      }
    }
    k.cov.hit(err === 0 ? 'fuse:flush' : 'fuse:flush-failed');
    t.leave(d);
    return err;
  }

  /** fuse_release at the last fput: RELEASE goes out in the background (forced); nothing waits for it. */
  release(k: Kernel, file: File): void {
    if (!this.files.has(file)) return; // ->open failed: never opened
    this.files.delete(file);
    const fi = this.info(file.inode);
    const req = new FuseReq(FuseOpcode.RELEASE, fi.nodeid, 0, 0, file.flags, '', null, 0, null, true, RELEASE_END);
    this.conn.background(k.sim.current, req);
    k.cov.hit('fuse:release');
  }

  // ------------------------------------------------------------- reading

  /** fuse_file_read_iter -> fuse_cache_read_iter -> filemap_read (the kernel's attributes are trusted: no GETATTR). */
  *readIter(k: Kernel, t: Task, file: File, pos: number, addr: number, len: number): Gen<number> {
    const d = t.enter('fuse_file_read_iter');
    const r = yield* filemapRead(k, t, file, this.aops, pos, addr, len);
    t.leave(d);
    return r;
  }

  /**
   * fuse_do_readpage: a synchronous READ of one locked page; the reply fills
   * it (zeroes past the server's EOF). The page stays locked. 0 or -errno.
   */
  private *doReadpage(k: Kernel, t: Task, page: Page): Gen<number> {
    const fi = this.info(page.mapping!.host);
    const d = t.enter('fuse_do_readpage');
    // Page writeback can outlive the page-cache page: read what it wrote.
    yield* this.waitOnPageWriteback(t, fi, page.index);
    const req = new FuseReq(FuseOpcode.READ, fi.nodeid, page.index * PAGE_SIZE, PAGE_SIZE, 0, '', [page], 0, null, false, null);
    const err = yield* this.conn.simpleRequest(t, req);
    if (err === 0) page.uptodate = true;
    k.cov.hit(err === 0 ? 'fuse:readpage' : `fuse:readpage${err}`);
    t.leave(d);
    return err;
  }

  /** ->read_folio (fuse_read_folio): read the locked page and unlock it. */
  *readFolio(k: Kernel, t: Task, page: Page): Gen<number> {
    const mapping = page.mapping;
    if (mapping === null || !page.locked) throw new Error(`fuse_read_folio of ${page}: not locked in a page cache`);
    const d = t.enter('fuse_read_folio');
    const err = yield* this.doReadpage(k, t, page);
    page.unlock(k.sim);
    t.leave(d);
    return err;
  }

  /**
   * ->readahead (fuse_readahead): READ requests of up to max_pages pages,
   * sent in the background (async_read); the reply marks the pages uptodate
   * (or not, on error) and unlocks them. From submission on the page locks
   * belong to the requests, not to the submitter.
   */
  *readahead(k: Kernel, t: Task, file: File, pages: readonly Page[]): Gen<void> {
    const fi = this.info(file.inode);
    const d = t.enter('fuse_readahead');
    let i = 0;
    while (i < pages.length) {
      const chunk: Page[] = [pages[i]!];
      while (i + chunk.length < pages.length && chunk.length < this.conn.maxPages && pages[i + chunk.length]!.index === chunk[0]!.index + chunk.length) {
        chunk.push(pages[i + chunk.length]!);
      }
      i += chunk.length;
      for (const page of chunk) yield* this.waitOnPageWriteback(t, fi, page.index);
      for (const page of chunk) {
        page.owner = null;
        page.ownerWhere = 'a FUSE_READ in flight';
      }
      const req = new FuseReq(FuseOpcode.READ, fi.nodeid, chunk[0]!.index * PAGE_SIZE, chunk.length * PAGE_SIZE, 0, '', chunk, 0, null, false, this.readpagesEnd);
      this.conn.background(t, req);
      k.cov.hit('fuse:readahead');
    }
    t.leave(d);
  }

  /** fadvise/madvise(WILLNEED): force_page_cache_ra. */
  *fadviseWillneed(k: Kernel, t: Task, file: File, index: number, nr: number): Gen<void> {
    const d = t.enter('generic_fadvise');
    yield* forcePageCacheRa(k, t, this.aops, file, index, nr);
    t.leave(d);
  }

  // ------------------------------------------------------------- writing

  *writeIter(k: Kernel, t: Task, file: File, pos: number, iov: Iovec): Gen<number> {
    const inode = file.inode;
    const d = t.enter('fuse_file_write_iter');
    t.enter('fuse_cache_write_iter');
    // Both modes hold i_rwsem for write (write-through: inode_lock here; writeback: generic_file_write_iter).
    yield* inode.iRwsem.downWrite();
    if (file.flags & O_APPEND) pos = inode.size;
    const total = iovCount(iov);
    let ret: number;
    if (total > 0 && pos >= FUSE_MAX_BYTES) ret = -EFBIG;
    else {
      const limited = limitIov(iov, FUSE_MAX_BYTES - pos);
      if (this.writebackCache) {
        ret = yield* genericPerformWrite(k, t, inode, pos, limited, (idx, off, len) => this.writeBegin(k, t, inode, idx, off, len));
      } else {
        ret = yield* this.performWrite(k, t, inode, pos, new IovIter(limited));
      }
    }
    inode.iRwsem.upWrite(t);
    t.leave(d);
    return ret;
  }

  /** fuse_perform_write (write-through): fill a request's pages, send it, until done, a short write or an error. */
  private *performWrite(k: Kernel, t: Task, inode: Inode, pos: number, ii: IovIter): Gen<number> {
    const fi = this.info(inode);
    const proc = k.taskProc.get(t.id)!;
    const d = t.enter('fuse_perform_write');
    const lockAll = k.sw('fuse_write', 'partial_tail') === 'lock_all';
    let res = 0;
    let err = 0;
    do {
      const nrPages = Math.min(Math.floor((pos + ii.count - 1) / PAGE_SIZE) - Math.floor(pos / PAGE_SIZE) + 1, this.conn.maxPages);
      const ia: WriteArgs = { pages: [], lens: [], offset: pageOffset(pos), pageLocked: false };
      const count = yield* this.fillWritePages(k, t, proc, inode.mapping, ia, ii, pos, nrPages, lockAll);
      if (count <= 0) err = count;
      else {
        const r = yield* this.sendWritePages(k, t, fi, ia, pos, count, lockAll);
        err = r.err;
        if (err === 0) {
          res += r.written;
          pos += r.written;
          // A short write ends the loop.
          if (r.written !== count) err = -EIO;
        }
      }
    } while (err === 0 && ii.count > 0);
    // fuse_write_update_attr: i_size moves only once the server has the data.
    if (res > 0 && pos > inode.size) inode.size = pos;
    t.leave(d);
    return res > 0 ? res : err;
  }

  /**
   * fuse_fill_write_pages: for each page of the request, fault in the next
   * chunk of the user buffer, grab the page locked, copy with page faults
   * disabled. What stays locked is entry A's switch (see the top).
   * Returns the bytes gathered, or -errno if none.
   */
  private *fillWritePages(
    k: Kernel, t: Task, proc: Process, mapping: AddressSpace, ia: WriteArgs,
    ii: IovIter, pos: number, maxPages: number, lockAll: boolean,
  ): Gen<number> {
    const d = t.enter('fuse_fill_write_pages');
    let offset = pageOffset(pos);
    let count = 0;
    let err = 0;
    fill: do {
      const index = Math.floor(pos / PAGE_SIZE);
      let bytes = Math.min(PAGE_SIZE - offset, ii.count, this.conn.maxWrite - count);
      let page: Page | null = null;
      let tmp = 0;
      for (let tries = 0; ; tries++) {
        // again:
        err = -EFAULT;
        if ((yield* ii.faultInReadable(k, t, proc, bytes)) !== 0) break fill;
        err = -ENOMEM;
        page = yield* this.grabCachePageWriteBegin(k, t, mapping, index);
        if (page === null) break fill;
        tmp = ii.copyFromUserAtomic(proc, page.bytes(), offset, bytes);
        if (tmp > 0) break;
        // The source went away between the fault-in and the copy: try again.
        page.unlock(k.sim);
        k.putPage(page);
        page = null;
        k.cov.hit('fuse:fill-short-copy-retry');
        if (lockAll) bytes = Math.min(bytes, ii.singleSegCount()); // 5.9's retry shrinks to one segment
        if (tries >= RETRY_MAX) {
          err = -EFAULT;
          break fill;
        }
      }
      err = 0;
      page = page!;
      ia.pages.push(page);
      ia.lens.push(tmp);
      count += tmp;
      pos += tmp;
      offset += tmp;
      if (offset === PAGE_SIZE) offset = 0;
      if (!lockAll) {
        // The fix: a page wholly copied is uptodate and unlocked at once; a
        // partial, !uptodate one stays locked and ends the request.
        if (tmp === PAGE_SIZE) page.uptodate = true;
        if (page.uptodate) page.unlock(k.sim);
        else {
          ia.pageLocked = true;
          k.cov.hit('fuse:fill-partial-page-locked');
          break;
        }
      } else if (ia.pages.length > 1) {
        k.cov.hit('fuse:fill-lock-all-pages-held');
      }
      if (!this.conn.bigWrites) break;
    } while (ii.count > 0 && count < this.conn.maxWrite && ia.pages.length < maxPages && offset === 0);
    t.leave(d);
    return count > 0 ? count : err;
  }

  /**
   * grab_cache_page_write_begin: the page at `index`, locked and referenced,
   * created (!uptodate) if not cached; null if the allocation fails.
   */
  private *grabCachePageWriteBegin(k: Kernel, t: Task, mapping: AddressSpace, index: number): Gen<Page | null> {
    for (let tries = 0; tries < RETRY_MAX; tries++) {
      yield; // might_alloc / find_lock_entry may sleep
      const page = mapping.pages.get(index);
      if (page === undefined) {
        const np = yield* k.allocPage(t, mapping, index, false);
        if (np === null) return null;
        if (mapping.pages.has(index)) {
          // Someone else added it while we allocated.
          k.putPage(np);
          continue;
        }
        filemapAddPage(k, t, mapping, np, index);
        return np;
      }
      k.getPage(page);
      yield* page.lock(k.sim);
      if (page.mapping === mapping) return page;
      page.unlock(k.sim);
      k.putPage(page);
    }
    throw new Error(`fuse: page ${index} of ${mapping.host.path} kept being truncated`);
  }

  /**
   * fuse_send_write_pages: wait for writeback of the pages, send the WRITE
   * and wait for it, then settle the pages: 5.9 marks wholly written pages
   * uptodate and unlocks them all; the fix clears uptodate on an error (or on
   * the short page of a short write) and unlocks the one page still locked.
   */
  private *sendWritePages(k: Kernel, t: Task, fi: FuseInode, ia: WriteArgs, pos: number, count: number, lockAll: boolean): Gen<{ err: number; written: number }> {
    const d = t.enter('fuse_send_write_pages');
    for (const page of ia.pages) yield* this.waitOnPageWriteback(t, fi, page.index);
    const req = new FuseReq(FuseOpcode.WRITE, fi.nodeid, pos, count, 0, '', ia.pages, ia.offset, ia.lens, false, null);
    let err = yield* this.conn.simpleRequest(t, req);
    if (err === 0 && req.outSize > count) err = -EIO;
    if (err !== 0) fi.writeFailed = true;
    const shortWrite = req.outSize < count;
    let offset = ia.offset;
    let left = req.outSize;
    const last = ia.pages.length - 1;
    ia.pages.forEach((page, i) => {
      if (lockAll) {
        if (err === 0 && offset === 0 && left >= PAGE_SIZE) page.uptodate = true;
        left = left > PAGE_SIZE - offset ? left - (PAGE_SIZE - offset) : 0;
        offset = 0;
        page.unlock(k.sim);
      } else {
        if (err !== 0) page.uptodate = false;
        else {
          if (left >= PAGE_SIZE - offset) left -= PAGE_SIZE - offset;
          else {
            if (shortWrite) page.uptodate = false;
            left = 0;
          }
          offset = 0;
        }
        if (ia.pageLocked && i === last) page.unlock(k.sim);
      }
      k.putPage(page);
    });
    k.cov.hit(err === 0 ? 'fuse:write-through' : 'fuse:write-through-failed');
    t.leave(d);
    return { err, written: err === 0 ? req.outSize : 0 };
  }

  /**
   * fuse_write_begin (writeback cache): the page locked; read first unless
   * uptodate, wholly overwritten, or starting at or beyond EOF.
   */
  private *writeBegin(k: Kernel, t: Task, inode: Inode, idx: number, off: number, len: number): Gen<Page | number> {
    const fi = this.info(inode);
    const d = t.enter('fuse_write_begin');
    const page = yield* this.grabCachePageWriteBegin(k, t, inode.mapping, idx);
    if (page === null) {
      t.leave(d);
      return -ENOMEM;
    }
    yield* this.waitOnPageWriteback(t, fi, idx);
    if (!page.uptodate && len !== PAGE_SIZE) {
      if (inode.size <= idx * PAGE_SIZE) {
        // Nothing to read: zero what the write leaves (fuse_write_end zeroes the end).
        page.zero(0, off);
        page.zero(off + len, PAGE_SIZE);
      } else {
        const err = yield* this.doReadpage(k, t, page);
        if (err < 0) {
          page.unlock(k.sim);
          k.putPage(page);
          t.leave(d);
          return err;
        }
      }
    }
    t.leave(d);
    return page;
  }

  // ------------------------------------------------------------ writeback

  /** fuse_wait_on_page_writeback: uninterruptibly, until no writeback request covers the page. */
  private *waitOnPageWriteback(t: Task, fi: FuseInode, index: number): Gen<void> {
    if (!fi.writeback.has(index)) return;
    const d = t.enter('fuse_wait_on_page_writeback');
    this.k.cov.hit('fuse:wait-on-writeback');
    yield* fi.pageWaitq.waitEvent(() => !fi.writeback.has(index));
    t.leave(d);
  }

  /**
   * fuse_writepages (WB_SYNC_ALL) without waiting for the replies: each dirty
   * page is locked, cleaned, copied to a temporary page (so it can be
   * redirtied at once) and marked under FUSE writeback; contiguous runs go
   * out as background WRITEs of up to max_pages. What has been gathered is
   * sent before sleeping on a page lock or a writeback, so nobody waits on
   * writeback that is not on its way.
   */
  private *writepages(k: Kernel, t: Task, inode: Inode): Gen<void> {
    const fi = this.info(inode);
    const mapping = inode.mapping;
    const d = t.enter('fuse_writepages');
    // The run being gathered: pages first, first + 1, ... (copies of their data).
    const run: { first: number; datas: Uint8Array[] } = { first: -1, datas: [] };
    const send = (): void => {
      const n = run.datas.length;
      if (n === 0) return;
      const data = new Uint8Array(n * PAGE_SIZE);
      run.datas.forEach((x, i) => data.set(x, i * PAGE_SIZE));
      this.queueWritepage(k, t, inode, fi, { first: run.first, n, data });
      run.datas = [];
    };
    // write_cache_pages (WB_SYNC_ALL): the pages tagged dirty when it
    // starts (tag_pages_for_writeback), looked up a folio batch at a time
    // (filemap_get_folios_tag), with a cond_resched between batches -- not
    // a step per page of the file: an exit flushing a file a hammered
    // appender grew by thousands of clean pages is not thousands of steps.
    const tagged = mapping.indicesIn(0, Number.MAX_SAFE_INTEGER).filter((i) => mapping.pages.get(i)!.dirty);
    for (let n = 0; n < tagged.length; n++) {
      if (n % FOLIO_BATCH === 0) yield; // cond_resched
      const idx = tagged[n]!;
      const page = mapping.pages.get(idx);
      if (page === undefined || !page.dirty) continue;
      k.getPage(page);
      let locked = false;
      for (let tries = 0; tries < RETRY_MAX && !locked; tries++) {
        if (fi.writeback.has(idx)) {
          send();
          yield* this.waitOnPageWriteback(t, fi, idx);
        }
        if (!page.trylock(k.sim, t)) {
          send();
          yield* page.lock(k.sim);
        }
        if (!fi.writeback.has(idx)) locked = true;
        else page.unlock(k.sim);
      }
      if (!locked) throw new Error(`fuse: page ${idx} of ${inode.path} stays under writeback`);
      if (page.mapping !== mapping || !page.dirty) {
        page.unlock(k.sim);
        k.putPage(page);
        continue;
      }
      // clear_page_dirty_for_io, then copy_highpage into the temporary page.
      page.dirty = false;
      const data = pageCopy(page.data);
      fi.writeback.set(idx, (fi.writeback.get(idx) ?? 0) + 1);
      page.unlock(k.sim);
      k.putPage(page);
      if (run.datas.length > 0 && (run.first + run.datas.length !== idx || run.datas.length >= this.conn.maxPages)) send();
      if (run.datas.length === 0) run.first = idx;
      run.datas.push(data);
    }
    send();
    t.leave(d);
  }

  /**
   * ->writepage from reclaim (fuse_writepage): `page` is locked and dirty.
   * A page already under FUSE writeback is skipped (stays dirty); otherwise
   * its data goes to a temporary page, the WRITE is queued and the page is
   * clean and unlocked at once (end_page_writeback right away).
   */
  *writepageForReclaim(k: Kernel, t: Task, page: Page): Gen<number> {
    const inode = page.mapping!.host;
    const fi = this.info(inode);
    if (fi.writeback.has(page.index)) {
      page.unlock(k.sim);
      return 0;
    }
    page.dirty = false;
    const data = pageCopy(page.data);
    fi.writeback.set(page.index, (fi.writeback.get(page.index) ?? 0) + 1);
    page.unlock(k.sim);
    this.queueWritepage(k, t, inode, fi, { first: page.index, n: 1, data });
    k.cov.hit('fuse:writepage-reclaim');
    yield;
    return 1;
  }

  /**
   * ->writepages for the writeback flusher: send every dirty page, then wait
   * for the WRITEs in flight. An error stays recorded for the next fsync or
   * close (errseq), so it is returned without being cleared.
   */
  *writepagesAndWait(k: Kernel, t: Task, inode: Inode): Gen<number> {
    const fi = this.info(inode);
    yield* this.writepages(k, t, inode);
    if (fi.writectr > 0) {
      const d = t.enter('fuse_wait_writeback');
      yield* fi.pageWaitq.waitEvent(() => fi.writectr === 0);
      t.leave(d);
    }
    return fi.wbError;
  }

  /** fuse_flush_writepages: send now, or hold it while FUSE_NOWRITE is set. */
  private queueWritepage(k: Kernel, t: Task, inode: Inode, fi: FuseInode, w: { first: number; n: number; data: Uint8Array }): void {
    if (fi.nowrite) {
      fi.queuedWrites.push(w);
      return;
    }
    this.sendWritepage(k, t, inode, fi, w);
  }

  /** fuse_send_writepage: crop the WRITE to i_size (drop it if wholly truncated off) and send it in the background (forced). */
  private sendWritepage(k: Kernel, t: Task, inode: Inode, fi: FuseInode, w: { first: number; n: number; data: Uint8Array }): void {
    const off = w.first * PAGE_SIZE;
    const size = inode.size;
    const len = off + w.data.length <= size ? w.data.length : off < size ? size - off : 0;
    if (len === 0) {
      k.cov.hit('fuse:writepage-truncated-off');
      this.endWriteback(fi, w.first, w.n);
      return;
    }
    fi.writectr++;
    const req = new FuseReq(FuseOpcode.WRITE, fi.nodeid, off, len, 0, '', null, 0, null, true, new WritepageEnd(this, fi, w.first, w.n));
    req.data = len === w.data.length ? w.data : w.data.slice(0, len);
    this.conn.background(t, req);
    k.cov.hit('fuse:writepage');
  }

  endWriteback(fi: FuseInode, first: number, n: number): void {
    for (let i = first; i < first + n; i++) {
      const c = fi.writeback.get(i)!;
      if (c <= 1) fi.writeback.delete(i);
      else fi.writeback.set(i, c - 1);
    }
    fi.pageWaitq.wakeUpAll();
  }

  /** fuse_set_nowrite: hold new writeback back and wait (uninterruptibly) for the WRITEs in flight. i_rwsem held. */
  private *setNowrite(t: Task, fi: FuseInode): Gen<void> {
    if (fi.nowrite) throw new Error('fuse: FUSE_NOWRITE set twice (i_rwsem not held?)');
    fi.nowrite = true;
    if (fi.writectr === 0) return;
    const d = t.enter('fuse_set_nowrite');
    yield* fi.pageWaitq.waitEvent(() => fi.writectr === 0);
    t.leave(d);
  }

  /** fuse_release_nowrite: send what was held back, cropped to the (new) i_size. */
  private releaseNowrite(k: Kernel, t: Task, inode: Inode, fi: FuseInode): void {
    fi.nowrite = false;
    for (const w of fi.queuedWrites.splice(0)) this.sendWritepage(k, t, inode, fi, w);
  }

  /** fuse_sync_writes: wait for every writeback WRITE in flight. i_rwsem held. */
  private *syncWrites(k: Kernel, t: Task, inode: Inode, fi: FuseInode): Gen<void> {
    yield* this.setNowrite(t, fi);
    this.releaseNowrite(k, t, inode, fi);
  }

  /** fuse_fsync: under i_rwsem, write back and wait, then FSYNC. */
  *fsync(k: Kernel, t: Task, file: File): Gen<number> {
    const inode = file.inode;
    const fi = this.info(inode);
    const d = t.enter('fuse_fsync');
    yield* inode.iRwsem.downWrite();
    yield* this.writepages(k, t, inode);
    yield* this.syncWrites(k, t, inode, fi);
    let err = checkErrors(fi);
    if (err === 0 && !this.conn.noFsync) {
      err = yield* this.conn.simpleRequest(t, this.req(FuseOpcode.FSYNC, fi));
      if (err === -ENOSYS) {
        this.conn.noFsync = true;
        err = 0;
      }
    }
    inode.iRwsem.upWrite(t);
    k.cov.hit(err === 0 ? 'fuse:fsync' : 'fuse:fsync-failed');
    t.leave(d);
    return err;
  }

  // ------------------------------------------------- truncate, fallocate

  /**
   * fuse_do_setattr(ATTR_SIZE), i_rwsem held for write: hold writeback back,
   * SETATTR, then the new i_size, then the page cache (truncate_pagecache).
   * On an error nothing changes.
   */
  *setattrSize(k: Kernel, t: Task, inode: Inode, size: number): Gen<number> {
    const fi = this.info(inode);
    const d = t.enter('fuse_do_setattr');
    if (fi.nodeid === 0) {
      // truncate(path) of a name whose CREATE has not been answered yet.
      const err = yield* this.lookup(k, t, inode, fi);
      if (err !== 0) {
        t.leave(d);
        return err;
      }
    }
    yield* this.setNowrite(t, fi);
    const err = yield* this.conn.simpleRequest(t, this.req(FuseOpcode.SETATTR, fi, size));
    if (err !== 0) {
      this.releaseNowrite(k, t, inode, fi);
      k.cov.hit('fuse:setattr-failed');
      t.leave(d);
      return err;
    }
    const oldsize = inode.size;
    inode.size = size;
    this.releaseNowrite(k, t, inode, fi);
    // After FUSE_NOWRITE is gone, or laundering would deadlock.
    if (oldsize !== size) {
      yield* truncatePagecache(k, t, inode, size);
      yield* this.invalidateInodePages2(k, t, inode, fi);
    }
    k.cov.hit(size < oldsize ? 'fuse:truncate-down' : 'fuse:truncate');
    t.leave(d);
    return 0;
  }

  /**
   * invalidate_inode_pages2 after a size change: every cached page goes --
   * unmapped if mapped, laundered first if dirty (fuse_launder_folio: a
   * WRITE waited for under the page lock) -- so the next access reads what
   * the server now has (the old EOF page's tail included). What reclaim
   * remembered of evicted pages is forgotten: a page read next is a first
   * fault, not a refault.
   */
  private *invalidateInodePages2(k: Kernel, t: Task, inode: Inode, fi: FuseInode): Gen<void> {
    const mapping = inode.mapping;
    const d = t.enter('invalidate_inode_pages2');
    // Shadow entries of evicted pages go too (invalidate_exceptional_entry2).
    mapping.shadows.clear();
    for (const idx of mapping.indicesIn(0, Number.MAX_SAFE_INTEGER)) {
      const page = yield* lockPageUnmapped(k, t, mapping, idx);
      if (page === null) continue;
      if (page.dirty) {
        // fuse_launder_folio
        page.dirty = false;
        yield* this.waitOnPageWriteback(t, fi, idx);
        const data = pageCopy(page.data);
        fi.writeback.set(idx, (fi.writeback.get(idx) ?? 0) + 1);
        this.queueWritepage(k, t, inode, fi, { first: idx, n: 1, data });
        yield* this.waitOnPageWriteback(t, fi, idx);
        k.cov.hit('fuse:launder');
      }
      if (!page.dirty && page.mapcount === 0) deleteFromPageCache(k, page);
      page.unlock(k.sim);
      k.putPage(page);
    }
    t.leave(d);
  }

  /**
   * fuse_file_fallocate: KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE are forwarded
   * (the rest: EOPNOTSUPP). Under i_rwsem: for punch and zero range, write
   * back and wait first; FALLOCATE; then grow i_size (unless KEEP_SIZE) and,
   * for punch and zero range, drop the range from the page cache.
   */
  *fallocate(k: Kernel, t: Task, file: File, mode: number, off: number, len: number): Gen<number> {
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) return -EOPNOTSUPP;
    if (this.conn.noFallocate) return -EOPNOTSUPP;
    const inode = file.inode;
    const fi = this.info(inode);
    const d = t.enter('fuse_file_fallocate');
    yield* inode.iRwsem.downWrite();
    const killsPages = (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) !== 0;
    let err = 0;
    if (killsPages) {
      // fuse_writeback_range
      yield* this.writepages(k, t, inode);
      err = checkErrors(fi);
      if (err === 0) yield* this.syncWrites(k, t, inode, fi);
    }
    if (err === 0 && !(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode.size && off + len > FUSE_MAX_BYTES) err = -EFBIG;
    if (err === 0) {
      err = yield* this.conn.simpleRequest(t, this.req(FuseOpcode.FALLOCATE, fi, off, len, mode));
      if (err === -ENOSYS) {
        this.conn.noFallocate = true;
        err = -EOPNOTSUPP;
      }
    }
    if (err === 0) {
      if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode.size) inode.size = off + len;
      if (killsPages) yield* truncatePagecacheRange(k, t, inode, off, off + len - 1);
    }
    inode.iRwsem.upWrite(t);
    k.cov.hit(err === 0 ? `fuse:fallocate-${mode}` : 'fuse:fallocate-failed');
    t.leave(d);
    return err;
  }
}

/** filemap_check_errors: the writeback error, cleared. */
function checkErrors(fi: FuseInode): number {
  const e = fi.wbError;
  fi.wbError = 0;
  return e;
}



// Background requests' completions (args->end), as objects with a method
// rather than arrow functions per request (see sim/arrays.ts).

/** RELEASE: nothing to do at the reply. */
const RELEASE_END: FuseReqEnd = { reqEnd() {} };

/** fuse_readpages_end: the readahead pages become uptodate (unless the READ failed) and are unlocked. */
class ReadpagesEnd implements FuseReqEnd {
  constructor(private readonly k: Kernel) {}

  reqEnd(r: FuseReq): void {
    for (const page of r.pages!) {
      if (r.error === 0) page.uptodate = true;
      page.unlock(this.k.sim);
    }
  }
}

/** fuse_writepage_end: a failed WRITE is remembered for fsync (mapping_set_error); the pages' writeback ends. */
class WritepageEnd implements FuseReqEnd {
  constructor(
    private readonly fs: FuseFs,
    private readonly fi: FuseInode,
    private readonly first: number,
    private readonly n: number,
  ) {}

  reqEnd(r: FuseReq): void {
    const fi = this.fi;
    if (r.error !== 0) {
      fi.wbError = r.error; // mapping_set_error
      fi.writeFailed = true;
    }
    fi.writectr--;
    this.fs.endWriteback(fi, this.first, this.n);
  }
}

// The mount's operations tables, as classes whose methods exist once, not
// arrow functions made for every kernel (see sim/arrays.ts).

/** virtiofs's address_space_operations. */
class FuseAops implements AddressSpaceOps {
  constructor(private readonly fs: FuseFs) {}

  readPage(k: Kernel, t: Task, _file: File | null, page: Page): Gen<number> {
    return this.fs.readFolio(k, t, page);
  }

  readahead(k: Kernel, t: Task, file: File, pages: readonly Page[]): Gen<void> {
    return this.fs.readahead(k, t, file, pages);
  }
}

/** virtiofs's file, inode and vm operations. */
class FuseOps implements FsOps {
  readonly fsName = 'virtiofs';
  readonly maxBytes = FUSE_MAX_BYTES;

  constructor(private readonly fs: FuseFs) {}

  fault(k: Kernel, vmf: Vmf): Gen<FaultResult> {
    return filemapFault(k, vmf, this.fs.aops);
  }

  readIter(k: Kernel, t: Task, file: File, pos: number, addr: number, len: number): Gen<number> {
    return this.fs.readIter(k, t, file, pos, addr, len);
  }

  writeIter(k: Kernel, t: Task, file: File, pos: number, iov: Iovec): Gen<number> {
    return this.fs.writeIter(k, t, file, pos, iov);
  }

  setSize(k: Kernel, t: Task, inode: Inode, size: number): Gen<number> {
    return this.fs.setattrSize(k, t, inode, size);
  }

  fallocate(k: Kernel, t: Task, file: File, mode: number, off: number, len: number): Gen<number> {
    return this.fs.fallocate(k, t, file, mode, off, len);
  }

  fsync(k: Kernel, t: Task, file: File): Gen<number> {
    return this.fs.fsync(k, t, file);
  }

  readahead(k: Kernel, t: Task, file: File, index: number, nr: number): Gen<void> {
    return this.fs.fadviseWillneed(k, t, file, index, nr);
  }

  open(k: Kernel, t: Task, file: File, created: boolean): Gen<number> {
    return this.fs.open(k, t, file, created);
  }

  flush(k: Kernel, t: Task, file: File): Gen<number> {
    return this.fs.flush(k, t, file);
  }

  release(k: Kernel, file: File): void {
    this.fs.release(k, file);
  }

  writepage(k: Kernel, t: Task, page: Page): Gen<number> {
    return this.fs.writepageForReclaim(k, t, page);
  }

  writepages(k: Kernel, t: Task, inode: Inode): Gen<number> {
    return this.fs.writepagesAndWait(k, t, inode);
  }
}
