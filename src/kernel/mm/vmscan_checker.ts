// The memory-pressure checker, kept apart from the model it judges: the LRU
// lists against the page cache, dirty accounting, PTE permissions against
// their VMA (what a speculative fault that missed a concurrent mprotect
// would break), and, at quiescent points, the page budget's accounting --
// every allocated page is in a page cache, mapped, or a page table.
//
// It runs after every call that leaves the kernel quiescent, so it allocates
// nothing unless it finds something: the inodes visited and the pages
// counted are stamp sets by inode number and pfn (see ../stampset.ts), and a
// violation's strings are built only when it is reported. Should two objects
// share a number, the check redoes itself the literal way (checkVmscanSlow,
// which the tests hold the fast path to).

import type { Kernel } from '../kernel.js';
import type { Violation } from '../invariants.js';
import { LRU_ACTIVE_FILE, LRU_INACTIVE_FILE, PAGE_SIZE, type Page } from '../page.js';
import type { Inode } from '../fs/inode.js';
import { StampSet } from '../stampset.js';
import { swapBacked } from './vmscan.js';
import { PROT_WRITE } from './vma.js';

/** At most this many violations per check. */
const MAX_VIOLATIONS = 8;

const inodesSeen = new StampSet<Inode>();
const pagesCounted = new StampSet<Page>();

export function checkVmscan(k: Kernel, quiescent: boolean): Violation[] {
  const out: Violation[] = [];
  checkLru(k.lru.inactiveFile, LRU_INACTIVE_FILE, 'inactive', out);
  checkLru(k.lru.activeFile, LRU_ACTIVE_FILE, 'active', out);
  const inodes = inodesSeen;
  const counted = pagesCounted;
  inodes.begin();
  counted.begin();
  let tables = 0;
  try {
    // The namespace, then the inodes only open files hold, each once (a Set's order).
    for (const inode of k.dentries.values()) if (inodes.add(inode.ino, inode)) checkCache(inode, quiescent, counted, out);
    const files = k.files;
    for (let i = 0; i < files.length; i++) {
      const inode = files[i]!.inode;
      if (inodes.add(inode.ino, inode)) checkCache(inode, quiescent, counted, out);
    }
    const procs = k.processes;
    for (let i = 0; i < procs.length; i++) {
      const p = procs[i]!;
      const mm = p.mm;
      tables += mm.ptTables.size;
      if (p.exited) continue;
      const vpns = mm.pt.keys();
      for (const pte of mm.pt.values()) {
        const vpn = vpns.next().value!;
        if (pte.page !== k.zeroPage) counted.add(pte.page.pfn, pte.page);
        if (!pte.writable) continue;
        const vma = mm.vmaAt(vpn * PAGE_SIZE);
        if (vma !== null && !(vma.prot & PROT_WRITE)) {
          bad(out, `BUG: writable PTE in a read-only VMA installed in ${pte.by ?? 'unknown'}`, `pid ${p.pid} addr ${(vpn * PAGE_SIZE).toString(16)} in ${vma}`);
        }
      }
    }
  } finally {
    inodes.end();
    counted.end();
  }
  if (inodes.collision || counted.collision) return checkVmscanSlow(k, quiescent);
  if (quiescent && k.pagesInUse !== counted.size + tables) {
    bad(out, 'page allocation accounting leak', `${k.pagesInUse} pages in use, but ${counted.size} are cached or mapped and ${tables} are page tables`, 'leak');
  }
  return out;
}

function bad(out: Violation[], title: string, details: string, kind: Violation['kind'] = 'invariant'): void {
  if (out.length < MAX_VIOLATIONS) out.push({ kind, title, details });
}

/** Every page on an LRU list is in the page cache of a mapping that is not swap-backed. */
function checkLru(list: ReadonlySet<Page>, want: number, name: string, out: Violation[]): void {
  for (const page of list) {
    const m = page.mapping;
    if (page.lru !== want || m === null || m.pages.get(page.index) !== page) {
      bad(out, 'BUG: page on the LRU but not in the page cache', `${page} on the ${name} file list: lru ${page.lru}, mapping ${m === null ? 'none' : m.host.path}`);
    } else if (swapBacked(m)) {
      bad(out, 'BUG: swap-backed page on the file LRU', `${page} of ${m.host.path}`);
    }
  }
}

/** One inode's cached pages: counted, on the right LRU when quiescent, and its dirty accounting. */
function checkCache(inode: Inode, quiescent: boolean, counted: StampSet<Page>, out: Violation[]): void {
  const m = inode.mapping;
  let dirty = 0;
  const onLru = !swapBacked(m);
  for (const page of m.pages.values()) {
    counted.add(page.pfn, page);
    if (page.dirty) dirty++;
    if (quiescent && onLru !== (page.lru === LRU_INACTIVE_FILE || page.lru === LRU_ACTIVE_FILE)) {
      bad(out, onLru ? 'BUG: page-cache page missing from the LRU' : 'BUG: swap-backed page on the file LRU', `${inode.path}[${page.index}] (${page}): lru ${page.lru}`);
    }
  }
  if (dirty !== m.nrDirty) bad(out, 'BUG: dirty page accounting mismatch', `${inode.path}: ${dirty} dirty pages cached, nr_dirty ${m.nrDirty}`);
}

/**
 * The literal check, with a Set of inodes and a Set of pages: what
 * checkVmscan computes, used when the stamp sets cannot tell two objects
 * apart. Kept literal so the fast path can be checked against it (test/kernel).
 */
export function checkVmscanSlow(k: Kernel, quiescent: boolean): Violation[] {
  const out: Violation[] = [];
  const bad = (title: string, details: string, kind: Violation['kind'] = 'invariant'): void => {
    if (out.length < MAX_VIOLATIONS) out.push({ kind, title, details });
  };
  for (const [list, want, name] of [[k.lru.inactiveFile, LRU_INACTIVE_FILE, 'inactive'], [k.lru.activeFile, LRU_ACTIVE_FILE, 'active']] as const) {
    for (const page of list) {
      const m = page.mapping;
      if (page.lru !== want || m === null || m.pages.get(page.index) !== page) {
        bad('BUG: page on the LRU but not in the page cache', `${page} on the ${name} file list: lru ${page.lru}, mapping ${m === null ? 'none' : m.host.path}`);
      } else if (swapBacked(m)) {
        bad('BUG: swap-backed page on the file LRU', `${page} of ${m.host.path}`);
      }
    }
  }
  const inodes = new Set<Inode>([...k.dentries.values(), ...k.files.map((f) => f.inode)]);
  const counted = new Set<Page>();
  for (const inode of inodes) {
    const m = inode.mapping;
    let dirty = 0;
    const onLru = !swapBacked(m);
    for (const page of m.pages.values()) {
      counted.add(page);
      if (page.dirty) dirty++;
      if (quiescent && onLru !== (page.lru === LRU_INACTIVE_FILE || page.lru === LRU_ACTIVE_FILE)) {
        bad(onLru ? 'BUG: page-cache page missing from the LRU' : 'BUG: swap-backed page on the file LRU', `${inode.path}[${page.index}] (${page}): lru ${page.lru}`);
      }
    }
    if (dirty !== m.nrDirty) bad('BUG: dirty page accounting mismatch', `${inode.path}: ${dirty} dirty pages cached, nr_dirty ${m.nrDirty}`);
  }
  let tables = 0;
  for (const p of k.processes) {
    tables += p.mm.ptTables.size;
    if (p.exited) continue;
    for (const [vpn, pte] of p.mm.pt) {
      if (pte.page !== k.zeroPage) counted.add(pte.page);
      if (!pte.writable) continue;
      const vma = p.mm.vmaAt(vpn * PAGE_SIZE);
      if (vma !== null && !(vma.prot & PROT_WRITE)) {
        bad(`BUG: writable PTE in a read-only VMA installed in ${pte.by ?? 'unknown'}`, `pid ${p.pid} addr ${(vpn * PAGE_SIZE).toString(16)} in ${vma}`);
      }
    }
  }
  if (quiescent && k.pagesInUse !== counted.size + tables) {
    bad('page allocation accounting leak', `${k.pagesInUse} pages in use, but ${counted.size} are cached or mapped and ${tables} are page tables`, 'leak');
  }
  return out;
}
