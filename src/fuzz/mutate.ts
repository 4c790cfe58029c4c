// Mutation: insert, remove or replace a call, mutate an argument, move a call
// to another thread or process, change a call's properties, splice two
// programs. Every result is made well formed again by fixRefs (a use of a
// result that is gone, or lives in another process, becomes a plain value).

import type { Rng } from '../sim/index.js';
import { DESC_BY_NAME } from '../../syscalls/index.js';
import { ChoiceTable, HAMMER_RERUN, ProcState, genArg, genCall, type GenConfig } from './generate.js';
import { allCalls, type Arg, type Call, type IovSeg, type Proc, type Program } from './program.js';

type MCall = Call;
type MProg = { header: Program['header']; procs: { threads: { calls: MCall[] }[] }[] };

// Loops, not map callbacks, here and in fixRefs: functions made per call are
// compiled again after every full GC (see sim/arrays.ts).

function clone(p: Program): MProg {
  const procs: MProg['procs'] = [];
  for (const pr of p.procs) {
    const threads: { calls: MCall[] }[] = [];
    for (const t of pr.threads) threads.push({ calls: t.calls.slice() });
    procs.push({ threads });
  }
  return { header: p.header, procs };
}

function maxRet(p: Program | MProg): number {
  let m = -1;
  for (const pr of p.procs) for (const t of pr.threads) for (const c of t.calls) if (c.ret !== null) m = Math.max(m, c.ret);
  return m;
}

/** What a process of the program has (for generating calls into it). */
function procState(p: MProg, pi: number, nextRet: { n: number }): ProcState {
  const st = new ProcState(nextRet);
  for (const t of p.procs[pi]!.threads) for (const c of t.calls) {
    if (c.ret === null) continue;
    const d = DESC_BY_NAME.get(c.name);
    if (d?.creates === 'fd') st.fds.push(c.ret);
    else if (d?.creates === 'mapping') {
      const l = c.args[c.name === 'mremap' ? 2 : 1];
      st.maps.push({ ref: c.ret, len: l?.kind === 'int' ? Math.max(4096, l.value) : 4096 });
    }
  }
  return st;
}

/** Replace uses of results that are not defined in the same process by plain values. */
export function fixRefs(p: MProg): Program {
  const definedIn = new Map<number, number>();
  for (let pi = 0; pi < p.procs.length; pi++) {
    for (const t of p.procs[pi]!.threads) for (const c of t.calls) if (c.ret !== null) definedIn.set(c.ret, pi);
  }
  const procs: Proc[] = [];
  for (let pi = 0; pi < p.procs.length; pi++) {
    const threads: { calls: Call[] }[] = [];
    for (const t of p.procs[pi]!.threads) {
      const calls: Call[] = [];
      for (const c of t.calls) calls.push(fixCall(c, pi, definedIn, p.procs.length));
      threads.push({ calls });
    }
    procs.push({ threads });
  }
  return { header: p.header, procs };
}

// Copy on write: a call (or iovec) whose arguments all stand is kept as is,
// not copied -- calls are never modified in place, and most mutations touch
// one call of forty.

function fixCall(c: Call, pi: number, definedIn: ReadonlyMap<number, number>, nprocs: number): Call {
  const d = DESC_BY_NAME.get(c.name);
  let args: Arg[] | null = null;
  for (let ai = 0; ai < c.args.length; ai++) {
    const a = c.args[ai]!;
    const f = fixArg(a, pi, d?.args[ai]?.type.t === 'fd', definedIn, nprocs);
    if (f !== a && args === null) args = c.args.slice(0, ai);
    if (args !== null) args.push(f);
  }
  return args === null ? c : { ...c, args };
}

function fixArg(a: Arg, pi: number, isFd: boolean, definedIn: ReadonlyMap<number, number>, nprocs: number): Arg {
  if (a.kind === 'res' && definedIn.get(a.ref) !== pi) return { kind: 'int', value: isFd ? -1 : a.add };
  if (a.kind === 'pid' && a.proc >= nprocs) return { kind: 'pid', proc: 0 };
  if (a.kind === 'iov') {
    let changed = false;
    const segs: IovSeg[] = [];
    for (const s of a.segs) {
      const addr = fixArg(s.addr, pi, false, definedIn, nprocs);
      const len = fixArg(s.len, pi, false, definedIn, nprocs);
      if (addr !== s.addr || len !== s.len) changed = true;
      segs.push({ addr, len });
    }
    return changed ? { kind: 'iov', segs } : a;
  }
  return a;
}

function randomThread(rng: Rng, p: MProg): [number, number] {
  const pi = rng.int(p.procs.length);
  return [pi, rng.int(p.procs[pi]!.threads.length)];
}

const MAX_CALLS_PER_THREAD = 64;

/** One random mutation (retrying until something changed). */
export function mutate(rng: Rng, prog: Program, cfg: GenConfig, ct: ChoiceTable, corpus: readonly Program[]): Program {
  const p = clone(prog);
  const nextRet = { n: maxRet(p) + 1 };
  for (let attempt = 0; attempt < 10; attempt++) {
    const op = rng.int(100);
    const [pi, ti] = randomThread(rng, p);
    const calls = p.procs[pi]!.threads[ti]!.calls;
    if (op < 30 && calls.length < MAX_CALLS_PER_THREAD) {
      // Insert a call, steered by its predecessor.
      const at = rng.int(calls.length + 1);
      const d = ct.choose(rng, at > 0 ? calls[at - 1]!.name : null);
      calls.splice(at, 0, genCall(rng, d, procState(p, pi, nextRet), cfg, p.procs.length));
      return fixRefs(p);
    }
    if (op < 45 && calls.length > 1) {
      calls.splice(rng.int(calls.length), 1);
      return fixRefs(p);
    }
    if (op < 75 && calls.length > 0) {
      // Mutate one argument of one call.
      const ci = rng.int(calls.length);
      const c = calls[ci]!;
      const d = DESC_BY_NAME.get(c.name);
      if (d === undefined || d.args.length === 0) continue;
      const ai = rng.int(d.args.length);
      const args = [...c.args];
      args[ai] = mutateArg(rng, args[ai]!, () => genArg(rng, d.args[ai]!.type, procState(p, pi, nextRet), cfg, p.procs.length, args.slice(0, ai)));
      calls[ci] = { ...c, args };
      return fixRefs(p);
    }
    if (op < 85 && calls.length > 0) {
      // Move a call to another thread, possibly of another process.
      const ci = rng.int(calls.length);
      const [c] = calls.splice(ci, 1);
      const [pj, tj] = randomThread(rng, p);
      const dst = p.procs[pj]!.threads[tj]!.calls;
      dst.splice(rng.int(dst.length + 1), 0, c!);
      return fixRefs(p);
    }
    if (op < 92 && calls.length > 0) {
      const ci = rng.int(calls.length);
      const c = calls[ci]!;
      const props = rng.chance(0.5)
        ? { ...c.props, rerun: c.props.rerun ? undefined : c.ret === null && rng.chance(0.005) ? HAMMER_RERUN : 2 + rng.int(31) }
        : { ...c.props, fail_nth: c.props.fail_nth ? undefined : 1 + rng.int(8) };
      calls[ci] = { ...c, props: Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) };
      return fixRefs(p);
    }
    if (corpus.length > 0) {
      // Splice: graft a process (or a thread) of another program, renumbering its results.
      const other = corpus[rng.int(corpus.length)]!;
      const src = other.procs[rng.int(other.procs.length)]!;
      if (rng.chance(0.5) && p.procs.length < 4) return graftProcs(fixRefs(p), [src]);
      const renum = new Renumberer(nextRet.n);
      const t = src.threads[rng.int(src.threads.length)]!;
      p.procs[pi]!.threads.push({ calls: renum.calls(t.calls) });
      nextRet.n = renum.top;
      return fixRefs(p);
    }
  }
  return fixRefs(p);
}

/** Renumbers grafted calls' results (and their uses of them) past `base`; `top` is the next free result. */
class Renumberer {
  top: number;
  constructor(private readonly base: number) {
    this.top = base;
  }

  calls(cs: readonly Call[]): Call[] {
    const out: Call[] = [];
    for (const c of cs) {
      if (c.ret !== null) this.top = Math.max(this.top, c.ret + this.base + 1);
      const args: Arg[] = [];
      for (const a of c.args) args.push(this.arg(a));
      out.push({ ...c, ret: c.ret === null ? null : c.ret + this.base, args });
    }
    return out;
  }

  private arg(a: Arg): Arg {
    if (a.kind === 'res') return { ...a, ref: a.ref + this.base };
    if (a.kind !== 'iov') return a;
    const segs: IovSeg[] = [];
    for (const s of a.segs) segs.push({ addr: this.arg(s.addr), len: this.arg(s.len) });
    return { kind: 'iov', segs };
  }
}

/** `p` with processes of other programs appended, their results renumbered past p's (a process is self-contained). */
export function graftProcs(p: Program, procs: readonly Proc[]): Program {
  let base = maxRet(p) + 1;
  const out: Proc[] = [...p.procs];
  for (const src of procs) {
    const renum = new Renumberer(base);
    const threads: { calls: Call[] }[] = [];
    for (const t of src.threads) threads.push({ calls: renum.calls(t.calls) });
    out.push({ threads });
    base = renum.top;
  }
  return { header: p.header, procs: out };
}

const PS = 4096;

function mutateArg(rng: Rng, a: Arg, regen: () => Arg): Arg {
  if (a.kind === 'int' && rng.chance(0.7)) {
    const v = a.value;
    switch (rng.int(6)) {
      case 0: return { kind: 'int', value: v + PS };
      case 1: return { kind: 'int', value: Math.max(0, v - PS) };
      case 2: return { kind: 'int', value: v * 2 };
      case 3: return { kind: 'int', value: Math.floor(v / 2) };
      case 4: return { kind: 'int', value: (v ^ (1 << rng.int(24))) >>> 0 };
      default: return { kind: 'int', value: v + (rng.chance(0.5) ? 1 : -1) };
    }
  }
  if (a.kind === 'res' && rng.chance(0.5)) return { ...a, add: Math.max(0, a.add + (rng.chance(0.5) ? PS : -PS)) };
  return regen();
}

/** Calls in program order, for tests and stats. */
export function callNames(p: Program): string[] {
  return [...allCalls(p)].map((x) => x.call.name);
}
