// Scheduler strategies. A strategy only chooses among runnable tasks; the
// simulator records each choice in the decision log, so replay never needs
// the strategy's own randomness.

import type { Task } from './task.js';
import type { Rng } from './rng.js';
import { ScriptedStrategy } from './scripted.js';
import { ascending } from './arrays.js';

export interface Strategy {
  readonly name: string;
  /** Called once at the start of each run with the run's scheduler stream. */
  begin(rng: Rng): void;
  onSpawn(t: Task): void;
  /** Choose the index of the next task in runnable[0..n). */
  pick(runnable: readonly Task[], n: number, last: Task | null, step: number): number;
  /** Called at the end of each run with the number of scheduling steps taken. */
  end(steps: number): void;
}

/** Seeded uniform random choice at every preemption point. */
export class RandomStrategy implements Strategy {
  readonly name = 'random';
  private rng: Rng | null = null;

  begin(rng: Rng): void {
    this.rng = rng;
  }
  onSpawn(): void {}
  pick(_r: readonly Task[], n: number): number {
    return n === 1 ? 0 : this.rng!.int(n);
  }
  end(): void {}
}

/**
 * PCT (Burckhardt et al., ASPLOS 2010): every task gets a random distinct
 * priority; the highest-priority runnable task always runs; at d-1 random
 * steps (change points) the running task's priority drops below all initial
 * priorities. A bug of depth d among n tasks and k steps is found with
 * probability >= 1/(n k^(d-1)) per run. k is not known in advance: named
 * pct:D:K, the strategy takes K as the estimate (the fuzzer writes its
 * estimate of the run's length into the header, so a run replays from its
 * header alone); otherwise, as shuttle and Coyote do, an object living
 * across runs estimates k from the longest run seen so far.
 */
export class PctStrategy implements Strategy {
  readonly name: string;
  private rng: Rng | null = null;
  private changePoints: number[] = [];
  private nextChange = 0;
  private readonly initialEstimate: number;
  /** Longest run observed so far (0 before the first run ends). */
  private observedMax = 0;

  /** An explicit estimate is part of the name (pct:D:K), so a program header can carry it. */
  constructor(readonly depth = 3, initialStepsEstimate?: number) {
    if (depth < 1) throw new Error('PCT depth must be >= 1');
    this.name = initialStepsEstimate === undefined ? `pct:${depth}` : `pct:${depth}:${initialStepsEstimate}`;
    this.initialEstimate = Math.max(1, initialStepsEstimate ?? 1000);
  }

  /** k: the initial guess until a run has been observed, then the longest run seen. */
  get estimatedSteps(): number {
    return this.observedMax > 0 ? this.observedMax : this.initialEstimate;
  }

  begin(rng: Rng): void {
    this.rng = rng;
    const pts: number[] = [];
    const k = this.estimatedSteps;
    for (let i = 0; i < this.depth - 1; i++) pts.push(1 + rng.int(k));
    pts.sort(ascending);
    this.changePoints = pts;
    this.nextChange = 0;
  }

  onSpawn(t: Task): void {
    // Initial priorities lie above every change-point priority (1..d-1); the
    // task id breaks ties so priorities are distinct.
    t.priority = this.depth + 1 + this.rng!.int(1 << 20) + t.id / 1e6;
  }

  pick(runnable: readonly Task[], n: number, last: Task | null, step: number): number {
    while (this.nextChange < this.changePoints.length && this.changePoints[this.nextChange]! <= step) {
      // Lower the task that was running: the i-th change point gives priority d-1-i.
      if (last !== null) last.priority = this.depth - 1 - this.nextChange;
      this.nextChange++;
    }
    let best = 0;
    let bestPrio = runnable[0]!.priority;
    for (let i = 1; i < n; i++) {
      const p = runnable[i]!.priority;
      if (p > bestPrio) {
        bestPrio = p;
        best = i;
      }
    }
    return best;
  }

  end(steps: number): void {
    if (steps > this.observedMax) this.observedMax = steps;
  }
}

export function strategyFromName(name: string): Strategy {
  if (name === 'random') return new RandomStrategy();
  // pct:D:K -- depth D, change points drawn over the first K steps (the program's expected length).
  const m = /^pct(?::(\d+)(?::(\d+))?)?$/.exec(name);
  if (m) return new PctStrategy(m[1] ? Number(m[1]) : 3, m[2] ? Number(m[2]) : undefined);
  if (name === 'preempt' || name.startsWith('preempt:')) return ScriptedStrategy.parse(name);
  throw new Error(`unknown strategy '${name}' (expected random, pct, pct:D, pct:D:K or preempt:LIST)`);
}
