// The executor: build a fresh kernel from the program's header, run the
// program's processes and threads as simulated tasks under its seed and
// strategy, and return per-call results, reports (detectors, invariants,
// leaks, simulator errors), coverage and interleaving signal, the trace
// hash, virtual time and steps. The same program, header and schedule
// always give the same result.

import { Sim, strategyFromName, encodeLog, decodeLog, type Report, type Strategy, type Task, type TraceEvent } from '../sim/index.js';
import { Kernel, type Process } from '../kernel/kernel.js';
import { syscall, exitProcess, type Arg as KArg } from '../kernel/syscalls.js';
import { checkInvariants, checkLeaks } from '../kernel/invariants.js';
import { resolveProfile } from '../kernel/profiles/index.js';
import { DESC_BY_NAME } from '../../syscalls/index.js';
import type { Arg, Call, Program } from './program.js';

/** The data area every process gets, as syzkaller's executor maps one. */
export const DATA_AREA = 0x20000000;
export const DATA_AREA_LEN = 0x100000;

export interface ExecOptions {
  /** Reuse a strategy object across runs (PCT learns its step estimate). */
  strategy?: Strategy;
  /** Replay the header's recorded schedule instead of the strategy. */
  replay?: boolean;
  /** Record the decision log (default true). */
  record?: boolean;
  maxSteps?: number;
  livenessMaxSteps?: number;
  /** Trace events to keep for display. */
  traceLimit?: number;
}

export interface CallResult {
  readonly proc: number;
  readonly thread: number;
  readonly index: number;
  readonly name: string;
  /** >= 0, -errno, or a signal result; null if the call never ran. */
  readonly ret: number | null;
}

export interface ExecResult {
  outcome: 'completed' | 'report' | 'budget' | 'diverged';
  reports: Report[];
  results: CallResult[];
  /** Coverage sites hit (kernel cover points). */
  coverage: string[];
  /** Interleaving signal: lock|waiter site|holder site triples contended. */
  interleavings: string[];
  traceHash: string;
  virtualNs: number;
  steps: number;
  /** Calls executed (reruns counted). */
  calls: number;
  /** base64 decision log of this run. */
  schedule: string | null;
  divergence: string | null;
  events: TraceEvent[];
  /** Task id -> "proc N thread M" / kernel thread name, for trace display. */
  taskNames: string[];
  /** Pages in the page cache when the run ended (a kernel gauge). */
  pagesInCache: number;
}

const OPTION_NUMBERS = [
  'memoryPages', 'hungTaskTimeoutNs', 'livenessBoundNs', 'stepCostNs', 'faultAroundPages',
  'blockLatencyNs', 'blockThrottleNs', 'blockReadErrorRate',
] as const;

function numOption(p: Program, key: string): number | undefined {
  const v = p.header.options[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`option ${key}=${v} is not a number`);
  return n;
}

export function execute(p: Program, o: ExecOptions = {}): ExecResult {
  for (const key of Object.keys(p.header.options)) {
    if (!(OPTION_NUMBERS as readonly string[]).includes(key)) throw new Error(`unknown option '${key}'`);
  }
  const replay = o.replay === true && p.header.schedule !== undefined;
  const sim = new Sim({
    seed: p.header.seed,
    strategy: o.strategy ?? strategyFromName(p.header.strategy),
    record: o.record ?? true,
    replay: replay ? decodeLog(p.header.schedule!) : null,
    maxSteps: o.maxSteps ?? 200_000,
    livenessMaxSteps: o.livenessMaxSteps ?? 200_000,
    hungTaskTimeoutNs: numOption(p, 'hungTaskTimeoutNs'),
    livenessBoundNs: numOption(p, 'livenessBoundNs'),
    stepCostNs: numOption(p, 'stepCostNs'),
    traceLimit: o.traceLimit ?? 0,
  });
  const k = new Kernel(sim, {
    switches: resolveProfile(p.header.profile),
    memoryPages: numOption(p, 'memoryPages'),
    faultAroundPages: numOption(p, 'faultAroundPages'),
    blockfs: {
      latencyNs: numOption(p, 'blockLatencyNs'),
      throttleNs: numOption(p, 'blockThrottleNs'),
      readErrorRate: numOption(p, 'blockReadErrorRate'),
    },
  });
  const results: CallResult[] = [];
  const procs: Process[] = p.procs.map((_, i) => k.createProcess(`p${i}`));
  let calls = 0;
  p.procs.forEach((pr, pi) => {
    const proc = procs[pi]!;
    k.mapDataArea(proc, DATA_AREA, DATA_AREA_LEN);
    const values = new Map<number, number>();
    let live = pr.threads.length;
    pr.threads.forEach((th, ti) => {
      k.spawnThread(proc, `p${pi}.t${ti}`, function* (t: Task) {
        for (let ci = 0; ci < th.calls.length; ci++) {
          const call = th.calls[ci]!;
          const args = call.args.map((a, ai) => resolveArg(a, call, ai, values, procs));
          let ret = 0;
          const reps = Math.max(1, call.props.rerun ?? 1);
          for (let r = 0; r < reps; r++) {
            if (call.props.fail_nth !== undefined) k.failNth.set(t.id, { nth: call.props.fail_nth, count: 0 });
            ret = yield* syscall(k, t, proc, call.name, args);
            k.failNth.delete(t.id);
            calls++;
          }
          if (call.ret !== null && ret >= 0) values.set(call.ret, ret);
          results.push({ proc: pi, thread: ti, index: ci, name: call.name, ret });
          if (k.inSyscall === 0) checkQuiescent(k);
        }
        if (--live === 0) {
          if (k.inSyscall === 0) checkQuiescent(k);
          yield* exitProcess(k, t, proc);
        }
      });
    });
  });
  const r = sim.run();
  const reports = [...r.reports];
  if (r.outcome === 'completed') {
    for (const v of [...checkInvariants(k, true), ...checkLeaks(k)]) {
      reports.push({ kind: v.kind, title: v.title, details: v.details, task: null, step: r.steps, timeNs: r.virtualNs });
    }
  }
  return {
    outcome: reports.length > 0 && r.outcome === 'completed' ? 'report' : r.outcome,
    reports,
    results,
    coverage: k.cov.sites(),
    interleavings: [...sim.contention].sort(),
    traceHash: r.traceHash,
    virtualNs: r.virtualNs,
    steps: r.steps,
    calls,
    schedule: r.decisions ? encodeLog(r.decisions) : null,
    divergence: r.divergence,
    events: sim.trace.events(),
    taskNames: sim.tasks.map((t) => t.name),
    pagesInCache: [...new Set([...k.dentries.values(), ...k.files.map((f) => f.inode)])].reduce((n, i) => n + i.mapping.nrpages, 0),
  };
}

/**
 * A quiescent point (no task inside the kernel): every invariant must hold
 * now, before exit tears mappings down. The first violation is a report.
 */
function checkQuiescent(k: Kernel): void {
  const v = checkInvariants(k, true)[0];
  if (v !== undefined) k.sim.report(v.kind, v.title, v.details, null);
}

function resolveArg(a: Arg, call: Call, ai: number, values: Map<number, number>, procs: Process[]): KArg {
  switch (a.kind) {
    case 'int':
      return a.value;
    case 'str':
      return a.value;
    case 'pid':
      return procs[a.proc]?.pid ?? -1;
    case 'res': {
      const v = values.get(a.ref);
      if (v !== undefined) return v + a.add;
      // Not defined (yet): an fd becomes invalid, an address becomes the offset alone.
      const t = DESC_BY_NAME.get(call.name)?.args[ai]?.type.t;
      return t === 'fd' ? -1 : a.add;
    }
    case 'iov':
      return a.segs.map((s) => [resolveNum(s.addr, values), resolveNum(s.len, values)] as const);
  }
}

function resolveNum(a: Arg, values: Map<number, number>): number {
  if (a.kind === 'int') return a.value;
  if (a.kind === 'res') return (values.get(a.ref) ?? 0) + a.add;
  return 0;
}
