// struct vm_area_struct and struct mm_struct.

import { RwSemaphore, Seqcount, Spinlock, insertAt, removeAt } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import type { File } from '../fs/inode.js';
import type { Page } from '../page.js';
import { PAGE_SIZE } from '../page.js';

export const PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
export const MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_SHARED_VALIDATE = 3, MAP_TYPE = 0xf, MAP_FIXED = 0x10,
  MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_FIXED_NOREPLACE = 0x100000;

/** Lowest and highest user addresses (x86-64, 4-level paging; mmap_min_addr 64 KiB). */
export const TASK_UNMAPPED_MIN = 0x10000;
export const TASK_SIZE = 0x7ffffffff000;
export const MMAP_BASE = 0x7f0000000000;

export class Vma {
  /** VM_SEQ_READ / VM_RAND_READ (madvise). */
  seqRead = false;
  randRead = false;
  /** SPF's per-VMA sequence count (seed 002); bumped on every change of the VMA. */
  readonly vmSequence: Seqcount;
  /** vma->anon_vma is set up (anon_vma_prepare, at the first anonymous page); SPF and khugepaged need it. */
  anonVma = false;
  /** Unlinked from its mm (RB_EMPTY_NODE(&vma->vm_rb)): a lockless lookup may still hold it. */
  dead = false;

  constructor(
    k: Kernel,
    readonly mm: MM,
    public start: number,
    public end: number,
    public prot: number,
    /** VM_SHARED: writes reach the file; otherwise private (copy-on-write). */
    readonly shared: boolean,
    /** VM_MAYWRITE for shared file mappings: the file was opened for writing. */
    readonly mayWrite: boolean,
    public file: File | null,
    /** File offset of `start`, in pages. */
    public pgoff: number,
  ) {
    this.vmSequence = new Seqcount(k.sim, '&vma->vm_sequence');
  }

  get pages(): number {
    return (this.end - this.start) / PAGE_SIZE;
  }

  /** The file page index mapped at `addr`. */
  pgoffAt(addr: number): number {
    return this.pgoff + (addr - this.start) / PAGE_SIZE;
  }

  get anonymous(): boolean {
    return this.file === null;
  }

  toString(): string {
    const p = (this.prot & PROT_READ ? 'r' : '-') + (this.prot & PROT_WRITE ? 'w' : '-') + (this.prot & PROT_EXEC ? 'x' : '-') + (this.shared ? 's' : 'p');
    const name = this.file ? ` ${this.file.inode.path}` : '';
    return `${hex(this.start)}-${hex(this.end)} ${p} ${(this.pgoff * PAGE_SIZE).toString(16).padStart(8, '0')}${name}`;
  }
}

/** A page-table entry. */
export interface Pte {
  page: Page;
  writable: boolean;
  /** The kernel function that installed it (for invariant reports). */
  by?: string;
  /** The accessed bit (pte_young): set by every access, cleared by reclaim's page_referenced. */
  young?: boolean;
}

export class MM {
  readonly mmapLock: RwSemaphore;
  /** Page-table lock (one per mm here, split per table in Linux). */
  readonly ptl: Spinlock;
  /** The anon_vma's rwsem (one anon_vma per mm here): khugepaged's collapse takes it for write. */
  readonly anonVmaLock: RwSemaphore;
  /** VMAs sorted by start, non-overlapping. */
  readonly vmas: Vma[] = [];
  /** Page tables: virtual page number -> PTE. */
  readonly pt = new Map<number, Pte>();
  /** Last-level page tables allocated (each covers 512 pages), by table number. */
  readonly ptTables = new Set<number>();
  users = 1;

  constructor(k: Kernel, readonly owner: number) {
    this.mmapLock = new RwSemaphore(k.sim, '&mm->mmap_lock');
    this.ptl = new Spinlock(k.sim, 'ptlock');
    this.anonVmaLock = new RwSemaphore(k.sim, '&anon_vma->rwsem');
  }

  /** find_vma: the first VMA with end > addr (it may start above addr). */
  findVma(addr: number): Vma | null {
    const v = this.vmas;
    let lo = 0, hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v[mid]!.end > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo < v.length ? v[lo]! : null;
  }

  /** The VMA containing addr, or null. */
  vmaAt(addr: number): Vma | null {
    const vma = this.findVma(addr);
    return vma !== null && vma.start <= addr ? vma : null;
  }

  insertVma(vma: Vma): void {
    const v = this.vmas;
    let i = 0;
    while (i < v.length && !(v[i]!.start > vma.start)) i++;
    if (i === v.length) v.push(vma);
    else insertAt(v, i, vma);
  }

  removeVma(vma: Vma): void {
    const i = this.vmas.indexOf(vma);
    if (i >= 0) removeAt(this.vmas, i);
    vma.dead = true;
  }

  /** VMAs overlapping [start, end). */
  overlapping(start: number, end: number): Vma[] {
    return this.vmas.filter((v) => v.start < end && v.end > start);
  }
}

export function hex(n: number): string {
  return n.toString(16).padStart(12, '0');
}
