// The checker: invariants of the MM and page cache, kept apart from the model
// it judges (TigerBeetle's *_checker habit). Cheap enough to run at quiescent
// points and at the end of every run.
//
// The executor runs it after every call that leaves the kernel quiescent, so
// the sweep allocates nothing unless it finds something: PTE counts per page
// and the pages and inodes already visited live in scratch arrays indexed by
// pfn and inode number (both unique per kernel) and stamped with a sweep
// number, instead of Maps and Sets per sweep, and a violation's strings are
// built only when it is reported. The scratch is reused across sweeps and
// kernels; a sweep never yields, so two never overlap. Should two objects
// ever share a number, the sweep redoes itself the literal way
// (checkInvariantsSlow, which the tests hold the fast path to).

import type { Kernel } from './kernel.js';
import { PAGE_SIZE, pageOffset, pagesFor, type Page } from './page.js';
import type { Inode } from './fs/inode.js';
import type { ReportKind } from '../sim/index.js';
import { checkBlockfs } from './fs/blockfs_checker.js';
import { checkVmscan } from './mm/vmscan_checker.js';
import { StampSet } from './stampset.js';

export interface Violation {
  kind: ReportKind;
  title: string;
  details: string;
}

/**
 * Per-page scratch of one sweep, by pfn: the sweep that last touched the
 * slot, the page in it (a pfn shared by two pages -- impossible while pfns
 * are unique -- sends the sweep to the slow path), its PTE count, and
 * whether its page checks ran.
 */
class PageScratch {
  sweep = 0;
  stamp = new Uint32Array(1024);
  ptes = new Int32Array(1024);
  checkedAt = new Uint32Array(1024);
  owner: (Page | undefined)[] = new Array<Page | undefined>(1024).fill(undefined);
  /** Slots stamped in this sweep (their owners are dropped at the end). */
  private readonly touched: number[] = [];
  private nTouched = 0;
  /** Pages with PTEs, in the order the PTE walk met them first (mapped[0..nMapped)). */
  readonly mapped: (Page | undefined)[] = [];
  nMapped = 0;
  collision = false;

  begin(): void {
    this.sweep = (this.sweep + 1) >>> 0;
    if (this.sweep === 0) {
      // Wrapped after 2^32 sweeps: forget every stamp.
      this.stamp.fill(0);
      this.checkedAt.fill(0);
      this.sweep = 1;
    }
    this.collision = false;
  }

  private slot(page: Page): number {
    const pfn = page.pfn;
    if (pfn >= this.stamp.length) this.grow(pfn);
    if (this.stamp[pfn] !== this.sweep) {
      this.stamp[pfn] = this.sweep;
      this.ptes[pfn] = 0;
      this.owner[pfn] = page;
      this.touched[this.nTouched++] = pfn;
    } else if (this.owner[pfn] !== page) this.collision = true;
    return pfn;
  }

  private grow(pfn: number): void {
    let n = this.stamp.length;
    while (n <= pfn) n *= 2;
    const s = new Uint32Array(n), p = new Int32Array(n), c = new Uint32Array(n);
    s.set(this.stamp);
    p.set(this.ptes);
    c.set(this.checkedAt);
    this.stamp = s;
    this.ptes = p;
    this.checkedAt = c;
    const o = new Array<Page | undefined>(n).fill(undefined);
    for (let i = 0; i < this.owner.length; i++) o[i] = this.owner[i];
    this.owner = o;
  }

  addPte(page: Page): void {
    const i = this.slot(page);
    if (this.ptes[i]++ === 0) this.mapped[this.nMapped++] = page;
  }

  ptesOf(page: Page): number {
    const pfn = page.pfn;
    return pfn < this.stamp.length && this.stamp[pfn] === this.sweep && this.owner[pfn] === page ? this.ptes[pfn]! : 0;
  }

  /** True the first time a page is checked in this sweep. */
  firstCheck(page: Page): boolean {
    const i = this.slot(page);
    if (this.checkedAt[i] === this.sweep) return false;
    this.checkedAt[i] = this.sweep;
    return true;
  }

  /**
   * Drop the page references, so the scratch (long-lived, old space) keeps
   * no kernel alive: an old object pointing at young pages would make them
   * survive scavenges.
   */
  end(): void {
    const t = this.touched;
    for (let i = 0; i < this.nTouched; i++) this.owner[t[i]!] = undefined;
    this.nTouched = 0;
    for (let i = 0; i < this.nMapped; i++) this.mapped[i] = undefined;
    this.nMapped = 0;
  }
}

const scratch = new PageScratch();

/**
 * Page tables against the page cache and the VMAs. `quiescent`: no task is
 * inside the kernel, so no transient page references exist.
 */
export function checkInvariants(k: Kernel, quiescent: boolean): Violation[] {
  const out: Violation[] = [];
  const s = scratch;
  s.begin();
  try {
    sweepMms(k, s, out);
    sweepPageCaches(k, s, quiescent, out);
    for (let i = 0; i < s.nMapped; i++) checkPage(s, s.mapped[i]!, quiescent, out, null);
  } finally {
    s.end();
  }
  if (s.collision) return checkInvariantsSlow(k, quiescent);
  // Block fs: every clean cached page came from the block still mapped at its offset (entry E2).
  if (quiescent) pushAll(out, checkBlockfs(k));
  // LRU lists, dirty accounting, PTE permissions, the page budget (mm/vmscan_checker.ts).
  pushAll(out, checkVmscan(k, quiescent));
  return out;
}

function pushAll(out: Violation[], vs: readonly Violation[]): void {
  for (let i = 0; i < vs.length; i++) out.push(vs[i]!);
}

/** VMA layout and i_mmap membership, then every PTE against its VMA and the page cache. */
function sweepMms(k: Kernel, s: PageScratch, out: Violation[]): void {
  for (const p of k.processes) {
    if (p.exited) continue;
    const mm = p.mm;
    let prevEnd = 0;
    const vmas = mm.vmas;
    for (let i = 0; i < vmas.length; i++) {
      const v = vmas[i]!;
      if (pageOffset(v.start) || pageOffset(v.end) || v.start >= v.end || v.start < prevEnd) {
        out.push({ kind: 'invariant', title: 'BUG: bad VMA layout', details: `pid ${p.pid}: ${mm.vmas.map(String).join('\n')}` });
        break;
      }
      prevEnd = v.end;
      if (v.file !== null && !v.file.inode.mapping.iMmap.includes(v)) {
        out.push({ kind: 'invariant', title: 'BUG: VMA missing from i_mmap', details: `pid ${p.pid}: ${v}` });
      }
    }
    const vpns = mm.pt.keys();
    for (const pte of mm.pt.values()) {
      const addr = vpns.next().value! * PAGE_SIZE;
      const vma = mm.vmaAt(addr);
      if (vma === null) {
        out.push({ kind: 'invariant', title: `BUG: PTE outside any VMA installed in ${pte.by ?? 'unknown'}`, details: `pid ${p.pid} addr ${addr.toString(16)}` });
        continue;
      }
      const page = pte.page;
      if (page !== k.zeroPage) s.addPte(page);
      if (vma.file === null) continue;
      const inode = vma.file.inode;
      const idx = vma.pgoffAt(addr);
      const beyondEof = idx >= pagesFor(inode.size);
      if (page.anon) {
        // A private COW copy: truncation must remove it beyond EOF (POSIX SIGBUS).
        if (beyondEof && page !== k.zeroPage) {
          out.push({ kind: 'invariant', title: `BUG: COW page mapped beyond EOF after truncate in ${pte.by ?? 'unknown'}`, details: `pid ${p.pid} addr ${addr.toString(16)} index ${idx} i_size ${inode.size}` });
        }
        continue;
      }
      if (page.mapping === null) {
        out.push({ kind: 'invariant', title: `BUG: stale page mapped after truncate in ${pte.by ?? 'unknown'}`, details: `pid ${p.pid} addr ${addr.toString(16)} maps ${page}, no longer in ${inode.path}'s page cache` });
      } else if (page.mapping !== inode.mapping || page.index !== idx || inode.mapping.pages.get(idx) !== page) {
        out.push({ kind: 'invariant', title: `BUG: PTE maps the wrong file page in ${pte.by ?? 'unknown'}`, details: `pid ${p.pid} addr ${addr.toString(16)} expects ${inode.path}[${idx}], maps ${page}` });
      } else if (beyondEof) {
        out.push({ kind: 'invariant', title: `BUG: page mapped beyond EOF in ${pte.by ?? 'unknown'}`, details: `pid ${p.pid} addr ${addr.toString(16)} index ${idx} i_size ${inode.size}` });
      }
    }
  }
}

/**
 * Every inode in the namespace, then those only open files still hold (each
 * once, in that order): page-cache entries, their pages, and i_mmap.
 */
function sweepPageCaches(k: Kernel, s: PageScratch, quiescent: boolean, out: Violation[]): void {
  const seen = inodeScratch;
  seen.begin();
  try {
    for (const inode of k.dentries.values()) if (seen.add(inode.ino, inode)) sweepInode(s, inode, quiescent, out);
    for (const f of k.files) if (seen.add(f.inode.ino, f.inode)) sweepInode(s, f.inode, quiescent, out);
  } finally {
    seen.end();
  }
  if (seen.collision) s.collision = true;
}

/** Which inodes a sweep has visited: the union of the namespace and the open files, each inode once, without a Set per sweep. */
const inodeScratch = new StampSet<Inode>();

function sweepInode(s: PageScratch, inode: Inode, quiescent: boolean, out: Violation[]): void {
  const mapping = inode.mapping;
  // Keys and values side by side: an entries() walk allocates a pair per page.
  const idxs = mapping.pages.keys();
  for (const page of mapping.pages.values()) {
    const idx = idxs.next().value!;
    if (page.mapping !== mapping || page.index !== idx) {
      out.push({ kind: 'invariant', title: 'BUG: page cache entry with wrong mapping or index', details: `${inode.path}[${idx}] holds ${page}` });
    }
    checkPage(s, page, quiescent, out, inode);
  }
  // i_mmap holds only live VMAs that map this file.
  const iMmap = mapping.iMmap;
  for (let i = 0; i < iMmap.length; i++) {
    const v = iMmap[i]!;
    if (v.file === null || v.file.inode !== inode || !v.mm.vmas.includes(v)) {
      out.push({ kind: 'invariant', title: 'BUG: stale VMA in i_mmap', details: `${inode.path}: ${v}` });
    }
  }
}

/** mapcount = number of PTEs; refcounts balance when nobody is in the kernel. `in`: the cache it was found in, or null. */
function checkPage(s: PageScratch, page: Page, quiescent: boolean, out: Violation[], cache: Inode | null): void {
  if (!s.firstCheck(page)) return;
  const ptes = s.ptesOf(page);
  if (page.mapcount !== ptes) {
    out.push({ kind: 'invariant', title: 'BUG: Bad page map (mapcount mismatch)', details: `${page} in ${whereOf(page, cache)}: mapcount ${page.mapcount}, PTEs ${ptes}` });
  }
  if (page.refcount < 0) out.push({ kind: 'invariant', title: 'BUG: page refcount underflow', details: `${page} in ${whereOf(page, cache)}: refcount ${page.refcount}` });
  else if (quiescent) {
    const expected = ptes + (page.mapping !== null ? 1 : 0);
    if (page.refcount !== expected) {
      out.push({ kind: 'leak', title: `page refcount ${page.refcount > expected ? 'leak' : 'imbalance'}`, details: `${page} in ${whereOf(page, cache)}: refcount ${page.refcount}, expected ${expected} (${ptes} PTEs${page.mapping ? ' + page cache' : ''})` });
    }
  }
}

function whereOf(page: Page, cache: Inode | null): string {
  if (cache !== null) return cache.path;
  return page.anon ? 'anonymous memory' : 'a removed page';
}

/**
 * The reference sweep, with a Map and a Set: what checkInvariants computes,
 * used when the pfn scratch cannot tell two pages apart. Kept literal so the
 * fast path can be checked against it (test/kernel).
 */
export function checkInvariantsSlow(k: Kernel, quiescent: boolean): Violation[] {
  const out: Violation[] = [];
  const mapcounts = new Map<Page, number>();
  for (const p of k.processes) {
    if (p.exited) continue;
    const mm = p.mm;
    let prevEnd = 0;
    for (const v of mm.vmas) {
      if (pageOffset(v.start) || pageOffset(v.end) || v.start >= v.end || v.start < prevEnd) {
        out.push({ kind: 'invariant', title: 'BUG: bad VMA layout', details: `pid ${p.pid}: ${mm.vmas.map(String).join('\n')}` });
        break;
      }
      prevEnd = v.end;
      if (v.file !== null && !v.file.inode.mapping.iMmap.includes(v)) {
        out.push({ kind: 'invariant', title: 'BUG: VMA missing from i_mmap', details: `pid ${p.pid}: ${v}` });
      }
    }
    for (const [vpn, pte] of mm.pt) {
      const addr = vpn * PAGE_SIZE;
      const vma = mm.vmaAt(addr);
      const by = pte.by ?? 'unknown';
      if (vma === null) {
        out.push({ kind: 'invariant', title: `BUG: PTE outside any VMA installed in ${by}`, details: `pid ${p.pid} addr ${addr.toString(16)}` });
        continue;
      }
      const page = pte.page;
      if (page !== k.zeroPage) mapcounts.set(page, (mapcounts.get(page) ?? 0) + 1);
      if (vma.file === null) continue;
      const inode = vma.file.inode;
      const idx = vma.pgoffAt(addr);
      const beyondEof = idx >= pagesFor(inode.size);
      if (page.anon) {
        if (beyondEof && page !== k.zeroPage) {
          out.push({ kind: 'invariant', title: `BUG: COW page mapped beyond EOF after truncate in ${by}`, details: `pid ${p.pid} addr ${addr.toString(16)} index ${idx} i_size ${inode.size}` });
        }
        continue;
      }
      if (page.mapping === null) {
        out.push({ kind: 'invariant', title: `BUG: stale page mapped after truncate in ${by}`, details: `pid ${p.pid} addr ${addr.toString(16)} maps ${page}, no longer in ${inode.path}'s page cache` });
      } else if (page.mapping !== inode.mapping || page.index !== idx || inode.mapping.pages.get(idx) !== page) {
        out.push({ kind: 'invariant', title: `BUG: PTE maps the wrong file page in ${by}`, details: `pid ${p.pid} addr ${addr.toString(16)} expects ${inode.path}[${idx}], maps ${page}` });
      } else if (beyondEof) {
        out.push({ kind: 'invariant', title: `BUG: page mapped beyond EOF in ${by}`, details: `pid ${p.pid} addr ${addr.toString(16)} index ${idx} i_size ${inode.size}` });
      }
    }
  }
  const seen = new Set<Page>();
  const checkPageSlow = (page: Page, where: string): void => {
    if (seen.has(page)) return;
    seen.add(page);
    const ptes = mapcounts.get(page) ?? 0;
    if (page.mapcount !== ptes) {
      out.push({ kind: 'invariant', title: 'BUG: Bad page map (mapcount mismatch)', details: `${page} in ${where}: mapcount ${page.mapcount}, PTEs ${ptes}` });
    }
    if (page.refcount < 0) out.push({ kind: 'invariant', title: 'BUG: page refcount underflow', details: `${page} in ${where}: refcount ${page.refcount}` });
    else if (quiescent) {
      const expected = ptes + (page.mapping !== null ? 1 : 0);
      if (page.refcount !== expected) {
        out.push({ kind: 'leak', title: `page refcount ${page.refcount > expected ? 'leak' : 'imbalance'}`, details: `${page} in ${where}: refcount ${page.refcount}, expected ${expected} (${ptes} PTEs${page.mapping ? ' + page cache' : ''})` });
      }
    }
  };
  for (const inode of new Set([...k.dentries.values(), ...k.files.map((f) => f.inode)])) {
    for (const [idx, page] of inode.mapping.pages) {
      if (page.mapping !== inode.mapping || page.index !== idx) {
        out.push({ kind: 'invariant', title: 'BUG: page cache entry with wrong mapping or index', details: `${inode.path}[${idx}] holds ${page}` });
      }
      checkPageSlow(page, inode.path);
    }
    for (const v of inode.mapping.iMmap) {
      if (v.file === null || v.file.inode !== inode || !v.mm.vmas.includes(v)) {
        out.push({ kind: 'invariant', title: 'BUG: stale VMA in i_mmap', details: `${inode.path}: ${v}` });
      }
    }
  }
  for (const page of mapcounts.keys()) checkPageSlow(page, page.anon ? 'anonymous memory' : 'a removed page');
  if (quiescent) out.push(...checkBlockfs(k));
  out.push(...checkVmscan(k, quiescent));
  return out;
}

/** After every process has exited: every file reference must be gone. */
export function checkLeaks(k: Kernel): Violation[] {
  const out: Violation[] = [];
  for (const f of k.files) {
    if (f.count !== 0) {
      out.push({ kind: 'leak', title: 'file refcount leak', details: `${f.inode.path} (file #${f.id}): f_count ${f.count} after every process exited` });
      break;
    }
  }
  return out;
}
