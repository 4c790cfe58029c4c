// struct page: one 4 KiB page of the page cache or of anonymous memory.
// PG_locked is the inherited BitLock (with a recorded owner).

import { BitLock } from '../sim/index.js';
import type { AddressSpace } from './fs/inode.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export const pageAlign = (v: number): number => Math.ceil(v / PAGE_SIZE) * PAGE_SIZE;
export const isPageAligned = (v: number): boolean => v % PAGE_SIZE === 0;
/** Number of pages covering `size` bytes: DIV_ROUND_UP(size, PAGE_SIZE). */
export const pagesFor = (size: number): number => Math.ceil(size / PAGE_SIZE);

export class Page extends BitLock {
  uptodate = false;
  dirty = false;
  writeback = false;
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

  override get waitName(): string {
    return 'page lock';
  }

  byte(off: number): number {
    return this.data === null ? 0 : this.data[off]!;
  }

  bytes(): Uint8Array {
    return (this.data ??= new Uint8Array(PAGE_SIZE));
  }

  /** Zero [from, to) of the page. */
  zero(from = 0, to = PAGE_SIZE): void {
    if (this.data === null) return;
    if (from === 0 && to === PAGE_SIZE) this.data = null;
    else this.data.fill(0, from, to);
  }

  copyFrom(src: Page): void {
    this.data = src.data === null ? null : src.data.slice();
  }

  override toString(): string {
    return `page#${this.pfn}${this.anon ? '(anon)' : `(idx ${this.index})`}`;
  }
}
