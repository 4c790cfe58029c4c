// The writeback flusher (fs/fs-writeback.c, mm/page-writeback.c): the
// per-bdi "writeback" worker, wb_workfn, for the block filesystem.
//
// __mark_inode_dirty: the first dirty page of an inode puts it on b_dirty
// with dirtied_when = now and, if no flush is pending, arms the delayed work
// for dirty_writeback_interval (5 s). wb_workfn then writes back, oldest
// first, the inodes dirtied more than dirty_expire_interval (30 s) ago
// (wb_check_old_data_flush, "kupdate"), and all of them while dirty pages
// exceed the background threshold (dirty_background_ratio, 10% of memory;
// balance_dirty_pages kicks the worker at once when a page is dirtied above
// it). It re-arms itself only while dirty inodes remain: with nothing dirty
// there is no timer, so an idle run stays cheap and still ends.
//
// Writing is the filesystem's ->writepages (do_writepages), which for
// blockfs locks each dirty page and waits for its write. An inode redirtied
// during its writeback goes to the back of the list with a new
// dirtied_when (redirty_tail).

import { TaskState, WaitQueue, type Gen, type Task, type TimerTarget } from '../../sim/index.js';
import type { Kernel } from '../kernel.js';
import type { Inode } from './inode.js';

/** dirty_expire_centisecs = 3000. */
export const DIRTY_EXPIRE_NS = 30e9;
/** dirty_writeback_centisecs = 500. */
export const DIRTY_WRITEBACK_INTERVAL_NS = 5e9;
/** dirty_background_ratio, percent of memory. */
export const DIRTY_BACKGROUND_RATIO = 10;
/** vm.dirty_ratio, percent of memory: above it, a task dirtying pages is throttled. */
export const DIRTY_RATIO = 20;
/**
 * One pause of a throttled dirtier (balance_dirty_pages' io_schedule_timeout;
 * Linux sizes it to the device's bandwidth, at most 200 ms): ten requests'
 * worth of the default device latency, as reclaim_throttle's.
 */
export const DIRTY_PAUSE_NS = 1e6;

/** The dirty limit in pages (dirty_ratio of memory). */
export function dirtyLimit(k: Kernel): number {
  return Math.max(1, Math.floor((k.memoryPages * DIRTY_RATIO) / 100));
}

/**
 * Whether a write that dirtied a page of `inode` must be throttled
 * (balanceDirtyPages): a plain test, so the write path builds no generator
 * for the common case of being under the limit.
 */
export function overDirtyLimit(k: Kernel, inode: Inode): boolean {
  return inode.ops.writepages !== undefined && k.nrFileDirty > dirtyLimit(k);
}

/**
 * balance_dirty_pages_ratelimited, after a write dirtied a page of `inode`
 * and took it over the limit (overDirtyLimit): while the dirty pages of writeback-capable filesystems are above the
 * dirty limit, the writer pauses and lets writeback catch up, so a task
 * dirtying pages faster than the device cleans them goes at the device's
 * speed instead of filling memory with dirty pages and then crawling
 * through direct reclaim. With no flusher thread (a swarm option) nothing
 * else would clean them: the dirtier writes back its own inode, as
 * balance_dirty_pages did itself before the per-bdi flushers (2.6.32).
 * tmpfs cannot write back (!mapping_can_writeback): never throttled.
 */
export function* balanceDirtyPages(k: Kernel, t: Task, inode: Inode): Gen<void> {
  const d = t.enter('balance_dirty_pages');
  k.cov.hit('writeback:throttle');
  if (k.writeback === null) {
    k.cov.hit('writeback:throttle-self');
    yield* inode.ops.writepages!(k, t, inode); // overDirtyLimit: the filesystem writes back
  } else {
    // Each round asks for background writeback (wb_start_background_writeback; the
    // flusher may have stopped after a pass that cleaned nothing), then pauses.
    while (k.nrFileDirty > dirtyLimit(k)) {
      k.writeback.startBackground();
      yield* k.sim.sleepNs(DIRTY_PAUSE_NS, TaskState.Killable);
    }
  }
  t.leave(d);
}

export class Writeback implements TimerTarget {
  /** wb->b_dirty: inodes with dirty pages and their dirtied_when, oldest first. */
  readonly bDirty = new Map<Inode, number>();
  readonly wait: WaitQueue;
  readonly task: Task;
  /** wb_wakeup: work is queued for the worker. */
  private work = false;
  /** The delayed work (wb->dwork) is armed: its timer's sequence number, or -1. */
  private timerSeq = -1;
  /** Background writeback requested (over the threshold). */
  private background = false;

  constructor(private readonly k: Kernel) {
    this.wait = new WaitQueue(k.sim, 'wb_workfn');
    this.task = k.sim.spawn('writeback', (t) => this.workfn(t), { daemon: true });
  }

  /** __mark_inode_dirty(I_DIRTY_PAGES). Never sleeps: called wherever a page is dirtied. */
  markInodeDirty(inode: Inode): void {
    if (inode.ops.writepages === undefined) return; // no writeback for this filesystem (tmpfs)
    if (!this.bDirty.has(inode)) {
      this.bDirty.set(inode, this.k.sim.nowNs);
      this.armDelayed();
    }
    // balance_dirty_pages: above the background threshold, start background writeback now.
    if (!this.background && this.k.nrFileDirty > this.backgroundThresh()) {
      this.background = true;
      this.k.cov.hit('writeback:background');
      this.kick();
    }
  }

  /** wb_start_background_writeback: write back until below the background threshold. */
  startBackground(): void {
    this.background = true;
    if (!this.work) this.kick();
  }

  backgroundThresh(): number {
    return Math.max(1, Math.floor((this.k.memoryPages * DIRTY_BACKGROUND_RATIO) / 100));
  }

  /** wb_wakeup_delayed. */
  private armDelayed(): void {
    if (this.timerSeq < 0 && !this.work) this.timerSeq = this.k.sim.addTimer(this.k.sim.nowNs + DIRTY_WRITEBACK_INTERVAL_NS, this, 0);
  }

  /** The delayed work's timer (TimerTarget). */
  onTimer(): void {
    this.timerSeq = -1;
    this.kick();
  }

  private kick(): void {
    this.work = true;
    this.wait.wakeUp();
  }

  private *workfn(t: Task): Gen<void> {
    for (;;) {
      yield* this.wait.waitEvent(() => this.work, TaskState.Interruptible);
      this.work = false;
      this.k.inSyscall++; // busy: writeback holds page references and locks
      const d = t.enter('wb_workfn');
      this.k.vmstat.wbRuns++;
      const written = yield* this.doWriteback(t);
      t.leave(d);
      this.k.inSyscall--;
      // Still over the threshold after a pass that made progress: go on at once.
      if (this.background) {
        if (written > 0 && this.k.nrFileDirty > this.backgroundThresh()) this.work = true;
        else this.background = false;
      }
      if (this.bDirty.size > 0) this.armDelayed();
    }
  }

  /** wb_do_writeback: background flush, then the kupdate flush of expired inodes. Returns the pages cleaned. */
  private *doWriteback(t: Task): Gen<number> {
    const k = this.k;
    let written = 0;
    for (const [inode, dirtiedWhen] of [...this.bDirty]) {
      if (this.bDirty.get(inode) !== dirtiedWhen) continue; // requeued meanwhile
      const mapping = inode.mapping;
      if (mapping.nrDirty === 0) {
        // Cleaned meanwhile (fsync, truncate): off the list without I/O.
        this.bDirty.delete(inode);
        continue;
      }
      const expired = k.sim.nowNs - dirtiedWhen >= DIRTY_EXPIRE_NS;
      const background = this.background && this.k.nrFileDirty > this.backgroundThresh();
      if (!expired && !background) continue;
      k.cov.hit(expired ? 'writeback:kupdate' : 'writeback:background-inode');
      const before = mapping.nrDirty;
      yield* inode.ops.writepages!(k, t, inode);
      const cleaned = Math.max(0, before - mapping.nrDirty);
      written += cleaned;
      k.vmstat.wbPagesWritten += cleaned;
      this.bDirty.delete(inode);
      if (mapping.nrDirty > 0) this.bDirty.set(inode, k.sim.nowNs); // redirty_tail
    }
    return written;
  }
}
