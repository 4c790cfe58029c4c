// The checker: invariants of the MM and page cache, kept apart from the model
// it judges (TigerBeetle's *_checker habit). Cheap enough to run at quiescent
// points and at the end of every run.

import type { Kernel } from './kernel.js';
import { PAGE_SIZE, pagesFor, type Page } from './page.js';
import type { ReportKind } from '../sim/index.js';
import { checkBlockfs } from './fs/blockfs_checker.js';

export interface Violation {
  kind: ReportKind;
  title: string;
  details: string;
}

/**
 * Page tables against the page cache and the VMAs. `quiescent`: no task is
 * inside the kernel, so no transient page references exist.
 */
export function checkInvariants(k: Kernel, quiescent: boolean): Violation[] {
  const out: Violation[] = [];
  const mapcounts = new Map<Page, number>();
  for (const p of k.processes) {
    if (p.exited) continue;
    const mm = p.mm;
    let prevEnd = 0;
    for (const v of mm.vmas) {
      if (v.start % PAGE_SIZE || v.end % PAGE_SIZE || v.start >= v.end || v.start < prevEnd) {
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
        // A private COW copy: truncation must remove it beyond EOF (POSIX SIGBUS).
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
  // mapcount = number of PTEs; refcounts balance when nobody is in the kernel.
  const seen = new Set<Page>();
  const checkPage = (page: Page, where: string): void => {
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
      checkPage(page, inode.path);
    }
    // i_mmap holds only live VMAs that map this file.
    for (const v of inode.mapping.iMmap) {
      if (v.file === null || v.file.inode !== inode || !v.mm.vmas.includes(v)) {
        out.push({ kind: 'invariant', title: 'BUG: stale VMA in i_mmap', details: `${inode.path}: ${v}` });
      }
    }
  }
  for (const page of mapcounts.keys()) checkPage(page, page.anon ? 'anonymous memory' : 'a removed page');
  // Block fs: every clean cached page came from the block still mapped at its offset (entry E2).
  if (quiescent) out.push(...checkBlockfs(k));
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
