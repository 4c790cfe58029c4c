// Tearing down PTEs: zap_page_range (munmap, MADV_DONTNEED) and the
// page-table walk helpers.

import { ascending, type Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import type { AddressSpace } from '../fs/inode.js';
import { PAGE_SIZE } from '../page.js';
import type { MM, Vma } from './vma.js';
import { vmWriteBegin, vmWriteEnd } from './vm_sequence.js';

/** Virtual page numbers with a PTE in [startVpn, endVpn), ascending. */
export function ptesIn(mm: MM, startVpn: number, endVpn: number): number[] {
  const out: number[] = [];
  if (endVpn - startVpn <= mm.pt.size) {
    for (let v = startVpn; v < endVpn; v++) if (mm.pt.has(v)) out.push(v);
  } else {
    for (const v of mm.pt.keys()) if (v >= startVpn && v < endVpn) out.push(v);
    out.sort(ascending);
  }
  return out;
}

/**
 * unmap_page_range -> zap_pte_range over [start, end) of `vma`, under the
 * PTL. With `onlyMapping` set (unmap_mapping_range without even_cows),
 * anonymous COW copies in a private mapping are left alone: only pages of
 * that file are unmapped. The SPF series wraps it in vm_write_begin, so a
 * speculative fault that sampled the VMA before the zap cannot install a
 * PTE after it. Returns the number of PTEs removed.
 */
export function zapRange(k: Kernel, t: Task, vma: Vma, start: number, end: number, onlyMapping: AddressSpace | null = null): number {
  const mm = vma.mm;
  let n = 0;
  vmWriteBegin(k, t, vma);
  mm.ptl.lock(t);
  for (const vpn of ptesIn(mm, start / PAGE_SIZE, end / PAGE_SIZE)) {
    const pte = mm.pt.get(vpn)!;
    const page = pte.page;
    if (onlyMapping !== null && page.mapping !== onlyMapping) continue;
    mm.pt.delete(vpn);
    n++;
    if (page === k.zeroPage) continue;
    page.mapcount--;
    k.putPage(page);
  }
  mm.ptl.unlock(t);
  vmWriteEnd(k, t, vma);
  k.sim.chargeNs(50 * n);
  return n;
}

/** free_pgtables: drop last-level tables no VMA covers any more. */
export function freePgtables(k: Kernel, mm: MM): void {
  const needed = new Set<number>();
  for (const v of mm.vmas) {
    for (let tb = Math.floor(v.start / PAGE_SIZE / 512); tb <= Math.floor((v.end - 1) / PAGE_SIZE / 512); tb++) needed.add(tb);
  }
  for (const tb of [...mm.ptTables].sort(ascending)) if (!needed.has(tb)) k.freePageTable(mm, tb);
}
