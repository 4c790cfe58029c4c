// Background minimization: each new finding's reproducer is shrunk in a
// worker thread of its own while fuzzing goes on, so a minimized reproducer
// is in the database (and in the live view) minutes before the session ends
// rather than after it. The main thread keeps SQLite: a result comes back
// as a message and the caller stores it. Jobs run one at a time, in the
// order findings arrived; minimization is deterministic, so a result is the
// one `faultline minimize` gives for the same reproducer.

import { Worker } from 'node:worker_threads';
import type { MinimizeResult } from './minimize.js';
import type { Program } from './program.js';

export interface MinimizeJob {
  program: Program;
  title: string;
  /** Wall-clock budget of this job (the minimizer's default when absent). */
  timeLimitMs?: number;
}

/** Main thread -> minimizer thread. */
export type MinimizeRequest = { id: number; job: MinimizeJob };
/** Minimizer thread -> main thread. */
export type MinimizeReply = { id: number; result: MinimizeResult } | { id: number; error: string };

/** A finished job: its result, or why the minimizer failed on it (a model exception, a dead worker). */
export type MinimizeOutcome = { result: MinimizeResult; error?: undefined } | { result?: undefined; error: string };

export class BackgroundMinimizer<J extends MinimizeJob> {
  private worker: Worker | null = null;
  private readonly queue: { id: number; job: J }[] = [];
  private running: { id: number; job: J } | null = null;
  private nextId = 1;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  /** `onDone` runs on the main thread for each job, in submission order. */
  constructor(private readonly onDone: (job: J, outcome: MinimizeOutcome) => void) {}

  /** Queue a job; it starts as soon as the jobs before it are done. */
  submit(job: J): void {
    if (this.closed) throw new Error('background minimizer is closed');
    this.queue.push({ id: this.nextId++, job });
    this.pump();
  }

  /** Jobs queued or running. */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Resolves once every job submitted so far has finished. */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop the worker thread; jobs not yet finished are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    const w = this.worker;
    this.worker = null;
    this.running = null;
    if (w) await w.terminate();
    this.wakeIdle();
  }

  private pump(): void {
    if (this.running !== null || this.closed) return;
    const next = this.queue.shift();
    if (next === undefined) {
      this.wakeIdle();
      return;
    }
    this.running = next;
    const msg: MinimizeRequest = { id: next.id, job: { program: next.job.program, title: next.job.title, timeLimitMs: next.job.timeLimitMs } };
    this.ensureWorker().postMessage(msg);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./minimize-worker.js', import.meta.url));
    w.on('message', (m: MinimizeReply) => this.finish(m.id, 'result' in m ? { result: m.result } : { error: m.error }));
    // A thread that dies (out of memory, a bug in the worker itself) fails its
    // job; the next job gets a fresh thread.
    w.on('error', (e: Error) => this.onWorkerGone(w, e.message));
    w.on('exit', (code) => this.onWorkerGone(w, `minimizer thread exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private onWorkerGone(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    if (this.running) this.finish(this.running.id, { error: why });
  }

  private finish(id: number, outcome: MinimizeOutcome): void {
    const r = this.running;
    if (r === null || r.id !== id) return;
    this.running = null;
    try {
      this.onDone(r.job, outcome);
    } finally {
      this.pump();
    }
  }

  private wakeIdle(): void {
    if (this.pending !== 0 && !this.closed) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }
}
