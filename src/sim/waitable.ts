// Anything a task can sleep on: a lock, a wait queue, a completion, a timer.
// The deadlock detector walks the wait-for graph through waitOwners(); a
// fatal signal takes a killable sleeper off its queue through cancelWait().

import type { Task } from './task.js';

export interface Waitable {
  /** Short name for reports: a lock class ("&mm->mmap_lock"), "page lock", a queue name. */
  readonly waitName: string;
  /**
   * Append the tasks the waiter waits for (lock owners, tasks queued ahead of it
   * that will own the lock first, the task expected to complete a completion).
   * Nothing when no owner is known: such waits are invisible to the wait-for graph.
   */
  waitOwners(waiter: Task, out: Task[]): void;
  /** Where `owner` took the lock (its innermost interesting frame then), for reports. */
  heldWhere(owner: Task): string;
  /** Remove `t` from the queue: its sleep was cut short (fatal signal, timeout). */
  cancelWait(t: Task): void;
}
