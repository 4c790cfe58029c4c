// wait_queue_head_t and struct completion.

import { TaskState, WAIT_INTERRUPTED, type Gen, type Task } from './task.js';
import type { Waitable } from './waitable.js';
import type { Sim } from './sim.js';
import { removeAt } from './arrays.js';

interface Entry {
  readonly t: Task;
  readonly exclusive: boolean;
}

/**
 * A wait queue with exclusive and non-exclusive waiters. Non-exclusive
 * entries go at the head, exclusive ones at the tail (add_wait_queue /
 * add_wait_queue_exclusive); wake_up wakes every non-exclusive waiter and up to
 * nr exclusive ones, removing them (autoremove_wake_function).
 */
export class WaitQueue implements Waitable {
  private readonly entries: Entry[] = [];
  /** The task expected to wake the waiters, if known (e.g. a server): feeds the wait-for graph. */
  owner: Task | null = null;
  ownerWhere = '';

  constructor(private readonly sim: Sim, readonly waitName: string) {}

  get length(): number {
    return this.entries.length;
  }

  /** prepare_to_wait(_exclusive): queue `t` (no sleep yet). */
  add(t: Task, exclusive = false): void {
    if (this.entries.some((e) => e.t === t)) return;
    if (exclusive) this.entries.push({ t, exclusive });
    else this.entries.unshift({ t, exclusive });
  }

  /** finish_wait: dequeue `t` if still queued. */
  remove(t: Task): void {
    const i = this.entries.findIndex((e) => e.t === t);
    if (i >= 0) removeAt(this.entries, i);
  }

  /**
   * wait_event in the given sleep state: the condition is re-checked after
   * queueing and before sleeping, so a wake-up between check and sleep cannot
   * be lost. Returns 0, or WAIT_INTERRUPTED for a killable/interruptible wait
   * cut short by a fatal signal.
   */
  *waitEvent(cond: () => boolean, state: TaskState = TaskState.Uninterruptible, exclusive = false): Gen<number> {
    yield; // might_sleep()
    if (cond()) return 0;
    const sim = this.sim;
    const t = sim.current!;
    const d = t.enter('wait_event');
    for (;;) {
      this.add(t, exclusive);
      if (cond()) {
        this.remove(t);
        break;
      }
      sim.block(t, state, this, cond);
      yield;
      if (t.waitResult === WAIT_INTERRUPTED) {
        t.leave(d);
        return WAIT_INTERRUPTED;
      }
      if (cond()) break;
    }
    t.leave(d);
    return 0;
  }

  /** wake_up / wake_up_nr: returns how many tasks were woken. */
  wakeUp(nrExclusive = 1): number {
    let woken = 0;
    for (let i = 0; i < this.entries.length; ) {
      const e = this.entries[i]!;
      if (e.exclusive && nrExclusive <= 0) break;
      removeAt(this.entries, i);
      if (this.sim.wake(e.t, 0)) woken++;
      if (e.exclusive) nrExclusive--;
    }
    return woken;
  }

  wakeUpAll(): number {
    return this.wakeUp(Number.MAX_SAFE_INTEGER);
  }

  waitOwners(_w: Task, out: Task[]): void {
    if (this.owner !== null) out.push(this.owner);
  }

  heldWhere(): string {
    return this.ownerWhere;
  }

  cancelWait(t: Task): void {
    this.remove(t);
  }
}

/** struct completion: complete() lets one waiter through, complete_all() all of them for good. */
export class Completion implements Waitable {
  private done = 0;
  private readonly waiters: Task[] = [];
  /** The task expected to complete it, if known. */
  owner: Task | null = null;

  constructor(private readonly sim: Sim, readonly waitName = 'completion') {}

  /** wait_for_completion (uninterruptible) or _killable. */
  *wait(killable = false): Gen<number> {
    yield;
    if (this.done > 0) {
      if (this.done !== Infinity) this.done--;
      return 0;
    }
    const sim = this.sim;
    const t = sim.current!;
    const d = t.enter(killable ? 'wait_for_completion_killable' : 'wait_for_completion');
    this.waiters.push(t);
    sim.block(t, killable ? TaskState.Killable : TaskState.Uninterruptible, this, () => this.done > 0);
    yield;
    t.leave(d);
    return t.waitResult;
  }

  complete(): void {
    const t = this.waiters.shift();
    if (t !== undefined) this.sim.wake(t, 0);
    else if (this.done !== Infinity) this.done++;
  }

  completeAll(): void {
    this.done = Infinity;
    for (const t of this.waiters.splice(0)) this.sim.wake(t, 0);
  }

  get completed(): boolean {
    return this.done > 0;
  }

  waitOwners(_w: Task, out: Task[]): void {
    if (this.owner !== null) out.push(this.owner);
  }

  heldWhere(): string {
    return this.owner ? this.owner.where() : '?';
  }

  cancelWait(t: Task): void {
    const i = this.waiters.indexOf(t);
    if (i >= 0) removeAt(this.waiters, i);
  }
}
