// Page-bit style locks and waits (PG_locked): lock_page, lock_page_killable,
// trylock_page, unlock_page, wait_on_page_locked. Not lockdep-tracked, as in
// Linux; unlike Linux, the simulator records the owner so the wait-for graph
// can see a task waiting on a page it locked itself (seed 000).
//
// One BitLock per page, so it stays small: the wait queue is allocated only
// when contended (Linux hashes page waitqueues for the same reason) and the
// simulator is passed in rather than stored.

import { TaskState, WAIT_INTERRUPTED, type Gen, type Task } from './task.js';
import type { Waitable } from './waitable.js';
import type { Sim } from './sim.js';
import { Ev } from './trace.js';
import { SimAssertionError } from './report.js';
import { removeAt } from './arrays.js';
import { acquisition, YIELDED, type LockAcquire } from './locks.js';

interface BitWaiter {
  readonly t: Task;
  /** Exclusive waiters want the lock; the others only wait for it to be released. */
  readonly exclusive: boolean;
}

export class BitLock implements Waitable {
  locked = false;
  owner: Task | null = null;
  ownerWhere = '';
  private q: BitWaiter[] | null = null;

  /** Name in reports; a subclass (the kernel's page) overrides it. */
  get waitName(): string {
    return 'bit lock';
  }

  /** trylock_page. */
  trylock(sim: Sim, t: Task): boolean {
    if (this.locked) return false;
    this.take(sim, t);
    return true;
  }

  /**
   * lock_page (uninterruptible) or __lock_page_killable: 0 or WAIT_INTERRUPTED.
   * The task's acquisition iterator runs it (see LockAcquire), as for a mutex.
   */
  lock(sim: Sim, killable = false): Gen<number> {
    return acquisition(sim, this, 0, false, killable);
  }

  /** One step of lock() (see LockAcquire): a preemption point, then the lock or a sleep until the unlocker hands it over. */
  acquireStep(op: LockAcquire): IteratorResult<undefined, number> {
    if (op.state === 0) {
      op.state = 1;
      return YIELDED; // might_sleep()
    }
    const sim = op.sim!;
    if (op.state === 1) {
      const t = (op.t = sim.current!);
      if (!this.locked) {
        this.take(sim, t);
        return op.finish(false);
      }
      sim.traceLock(Ev.Contend, t, this.waitName);
      sim.noteContention(this.waitName, t, this.ownerWhere);
      op.depth = t.enter(op.killable ? '__lock_page_killable' : '__lock_page');
      t.enter('wait_on_page_bit_common');
      (this.q ??= []).push({ t, exclusive: true });
      sim.block(t, op.killable ? TaskState.Killable : TaskState.Uninterruptible, this);
      op.state = 2;
      return YIELDED;
    }
    const t = op.t!;
    t.leave(op.depth);
    if (t.waitResult === WAIT_INTERRUPTED) return op.finish(true);
    if (this.owner !== t) throw new SimAssertionError(`${this.waitName}: ${t} woken without the lock`);
    sim.traceLock(Ev.Acquire, t, this.waitName);
    return op.finish(false);
  }

  private take(sim: Sim, t: Task): void {
    this.locked = true;
    this.owner = t;
    this.ownerWhere = t.where();
    sim.traceLock(Ev.Acquire, t, this.waitName);
  }

  /**
   * unlock_page: wakes every non-exclusive waiter and hands the lock to the
   * first exclusive one. Any task may unlock (I/O completion unlocks pages
   * locked by the reader), so the owner is not checked.
   */
  unlock(sim: Sim): void {
    if (!this.locked) throw new SimAssertionError(`unlock of an unlocked ${this.waitName}`);
    const t = sim.current;
    if (t !== null) sim.traceLock(Ev.Release, t, this.waitName);
    const q = this.q;
    let next: Task | null = null;
    if (q !== null && q.length > 0) {
      for (let i = 0; i < q.length; ) {
        const w = q[i]!;
        if (!w.exclusive) {
          removeAt(q, i);
          sim.wake(w.t, 0);
        } else if (next === null) {
          next = w.t;
          removeAt(q, i);
        } else i++;
      }
    }
    if (next === null) {
      this.locked = false;
      this.owner = null;
      return;
    }
    this.owner = next;
    this.ownerWhere = next.where();
    sim.wake(next, 0);
  }

  /**
   * wait_on_page_locked: returns once woken by an unlock (even if the lock was
   * handed on meanwhile, as Linux's non-exclusive page waiters do).
   */
  *waitUnlocked(sim: Sim, killable = false): Gen<number> {
    yield;
    if (!this.locked) return 0;
    const t = sim.current!;
    const d = t.enter('wait_on_page_bit_common');
    (this.q ??= []).push({ t, exclusive: false });
    sim.block(t, killable ? TaskState.Killable : TaskState.Uninterruptible, this);
    yield;
    t.leave(d);
    return t.waitResult;
  }

  get waiters(): number {
    return this.q === null ? 0 : this.q.length;
  }

  waitOwners(_w: Task, out: Task[]): void {
    if (this.locked && this.owner !== null) out.push(this.owner);
  }

  heldWhere(): string {
    return this.ownerWhere;
  }

  cancelWait(t: Task): void {
    const q = this.q;
    if (q === null) return;
    const i = q.findIndex((w) => w.t === t);
    if (i >= 0) removeAt(q, i);
  }
}
