// The executor: build a fresh kernel from the program's header, run the
// program's processes and threads as simulated tasks under its seed and
// strategy, and return per-call results, reports (detectors, invariants,
// leaks, simulator errors), coverage and interleaving signal, the trace
// hash, virtual time and steps. The same program, header and schedule
// always give the same result.

import { Phase, Sim, strategyFromName, encodeLog, decodeLog, type Gen, type MaybeGen, type Report, type Strategy, type Task, type TraceEvent } from '../sim/index.js';
import { Kernel, type Process } from '../kernel/kernel.js';
import type { Inode } from '../kernel/fs/inode.js';
import { syscallEnter, syscallBody, syscallExit, syscallEntry, exitProcess, type Arg as KArg, type SyscallEntry } from '../kernel/syscalls.js';
import { checkInvariants, checkLeaks } from '../kernel/invariants.js';
import { coverPairNames, coverSiteNames } from '../kernel/coverage.js';
import { resolveProfile } from '../kernel/profiles/index.js';
import { FUSE_OPTION_KEYS, FuseOptionError, fuseOptionsFromHeader, type FuseOptions } from '../kernel/fs/fuse/index.js';
import { DESC_BY_NAME } from '../../syscalls/index.js';
import { HAMMER_RERUN, type Arg, type Call, type Program, type Thread } from './program.js';

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
  /** Past traceLimit, keep the first quarter and the latest events (where a report is) instead of the first only. */
  traceTail?: boolean;
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
  /** Coverage sites hit (kernel cover points), sorted. */
  coverage: string[];
  /** The same, each in the contexts it was hit in: "site@syscall" or "site@kthread", in first-hit order. */
  coverageInContext: string[];
  /** coverage and coverageInContext as this process's ids of them (kernel/coverage.ts): what the fuzzer's signal takes. */
  coverIds: number[];
  coverPairIds: number[];
  /** Interleaving signal: lock|waiter site|holder site triples contended. */
  interleavings: string[];
  /** Lock-order signal: the lock dependencies lockdep recorded ("A -> B"), in the order first seen. */
  lockOrder: string[];
  traceHash: string;
  virtualNs: number;
  steps: number;
  /** Calls executed (reruns counted). */
  calls: number;
  /** base64 decision log of this run. */
  schedule: string | null;
  divergence: string | null;
  events: TraceEvent[];
  /** The events not kept: `count` of them, between events[at - 1] and events[at] (at the end unless traceTail). */
  eventsGap: { at: number; count: number };
  /** Task id -> "proc N thread M" / kernel thread name, for trace display. */
  taskNames: string[];
  /** Pages in the page cache when the run ended (a kernel gauge). */
  pagesInCache: number;
  /** Kernel gauges for the live view: pages reclaimed, FUSE requests replied, their summed latency, the deepest FUSE queue. */
  gauges: { pgsteal: number; fuseReplies: number; fuseLatencyNs: number; fuseMaxQueued: number };
  /** The run's non-zero /proc/vmstat counters (reclaim, kernel threads, speculative faults). */
  vmstat?: Record<string, number>;
}

const OPTION_NUMBERS = [
  'memoryPages', 'hungTaskTimeoutNs', 'livenessBoundNs', 'stepCostNs', 'faultAroundPages',
  'blockLatencyNs', 'blockThrottleNs', 'blockReadErrorRate', 'failAllocRate',
  ...['kswapd', 'flusher', 'khugepaged'],
  ...['maxSteps', 'livenessSteps'],
] as const;

/**
 * The run's step budgets (adversarial phase, fair liveness phase): detector
 * parameters, not environment. A starvation reproducer states the budget its
 * livelock needs, so it replays (and minimizes) without the default 400k steps.
 */
export const BUDGET_OPTIONS: readonly string[] = ['maxSteps', 'livenessSteps'];

/** Each phase's step budget when the header sets none. */
export const DEFAULT_STEPS = 200_000;

/** A program header option that is unknown or has a bad value (a usage error, never a crash). */
export class OptionError extends Error {}

/** The virtiofs daemon's options (fuseLatency, fuseStall, fuseErrorRate, fuseWritebackCache), validated. */
function fuseOptions(p: Program): FuseOptions {
  try {
    return fuseOptionsFromHeader(p.header.options);
  } catch (e) {
    if (e instanceof FuseOptionError) throw new OptionError(e.message);
    throw e;
  }
}

function numOption(p: Program, key: string): number | undefined {
  const v = p.header.options[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new OptionError(`option ${key}=${v} is not a number`);
  return n;
}

/**
 * A profile's switches by spec, resolved once: a kernel only reads them, so
 * every execution of a profile can share one frozen object. Bounded; a spec
 * that does not resolve throws as before and is not kept.
 */
const PROFILE_SWITCHES = new Map<string, Readonly<Record<string, string>>>();

function profileSwitches(spec: string): Readonly<Record<string, string>> {
  let sw = PROFILE_SWITCHES.get(spec);
  if (sw === undefined) {
    sw = Object.freeze(resolveProfile(spec));
    if (PROFILE_SWITCHES.size < 256) PROFILE_SWITCHES.set(spec, sw);
  }
  return sw;
}

export function execute(p: Program, o: ExecOptions = {}): ExecResult {
  for (const key of Object.keys(p.header.options)) {
    if (!(OPTION_NUMBERS as readonly string[]).includes(key) && !(FUSE_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new OptionError(`unknown option '${key}'`);
    }
  }
  const fuse = fuseOptions(p);
  const replay = o.replay === true && p.header.schedule !== undefined;
  const sim = new Sim({
    seed: p.header.seed,
    strategy: o.strategy ?? strategyFromName(p.header.strategy),
    record: o.record ?? true,
    replay: replay ? decodeLog(p.header.schedule!) : null,
    maxSteps: o.maxSteps ?? numOption(p, 'maxSteps') ?? DEFAULT_STEPS,
    livenessMaxSteps: o.livenessMaxSteps ?? numOption(p, 'livenessSteps') ?? DEFAULT_STEPS,
    hungTaskTimeoutNs: numOption(p, 'hungTaskTimeoutNs'),
    livenessBoundNs: numOption(p, 'livenessBoundNs'),
    stepCostNs: numOption(p, 'stepCostNs'),
    traceLimit: o.traceLimit ?? 0,
    traceTail: o.traceTail ?? false,
  });
  const k = new Kernel(sim, {
    switches: profileSwitches(p.header.profile),
    memoryPages: numOption(p, 'memoryPages'),
    failAllocRate: numOption(p, 'failAllocRate'),
    faultAroundPages: numOption(p, 'faultAroundPages'),
    blockfs: {
      latencyNs: numOption(p, 'blockLatencyNs'),
      throttleNs: numOption(p, 'blockThrottleNs'),
      readErrorRate: numOption(p, 'blockReadErrorRate'),
    },
    fuse,
    // Kernel threads: option=1 runs them.
    kswapd: numOption(p, 'kswapd') === 1,
    flusher: numOption(p, 'flusher') === 1,
    khugepaged: numOption(p, 'khugepaged') === 1,
  });
  const procs: Process[] = p.procs.map((_, i) => k.createProcess(`p${i}`));
  const x = new ExecState(k, procs);
  for (let pi = 0; pi < p.procs.length; pi++) {
    const pr = p.procs[pi]!;
    const proc = procs[pi]!;
    k.mapDataArea(proc, DATA_AREA, DATA_AREA_LEN);
    const ps = new ProcState(pi, proc, pr.threads.length);
    for (let ti = 0; ti < pr.threads.length; ti++) {
      const th = pr.threads[ti]!;
      // An arrow around a module-level generator, not a generator literal per
      // thread: each generator function object gets its own prototype and
      // instance map, which V8 allocates in old space pointing at the
      // closure's context -- the whole run's kernel then survives scavenges
      // and is promoted (it was most of the fuzzer's GC time).
      k.spawnThread(proc, `p${pi}.t${ti}`, (t: Task) => runThread(new ThreadRun(x, ps, th, ti, t)));
    }
  }
  const r = sim.run();
  const reports = [...r.reports];
  if (r.outcome === 'completed') {
    // Quiescent unless a kernel thread was in the middle of its work when the last user task ended.
    for (const v of [...checkInvariants(k, k.inSyscall === 0), ...checkLeaks(k)]) {
      reports.push({ kind: v.kind, title: v.title, details: v.details, task: null, step: r.steps, timeNs: r.virtualNs });
    }
  }
  const coverIds = k.cov.siteIds();
  const coverPairIds = k.cov.pairIds();
  return {
    outcome: reports.length > 0 && r.outcome === 'completed' ? 'report' : r.outcome,
    reports,
    results: x.results,
    coverage: coverSiteNames(coverIds),
    coverageInContext: coverPairNames(coverPairIds),
    coverIds,
    coverPairIds,
    interleavings: [...sim.contention].sort(),
    lockOrder: sim.lockdep.dependencies(),
    traceHash: r.traceHash,
    virtualNs: r.virtualNs,
    steps: r.steps,
    calls: x.calls,
    schedule: r.decisions ? encodeLog(r.decisions) : null,
    divergence: r.divergence,
    events: sim.trace.events(),
    eventsGap: sim.trace.gap(),
    taskNames: sim.tasks.map((t) => t.name),
    vmstat: k.vmstat.nonZero(),
    gauges: { pgsteal: k.vmstat.pgsteal, fuseReplies: k.fuse.conn.replied, fuseLatencyNs: k.fuse.conn.latencyNs, fuseMaxQueued: k.fuse.conn.maxPending },
    pagesInCache: pagesInCache(k),
  };
}

/** Page-cache pages of every inode in the namespace or held open (each inode once). */
function pagesInCache(k: Kernel): number {
  let n = 0;
  for (const inode of k.dentries.values()) n += inode.mapping.nrpages;
  let extra: Set<Inode> | null = null;
  for (const f of k.files) {
    const inode = f.inode;
    // Nearly always in the namespace under its own path, and counted already.
    if (k.dentries.get(inode.path) === inode) continue;
    extra ??= new Set(k.dentries.values());
    if (extra.has(inode)) continue;
    extra.add(inode);
    n += inode.mapping.nrpages;
  }
  return n;
}

/** What the threads of one execution share. */
class ExecState {
  /** Calls executed (reruns counted). */
  calls = 0;
  readonly results: CallResult[] = [];

  constructor(readonly k: Kernel, readonly procs: readonly Process[]) {}
}

/** One simulated process of the program: its named results and its threads still running. */
class ProcState {
  readonly values = new Map<number, number>();
  live: number;

  constructor(readonly index: number, readonly proc: Process, threads: number) {
    this.live = threads;
  }
}

/**
 * A program thread: its calls in order, a quiescent check after each, and
 * exit after the process's last thread. Its state lives in a ThreadRun, not
 * in the generator's frame: every scheduling point below a call passes
 * through this frame twice (V8 saves and restores each of a generator's
 * registers at every yield, and a yield* re-yields level by level), so a
 * frame of 9 registers instead of 22 makes every step of every call
 * cheaper.
 */
function* runThread(s: ThreadRun): Gen<void> {
  while (s.more()) {
    // User space between calls is preemptible (the timer tick): syscall()'s
    // own yield, with syscall() inlined (one generator less per call, see
    // syscallEnter).
    yield;
    const body = s.enter();
    s.exit(typeof body === 'number' ? body : yield* body);
  }
  if (s.last()) yield* exitProcess(s.x.k, s.t, s.ps.proc);
}

/** Where a program thread is: its call, the repetition of it, and what the call needs. */
class ThreadRun {
  /** Index of the current call (-1: none started yet). */
  private ci = -1;
  private call: Call | null = null;
  /** The kernel's entry for the current call, looked up once for all its repetitions. */
  private entry: SyscallEntry | null = null;
  private args: KArg[] = [];
  /** Repetitions of the current call made so far, and wanted. */
  private r = 0;
  private reps = 0;
  private ret = 0;
  private failNth: number | undefined = undefined;
  private adversarial = false;
  /** syscallEnter's depth, for syscallExit. */
  private depth = 0;

  constructor(
    readonly x: ExecState,
    readonly ps: ProcState,
    private readonly th: Thread,
    private readonly ti: number,
    readonly t: Task,
  ) {}

  /**
   * Whether there is a call to make: another repetition of the current one,
   * or the next call (the current one's result is recorded first). Arms
   * fail_nth for it.
   */
  more(): boolean {
    const k = this.x.k;
    for (;;) {
      if (this.call !== null) {
        // Repeating a call is adversarial pressure, like fault injection:
        // once the liveness phase begins, a call repeated by rerun finishes
        // the run it is in and starts no more. Only a hammered call (the
        // workload whose pressure is on trial: faulters refilling a punched
        // hole) keeps going. A punch rerun sixteen times in a race could
        // otherwise keep a reader of the same pages from finishing all
        // through the liveness phase, which says something about the loop,
        // not about the kernel.
        if (this.r < this.reps && !(this.adversarial && this.r > 0 && k.sim.phase === Phase.Liveness)) break;
        this.finishCall(k, this.call);
      }
      if (++this.ci >= this.th.calls.length) return false;
      const call = (this.call = this.th.calls[this.ci]!);
      this.entry = syscallEntry(call.name);
      this.args = resolveArgs(call, this.ps.values, this.x.procs);
      this.ret = 0;
      this.r = 0;
      this.reps = Math.max(1, call.props.rerun ?? 1);
      this.failNth = call.props.fail_nth;
      this.adversarial = this.reps < HAMMER_RERUN;
    }
    // Only the executor arms fail_nth, so there is nothing to disarm after a call that did not.
    if (this.failNth !== undefined) k.failNth.set(this.t.id, { nth: this.failNth, count: 0 });
    return true;
  }

  /** The call's entry (see syscallEnter) and its handler, for runThread to delegate to. */
  enter(): MaybeGen {
    const k = this.x.k;
    const e = this.entry!;
    this.depth = syscallEnter(k, this.t, e);
    return syscallBody(k, this.t, this.ps.proc, e, this.args);
  }

  /** The call's way out with result `ret`. */
  exit(ret: number): void {
    const k = this.x.k;
    this.ret = ret;
    syscallExit(k, this.t, this.entry!, this.depth, ret);
    if (this.failNth !== undefined) k.failNth.delete(this.t.id);
    this.x.calls++;
    this.r++;
  }

  private finishCall(k: Kernel, call: Call): void {
    if (call.ret !== null && this.ret >= 0) this.ps.values.set(call.ret, this.ret);
    this.x.results.push({ proc: this.ps.index, thread: this.ti, index: this.ci, name: call.name, ret: this.ret });
    if (k.inSyscall === 0) checkQuiescent(k);
    this.call = null;
  }

  /** Whether this is the process's last thread to finish (after a quiescent check if so): it exits the process. */
  last(): boolean {
    if (--this.ps.live !== 0) return false;
    if (this.x.k.inSyscall === 0) checkQuiescent(this.x.k);
    return true;
  }
}

function resolveArgs(call: Call, values: Map<number, number>, procs: readonly Process[]): KArg[] {
  // Sized up front: a literal grown by push allocates room for 17.
  const n = call.args.length;
  const out = new Array<KArg>(n);
  for (let ai = 0; ai < n; ai++) out[ai] = resolveArg(call.args[ai]!, call, ai, values, procs);
  return out;
}

/**
 * A quiescent point (no task inside the kernel): every invariant must hold
 * now, before exit tears mappings down. The first violation is a report.
 */
function checkQuiescent(k: Kernel): void {
  const v = checkInvariants(k, true)[0];
  if (v !== undefined) k.sim.report(v.kind, v.title, v.details, null);
}

function resolveArg(a: Arg, call: Call, ai: number, values: Map<number, number>, procs: readonly Process[]): KArg {
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
    case 'iov': {
      // A loop, not map with an arrow: functions made per call are compiled again after every full GC (see sim/arrays.ts).
      const segs: (readonly [number, number])[] = [];
      for (const s of a.segs) segs.push([resolveNum(s.addr, values), resolveNum(s.len, values)]);
      return segs;
    }
  }
}

function resolveNum(a: Arg, values: Map<number, number>): number {
  if (a.kind === 'int') return a.value;
  if (a.kind === 'res') return (values.get(a.ref) ?? 0) + a.add;
  return 0;
}
