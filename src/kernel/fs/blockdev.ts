// A simulated block device: a disk of 4 KiB blocks behind a request queue.
// Requests are served after a fixed latency (sim timers); their completions
// (bi_end_io) run in "interrupt context", straight from the timer, so they
// must never sleep. An optional submit-time throttle makes the submitter
// sleep in submit_bio, as cgroup io.latency / blk-throttle do (seed 001: "a
// lower priority task could be stuck doing IO because it has been
// throttled"). The block allocator reuses freed blocks, most recently freed
// first, with a bumped generation, so a stale read of a reused block can be
// told apart from a read of the block's current owner (entry E2).

import { Stream, TaskState, type Gen, type Sim, type Task, type TimerTarget } from '../../sim/index.js';
import { PAGE_SIZE, pageBuffer } from '../page.js';

export const BLOCK_SIZE = 4096;

export const enum BioOp {
  Read = 0,
  Write = 1,
}

/** One request for one block (struct bio with a single segment). */
export interface Bio {
  readonly op: BioOp;
  readonly block: number;
  /** Write: the data to store (null = zeroes), snapshotted at submission. Read: set at completion. */
  data: Uint8Array | null;
  /** A read that failed (injected I/O error); set at completion. */
  error: boolean;
  /** bi_end_io: runs from the timer (interrupt context) and must not sleep. */
  endIo(bio: Bio): void;
}

export interface BlockDeviceOptions {
  /** Service time of one request once dispatched. */
  latencyNs?: number;
  /** Submit-time throttle: the submitter sleeps this long in submit_bio (0 = none). */
  throttleNs?: number;
  /** Requests in flight at once (the hardware queue depth); more wait in the queue. */
  queueDepthMax?: number;
  /** Capacity in blocks: allocations beyond it fail (ENOSPC). */
  blocksMax?: number;
  /** Probability that a read completes with an I/O error (fault injection; 0 = never). */
  readErrorRate?: number;
}

export const BLOCKDEV_DEFAULTS = {
  latencyNs: 100_000,
  throttleNs: 0,
  queueDepthMax: 32,
  blocksMax: 1 << 14,
  readErrorRate: 0,
} as const;

/** Longest request queue before we call it a model bug (every submitter is bounded). */
const QUEUE_LENGTH_MAX = 1 << 16;

export class BlockDevice implements TimerTarget {
  latencyNs: number;
  throttleNs: number;
  readErrorRate: number;
  readonly queueDepthMax: number;
  readonly blocksMax: number;
  /** Block contents; a block never written reads as zeroes. Freed blocks keep their data. */
  private readonly contents = new Map<number, Uint8Array | null>();
  private readonly gens: number[] = [];
  private readonly allocated: boolean[] = [];
  /** Freed blocks, reused last-freed first. */
  private readonly freeBlocks: number[] = [];
  private nextBlock = 0;
  blocksInUse = 0;
  private readonly waiting: Bio[] = [];
  private readonly inflight = new Map<number, Bio>();
  private nextBioId = 1;
  readsSubmitted = 0;
  writesSubmitted = 0;
  readsCompleted = 0;
  writesCompleted = 0;

  constructor(private readonly sim: Sim, opts: BlockDeviceOptions = {}) {
    this.latencyNs = opts.latencyNs ?? BLOCKDEV_DEFAULTS.latencyNs;
    this.throttleNs = opts.throttleNs ?? BLOCKDEV_DEFAULTS.throttleNs;
    this.queueDepthMax = opts.queueDepthMax ?? BLOCKDEV_DEFAULTS.queueDepthMax;
    this.blocksMax = opts.blocksMax ?? BLOCKDEV_DEFAULTS.blocksMax;
    this.readErrorRate = opts.readErrorRate ?? BLOCKDEV_DEFAULTS.readErrorRate;
    if (this.latencyNs < 0 || this.throttleNs < 0 || this.queueDepthMax < 1 || this.blocksMax < 1) {
      throw new Error('bad block device options');
    }
  }

  // ------------------------------------------------------------ allocator

  /** Allocate a block: the last freed one if any, with its generation bumped; null when full. */
  alloc(): { block: number; gen: number } | null {
    let block: number;
    if (this.freeBlocks.length > 0) block = this.freeBlocks.pop()!;
    else if (this.nextBlock < this.blocksMax) block = this.nextBlock++;
    else return null;
    if (this.allocated[block]) throw new Error(`block ${block} allocated twice`);
    this.allocated[block] = true;
    const gen = (this.gens[block] ?? 0) + 1;
    this.gens[block] = gen;
    this.blocksInUse++;
    return { block, gen };
  }

  free(block: number): void {
    if (!this.allocated[block]) throw new Error(`free of unallocated block ${block}`);
    this.allocated[block] = false;
    this.freeBlocks.push(block);
    this.blocksInUse--;
  }

  isAllocated(block: number): boolean {
    return this.allocated[block] === true;
  }

  /** The block's current generation (bumped at each allocation). */
  genOf(block: number): number {
    return this.gens[block] ?? 0;
  }

  get blocksFree(): number {
    return this.blocksMax - this.blocksInUse;
  }

  // ------------------------------------------------- direct access (mkfs, tests)

  /** The block's contents on the medium, for inspection (a copy; null = zeroes). */
  peek(block: number): Uint8Array | null {
    const d = this.contents.get(block);
    if (d === undefined || d === null) return null;
    // Every read completion copies a block: into a slab buffer, not a fresh off-heap array.
    if (d.length !== PAGE_SIZE) return d.slice();
    const c = pageBuffer();
    c.set(d);
    return c;
  }

  /** Write the medium directly, without I/O (mkfs-time population). */
  /**
   * Store an image the caller will never modify, without copying. Safe
   * because stored blocks are never mutated in place: reads copy out
   * (peek) and writes replace the block's array.
   */
  pokeShared(block: number, image: Uint8Array): void {
    this.contents.set(block, image);
  }

  poke(block: number, data: Uint8Array | null): void {
    this.contents.set(block, data === null ? null : data.slice());
  }

  // -------------------------------------------------------- request queue

  /** Requests queued or in flight. */
  get busy(): number {
    return this.waiting.length + this.inflight.size;
  }

  /**
   * submit_bio: may sleep first (the throttle), then queues the request; the
   * completion runs from a timer once the request has been served.
   */
  /** Called before the submitter sleeps in the throttle (the kernel checks invariant B there). */
  onIoSleep: ((t: Task) => void) | null = null;

  *submit(t: Task, bio: Bio): Gen<void> {
    if (this.throttleNs > 0) {
      this.onIoSleep?.(t);
      // blkcg_maybe_throttle_current sleeps TASK_KILLABLE (a killed task is let through).
      const d = t.enter('blk_throttle_bio');
      yield* this.sim.sleepNs(this.throttleNs, TaskState.Killable);
      t.leave(d);
    }
    if (bio.op === BioOp.Read) this.readsSubmitted++;
    else this.writesSubmitted++;
    this.sim.event(t, bio.op === BioOp.Read ? 'bio:read' : 'bio:write', bio.block);
    if (this.inflight.size < this.queueDepthMax) this.dispatch(bio);
    else {
      if (this.waiting.length >= QUEUE_LENGTH_MAX) throw new Error('block request queue overflow');
      this.waiting.push(bio);
    }
  }

  private dispatch(bio: Bio): void {
    const id = this.nextBioId++;
    this.inflight.set(id, bio);
    this.sim.addTimer(this.sim.nowNs + this.latencyNs, this, id);
  }

  /** A request was served (TimerTarget): complete it, then dispatch the next queued one. */
  onTimer(id: number): void {
    const bio = this.inflight.get(id);
    if (bio === undefined) throw new Error(`completion of unknown bio ${id}`);
    this.inflight.delete(id);
    if (bio.op === BioOp.Read) {
      this.readsCompleted++;
      if (this.readErrorRate > 0 && this.sim.faultsEnabled && this.sim.chance(Stream.Fault, this.readErrorRate)) {
        bio.error = true;
        bio.data = null;
      } else {
        bio.data = this.peek(bio.block);
      }
    } else {
      this.writesCompleted++;
      this.contents.set(bio.block, bio.data);
    }
    this.sim.event(null, bio.op === BioOp.Read ? 'bio:read-done' : 'bio:write-done', bio.block);
    bio.endIo(bio);
    const next = this.waiting.shift();
    if (next !== undefined) this.dispatch(next);
  }
}
