// Parallel fuzzing with worker_threads: one simulation per worker; the main
// thread owns SQLite and the display. With one worker the loop runs in the
// main thread (deterministic for a seed and an execution count).

import { Worker } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import type { Report } from '../sim/index.js';
import { Fuzzer, type FuzzConfig, type FuzzStats, type SyscallStat } from './fuzzer.js';
import type { Program } from './program.js';

/** A worker's FuzzStats as posted across threads (the per-syscall Map as entries). */
export type WorkerStats = Omit<FuzzStats, 'perSyscall' | 'pagesInCache'> & {
  perSyscall: [string, SyscallStat][];
  pagesInCache?: number;
  /** The fuzzing thread's V8 heap in use, MB (a worker's own isolate; the main thread's when inline). */
  heapUsedMb?: number;
};

/** The calling thread's V8 heap in use, in MB. */
export function heapUsedMb(): number {
  return getHeapStatistics().used_heap_size / 1e6;
}

export type WorkerMsg =
  | { type: 'finding'; worker: number; report: Report; program: Program; traceHash: string; isNew: boolean }
  | { type: 'corpus'; worker: number; program: Program; signal: number[] }
  | { type: 'stats' | 'done'; worker: number; stats: WorkerStats };

export type MainMsg = { type: 'stop' | 'pause' | 'resume' };

export interface PoolEvents {
  /** A report, as found; the caller commits it before fuzzing goes on in that worker's slice. */
  onFinding(worker: number, report: Report, program: Program, traceHash: string): void;
  onStats(worker: number, stats: WorkerStats): void;
  /** A program joined a worker's corpus. */
  onCorpus(worker: number, program: Program, signal: number[]): void;
}

export interface PoolHandle {
  /** Ask every worker to stop after its current execution. */
  stop(): void;
  /** Hold every worker after its current execution until resume() (stop() still ends it). */
  pause(): void;
  resume(): void;
  /** Resolves when every worker has finished. */
  done: Promise<void>;
}

/** How often a paused inline runner looks at its flags. */
const PAUSE_POLL_MS = 50;

/** Worker i fuzzes with seed "<seed>/w<i>" so workers explore different paths. */
export function workerConfig(cfg: FuzzConfig, i: number, workers: number): FuzzConfig {
  return workers === 1 ? cfg : { ...cfg, seed: `${cfg.seed}/w${i}` };
}

/** `seeds`: corpus programs every worker starts from (their signal is recomputed). */
export function startPool(cfg: FuzzConfig, workers: number, maxExecs: number, ev: PoolEvents, seeds: readonly Program[] = []): PoolHandle {
  if (workers === 1) return runInline(cfg, maxExecs, ev, seeds);
  const ws: Worker[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < workers; i++) {
    const w = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: { cfg: workerConfig(cfg, i, workers), index: i, maxExecs: Math.ceil(maxExecs / workers), seeds },
    });
    ws.push(w);
    done.push(
      new Promise<void>((resolve, reject) => {
        w.on('message', (m: WorkerMsg) => {
          if (m.type === 'finding') ev.onFinding(m.worker, m.report, m.program, m.traceHash);
          else if (m.type === 'corpus') ev.onCorpus(m.worker, m.program, m.signal);
          else {
            ev.onStats(m.worker, m.stats);
            if (m.type === 'done') void w.terminate().then(() => resolve());
          }
        });
        w.on('error', reject);
        w.on('exit', () => resolve());
      }),
    );
  }
  return {
    stop: () => ws.forEach((w) => w.postMessage({ type: 'stop' } satisfies MainMsg)),
    pause: () => ws.forEach((w) => w.postMessage({ type: 'pause' } satisfies MainMsg)),
    resume: () => ws.forEach((w) => w.postMessage({ type: 'resume' } satisfies MainMsg)),
    done: Promise.all(done).then(() => undefined),
  };
}

function runInline(cfg: FuzzConfig, maxExecs: number, ev: PoolEvents, seeds: readonly Program[]): PoolHandle {
  let stop = false;
  let paused = false;
  const f = new Fuzzer(cfg, (x) => ev.onFinding(0, x.report, x.program, x.result.traceHash), (p, s) => ev.onCorpus(0, p, s));
  f.addSeeds(seeds);
  const snapshot = (): WorkerStats => ({ ...f.stats, perSyscall: [...f.stats.perSyscall], heapUsedMb: heapUsedMb() });
  const done = new Promise<void>((resolve) => {
    const slice = (): void => {
      const until = Date.now() + 100;
      while (!stop && !paused && Date.now() < until && f.stats.execs < maxExecs) f.step();
      ev.onStats(0, snapshot());
      if (stop || f.stats.execs >= maxExecs) resolve();
      // Paused: poll the flag on a timer rather than spinning on setImmediate.
      else if (paused) setTimeout(slice, PAUSE_POLL_MS);
      else setImmediate(slice);
    };
    setImmediate(slice);
  });
  return {
    stop: () => (stop = true),
    pause: () => (paused = true),
    resume: () => (paused = false),
    done,
  };
}
