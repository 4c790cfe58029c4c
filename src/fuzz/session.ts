// A fuzzing session: the worker pool plus the bookkeeping the CLI and the UI
// share -- aggregated stats, findings deduplicated by title, stopping on
// request, on the first finding, on a duration or an execution count.
// Findings go to a sink (the SQLite store, in the CLI) as they arrive.

import type { Report } from '../sim/index.js';
import { startPool, type WorkerStats } from './pool.js';
import type { FuzzConfig, RunCounters } from './fuzzer.js';
import type { Program } from './program.js';

export interface FindingSink {
  /** Commit a finding; returns whether its title is new to the sink. */
  record(report: Report, program: Program, traceHash: string): { isNew: boolean };
  /** Persist a program that added signal. */
  addCorpus(program: Program, signal: number[]): void;
}

export interface SessionOptions {
  workers: number;
  maxExecs: number;
  durationMs: number;
  stopOnFirst: boolean;
  /** Corpus programs to start from. */
  seeds?: readonly Program[];
}

export interface FindingSummary {
  kind: string;
  title: string;
  count: number;
  isNew: boolean;
}

export interface SessionStats extends RunCounters {
  wallMs: number;
  findings: FindingSummary[];
  perSyscall: Map<string, { count: number; errors: number }>;
  workers: WorkerStats[];
  /**
   * Kernel gauges, over the whole run: page-cache pages at the workers'
   * latest executions, pages reclaimed, the deepest FUSE input queue of the
   * latest executions and the mean FUSE request latency (virtual time).
   */
  kernel: { pagesInCache?: number; reclaimEvents?: number; fuseQueueDepth?: number; fuseLatencyNs?: number };
}

export class Session {
  private readonly perWorker: WorkerStats[] = [];
  private readonly findings = new Map<string, FindingSummary>();
  private handle: ReturnType<typeof startPool> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = Date.now();
  stopped = false;
  paused = false;

  constructor(readonly cfg: FuzzConfig, readonly opts: SessionOptions, private readonly sink: FindingSink) {}

  /** Run until done; resolves with the final stats. */
  async run(): Promise<SessionStats> {
    this.handle = startPool(this.cfg, this.opts.workers, this.opts.maxExecs, {
      onFinding: (_w, report, program, traceHash) => this.onFinding(report, program, traceHash),
      onStats: (w, s) => {
        this.perWorker[w] = s;
      },
      onCorpus: (_w, p, signal) => this.sink.addCorpus(p, signal),
    }, this.opts.seeds ?? []);
    if (this.paused) this.handle.pause();
    if (Number.isFinite(this.opts.durationMs)) this.timer = setTimeout(() => this.stop(), this.opts.durationMs);
    await this.handle.done;
    if (this.timer) clearTimeout(this.timer);
    return this.stats();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.handle?.stop();
  }

  /** Hold the workers after their current execution (the UI's 'p'); stop() still ends the run. */
  pause(): void {
    if (this.paused || this.stopped) return;
    this.paused = true;
    this.handle?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.handle?.resume();
  }

  private onFinding(report: Report, program: Program, traceHash: string): void {
    const { isNew } = this.sink.record(report, program, traceHash);
    const f = this.findings.get(report.title);
    if (f) f.count++;
    else this.findings.set(report.title, { kind: report.kind, title: report.title, count: 1, isNew });
    if (this.opts.stopOnFirst) this.stop();
  }

  stats(): SessionStats {
    const s: SessionStats = {
      execs: 0, calls: 0, virtualNs: 0, corpus: 0, signal: 0, wallMs: Date.now() - this.t0,
      findings: [...this.findings.values()], perSyscall: new Map(), workers: this.perWorker.filter(Boolean), kernel: {},
    };
    let replies = 0;
    let latency = 0;
    for (const w of s.workers) {
      if (w.pagesInCache !== undefined) s.kernel.pagesInCache = (s.kernel.pagesInCache ?? 0) + w.pagesInCache;
      replies += w.fuseReplies;
      latency += w.fuseLatencyNs;
      s.kernel.reclaimEvents = (s.kernel.reclaimEvents ?? 0) + w.pgsteal;
      s.kernel.fuseQueueDepth = Math.max(s.kernel.fuseQueueDepth ?? 0, w.fuseQueued);
      s.execs += w.execs;
      s.calls += w.calls;
      s.virtualNs += w.virtualNs;
      s.corpus += w.corpus;
      s.signal = Math.max(s.signal, w.signal);
      for (const [name, st] of w.perSyscall) {
        const agg = s.perSyscall.get(name) ?? { count: 0, errors: 0 };
        agg.count += st.count;
        agg.errors += st.errors;
        s.perSyscall.set(name, agg);
      }
    }
    if (replies > 0) s.kernel.fuseLatencyNs = latency / replies;
    return s;
  }
}
