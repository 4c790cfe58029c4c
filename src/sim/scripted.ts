// The preemption-list strategy: an explicit, short schedule a person can
// read and a minimizer can shrink. Tasks run non-preemptively -- the running
// task keeps the CPU until it blocks or exits, then the lowest-id runnable
// task runs -- except at the listed points, where the scheduler switches to
// a named task.
//
// A point is "after task T's k-th step" (its k-th resumption: every `yield`
// of a task ends one of its steps). Steps are counted per task, so removing
// calls from *other* tasks leaves a point where it was, and tasks are named
// (p0.t1, kernel thread names), so the list survives renumbering. The
// switch happens at the first scheduling choice at or after that step (a
// step taken while the task was the only runnable one, or inside a spinlock,
// offers no choice). Text form, one whitespace-free token for the program
// header:
//
//   preempt                         non-preemptive, no switches
//   preempt:p0.t0@3>p1.t0,p1.t0@9>p0.t0
//                                   after p0.t0's 3rd step run p1.t0; after
//                                   p1.t0's 9th step run p0.t0
//   preempt:start>p1.t0             the very first choice (no task running)
//
// A switch to a task that is not runnable then is skipped. PreemptionRecorder
// turns any recorded run into such a list: every choice that differs from
// the non-preemptive default (a switch away from a still-runnable task, or
// not the lowest-id task when the running one blocked) becomes an entry.
//
// Strategies are only consulted when there is a choice, so a task's steps
// are reconstructed at each consultation from the tasks' last-run steps:
// exact unless, between two consultations, one task ran twice with another
// in between (then the split between them is off; deterministically so).

import type { Strategy } from './strategy.js';
import type { Task } from './task.js';

export interface Preemption {
  /** The running task, or null for the first choice of the run ("start"). */
  readonly task: string | null;
  /** After the running task's k-th step (1-based); 0 for "start". */
  readonly point: number;
  /** The task to switch to. */
  readonly to: string;
}

const NAME = /^[^\s@>,]+$/;

/** Parse "preempt" / "preempt:entry,entry,..." (throws on a malformed spec). */
export function parsePreemptions(spec: string): Preemption[] {
  if (spec === 'preempt' || spec === 'preempt:') return [];
  if (!spec.startsWith('preempt:')) throw new Error(`not a preemption list: '${spec}'`);
  const out: Preemption[] = [];
  for (const item of spec.slice('preempt:'.length).split(',')) {
    const start = /^start>([^\s@>,]+)$/.exec(item);
    if (start) {
      out.push({ task: null, point: 0, to: start[1]! });
      continue;
    }
    const m = /^([^\s@>,]+)@([1-9]\d*)>([^\s@>,]+)$/.exec(item);
    if (!m) throw new Error(`bad preemption '${item}' in '${spec}' (expected TASK@K>TASK, e.g. p0.t0@3>p1.t0)`);
    out.push({ task: m[1]!, point: Number(m[2]), to: m[3]! });
  }
  return out;
}

/** The header token for a list ("preempt" when empty). */
export function formatPreemptions(list: readonly Preemption[]): string {
  if (list.length === 0) return 'preempt';
  return 'preempt:' + list.map((p) => {
    if (!NAME.test(p.to) || (p.task !== null && !NAME.test(p.task))) throw new Error(`task name not writable in a preemption list: ${p.task} > ${p.to}`);
    return p.task === null ? `start>${p.to}` : `${p.task}@${p.point}>${p.to}`;
  }).join(',');
}

/** The non-preemptive choice: the running task if still runnable, else the lowest id. */
export function nonPreemptivePick(runnable: readonly Task[], n: number, last: Task | null): number {
  if (last !== null && last.runIdx >= 0 && last.runIdx < n && runnable[last.runIdx] === last) return last.runIdx;
  let best = 0;
  for (let i = 1; i < n; i++) if (runnable[i]!.id < runnable[best]!.id) best = i;
  return best;
}

function indexOf(t: Task | undefined, runnable: readonly Task[], n: number): number {
  return t !== undefined && t.runIdx >= 0 && t.runIdx < n && runnable[t.runIdx] === t ? t.runIdx : -1;
}

/**
 * Per-task step counts, brought up to date at each consultation of the
 * strategy: the steps since the previous consultation went to the tasks
 * that ran in between, in the order of their last-run steps.
 */
class StepCounter {
  readonly steps: number[] = [];
  private readonly tasks: Task[] = [];
  private seen = 0;
  private readonly ran: Task[] = [];

  reset(): void {
    this.steps.length = 0;
    this.tasks.length = 0;
    this.seen = 0;
  }

  add(t: Task): void {
    this.tasks.push(t);
    this.steps[t.id] = 0;
  }

  update(step: number): void {
    if (step <= this.seen) return;
    const ran = this.ran;
    ran.length = 0;
    for (const t of this.tasks) if (t.lastRunStep > this.seen) ran.push(t);
    if (ran.length > 1) ran.sort((a, b) => a.lastRunStep - b.lastRunStep);
    let prev = this.seen;
    for (const t of ran) {
      this.steps[t.id] += t.lastRunStep - prev;
      prev = t.lastRunStep;
    }
    this.seen = step;
  }
}

/** Non-preemptive scheduling with listed switches. Reusable across runs. */
export class ScriptedStrategy implements Strategy {
  readonly name: string;
  /** Per task name: its entries in step order. */
  private readonly byTask = new Map<string, Preemption[]>();
  private readonly startTo: string | null;
  private readonly counter = new StepCounter();
  /** Per task id: its entries and how many have been passed. */
  private script: (Preemption[] | undefined)[] = [];
  private next: number[] = [];
  private tasks = new Map<string, Task>();

  constructor(readonly preemptions: readonly Preemption[]) {
    this.name = formatPreemptions(preemptions);
    let start: string | null = null;
    for (const p of preemptions) {
      if (p.task === null) {
        start = p.to;
        continue;
      }
      let l = this.byTask.get(p.task);
      if (l === undefined) this.byTask.set(p.task, (l = []));
      l.push(p);
    }
    for (const l of this.byTask.values()) l.sort((a, b) => a.point - b.point);
    this.startTo = start;
  }

  static parse(spec: string): ScriptedStrategy {
    return new ScriptedStrategy(parsePreemptions(spec));
  }

  begin(): void {
    this.counter.reset();
    this.script = [];
    this.next = [];
    this.tasks = new Map();
  }

  onSpawn(t: Task): void {
    this.counter.add(t);
    this.tasks.set(t.name, t);
    this.script[t.id] = this.byTask.get(t.name);
    this.next[t.id] = 0;
  }

  pick(runnable: readonly Task[], n: number, last: Task | null, step: number): number {
    let want: string | undefined;
    // Counted at every consultation, exactly as the recorder counts.
    this.counter.update(step);
    if (last === null) want = this.startTo ?? undefined;
    else {
      const list = this.script[last.id];
      if (list !== undefined) {
        const k = this.counter.steps[last.id]!;
        let i = this.next[last.id]!;
        // Every entry at or before this step is due; the latest one wins.
        while (i < list.length && list[i]!.point <= k) want = list[i++]!.to;
        this.next[last.id] = i;
      }
    }
    if (want !== undefined) {
      const i = indexOf(this.tasks.get(want), runnable, n);
      if (i >= 0) return i;
    }
    return nonPreemptivePick(runnable, n, last);
  }

  end(): void {}
}

/**
 * Follows a recorded run -- `runnerAt(step)` is the id of the task that ran
 * scheduler step `step` -- and writes its choices down as a preemption list.
 * Run under the same seed as the recording, it reproduces that run exactly;
 * `diverged` is set if a recorded task was not runnable when asked for.
 */
export class PreemptionRecorder implements Strategy {
  readonly name = 'record-preemptions';
  readonly preemptions: Preemption[] = [];
  diverged = false;
  private readonly counter = new StepCounter();

  constructor(private readonly runnerAt: (step: number) => number) {}

  begin(): void {
    this.preemptions.length = 0;
    this.counter.reset();
    this.diverged = false;
  }

  onSpawn(t: Task): void {
    this.counter.add(t);
  }

  pick(runnable: readonly Task[], n: number, last: Task | null, step: number): number {
    this.counter.update(step);
    const want = this.runnerAt(step + 1);
    let i = -1;
    for (let j = 0; j < n; j++) if (runnable[j]!.id === want) i = j;
    const def = nonPreemptivePick(runnable, n, last);
    if (i < 0) {
      this.diverged = true;
      return def;
    }
    if (i !== def) {
      const to = runnable[i]!.name;
      this.preemptions.push(last === null ? { task: null, point: 0, to } : { task: last.name, point: this.counter.steps[last.id]!, to });
    }
    return i;
  }

  end(): void {}
}
