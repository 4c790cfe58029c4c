// The memory-pressure checker, kept apart from the model it judges: the LRU
// lists against the page cache, dirty accounting, PTE permissions against
// their VMA (what a speculative fault that missed a concurrent mprotect
// would break), and, at quiescent points, the page budget's accounting --
// every allocated page is in a page cache, mapped, or a page table.

import type { Kernel } from '../kernel.js';
import type { Violation } from '../invariants.js';
import { LRU_ACTIVE_FILE, LRU_INACTIVE_FILE, PAGE_SIZE, type Page } from '../page.js';
import type { Inode } from '../fs/inode.js';
import { swapBacked } from './vmscan.js';
import { PROT_WRITE } from './vma.js';

export function checkVmscan(k: Kernel, quiescent: boolean): Violation[] {
  const out: Violation[] = [];
  const bad = (title: string, details: string, kind: Violation['kind'] = 'invariant'): void => {
    if (out.length < 8) out.push({ kind, title, details });
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
