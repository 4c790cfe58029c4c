// Reproducer minimization (syzkaller's prog/minimization.go, Zeller's delta
// debugging, plus a schedule to shrink): keep a program reproducing the same
// title while it gets smaller.
//
//  1. Explicit schedule. The failing run's scheduler decisions are written
//     down as a preemption list (sim/scripted.ts): every choice that differs
//     from running the current task until it blocks. The program now carries
//     `strategy: preempt:...` instead of an opaque decision log, so it can
//     lose calls and still be scheduled the same way where it matters.
//  2. Schedule shrinking: delta debugging over that list, down to the few
//     preemptions the bug needs.
//  3. Structure: drop processes, threads, then calls (delta debugging over
//     all calls; results used by a dropped call become plain values), merge
//     the threads of a process.
//  4. Arguments: smaller lengths and offsets, fewer flags, fewer iovec
//     entries, zero addresses (hints), fewer resources (an fd or mapping
//     defined earlier instead; one result folded into another of its kind,
//     with the calls that only served it), no rerun/fail_nth; environment
//     options back to their defaults.
//  5. The schedule again, and the passes again while they make progress.
//
// An edit can move the points where the bug needs its preemptions, so a
// candidate that no longer reproduces under its schedule gets, in turn: its
// preemptions carried over the edit (one inside a removed call dropped, a
// later one moved back by the steps removed) and re-placed on the
// candidate's own run; the whole failing interleaving carried over the
// edit, then shrunk; a few fresh random and PCT schedules, written down and
// shrunk. Runs are deterministic for a given header, so one run decides a
// candidate; every accepted step is replayed `runs` times more and must give
// the same trace hash, and so must the final program, read back from its
// text. A program never grows: only removals and simplifications are tried.

import { performance } from 'node:perf_hooks';
import { Ev, PreemptionRecorder, formatPreemptions, parsePreemptions, type Preemption } from '../sim/index.js';
import { DESC_BY_NAME, type ArgType } from '../../syscalls/index.js';
import { BUDGET_OPTIONS, DEFAULT_STEPS, execute, type ExecResult } from './execute.js';
import { fixRefs } from './mutate.js';
import { HAMMER_BUDGET, hammers } from './generate.js';
import { formatProgram, parseProgram } from './format.js';
import { callCount, refsOf, validate, type Arg, type Call, type Header, type IovSeg, type Program } from './program.js';

export interface MinimizeOptions {
  /** Replays that must agree (same title, same trace hash) for each accepted step and for the result. Default 3. */
  runs?: number;
  /** Wall-clock budget; past it the smallest reproducer found so far is returned. Default 10 s. */
  timeLimitMs?: number;
  /**
   * Fresh schedules (per strategy) tried for a candidate its current
   * schedule no longer reproduces: at least this many (default 3), more for
   * a candidate whose run is short (see RESCHEDULE_STEPS).
   */
  reschedules?: number;
  /** Progress messages. */
  log?: (msg: string) => void;
}

export interface MinimizeResult {
  /** The minimized program (the input, unchanged, if it did not reproduce). */
  program: Program;
  title: string;
  /** The input reproduced the title (if not, nothing was done). */
  reproduced: boolean;
  /** Calls before and after. */
  before: number;
  after: number;
  /** Program text size in bytes, before and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** Preemptions in the failing run's schedule, and in the minimized one (-1: no explicit schedule). */
  preemptionsBefore: number;
  preemptionsAfter: number;
  /** Trace hash of the minimized program's run. */
  traceHash: string;
  /** Replays of the final program that gave the same title and trace hash. */
  verifiedReplays: number;
  /** Program executions spent. */
  execs: number;
  ms: number;
  /** The time limit cut the search short. */
  timedOut: boolean;
}

const TRACE_MAX = 4_000_000;
/** Trace kept for locating preemptions among a task's calls. */
const PROFILE_TRACE = 500_000;
const ROUNDS_MAX = 4;

/** Shrink `program` while its first report keeps the title `title`. */
export function minimize(program: Program, title: string, opts: MinimizeOptions = {}): MinimizeResult {
  return new Minimizer(title, opts).minimize(program);
}

/** The task names a process/thread gets in the executor. */
function taskName(pi: number, ti: number): string {
  return `p${pi}.t${ti}`;
}

/**
 * Step budgets (each phase) tried for a long failing run, smallest first:
 * a quarter of a hammering program's, a hammering program's, then wider.
 * The smallest still gives a punch 2500 fair steps before it counts as
 * starved, where a sixteen-page punch needs a few hundred: D's reproducer
 * starves on shmem-3.15 under it for every seed tried and reports nothing
 * on the fixed kernel.
 */
const STEP_BUDGETS = [HAMMER_BUDGET / 4, HAMMER_BUDGET, 50_000];
/** A program's step budget (`maxSteps` or `livenessSteps`; the executor's default if unset or not a number). */
function stepBudget(p: Program, key: string): number {
  const n = Number(p.header.options[key] ?? DEFAULT_STEPS);
  return Number.isFinite(n) ? n : DEFAULT_STEPS;
}

/** Minimizer.stepCap: this many times the step the input's report fired at, and at least this many steps more. */
const STEP_CAP_FACTOR = 4;
const STEP_CAP_MIN = 2000;

/** The longest explicit schedule worth writing down and shrinking. */
const SCRIPT_MAX = 64;

/**
 * Scheduler steps a reschedule may spend on fresh schedules for one
 * candidate, at most RESCHEDULES_MAX of them per strategy. A race between
 * two calls of a short program may show under one random schedule in ten
 * or fewer (E1's COW variant: the truncate between map-ahead and the write
 * fault; E2's read into a mapping of the file being punched, which must
 * also start after the mapping exists): three tries lose it, forty runs of
 * fifty steps cost nothing. A hammering program's run is thousands of
 * steps: it keeps the minimum.
 */
const RESCHEDULE_STEPS = 10_000;
const RESCHEDULES_MAX = 40;

function withStrategy(p: Program, strategy: string, seed = p.header.seed): Program {
  const { schedule: _s, ...rest } = p.header;
  return { ...p, header: { ...rest, seed, strategy } };
}

function preemptionsOf(p: Program): Preemption[] | null {
  const s = p.header.strategy;
  return s === 'preempt' || s.startsWith('preempt:') ? parsePreemptions(s) : null;
}

/** Rename the tasks a preemption list names; entries whose task maps to null are dropped. */
function renameTasks(list: readonly Preemption[], f: (name: string) => string | null): Preemption[] {
  const out: Preemption[] = [];
  for (const e of list) {
    const to = f(e.to);
    const task = e.task === null ? null : f(e.task);
    if (to === null || (e.task !== null && task === null)) continue;
    out.push({ task, point: e.point, to });
  }
  return out;
}

function renameSchedule(p: Program, f: (name: string) => string | null): Header {
  const list = preemptionsOf(p);
  return list === null ? p.header : { ...p.header, strategy: formatPreemptions(renameTasks(list, f)) };
}

function mapPids(a: Arg, f: (proc: number) => number): Arg {
  if (a.kind === 'pid') return { kind: 'pid', proc: f(a.proc) };
  return a;
}

/** Task names after removing process `pi` (its tasks are gone, later processes move down). */
function procRename(pi: number): (name: string) => string | null {
  return (name) => {
    const m = /^p(\d+)\.t(\d+)$/.exec(name);
    if (!m) return name;
    const i = Number(m[1]);
    return i === pi ? null : taskName(i > pi ? i - 1 : i, Number(m[2]));
  };
}

/** Task names after removing thread `ti` of process `pi`. */
function threadRename(pi: number, ti: number): (name: string) => string | null {
  return (name) => {
    const m = /^p(\d+)\.t(\d+)$/.exec(name);
    if (!m || Number(m[1]) !== pi) return name;
    const j = Number(m[2]);
    return j === ti ? null : taskName(pi, j > ti ? j - 1 : j);
  };
}

function removeProc(p: Program, pi: number): Program {
  const header = renameSchedule(p, procRename(pi));
  const procs = p.procs.filter((_, i) => i !== pi).map((pr) => ({
    threads: pr.threads.map((t) => ({
      calls: t.calls.map((c) => ({ ...c, args: c.args.map((a) => mapPids(a, (x) => (x > pi ? x - 1 : x === pi ? 0 : x))) })),
    })),
  }));
  return fixRefs({ header, procs });
}

function removeThread(p: Program, pi: number, ti: number): Program {
  const header = renameSchedule(p, threadRename(pi, ti));
  const procs = p.procs.map((pr, i) => ({
    threads: (i === pi ? pr.threads.filter((_, j) => j !== ti) : pr.threads).map((t) => ({ calls: [...t.calls] })),
  }));
  return fixRefs({ header, procs });
}

interface CallId {
  proc: number;
  thread: number;
  index: number;
}

const callKey = (c: CallId): string => `${c.proc}/${c.thread}/${c.index}`;
const callKeys = (ids: readonly CallId[]): Set<string> => new Set(ids.map(callKey));

/** Every call of the program, in process, thread, call order. */
function callIds(p: Program): CallId[] {
  const ids: CallId[] = [];
  p.procs.forEach((pr, proc) => pr.threads.forEach((t, thread) => t.calls.forEach((_, index) => ids.push({ proc, thread, index }))));
  return ids;
}

function keepCalls(p: Program, keep: readonly CallId[]): Program {
  const set = callKeys(keep);
  return fixRefs({
    header: p.header,
    procs: p.procs.map((pr, pi) => ({
      threads: pr.threads.map((t, ti) => ({ calls: t.calls.filter((_, ci) => set.has(`${pi}/${ti}/${ci}`)) })),
    })),
  });
}

function replaceCall(p: Program, pi: number, ti: number, ci: number, c: Call): Program {
  return fixRefs({
    header: p.header,
    procs: p.procs.map((pr, i) => ({
      threads: pr.threads.map((t, j) => ({ calls: i === pi && j === ti ? t.calls.map((x, k) => (k === ci ? c : x)) : [...t.calls] })),
    })),
  });
}

/** The argument with every result it names (an iovec's too) renamed by `f`. */
function mapRefs(a: Arg, f: (ref: number) => number): Arg {
  if (a.kind === 'res') return { ...a, ref: f(a.ref) };
  if (a.kind === 'iov') return { kind: 'iov', segs: a.segs.map((s) => ({ addr: mapRefs(s.addr, f), len: mapRefs(s.len, f) })) };
  return a;
}

/** Renumber results r0, r1, ... in program order (cosmetic: values are looked up by number). */
function renumber(p: Program): Program {
  const map = new Map<number, number>();
  for (const pr of p.procs) for (const t of pr.threads) for (const c of t.calls) if (c.ret !== null && !map.has(c.ret)) map.set(c.ret, map.size);
  const arg = (a: Arg): Arg => mapRefs(a, (r) => map.get(r) ?? r);
  return {
    header: p.header,
    procs: p.procs.map((pr) => ({
      threads: pr.threads.map((t) => ({
        calls: t.calls.map((c) => ({ ...c, ret: c.ret === null ? null : map.get(c.ret)!, args: c.args.map(arg) })),
      })),
    })),
  };
}

// ------------------------------------------------- where preemptions are

/** Which task ran each scheduler step, from the Switch events of a traced run. */
function runnerOf(r: ExecResult): Int32Array {
  const runner = new Int32Array(r.steps + 2).fill(-1);
  let task = -1;
  let at = 0;
  for (const e of r.events) {
    if (e.kind !== Ev.Switch) continue;
    for (; at < e.step && at < runner.length; at++) runner[at] = task;
    task = e.task;
  }
  for (; at < runner.length; at++) runner[at] = task;
  return runner;
}

/** A task's own steps: how many it had taken when each of its operations (calls, reruns counted) began. */
interface TaskProfile {
  opStart: number[];
  /** The scheduler step at which each operation began. */
  opBeginStep: number[];
  total: number;
}

/** A stretch of the adversarial phase during which one task ran: its own steps `from`..`to`. */
interface Segment {
  task: string;
  from: number;
  to: number;
}

interface RunProfile {
  tasks: Map<string, TaskProfile>;
  segments: Segment[];
}

/** Longest interleaving carried over an edit as an explicit schedule. */
const SEGMENTS_MAX = 2000;

function profileOf(r: ExecResult): RunProfile {
  const runner = runnerOf(r);
  let end = runner.length;
  for (const e of r.events) if (e.kind === Ev.Phase) end = Math.min(end, e.step + 1);
  const own = new Int32Array(runner.length);
  const count: number[] = [];
  const segments: Segment[] = [];
  for (let s = 1; s < runner.length; s++) {
    const t = runner[s]!;
    if (t < 0) continue;
    own[s] = count[t] = (count[t] ?? 0) + 1;
    if (s >= end) continue;
    const last = segments[segments.length - 1];
    const name = r.taskNames[t]!;
    if (last !== undefined && last.task === name) last.to = own[s]!;
    else segments.push({ task: name, from: own[s]!, to: own[s]! });
  }
  const tasks = new Map<string, TaskProfile>();
  r.taskNames.forEach((name, id) => tasks.set(name, { opStart: [], opBeginStep: [], total: count[id] ?? 0 }));
  for (const e of r.events) {
    if (e.kind !== Ev.OpBegin || e.task < 0 || e.step >= own.length) continue;
    const tp = tasks.get(r.taskNames[e.task]!);
    tp?.opStart.push(Math.max(0, own[e.step]! - 1));
    tp?.opBeginStep.push(e.step);
  }
  return { tasks, segments };
}

/** How an edit changes tasks: renamed or gone (thread/process removal), operations renumbered or gone. */
interface Edit {
  rename?: (name: string) => string | null;
  /** Keyed by the old task name. */
  ops?: OpMap;
}

/** The operation an own step falls in (-1: before the first). */
function opAt(pr: TaskProfile, step: number): number {
  let lo = -1;
  let hi = pr.opStart.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pr.opStart[mid]! < step) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The whole interleaving of a run carried over an edit, as a preemption
 * list: steps of removed tasks and operations drop out, the rest keep their
 * order. Null if it is too long to be worth shrinking.
 */
function carryInterleaving(prof: RunProfile, edit: Edit): Preemption[] | null {
  if (prof.segments.length > SEGMENTS_MAX) return null;
  // Per task: own step -> new own step, or 0 if it is gone.
  const remap = new Map<string, (step: number) => number>();
  for (const [name, pr] of prof.tasks) {
    const m = edit.ops?.get(name);
    if (m === undefined) {
      remap.set(name, (x) => x);
      continue;
    }
    const removedBefore: number[] = [];
    let acc = 0;
    for (let o = 0; o < pr.opStart.length; o++) {
      removedBefore.push(acc);
      if (m[o] === null) acc += (o + 1 < pr.opStart.length ? pr.opStart[o + 1]! : pr.total) - pr.opStart[o]!;
    }
    remap.set(name, (x) => {
      const o = opAt(pr, x);
      if (o >= 0 && m[o] === null) return 0;
      return x - (o >= 0 ? removedBefore[o]! : 0);
    });
  }
  const segs: Segment[] = [];
  for (const sg of prof.segments) {
    const task = edit.rename ? edit.rename(sg.task) : sg.task;
    if (task === null) continue;
    const f = remap.get(sg.task) ?? ((x: number) => x);
    let from = 0;
    let to = 0;
    for (let x = sg.from; x <= sg.to; x++) {
      const y = f(x);
      if (y === 0) continue;
      if (from === 0) from = y;
      to = y;
    }
    if (from === 0) continue;
    const last = segs[segs.length - 1];
    if (last !== undefined && last.task === task) last.to = to;
    else segs.push({ task, from, to });
  }
  if (segs.length === 0) return null;
  const out: Preemption[] = [{ task: null, point: 0, to: segs[0]!.task }];
  for (let i = 0; i + 1 < segs.length; i++) out.push({ task: segs[i]!.task, point: segs[i]!.to, to: segs[i + 1]!.task });
  return out;
}

/** The operations of each thread's task, in order: [call index, rerun]. */
function opsOf(p: Program, pi: number, ti: number): [number, number][] {
  const ops: [number, number][] = [];
  p.procs[pi]!.threads[ti]!.calls.forEach((c, ci) => {
    for (let r = 0; r < Math.max(1, c.props.rerun ?? 1); r++) ops.push([ci, r]);
  });
  return ops;
}

/** Per task name: old operation number -> new one, or null if it is gone. Tasks not listed keep theirs. */
type OpMap = Map<string, (Array<number | null>)>;

/** From the program keeping `had` of p's calls to the one keeping `keep` (a subset). */
function opMapForKeep(p: Program, had: ReadonlySet<string>, keep: ReadonlySet<string>): OpMap {
  const out: OpMap = new Map();
  p.procs.forEach((pr, pi) => pr.threads.forEach((_, ti) => {
    let n = 0;
    const ops = opsOf(p, pi, ti).filter(([ci]) => had.has(`${pi}/${ti}/${ci}`));
    out.set(taskName(pi, ti), ops.map(([ci]) => (keep.has(`${pi}/${ti}/${ci}`) ? n++ : null)));
  }));
  return out;
}

function opMapForReplace(p: Program, pi: number, ti: number, ci: number, nc: Call): OpMap {
  const reps = Math.max(1, nc.props.rerun ?? 1);
  let n = 0;
  return new Map([[taskName(pi, ti), opsOf(p, pi, ti).map(([c, r]) => (c === ci && r >= reps ? null : n++))]]);
}

/**
 * A preemption of the candidate: a first estimate of its step, and where it
 * is relative to its task's operations (after `offset` own steps into
 * operation `op`, -1 = before the first), or op null if it cannot be placed.
 */
interface Located {
  est: Preemption;
  op: number | null;
  offset: number;
}

/**
 * Carry a preemption list over an edit of the program: `prof` is the
 * current program's run, `map` the edit's operation renumbering. A
 * preemption inside a removed operation is dropped; one after removed
 * operations moves back by the steps they took.
 */
function locate(list: readonly Preemption[], prof: RunProfile, map: OpMap): Located[] {
  const out: Located[] = [];
  for (const e of list) {
    const m = e.task === null ? undefined : map.get(e.task);
    const pr = e.task === null ? undefined : prof.tasks.get(e.task);
    if (m === undefined || pr === undefined) {
      out.push({ est: e, op: null, offset: 0 });
      continue;
    }
    let o = -1;
    while (o + 1 < pr.opStart.length && pr.opStart[o + 1]! < e.point) o++;
    const offset = e.point - (o >= 0 ? pr.opStart[o]! : 0);
    const to = o >= 0 ? m[o] : -1;
    if (to === null || to === undefined) continue;
    let removed = 0;
    for (let o2 = 0; o2 < o; o2++) {
      if (m[o2] === null) removed += (o2 + 1 < pr.opStart.length ? pr.opStart[o2 + 1]! : pr.total) - pr.opStart[o2]!;
    }
    out.push({ est: { ...e, point: Math.max(1, e.point - removed) }, op: to, offset });
  }
  return out;
}

/** The located preemptions placed on the operation starts of the candidate's own run. */
function place(loc: readonly Located[], prof: RunProfile): Preemption[] {
  return loc.map(({ est, op, offset }) => {
    if (op === null || est.task === null) return est;
    const pr = prof.tasks.get(est.task);
    if (pr === undefined || op >= pr.opStart.length) return est;
    return { ...est, point: Math.max(1, (op >= 0 ? pr.opStart[op]! : 0) + offset) };
  });
}

/**
 * Thread `tb` of process `pi` merged into thread `ta` (ta < tb): their calls
 * in the order they began in the profiled run (calls that never ran last),
 * and the run's interleaving carried over, the two tasks' steps now one
 * task's. Fewer tasks; the calls may then share resources.
 */
function mergeThreads(p: Program, prof: RunProfile, pi: number, ta: number, tb: number): Program {
  const began = (ti: number): number[] => {
    const pr = prof.tasks.get(taskName(pi, ti));
    const ops = opsOf(p, pi, ti);
    const out = p.procs[pi]!.threads[ti]!.calls.map(() => Infinity);
    ops.forEach(([ci, r], o) => {
      if (r === 0 && pr !== undefined && o < pr.opBeginStep.length) out[ci] = pr.opBeginStep[o]!;
    });
    return out;
  };
  const a = p.procs[pi]!.threads[ta]!.calls.map((c, i) => ({ c, at: began(ta)[i]!, k: i }));
  const b = p.procs[pi]!.threads[tb]!.calls.map((c, i) => ({ c, at: began(tb)[i]!, k: a.length + i }));
  const merged = [...a, ...b].sort((x, y) => x.at - y.at || x.k - y.k).map((x) => x.c);
  const rename = threadRename(pi, tb);
  const nameA = taskName(pi, ta);
  const nameB = taskName(pi, tb);
  // The interleaving: A's and B's steps become the merged task's, in time order.
  const segs: Segment[] = [];
  let own = 0;
  for (const sg of prof.segments) {
    let task: string | null;
    let from = sg.from;
    let to = sg.to;
    if (sg.task === nameA || sg.task === nameB) {
      task = nameA;
      from = own + 1;
      to = own + (sg.to - sg.from + 1);
      own = to;
    } else task = rename(sg.task);
    if (task === null) continue;
    const last = segs[segs.length - 1];
    if (last !== undefined && last.task === task) last.to = to;
    else segs.push({ task, from, to });
  }
  const list: Preemption[] = segs.length === 0 ? [] : [{ task: null, point: 0, to: segs[0]!.task }];
  for (let i = 0; i + 1 < segs.length; i++) list.push({ task: segs[i]!.task, point: segs[i]!.to, to: segs[i + 1]!.task });
  const header = preemptionsOf(p) === null ? p.header : { ...p.header, strategy: formatPreemptions(list) };
  const procs = p.procs.map((pr, i) => ({
    threads: i !== pi ? pr.threads.map((t) => ({ calls: [...t.calls] })) : pr.threads.flatMap((t, j) => (j === tb ? [] : [{ calls: j === ta ? merged : [...t.calls] }])),
  }));
  return fixRefs({ header, procs });
}

function stripComments(p: Program): Program {
  return { ...p, procs: p.procs.map((pr) => ({ threads: pr.threads.map((t) => ({ calls: t.calls.map(({ comment: _c, ...c }) => c) })) })) };
}

const PAGE = 0x1000;

/** Smaller values for a length or an offset, simplest first. */
function smallerNumbers(v: number): number[] {
  if (!(v > 0)) return [];
  const out = [0, 1, PAGE, Math.floor(v / 2 / PAGE) * PAGE, Math.floor(v / PAGE) * PAGE, Math.floor(v / 2)];
  return [...new Set(out)].filter((x) => x >= 0 && x < v).sort((a, b) => a - b);
}

/** Simpler versions of one argument, the most radical first. */
function simplerArgs(a: Arg, type: ArgType | undefined): Arg[] {
  switch (a.kind) {
    case 'int': {
      const v = a.value;
      const t = type?.t;
      if (t === 'fd' || t === 'enum' || t === 'pid' || t === 'procfile') return [];
      if (t === 'flags') {
        if (!Number.isInteger(v) || v <= 0) return [];
        // Fewer flags: drop one named flag (the multi-bit ones too), highest first.
        const drops = type!.t === 'flags' ? type!.set.values.map(([, f]) => f).filter((f) => f !== 0 && (v & f) === f) : [];
        return [...new Set(drops)].sort((x, y) => y - x).map((f) => ({ kind: 'int', value: (v & ~f) >>> 0 }));
      }
      if (t === 'addr' || t === 'byte') return v !== 0 ? [{ kind: 'int', value: 0 }] : [];
      return smallerNumbers(v).map((x) => ({ kind: 'int', value: x }));
    }
    case 'res':
      return a.add !== 0 ? [{ ...a, add: 0 }] : [];
    case 'iov': {
      const out: Arg[] = [];
      // Fewer entries first, then simpler entries.
      for (let i = a.segs.length - 1; i >= 0 && a.segs.length > 1; i--) out.push({ kind: 'iov', segs: a.segs.filter((_, j) => j !== i) });
      a.segs.forEach((s, i) => {
        const seg = (ns: IovSeg): Arg => ({ kind: 'iov', segs: a.segs.map((x, j) => (j === i ? ns : x)) });
        for (const l of simplerArgs(s.len, { t: 'len' })) out.push(seg({ addr: s.addr, len: l }));
        for (const ad of simplerArgs(s.addr, { t: 'addr' })) out.push(seg({ addr: ad, len: s.len }));
      });
      return out;
    }
    default:
      return [];
  }
}

/**
 * The same use of a result of the same kind defined earlier in the same
 * process's program text (an fd for an fd, a mapping for a mapping): fewer
 * resources, so the call that made this one may go. Only earlier ones, so
 * substitutions cannot cycle.
 */
function otherResources(p: Program, pi: number, a: Arg): Arg[] {
  if (a.kind !== 'res') return [];
  // Results of the process in program order (thread by thread), with their kinds.
  const defs: [number, string | null][] = [];
  for (const t of p.procs[pi]!.threads) for (const c of t.calls) if (c.ret !== null) defs.push([c.ret, DESC_BY_NAME.get(c.name)?.creates ?? null]);
  const at = defs.findIndex(([r]) => r === a.ref);
  const kind = at >= 0 ? defs[at]![1] : null;
  if (kind === null) return [];
  return defs.slice(0, at).filter(([, k]) => k === kind).map(([r]) => ({ ...a, ref: r }));
}

/**
 * One result of process `pi` fewer: result `ra` folded into `rb`, another
 * of its kind. The uses of `ra` after `rb` is defined (program order,
 * thread by thread, as `otherResources` reads it) use `rb` instead; the
 * call that made `ra` goes, and so do the uses of `ra` before `rb` exists.
 * This is what an fd closed and reopened needs: after `close(r0)` the next
 * open gets r0's number, so the calls on r0 that follow work on r1's file,
 * and neither the first open nor the close can go alone (a dropped fd
 * becomes -1). Null if `rb`'s own call uses `ra` (a dup, an mremap).
 */
function foldResource(p: Program, pi: number, ra: number, rb: number): { prog: Program; keep: CallId[] } | null {
  const threads = p.procs[pi]!.threads;
  const tb = threads.findIndex((t) => t.calls.some((c) => c.ret === rb));
  if (tb < 0) return null;
  const cb = threads[tb]!.calls.findIndex((c) => c.ret === rb);
  const after = (ti: number, ci: number): boolean => ti > tb || (ti === tb && ci > cb);
  if (refsOf(threads[tb]!.calls[cb]!).includes(ra)) return null;
  const keep: CallId[] = [];
  const prog: Program = {
    header: p.header,
    procs: p.procs.map((pr, i) => (i !== pi ? pr : {
      threads: pr.threads.map((t, ti) => ({
        calls: t.calls.map((c, ci) => (after(ti, ci) && refsOf(c).includes(ra) ? { ...c, args: c.args.map((a) => mapRefs(a, (r) => (r === ra ? rb : r))) } : c)),
      })),
    })),
  };
  prog.procs.forEach((pr, proc) => pr.threads.forEach((t, thread) => t.calls.forEach((c, index) => {
    const gone = proc === pi && (c.ret === ra || refsOf(c).includes(ra));
    if (!gone) keep.push({ proc, thread, index });
  })));
  return { prog, keep };
}

/** Simpler call properties: none, then a shorter rerun. */
function simplerProps(c: Call): Call[] {
  const out: Call[] = [];
  const { rerun, fail_nth } = c.props;
  if (rerun !== undefined) {
    const { rerun: _r, ...rest } = c.props;
    out.push({ ...c, props: rest });
    if (rerun > 2) out.push({ ...c, props: { ...c.props, rerun: 2 } });
  }
  if (fail_nth !== undefined) {
    const { fail_nth: _f, ...rest } = c.props;
    out.push({ ...c, props: rest });
  }
  return out;
}

/**
 * Delta debugging (Zeller's ddmin, complement-only): the smallest subset of
 * `items` for which `test` holds, 1-minimal if time allows. `test` of the
 * full list is assumed true.
 */
function ddmin<T>(items: readonly T[], test: (subset: T[]) => boolean, outOfTime: () => boolean): T[] {
  let cur = [...items];
  let n = 2;
  while (cur.length >= 2 && !outOfTime()) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = cur.length - chunk; i > -chunk && !outOfTime(); i -= chunk) {
      // From the end: late calls depend on early ones more often than the reverse.
      const lo = Math.max(0, i);
      const comp = [...cur.slice(0, lo), ...cur.slice(i + chunk)];
      if (comp.length < cur.length && test(comp)) {
        cur = comp;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  if (cur.length === 1 && !outOfTime() && test([])) return [];
  return cur;
}

/**
 * The run of `p` (replaying its recorded decision log, if it has one) written
 * down as an explicit preemption list under the same seed: the program
 * with `strategy: preempt:...` and no decision log, which runs exactly the
 * same way. Null if the run cannot be written down (it diverged, or its
 * trace is too long).
 */
export function explicitSchedule(p: Program): Program | null {
  let r: ExecResult;
  try {
    r = execute(p, { replay: p.header.schedule !== undefined, record: false, traceLimit: TRACE_MAX });
  } catch {
    return null;
  }
  if (r.divergence !== null || r.events.length >= TRACE_MAX) return null;
  const runner = runnerOf(r);
  const rec = new PreemptionRecorder((s) => (s < runner.length ? runner[s]! : -1));
  try {
    execute(withStrategy(p, 'preempt'), { strategy: rec, record: false });
  } catch {
    return null;
  }
  return rec.diverged ? null : withStrategy(p, formatPreemptions(rec.preemptions));
}

class Minimizer {
  private execs = 0;
  private readonly runs: number;
  private readonly reschedules: number;
  private readonly deadline: number;
  private readonly t0 = performance.now();
  private timedOut = false;
  /**
   * The step budget of every run (each phase), when the title fires before
   * the input's adversarial budget ends (a lockdep report, a BUG): a few
   * times the step it fired at. A run stops at its first report, so the
   * runs that reproduce cost what they did; the many candidates that do not
   * (a hammered call loops to the end of its budget) stop early instead of
   * running 20000 steps each. Sound: a run is the same up to the cap with or
   * without it, so a report before the cap is the report the candidate's own
   * budgets give, at the same step, with the same trace. A candidate whose
   * report would come later than the cap is not taken.
   */
  private stepCap: number | null = null;
  private readonly log: (msg: string) => void;

  constructor(
    private readonly title: string,
    opts: MinimizeOptions,
  ) {
    this.runs = Math.max(1, opts.runs ?? 3);
    this.reschedules = Math.max(0, opts.reschedules ?? 3);
    this.deadline = this.t0 + (opts.timeLimitMs ?? 10_000);
    this.log = opts.log ?? (() => {});
  }

  private outOfTime = (): boolean => {
    if (performance.now() > this.deadline) this.timedOut = true;
    return this.timedOut;
  };

  private run(p: Program, traceLimit = 0): ExecResult | null {
    this.execs++;
    const cap = this.stepCap === null ? {} : {
      maxSteps: Math.min(this.stepCap, stepBudget(p, 'maxSteps')),
      livenessMaxSteps: Math.min(this.stepCap, stepBudget(p, 'livenessSteps')),
    };
    try {
      return execute(p, { replay: p.header.schedule !== undefined, record: false, traceLimit, ...cap });
    } catch {
      return null; // a header the executor refuses does not reproduce anything
    }
  }

  private hit(r: ExecResult | null): boolean {
    return r !== null && r.divergence === null && r.reports[0]?.title === this.title;
  }

  private reproduces(p: Program): boolean {
    return this.hit(this.run(p));
  }

  /** Replays agree with `hash` (the determinism check of an accepted step). */
  private confirm(p: Program, hash: string, times: number): number {
    let ok = 0;
    for (let i = 0; i < times; i++) {
      const r = this.run(p);
      if (!this.hit(r) || r!.traceHash !== hash) return -1;
      ok++;
    }
    return ok;
  }

  /** `p`'s run written down as a preemption list, if that reproduces the title. */
  private toScripted(p: Program): Program | null {
    this.execs += 2;
    const s = explicitSchedule(p);
    // A livelock's failing run switches tasks thousands of times: no short
    // schedule explains it, and shrinking one would eat the time budget. Such
    // a bug reproduces under most seeds; the seeded strategy stays.
    if (s === null || preemptionsOf(s)!.length > SCRIPT_MAX) return null;
    return this.reproduces(s) ? s : null;
  }

  /** The failing run of `p` needs more preemptions than a readable schedule has. */
  private scheduleTooLong(p: Program): boolean {
    const s = explicitSchedule(p);
    return s !== null && preemptionsOf(s)!.length > SCRIPT_MAX;
  }

  /** Delta-debug the preemption list of a scripted program. */
  private shrinkSchedule(p: Program): Program {
    const list = preemptionsOf(p);
    if (list === null || list.length === 0) return p;
    const best = ddmin(list, (sub) => this.reproduces(withStrategy(p, formatPreemptions(sub))), this.outOfTime);
    return withStrategy(p, formatPreemptions(best));
  }

  private readonly profiles = new WeakMap<Program, RunProfile>();

  /** Each task's operations and the interleaving in `p`'s run (cached per program). */
  private profile(p: Program): RunProfile | null {
    let pr = this.profiles.get(p);
    if (pr === undefined) {
      const r = this.run(p, PROFILE_TRACE);
      if (r === null) return null;
      this.profiles.set(p, (pr = profileOf(r)));
    }
    return pr;
  }

  /**
   * The candidate, made from `from` by `edit`, with a schedule that
   * reproduces the title, or null. Tried in order: its schedule as it is;
   * that schedule carried over the edit (preemptions inside removed calls
   * dropped, later ones moved back by the steps removed) and re-placed on
   * the candidate's own run; the whole failing interleaving of `from`
   * carried over the edit, then shrunk; fresh random and PCT schedules,
   * written down and shrunk.
   */
  private attempt(cand: Program, from?: Program, edit: Edit = {}): Program | null {
    if (this.outOfTime()) return null;
    if (validate(cand).length > 0) return null;
    const list = preemptionsOf(cand);
    const movable = list !== null && from !== undefined && edit.ops !== undefined && edit.rename === undefined && list.some((e) => e.task !== null);
    let r = this.run(cand, movable ? PROFILE_TRACE : 0);
    if (this.hit(r)) return cand;
    const prof = list !== null && from !== undefined ? this.profile(from) : null;
    if (movable && prof !== null && r !== null) {
      const loc = locate(list!, prof, edit.ops!);
      const tried = new Set([cand.header.strategy]);
      let guess = loc.map((l) => l.est);
      for (let i = 0; i < 4 && !this.outOfTime(); i++) {
        if (tried.has(formatPreemptions(guess))) guess = place(loc, profileOf(r!));
        const next = withStrategy(cand, formatPreemptions(guess));
        if (tried.has(next.header.strategy)) break;
        tried.add(next.header.strategy);
        r = this.run(next, PROFILE_TRACE);
        if (r === null) break;
        if (this.hit(r)) return next;
        guess = place(loc, profileOf(r));
      }
    }
    if (prof !== null && !this.outOfTime()) {
      const all = carryInterleaving(prof, edit);
      if (all !== null) {
        const next = withStrategy(cand, formatPreemptions(all));
        if (this.reproduces(next)) return this.shrinkSchedule(next);
      }
    }
    return this.reschedule(cand, r?.steps);
  }

  /**
   * The candidate under fresh random and PCT schedules; the first that
   * reproduces, written down and shrunk. `steps`: the length of a run of it
   * (measured if not given), which sets how many schedules are tried.
   */
  private reschedule(cand: Program, steps?: number): Program | null {
    if (validate(cand).length > 0) return null;
    const len = steps ?? this.run(cand)?.steps ?? RESCHEDULE_STEPS;
    const tries = Math.max(this.reschedules, Math.min(RESCHEDULES_MAX, Math.floor(RESCHEDULE_STEPS / Math.max(1, len))));
    for (let i = 0; i < tries && !this.outOfTime(); i++) {
      for (const strategy of ['random', 'pct:3']) {
        const fresh = withStrategy(cand, strategy, `${cand.header.seed}~${i}`);
        if (!this.reproduces(fresh)) continue;
        const scripted = this.toScripted(fresh);
        if (scripted !== null) return this.shrinkSchedule(scripted);
        if (this.scheduleTooLong(fresh)) return fresh;
      }
    }
    return null;
  }

  /** Accept `next` if its replays agree; returns the program to continue from. */
  private accept(cur: Program, next: Program | null): Program | null {
    if (next === null) return null;
    const r = this.run(next);
    if (!this.hit(r) || this.confirm(next, r!.traceHash, this.runs - 1) < 0) return null;
    this.log(`  ${callCount(cur)} -> ${callCount(next)} calls, ${next.header.strategy}`);
    return next;
  }

  /**
   * Environment options back to their defaults, one at a time. A memory
   * budget that must stay is tried smaller: when the bug needs an
   * allocation to fail or reclaim to run, a tighter budget can stand in for
   * the calls that only ate memory, and the next round drops them.
   */
  private passOptions(p: Program): Program {
    // Step budgets stay while they bound the run: a hammering program's, or
    // a livelock's that uses them up. A program that no longer hammers and
    // ends well inside them (a race's report found early) does without.
    const r = this.run(p);
    // (livenessSteps=0, a short race's, is no phase at all: it bounds nothing.)
    const budgets = BUDGET_OPTIONS.map((k) => stepBudget(p, k)).filter((b) => b > 0);
    const unbounded = r !== null && !hammers(p) && r.steps < Math.min(...budgets) / 2;
    for (const key of Object.keys(p.header.options).sort()) {
      if (this.outOfTime()) break;
      if (BUDGET_OPTIONS.includes(key) && !unbounded) continue;
      const { [key]: _gone, ...options } = p.header.options;
      const next = this.accept(p, this.attempt({ ...p, header: { ...p.header, options } }));
      if (next !== null) {
        p = next;
        continue;
      }
      if (key === 'memoryPages') p = this.tighterBudget(p, key);
    }
    return p;
  }

  /**
   * A smaller memory budget, alone or together with one thread (or
   * process) or one call fewer: the calls that only used memory up can be in
   * the way of the tighter budget that replaces them.
   */
  private tighterBudget(p: Program, key: string): Program {
    const pages = Number(p.header.options[key]);
    const budget = (q: Program, n: number): Program => ({ ...q, header: { ...q.header, options: { ...q.header.options, [key]: String(n) } } });
    for (const smaller of [1, 4, 16].filter((x) => x < pages)) {
      const alone = this.accept(p, this.attempt(budget(p, smaller)));
      if (alone !== null) return alone;
      for (let pi = p.procs.length - 1; pi >= 0; pi--) {
        for (let ti = p.procs[pi]!.threads.length - 1; ti >= 0; ti--) {
          if (this.outOfTime()) return p;
          const single = p.procs[pi]!.threads.length === 1;
          if (single && p.procs.length === 1) continue;
          const fewer = single ? removeProc(p, pi) : removeThread(p, pi, ti);
          const got = this.accept(p, this.attempt(budget(fewer, smaller), p, { rename: single ? procRename(pi) : threadRename(pi, ti) }));
          if (got !== null) return got;
        }
      }
      // Or one call fewer: a write that filled the page the fault now cannot get.
      const ids = callIds(p);
      const all = callKeys(ids);
      for (let i = ids.length - 1; i >= 0; i--) {
        if (this.outOfTime()) return p;
        const sub = ids.filter((_, j) => j !== i);
        const got = this.accept(p, this.attempt(budget(keepCalls(p, sub), smaller), p, { ops: opMapForKeep(p, all, callKeys(sub)) }));
        if (got !== null) return got;
      }
    }
    return p;
  }

  /**
   * Smaller step budgets for both phases, when the failing run used more
   * steps than they allow. A livelock or a starvation that still shows under
   * a tenth of the default budget (or a fortieth) makes each of the
   * thousands of runs that follow that much cheaper (a default-budget
   * livelock used its whole time
   * limit without dropping a call), and the reproducer states the budget
   * it needs, as the hand-written ones do.
   */
  private passStepBudgets(p: Program, base: ExecResult): Program {
    for (const b of STEP_BUDGETS) {
      if (base.steps <= b || this.outOfTime()) break; // the run fits: a budget changes nothing
      const maxSteps = Math.min(b, stepBudget(p, 'maxSteps'));
      const livenessSteps = Math.min(b, stepBudget(p, 'livenessSteps'));
      if (maxSteps === stepBudget(p, 'maxSteps') && livenessSteps === stepBudget(p, 'livenessSteps')) continue;
      const cand = { ...p, header: { ...p.header, options: { ...p.header.options, maxSteps: String(maxSteps), livenessSteps: String(livenessSteps) } } };
      const next = this.accept(p, this.attempt(cand));
      if (next !== null) {
        this.log(`step budgets: ${maxSteps} + ${livenessSteps}`);
        return next;
      }
    }
    return p;
  }

  private passProcs(p: Program): Program {
    for (let pi = p.procs.length - 1; pi >= 0 && p.procs.length > 1 && !this.outOfTime(); pi--) {
      p = this.accept(p, this.attempt(removeProc(p, pi), p, { rename: procRename(pi) })) ?? p;
    }
    return p;
  }

  private passThreads(p: Program): Program {
    for (let pi = p.procs.length - 1; pi >= 0 && !this.outOfTime(); pi--) {
      for (let ti = p.procs[pi]!.threads.length - 1; ti >= 0 && p.procs[pi]!.threads.length > 1 && !this.outOfTime(); ti--) {
        p = this.accept(p, this.attempt(removeThread(p, pi, ti), p, { rename: threadRename(pi, ti) })) ?? p;
      }
    }
    return p;
  }

  private passMerge(p: Program): Program {
    for (let pi = p.procs.length - 1; pi >= 0 && !this.outOfTime(); pi--) {
      for (let tb = p.procs[pi]!.threads.length - 1; tb >= 1 && !this.outOfTime(); tb--) {
        for (let ta = tb - 1; ta >= 0 && !this.outOfTime(); ta--) {
          const prof = this.profile(p);
          if (prof === null || preemptionsOf(p) === null) return p;
          const cand = mergeThreads(p, prof, pi, ta, tb);
          const next = this.accept(p, this.reproduces(cand) ? this.shrinkSchedule(cand) : this.reschedule(cand));
          if (next !== null) {
            p = next;
            break;
          }
        }
      }
    }
    return p;
  }

  /**
   * Calls that no run reached cannot matter: a thread that never got past an
   * earlier call (stuck, starved, or hammering when the detector fired) never
   * began them. Dropping them first is one cheap, exact step; it spares ddmin
   * many expensive runs on long (liveness) reproducers.
   */
  private passUnreached(p: Program): Program {
    const r = this.run(p);
    if (r === null || !this.hit(r)) return p;
    const reached = new Map<string, number>();
    for (const c of r.results) reached.set(`${c.proc}/${c.thread}`, Math.max(reached.get(`${c.proc}/${c.thread}`) ?? 0, c.index + 1));
    const all: CallId[] = [];
    const kept: CallId[] = [];
    p.procs.forEach((pr, proc) => pr.threads.forEach((t, thread) => t.calls.forEach((_, index) => {
      all.push({ proc, thread, index });
      // Completed calls, and the one in progress (or next) when the run ended.
      if (index <= (reached.get(`${proc}/${thread}`) ?? 0)) kept.push({ proc, thread, index });
    })));
    if (kept.length === all.length) return p;
    const next = this.attempt(keepCalls(p, kept), p, { ops: opMapForKeep(p, callKeys(all), callKeys(kept)) });
    return this.accept(p, next) ?? p;
  }

  private passCalls(p: Program): Program {
    const ids = callIds(p);
    let cur = p;
    let had = callKeys(ids);
    ddmin(ids, (sub) => {
      const keep = callKeys(sub);
      const next = this.accept(cur, this.attempt(keepCalls(p, sub), cur, { ops: opMapForKeep(p, had, keep) }));
      if (next === null) return false;
      // Later subsets are taken from `p`'s calls with the accepted header.
      cur = next;
      had = keep;
      p = { ...p, header: next.header };
      return true;
    }, this.outOfTime);
    return cur;
  }

  private passArgs(p: Program): Program {
    for (let pi = 0; pi < p.procs.length; pi++) {
      for (let ti = 0; ti < p.procs[pi]!.threads.length; ti++) {
        for (let ci = 0; ci < p.procs[pi]!.threads[ti]!.calls.length; ci++) {
          let changed = true;
          while (changed && !this.outOfTime()) {
            changed = false;
            const c = p.procs[pi]!.threads[ti]!.calls[ci]!;
            const desc = DESC_BY_NAME.get(c.name);
            const cands: Call[] = [...simplerProps(c)];
            c.args.forEach((a, ai) => {
              const alts = [...simplerArgs(a, desc?.args[ai]?.type), ...otherResources(p, pi, a)];
              for (const s of alts) cands.push({ ...c, args: c.args.map((x, j) => (j === ai ? s : x)) });
            });
            for (const nc of cands) {
              if (this.outOfTime()) break;
              const next = this.accept(p, this.attempt(replaceCall(p, pi, ti, ci, nc), p, { ops: opMapForReplace(p, pi, ti, ci, nc) }));
              if (next !== null) {
                p = next;
                changed = true;
                break;
              }
            }
          }
        }
      }
    }
    return p;
  }

  /** Results folded into others of their kind (`foldResource`), with the calls that only served them. */
  private passResources(p: Program): Program {
    for (let pi = 0; pi < p.procs.length && !this.outOfTime(); pi++) {
      let changed = true;
      while (changed && !this.outOfTime()) {
        changed = false;
        const defs: [number, string][] = [];
        for (const t of p.procs[pi]!.threads) {
          for (const c of t.calls) {
            const kind = DESC_BY_NAME.get(c.name)?.creates ?? null;
            if (c.ret !== null && kind !== null) defs.push([c.ret, kind]);
          }
        }
        for (const [ra, ka] of defs) {
          for (const [rb, kb] of defs) {
            if (changed || this.outOfTime()) break;
            if (ra === rb || ka !== kb) continue;
            const fold = foldResource(p, pi, ra, rb);
            if (fold === null) continue;
            const all = callIds(fold.prog);
            const cand = keepCalls(fold.prog, fold.keep);
            const next = this.accept(p, this.attempt(cand, p, { ops: opMapForKeep(fold.prog, callKeys(all), callKeys(fold.keep)) }));
            if (next !== null) {
              p = next;
              changed = true;
            }
          }
          if (changed) break;
        }
      }
    }
    return p;
  }

  minimize(input: Program): MinimizeResult {
    const before = callCount(input);
    const bytesBefore = formatProgram(input).length;
    const base = this.run(input);
    const result = (program: Program, reproduced: boolean, pBefore: number, hash: string, verified: number): MinimizeResult => ({
      program, title: this.title, reproduced, before, after: callCount(program), bytesBefore, bytesAfter: formatProgram(program).length,
      preemptionsBefore: pBefore, preemptionsAfter: preemptionsOf(program)?.length ?? -1, traceHash: hash,
      verifiedReplays: verified, execs: this.execs, ms: performance.now() - this.t0, timedOut: this.timedOut,
    });
    if (base === null || !this.hit(base)) return result(input, false, -1, base?.traceHash ?? '', 0);
    if (base.steps < stepBudget(input, 'maxSteps')) this.stepCap = Math.max(STEP_CAP_FACTOR * base.steps, base.steps + STEP_CAP_MIN);

    // 0. Step budgets the report still fires under: every later run is cheaper.
    const start = this.passStepBudgets(input, base);

    // 1-2. The failing run's schedule, explicit, then short.
    let p = start;
    let pBefore = -1;
    const scripted = this.toScripted(start);
    if (scripted !== null) {
      pBefore = preemptionsOf(scripted)!.length;
      this.log(`schedule: ${pBefore} preemptions in the failing run`);
      p = this.shrinkSchedule(scripted);
      this.log(`schedule: ${preemptionsOf(p)!.length} preemptions needed`);
    } else if (this.scheduleTooLong(start) && start.header.schedule !== undefined && this.reproduces(withStrategy(start, start.header.strategy))) {
      p = withStrategy(start, start.header.strategy);
      this.log(`schedule: more than ${SCRIPT_MAX} preemptions (a livelock?); the seeded ${p.header.strategy} schedule reproduces, kept`);
    } else this.log('schedule: the failing run could not be written as a preemption list; keeping its decision log');

    // 3-5. Structure, arguments, schedule, while they make progress.
    p = this.passUnreached(p);
    for (let round = 0; round < ROUNDS_MAX && !this.outOfTime(); round++) {
      const size = formatProgram(p).length;
      const calls = callCount(p);
      p = this.passProcs(p);
      p = this.passThreads(p);
      p = this.passCalls(p);
      p = this.passThreads(p);
      p = this.passMerge(p);
      p = this.passProcs(p);
      // Options before arguments: a handful of runs, and each one dropped
      // (kswapd, a slow daemon) can make the many runs after it cheaper.
      p = this.passOptions(p);
      p = this.passArgs(p);
      p = this.passResources(p);
      p = this.shrinkSchedule(p);
      if (callCount(p) === calls && formatProgram(p).length >= size) break;
    }

    // Final checks: the text form (what gets stored) reproduces, identically, `runs` times.
    // Call comments described the calls before they changed: they go.
    const finalProg = stripComments(renumber(p));
    const text = formatProgram({
      ...finalProg,
      header: { ...finalProg.header, comments: [`minimized by faultline: ${before} -> ${callCount(finalProg)} calls; ${this.title}`] },
    });
    const parsed = parseProgram(text, '<minimized>');
    const r = this.run(parsed);
    if (r !== null && this.hit(r)) {
      const verified = this.confirm(parsed, r.traceHash, this.runs);
      if (verified === this.runs && callCount(parsed) <= before) return result(parsed, true, pBefore, r.traceHash, verified);
    }
    // Should not happen (every accepted step was checked); never hand back something that fails.
    this.log('the minimized program did not verify; returning the input');
    return result(input, true, pBefore, base.traceHash, 0);
  }
}
