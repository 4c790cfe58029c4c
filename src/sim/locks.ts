// Sleeping and spinning locks with Linux semantics: spinlock_t, struct mutex,
// struct rw_semaphore. Every acquisition is a preemption point (might_sleep),
// records the lockdep dependency *before* waiting (as lock_acquire does), and
// hands the lock directly to the next waiter in FIFO order on release, so
// there is no lock stealing and the outcome depends only on the schedule.

import { TaskState, WAIT_INTERRUPTED, type Gen, type Task } from './task.js';
import type { Waitable } from './waitable.js';
import type { LockClass } from './lockdep.js';
import type { Sim } from './sim.js';
import { Ev } from './trace.js';
import { SimAssertionError } from './report.js';
import { removeAt } from './arrays.js';
import type { BitLock } from './bitlock.js';

/**
 * spinlock_t. Holding one disables preemption: the scheduler does not switch
 * away from the holder, and sleeping while holding it is reported as
 * "BUG: sleeping function called from invalid context". Taking it is not a
 * generator: since its holder is never preempted, it is never contended
 * unless the holder slept (already a reported bug).
 */
export class Spinlock {
  holder: Task | null = null;
  readonly cls: LockClass;

  constructor(private readonly sim: Sim, readonly name: string) {
    this.cls = sim.lockdep.classFor(name);
  }

  lock(t: Task, subclass = 0): void {
    this.sim.lockdep.acquire(t, this.cls, subclass, 0, false, this);
    if (this.holder !== null) {
      throw new SimAssertionError(`spinlock ${this.name} taken by ${t} while held by ${this.holder} (its holder slept)`);
    }
    this.holder = t;
    t.atomicDepth++;
  }

  unlock(t: Task): void {
    this.sim.lockdep.release(t, this, this.cls);
    if (this.holder !== t) return;
    this.holder = null;
    t.atomicDepth--;
  }
}

// ------------------------------------------------------------ acquisition

/** A preemption point's iterator result: shared, never written. */
export const YIELDED: IteratorYieldResult<undefined> = Object.freeze({ value: undefined, done: false });
const ACQUIRED: IteratorReturnResult<number> = Object.freeze({ value: 0, done: true });
const INTERRUPTED: IteratorReturnResult<number> = Object.freeze({ value: WAIT_INTERRUPTED, done: true });

/**
 * A sleeping lock's acquisition in progress (a mutex, an rwsem, or a page
 * lock: BitLock.lock), as the iterator that `yield* m.lock()` runs: step
 * for step what a generator did (a preemption point, then the lock, or a
 * sleep until the unlocker hands it over), without a generator object and
 * two result objects per acquisition
 * -- the largest allocation of a run after the generators of the calls
 * themselves. A task takes one lock at a time, so it keeps one of these
 * (Task.lockOp) and reuses it once the last acquisition finished.
 */
export class LockAcquire implements Gen<number> {
  lock: Mutex | RwSemaphore | BitLock | null = null;
  subclass = 0;
  write = false;
  killable = false;
  /** 0: before the preemption point; 1: taking the lock; 2: asleep on it. */
  state = 0;
  /** The acquiring task, from the step that found it (sim.current then). */
  t: Task | null = null;
  /** Its stack depth before the down/mutex_lock/__lock_page frame of a sleep. */
  depth = 0;
  /** The simulator (a page lock does not keep it). */
  sim: Sim | null = null;

  get busy(): boolean {
    return this.lock !== null;
  }

  init(sim: Sim, lock: Mutex | RwSemaphore | BitLock, subclass: number, write: boolean, killable: boolean): this {
    this.sim = sim;
    this.lock = lock;
    this.subclass = subclass;
    this.write = write;
    this.killable = killable;
    this.state = 0;
    this.t = null;
    return this;
  }

  /** The acquisition's end: 0, or WAIT_INTERRUPTED if a fatal signal ended the sleep. */
  finish(interrupted: boolean): IteratorReturnResult<number> {
    this.lock = null;
    this.t = null;
    return interrupted ? INTERRUPTED : ACQUIRED;
  }

  next(): IteratorResult<undefined, number> {
    const lock = this.lock;
    // After it finished, as a finished generator: done, no value.
    if (lock === null) return { value: undefined as unknown as number, done: true };
    return lock.acquireStep(this);
  }

  return(value: number): IteratorResult<undefined, number> {
    this.lock = null;
    return { value, done: true };
  }

  throw(e: unknown): IteratorResult<undefined, number> {
    this.lock = null;
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** The acquisition iterator for the current task: its own, unless that one is in use (then a new one). */
export function acquisition(sim: Sim, lock: Mutex | RwSemaphore | BitLock, subclass: number, write: boolean, killable: boolean): LockAcquire {
  const t = sim.current;
  let op = t !== null ? t.lockOp : null;
  if (op === null || op.busy) {
    op = new LockAcquire();
    if (t !== null && t.lockOp === null) t.lockOp = op;
  }
  return op.init(sim, lock, subclass, write, killable);
}

/** struct mutex: one owner, FIFO waiters, direct handoff. */
export class Mutex implements Waitable {
  owner: Task | null = null;
  ownerWhere = '';
  private readonly waiters: Task[] = [];
  readonly cls: LockClass;
  /** The trace's id for the name, interned at first use (first-use order keeps the trace hash). */
  private nameId = -1;

  constructor(private readonly sim: Sim, readonly name: string) {
    this.cls = sim.lockdep.classFor(name);
  }

  private traceId(): number {
    return this.nameId >= 0 ? this.nameId : (this.nameId = this.sim.trace.intern(this.name));
  }

  get waitName(): string {
    return this.name;
  }

  // The entry points hand out the task's acquisition iterator (LockAcquire),
  // which calls acquireStep; its result is 0 on success.

  /** mutex_lock (TASK_UNINTERRUPTIBLE). */
  lock(subclass = 0): Gen<number> {
    return acquisition(this.sim, this, subclass, false, false);
  }

  /** mutex_lock_killable: 0, or WAIT_INTERRUPTED if a fatal signal arrived. */
  lockKillable(subclass = 0): Gen<number> {
    return acquisition(this.sim, this, subclass, false, true);
  }

  /** One step of an acquisition (see LockAcquire): a preemption point, then the lock or a sleep until it is handed over. */
  acquireStep(op: LockAcquire): IteratorResult<undefined, number> {
    const sim = this.sim;
    if (op.state === 0) {
      op.state = 1;
      return YIELDED; // might_sleep(): a preemption point
    }
    if (op.state === 1) {
      const t = (op.t = sim.current!);
      sim.lockdep.acquire(t, this.cls, op.subclass, 0, false, this);
      if (this.owner === null && this.waiters.length === 0) {
        this.owner = t;
        this.ownerWhere = t.where();
        sim.traceLockId(Ev.Acquire, t, this.traceId());
        return op.finish(false);
      }
      sim.traceLockId(Ev.Contend, t, this.traceId());
      sim.noteContention(this.name, t, this.ownerWhere);
      op.depth = t.enter(op.killable ? 'mutex_lock_killable' : 'mutex_lock');
      this.waiters.push(t);
      sim.block(t, op.killable ? TaskState.Killable : TaskState.Uninterruptible, this);
      op.state = 2;
      return YIELDED;
    }
    const t = op.t!;
    t.leave(op.depth);
    if (t.waitResult === WAIT_INTERRUPTED) {
      sim.lockdep.release(t, this, this.cls);
      return op.finish(true);
    }
    if (this.owner !== t) throw new SimAssertionError(`mutex ${this.name}: ${t} woken without the lock`);
    sim.traceLockId(Ev.Acquire, t, this.traceId());
    return op.finish(false);
  }

  trylock(t: Task): boolean {
    if (this.owner !== null || this.waiters.length > 0) return false;
    this.sim.lockdep.acquire(t, this.cls, 0, 0, true, this);
    this.owner = t;
    this.ownerWhere = t.where();
    this.sim.traceLockId(Ev.Acquire, t, this.traceId());
    return true;
  }

  unlock(t: Task): void {
    this.sim.lockdep.release(t, this, this.cls);
    if (this.owner !== t) return; // reported by lockdep as a bad unlock balance
    this.sim.traceLockId(Ev.Release, t, this.traceId());
    const next = this.waiters.shift();
    if (next === undefined) {
      this.owner = null;
      return;
    }
    this.owner = next;
    this.ownerWhere = next.where();
    this.sim.wake(next, 0);
  }

  isLocked(): boolean {
    return this.owner !== null;
  }

  waitOwners(_w: Task, out: Task[]): void {
    if (this.owner !== null) out.push(this.owner);
  }

  heldWhere(): string {
    return this.ownerWhere;
  }

  cancelWait(t: Task): void {
    const i = this.waiters.indexOf(t);
    if (i >= 0) removeAt(this.waiters, i);
  }
}

interface RwWaiter {
  readonly t: Task;
  readonly write: boolean;
}

/**
 * struct rw_semaphore, writer-fair: once a writer is queued, newly arriving
 * readers queue behind it even while readers hold the lock ("any down_write()
 * on a semaphore essentially turns it into a mutex" -- the mmap_lock priority
 * inversion of seed 001). On release the lock is handed to the queue head;
 * when that is a reader, every queued reader is woken (rwsem_mark_wake).
 */
export class RwSemaphore implements Waitable {
  writer: Task | null = null;
  writerWhere = '';
  readonly readers: Task[] = [];
  private readonly readerWheres: string[] = [];
  private readonly waiters: RwWaiter[] = [];
  readonly cls: LockClass;
  /** As Mutex.nameId. */
  private nameId = -1;

  /** `key`: the lockdep class when locks of this name have several (Lockdep.classFor). */
  constructor(private readonly sim: Sim, readonly name: string, key?: string) {
    this.cls = sim.lockdep.classFor(name, key);
  }

  private traceId(): number {
    return this.nameId >= 0 ? this.nameId : (this.nameId = this.sim.trace.intern(this.name));
  }

  get waitName(): string {
    return this.name;
  }

  get queued(): number {
    return this.waiters.length;
  }

  // As Mutex: the entry points hand out the task's acquisition iterator (0 on success).

  downRead(subclass = 0): Gen<number> {
    return acquisition(this.sim, this, subclass, false, false);
  }

  downReadKillable(subclass = 0): Gen<number> {
    return acquisition(this.sim, this, subclass, false, true);
  }

  downWrite(subclass = 0): Gen<number> {
    return acquisition(this.sim, this, subclass, true, false);
  }

  downWriteKillable(subclass = 0): Gen<number> {
    return acquisition(this.sim, this, subclass, true, true);
  }

  /** One step of an acquisition (see LockAcquire), as Mutex.acquireStep. */
  acquireStep(op: LockAcquire): IteratorResult<undefined, number> {
    const sim = this.sim;
    const write = op.write;
    if (op.state === 0) {
      op.state = 1;
      return YIELDED; // might_sleep()
    }
    if (op.state === 1) {
      const t = (op.t = sim.current!);
      sim.lockdep.acquire(t, this.cls, op.subclass, write ? 0 : 1, false, this);
      if (this.canTake(write)) {
        this.take(t, write);
        return op.finish(false);
      }
      sim.traceLockId(Ev.Contend, t, this.traceId());
      sim.noteContention(this.name, t, this.writer !== null ? this.writerWhere : this.readers.length > 0 ? this.readerWheres[0]! : 'queued-writer');
      const killable = op.killable;
      op.depth = t.enter(write ? (killable ? 'down_write_killable' : 'down_write') : killable ? 'down_read_killable' : 'down_read');
      this.waiters.push({ t, write });
      sim.block(t, killable ? TaskState.Killable : TaskState.Uninterruptible, this);
      op.state = 2;
      return YIELDED;
    }
    const t = op.t!;
    t.leave(op.depth);
    if (t.waitResult === WAIT_INTERRUPTED) {
      sim.lockdep.release(t, this, this.cls);
      return op.finish(true);
    }
    if (write ? this.writer !== t : !this.readers.includes(t)) {
      throw new SimAssertionError(`rwsem ${this.name}: ${t} woken without the lock`);
    }
    return op.finish(false);
  }

  private canTake(write: boolean): boolean {
    if (this.waiters.length > 0 || this.writer !== null) return false;
    return !write || this.readers.length === 0;
  }

  private take(t: Task, write: boolean): void {
    if (write) {
      this.writer = t;
      this.writerWhere = t.where();
    } else {
      this.readers.push(t);
      this.readerWheres.push(t.where());
    }
    this.sim.traceLockId(Ev.Acquire, t, this.traceId());
  }

  tryDownRead(t: Task): boolean {
    if (!this.canTake(false)) return false;
    this.sim.lockdep.acquire(t, this.cls, 0, 1, true, this);
    this.take(t, false);
    return true;
  }

  tryDownWrite(t: Task): boolean {
    if (!this.canTake(true)) return false;
    this.sim.lockdep.acquire(t, this.cls, 0, 0, true, this);
    this.take(t, true);
    return true;
  }

  upRead(t: Task): void {
    this.sim.lockdep.release(t, this, this.cls);
    const i = this.readers.lastIndexOf(t);
    if (i < 0) return; // not a reader: lockdep reported the bad unlock balance
    removeAt(this.readers, i);
    removeAt(this.readerWheres, i);
    this.sim.traceLockId(Ev.Release, t, this.traceId());
    if (this.readers.length === 0) this.grant();
  }

  upWrite(t: Task): void {
    this.sim.lockdep.release(t, this, this.cls);
    if (this.writer !== t) return;
    this.writer = null;
    this.sim.traceLockId(Ev.Release, t, this.traceId());
    this.grant();
  }

  /** downgrade_write: keep holding, as a reader, and let queued readers in. */
  downgradeWrite(t: Task): void {
    if (this.writer !== t) throw new SimAssertionError(`downgrade_write of ${this.name} not held for write by ${t}`);
    this.sim.lockdep.release(t, this, this.cls);
    this.sim.lockdep.acquire(t, this.cls, 0, 1, true, this);
    this.writer = null;
    this.readers.push(t);
    this.readerWheres.push(this.writerWhere);
    this.grant();
  }

  isWriteLocked(): boolean {
    return this.writer !== null;
  }

  isLocked(): boolean {
    return this.writer !== null || this.readers.length > 0;
  }

  holdsRead(t: Task): boolean {
    return this.readers.includes(t);
  }

  /** Hand the lock to the queue head; a reader at the head lets every queued reader in. */
  private grant(): void {
    if (this.waiters.length === 0 || this.writer !== null) return;
    const head = this.waiters[0]!;
    if (head.write) {
      if (this.readers.length > 0) return;
      this.waiters.shift();
      this.take(head.t, true);
      this.sim.wake(head.t, 0);
      return;
    }
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      if (w.write) {
        i++;
        continue;
      }
      removeAt(this.waiters, i);
      this.take(w.t, false);
      this.sim.wake(w.t, 0);
    }
  }

  waitOwners(_w: Task, out: Task[]): void {
    if (this.writer !== null) out.push(this.writer);
    for (const r of this.readers) out.push(r);
  }

  heldWhere(owner: Task): string {
    if (owner === this.writer) return this.writerWhere;
    const i = this.readers.indexOf(owner);
    return i >= 0 ? this.readerWheres[i]! : '?';
  }

  cancelWait(t: Task): void {
    const i = this.waiters.findIndex((w) => w.t === t);
    if (i < 0) return;
    removeAt(this.waiters, i);
    // A writer leaving the head may let the readers queued behind it in.
    if (i === 0) this.grant();
  }
}
