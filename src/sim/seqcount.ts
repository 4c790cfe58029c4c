// seqcount_t and RCU read-side sections.

import type { Task } from './task.js';
import type { LockClass } from './lockdep.js';
import type { Sim } from './sim.js';

/**
 * A sequence counter: writers make it odd for the duration of a change;
 * readers sample it and retry (or abort) if it moved. A writer never blocks
 * anyone. The annotated write side is a lock to lockdep (write_seqcount_begin
 * -> seqcount_acquire), the raw side is invisible to it (raw_write_seqcount_begin):
 * which one kernel code uses decides what lockdep can see (seed 002).
 */
export class Seqcount {
  seq = 0;
  readonly cls: LockClass;

  constructor(private readonly sim: Sim, readonly name: string) {
    this.cls = sim.lockdep.classFor(name);
  }

  writeBegin(t: Task, subclass = 0): void {
    this.sim.lockdep.acquire(t, this.cls, subclass, 0, false, this);
    this.seq++;
  }

  writeEnd(t: Task): void {
    this.seq++;
    this.sim.lockdep.release(t, this, this.cls);
  }

  rawWriteBegin(): void {
    this.seq++;
  }

  rawWriteEnd(): void {
    this.seq++;
  }

  /** read_seqcount_begin without waiting: the caller checks for an odd value. */
  rawReadBegin(): number {
    return this.seq;
  }

  /** read_seqcount_begin with lockdep's reader annotation (a recursive read). */
  readBegin(t: Task): number {
    this.sim.lockdep.acquire(t, this.cls, 0, 2, false, this);
    this.sim.lockdep.release(t, this, this.cls);
    return this.seq;
  }

  readRetry(start: number): boolean {
    return (start & 1) !== 0 || this.seq !== start;
  }

  get writing(): boolean {
    return (this.seq & 1) !== 0;
  }
}

/** rcu_read_lock/unlock: nesting, sleeping inside is a bug, lockdep sees a recursive reader. */
export class Rcu {
  readonly cls: LockClass;

  constructor(private readonly sim: Sim) {
    this.cls = sim.lockdep.classFor('rcu_read_lock');
  }

  readLock(t: Task): void {
    t.rcuDepth++;
    this.sim.lockdep.acquire(t, this.cls, 0, 2, false, this);
  }

  readUnlock(t: Task): void {
    this.sim.lockdep.release(t, this, this.cls);
    t.rcuDepth--;
  }
}
