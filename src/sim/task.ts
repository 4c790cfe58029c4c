// A simulated task: one user thread or kernel thread. Its body is a generator;
// every `yield` is a point where the scheduler may switch to another task.

import type { Waitable } from './waitable.js';
import type { HeldLock } from './lockdep.js';
import type { LockAcquire } from './locks.js';

/** A body that can block. Only code that can block is a generator. */
export type Gen<R = void> = Generator<undefined, R, undefined>;

/**
 * What a call that blocks only sometimes returns: its result, when it got
 * through without a scheduling point (the fast path: every page present, no
 * fault), or a generator for the rest of the work, which the caller
 * delegates to:
 *
 *     let r = copyToUser(...);
 *     if (typeof r !== 'number') r = yield* r;
 *
 * A generator object and a level of delegation cost more than most fast
 * paths (a page-table walk and a copy): the fuzz loop's most frequent
 * call, a load from user memory, and the copy in read() finish without one
 * nearly every time. For numeric results only, so that `typeof` tells the
 * two apart.
 */
export type MaybeGen = number | Gen<number>;

/** Task states, as Linux names them (TASK_RUNNING covers running and runnable). */
export enum TaskState {
  Runnable = 0,
  /** TASK_UNINTERRUPTIBLE: `D` in ps; the only state khungtaskd looks at. */
  Uninterruptible = 1,
  /** TASK_KILLABLE: uninterruptible, but a fatal signal wakes it. */
  Killable = 2,
  /** TASK_INTERRUPTIBLE: any signal wakes it (we model fatal signals only). */
  Interruptible = 3,
  /** Sleeping on a timer only (nanosleep, schedule_timeout_interruptible). */
  TimedSleep = 4,
  Exited = 5,
}

export const TASK_STATE_LETTER = ['R', 'D', 'D(killable)', 'S', 'S(timer)', 'X'] as const;

/** Result of a sleep that was cut short by a fatal signal (the kernel's -EINTR). */
export const WAIT_INTERRUPTED = -4;

export class Task {
  state: TaskState = TaskState.Runnable;
  /** Index in the scheduler's runnable array, -1 when not runnable. */
  runIdx = -1;
  /** What the task sleeps on; null when runnable. */
  waitingOn: Waitable | null = null;
  /** Set by the waker: 0, or WAIT_INTERRUPTED. */
  waitResult = 0;
  /** For lost-wakeup detection: the condition the sleeper waits for, if known. */
  wakeCond: (() => boolean) | null = null;
  fatalPending = false;
  /** Kernel function names, innermost last (entered/left by kernel code). */
  readonly stack: string[] = [];
  /** lockdep's held-lock stack. */
  readonly held: HeldLock[] = [];
  /** Spinlocks held / preemption disabled: sleeping here is a bug. */
  atomicDepth = 0;
  rcuDepth = 0;
  /** Virtual time at which the current sleep began. */
  sleepSinceNs = 0;
  /** Scheduler step at which the current sleep began. */
  sleepSinceStep = 0;
  /** Steps spent asleep after the liveness phase's cutoff (Sim.checkStarvedAtBudget). */
  sleptAfterCutoff = 0;
  /** Timer that will wake this task, if any (index into the timer heap's node). */
  timerSeq = -1;
  /** Strategy data: PCT priority. */
  priority = 0;
  /** Last scheduler step at which the task ran (fair scheduling). */
  lastRunStep = 0;
  /** The operation in progress (a syscall, for the kernel) and when it began. */
  opName: string;
  opStartNs: number;
  opStartStep = 0;
  /** The trace's id for the operation's name, interned at opBegin (-1: none), and the name it is for. */
  opNameId = -1;
  opNameIdOf = '';
  /** Scratch mark for graph walks (generation number). */
  mark = 0;
  exitValue: unknown = undefined;
  /** Context switches (voluntary + involuntary), as khungtaskd compares. */
  switches = 0;
  gen: Gen<unknown> | null = null;
  /** The iterator its sleeping-lock acquisitions reuse (see LockAcquire in locks.ts). */
  lockOp: LockAcquire | null = null;

  constructor(
    readonly id: number,
    readonly name: string,
    /** Daemon tasks (kernel threads, FUSE servers) do not keep a run alive. */
    readonly daemon: boolean,
    nowNs: number,
  ) {
    this.opName = name;
    this.opStartNs = nowNs;
  }

  /** Enter a kernel function: returns the depth to pass to leave(). */
  enter(fn: string): number {
    this.stack.push(fn);
    return this.stack.length - 1;
  }

  /** Leave back to a depth returned by enter() (robust to early returns below it). */
  leave(depth: number): void {
    // pop() rather than a length store: usually one frame goes, and a length
    // store is a runtime call in V8, pop() an inlined fast path.
    const s = this.stack;
    while (s.length > depth) s.pop();
  }

  /** Innermost frame that is not a generic lock/wait primitive (syzkaller's rule). */
  where(): string {
    const s = this.stack;
    for (let i = s.length - 1; i >= 0; i--) {
      const fn = s[i]!;
      if (!GENERIC_FRAMES.has(fn)) return fn;
    }
    return this.name;
  }

  /**
   * Outermost frame below the system-call entry and generic dispatch
   * (__x64_sys_*, vfs_*, ksys_*): the function an operation is stuck *in*
   * when it loops. Stable for a livelock, where the innermost frame is
   * wherever the task happened to be.
   */
  outerWhere(): string {
    for (const fn of this.stack) {
      if (GENERIC_FRAMES.has(fn) || fn.startsWith('__x64_sys_') || fn.startsWith('vfs_') || fn.startsWith('ksys_')) continue;
      return fn;
    }
    return this.where();
  }

  get sleeping(): boolean {
    return this.state !== TaskState.Runnable && this.state !== TaskState.Exited;
  }

  toString(): string {
    return `${this.name}/${this.id}`;
  }
}

/**
 * Frames a report skips when it names where a task is, as syzkaller's report
 * parser skips lock and wait primitives. A fixed table: it is configuration,
 * not simulation state.
 */
const GENERIC_FRAMES = new Set<string>([
  'schedule', 'schedule_timeout', 'io_schedule', 'msleep', 'might_sleep',
  'mutex_lock', 'mutex_lock_killable', '__mutex_lock', 'mutex_lock_nested',
  'down_read', 'down_write', 'down_read_killable', 'down_write_killable',
  'rwsem_down_read_slowpath', 'rwsem_down_write_slowpath',
  'lock_page', '__lock_page', '__lock_page_killable', '__folio_lock', '__folio_lock_killable',
  'wait_on_page_bit', 'wait_on_page_bit_common', 'folio_wait_bit_common',
  'wait_for_completion', 'wait_for_completion_killable', 'wait_event', 'prepare_to_wait',
  'spin_lock', 'lock_acquire',
]);

export function isGenericFrame(name: string): boolean {
  return GENERIC_FRAMES.has(name);
}
