// The speculative page fault series' per-VMA sequence count (seed 002,
// entry C): every change of a VMA's range, protection or page tables writes
// vma->vm_sequence, so a speculative fault, which runs without mmap_lock,
// can tell that the VMA it sampled changed under it and fall back.
//
// The profile switch `spf` picks the kernel:
//   off  mainline: no speculative faults and no vm_sequence (the counter is
//        still bumped, with raw writes nobody can observe).
//   v2   Laurent Dufour's v2 (Aug 2017): every write is write_seqcount_begin,
//        which lockdep annotates as a lock. __vma_adjust writes it under
//        i_mmap_rwsem (and `next`'s nested), move_vma holds the old and the
//        new VMA's across move_page_tables, which allocates page tables
//        (fs_reclaim); with reclaim's rmap walk (fs_reclaim ->
//        i_mmap_rwsem) lockdep sees a cycle -- Sergey Senozhatsky's report.
//        A false positive: a seqcount writer never waits for anybody.
//   raw  the later revisions: __vma_adjust, copy_vma and move_vma use
//        vm_raw_write_begin (raw_write_seqcount_begin, invisible to lockdep);
//        the other writers (zap, mprotect) keep the annotated vm_write_begin,
//        which lockdep also uses to catch a double write_seqcount_begin.

import type { Task } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import type { Vma } from './vma.js';

export type SpfMode = 'off' | 'v2' | 'raw';

export function spfMode(k: Kernel): SpfMode {
  const m = k.sw('spf', 'off');
  if (m !== 'off' && m !== 'v2' && m !== 'raw') throw new Error(`unknown spf switch value '${m}' (off, v2, raw)`);
  return m;
}

/** vm_write_begin: annotated whenever the series is applied. */
export function vmWriteBegin(k: Kernel, t: Task, vma: Vma, subclass = 0): void {
  if (spfMode(k) === 'off') vma.vmSequence.rawWriteBegin();
  else vma.vmSequence.writeBegin(t, subclass);
}

export function vmWriteEnd(k: Kernel, t: Task, vma: Vma): void {
  if (spfMode(k) === 'off') vma.vmSequence.rawWriteEnd();
  else vma.vmSequence.writeEnd(t);
}

/**
 * The writes in __vma_adjust, copy_vma and move_vma: write_seqcount_begin
 * (_nested) in v2, vm_raw_write_begin from the later revisions on.
 */
export function vmRawWriteBegin(k: Kernel, t: Task, vma: Vma, subclass = 0): void {
  if (spfMode(k) === 'v2') vma.vmSequence.writeBegin(t, subclass);
  else vma.vmSequence.rawWriteBegin();
}

export function vmRawWriteEnd(k: Kernel, t: Task, vma: Vma): void {
  if (spfMode(k) === 'v2') vma.vmSequence.writeEnd(t);
  else vma.vmSequence.rawWriteEnd();
}
