// struct page: one 4 KiB page of the page cache or of anonymous memory.
// PG_locked is the inherited BitLock (with a recorded owner).

import { BitLock } from '../sim/index.js';
import type { AddressSpace } from './fs/inode.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** A page of zeroes to read from (a page without storage, a hole): never written. */
export const ZERO_BYTES = new Uint8Array(PAGE_SIZE);
/** Pages in a PMD-sized transparent huge page (2 MiB, order 9). */
export const HPAGE_PMD_NR = 512;

/**
 * A zeroed 4 KiB buffer, carved from a 256 KiB slab. A typed array this
 * size is an off-heap allocation of its own (about a microsecond, plus the
 * GC's array-buffer sweeping); a view of a slab is an ordinary small object.
 * Views never overlap and each is handed out once, so one behaves exactly as
 * a fresh array; a slab is freed with its last view. Holds no simulation
 * state, so sharing it across kernels is harmless.
 */
export function pageBuffer(): Uint8Array {
  return slabBytes(PAGE_SIZE);
}

/**
 * `n` zeroed bytes, as `new Uint8Array(n)` gives: carved from a slab, in
 * whole pages, as pageBuffer's are (a FUSE request's data, a reply's), or
 * an array of their own past a quarter of a slab.
 */
export function slabBytes(n: number): Uint8Array {
  const pages = Math.ceil(n / PAGE_SIZE);
  if (pages === 0 || pages > SLAB_PAGES / 4) return new Uint8Array(n);
  if (slabUsed + pages > SLAB_PAGES) {
    slab = new ArrayBuffer(SLAB_PAGES * PAGE_SIZE);
    slabUsed = 0;
  }
  const b = new Uint8Array(slab!, PAGE_SIZE * slabUsed, n);
  slabUsed += pages;
  return b;
}

/**
 * A copy of a page's bytes (null: all zero) in a slab buffer: what
 * `src === null ? new Uint8Array(PAGE_SIZE) : src.slice()` gives, without
 * an off-heap allocation. `src` is at most PAGE_SIZE bytes.
 */
export function pageCopy(src: Uint8Array | null): Uint8Array {
  const c = pageBuffer();
  if (src !== null) c.set(src);
  return c;
}

const SLAB_PAGES = 64;
let slab: ArrayBuffer | null = null;
let slabUsed = SLAB_PAGES;

/**
 * dst.set(src.subarray(srcOff, srcOff + n), dstOff), without making the
 * view when the copy is all of src -- a whole page, in most copy loops: a
 * view is an object per page copied, a twentieth of what the fuzz loop
 * allocates.
 */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, n: number): void {
  if (srcOff === 0 && n === src.length) dst.set(src, dstOff);
  else dst.set(src.subarray(srcOff, srcOff + n), dstOff);
}

export const pageAlign = (v: number): number => Math.ceil(v / PAGE_SIZE) * PAGE_SIZE;
/**
 * `v % m` (m > 0) computed as v - trunc(v / m) * m: the same value, up to
 * the sign of a zero, for every v when m is a power of two (dividing by it
 * is exact) and for integers with |v| + m < 2^53 otherwise (the quotient
 * then truncates right) -- but never the floating-point modulus V8 compiles `%` into
 * once an operand is past 2^31, as user addresses and page numbers are: a
 * call into C's fmod, 18-21 ns against 1.6 ns (measured on 4 KiB strides
 * from 0x20000000 and 0x7f0000000000). The fault loop, the copy loops and
 * the invariant sweep after every call each took several per page.
 */
export const rem = (v: number, m: number): number => v - Math.trunc(v / m) * m;
/** The offset of `v` in its page: `v % PAGE_SIZE` (see rem). */
export const pageOffset = (v: number): number => rem(v, PAGE_SIZE);
export const isPageAligned = (v: number): boolean => pageOffset(v) === 0;
/** Number of pages covering `size` bytes: DIV_ROUND_UP(size, PAGE_SIZE). */
export const pagesFor = (size: number): number => Math.ceil(size / PAGE_SIZE);

/** Which LRU list a page is on (enum lru_list, file lists only: see mm/vmscan.ts). */
export const LRU_NONE = 0, LRU_INACTIVE_FILE = 1, LRU_ACTIVE_FILE = 2, LRU_ISOLATED = 3;

export class Page extends BitLock {
  uptodate = false;
  writeback = false;
  /** LRU_*: the list the page is on, or isolated by reclaim (PageLRU, PageActive). */
  lru = LRU_NONE;
  /** PG_referenced: seen referenced once by reclaim (page_check_references). */
  referenced = false;
  /**
   * PG_readahead: marked to trigger async readahead when hit (see
   * fs/readahead.ts). Meaningful only while the page is in its mapping's
   * cache (a page never joins another mapping).
   */
  readahead = false;
  /** The head of the transparent huge page this page is part of (a PTE-mapped compound), or null. */
  compoundHead: Page | null = null;
  private dirtyFlag = false;
  /** References: the page cache's, each PTE's, and transient gets. */
  refcount = 1;
  /** PTEs mapping this page. */
  mapcount = 0;
  /** 4096 bytes, or null while all zero (storage allocated on first write). */
  data: Uint8Array | null = null;

  constructor(
    readonly pfn: number,
    /** The file's page cache it belongs to; null for anonymous pages and after removal. */
    public mapping: AddressSpace | null,
    public index: number,
    readonly anon: boolean,
  ) {
    super();
  }

  /**
   * PG_dirty. Setting it on a page-cache page is set_page_dirty: the
   * mapping accounts it (NR_FILE_DIRTY) and the inode becomes dirty for the
   * writeback flusher (__mark_inode_dirty).
   */
  get dirty(): boolean {
    return this.dirtyFlag;
  }

  set dirty(v: boolean) {
    if (v === this.dirtyFlag) return;
    this.dirtyFlag = v;
    if (this.mapping !== null) this.mapping.accountDirty(v);
  }

  override get waitName(): string {
    return 'page lock';
  }

  byte(off: number): number {
    return this.data === null ? 0 : this.data[off]!;
  }

  bytes(): Uint8Array {
    return (this.data ??= pageBuffer());
  }

  /** The page's bytes to copy from, never to write to: while it has none, the shared ZERO_BYTES. */
  bytesToRead(): Uint8Array {
    return this.data ?? ZERO_BYTES;
  }

  /** Zero [from, to) of the page. */
  zero(from = 0, to = PAGE_SIZE): void {
    if (this.data === null) return;
    if (from === 0 && to === PAGE_SIZE) this.data = null;
    else this.data.fill(0, from, to);
  }

  copyFrom(src: Page): void {
    if (src.data === null) this.data = null;
    else (this.data = pageBuffer()).set(src.data);
  }

  override toString(): string {
    return `page#${this.pfn}${this.anon ? '(anon)' : `(idx ${this.index})`}`;
  }
}

/**
 * The victim files' page contents are constants: each image is built once
 * per process, by path then index (no key string per page per mount), and
 * shared read-only by every mount that holds it (a writer copies it first).
 */
export class PageImages {
  private readonly byPath = new Map<string, Uint8Array[]>();
  private readonly images = new WeakSet<Uint8Array>();

  get(path: string, idx: number, byteAt: (off: number) => number): Uint8Array {
    let imgs = this.byPath.get(path);
    if (imgs === undefined) this.byPath.set(path, (imgs = []));
    let img = imgs[idx];
    if (img === undefined) {
      img = new Uint8Array(PAGE_SIZE);
      for (let i = 0; i < PAGE_SIZE; i++) img[i] = byteAt(idx * PAGE_SIZE + i);
      imgs[idx] = img;
      this.images.add(img);
    }
    return img;
  }

  /** `a` is one of the shared images: never write it in place. */
  isShared(a: Uint8Array): boolean {
    return this.images.has(a);
  }
}
