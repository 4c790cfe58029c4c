// Program generation, biased the way kernel fuzzers are: page-aligned and
// off-by-one lengths, ranges that straddle EOF, addresses inside, across
// and just past existing mappings (reused 4 times in 5, as syzkaller reuses
// pages), the same few victim files shared by every process, flags mostly
// valid with occasional garbage. Which call follows which is steered by a
// choice table (syzkaller's prio.go): static priorities from shared
// resource types, dynamic ones from co-occurrence in the corpus, and a few
// percent uniform picks.

import type { Rng } from '../sim/index.js';
import { SYSCALL_DESCS, consumes, type ArgType, type SyscallDesc } from '../../syscalls/index.js';
import { DATA_AREA, DATA_AREA_LEN } from './execute.js';
import { HAMMER_RERUN, type Arg, type Call, type Header, type IovSeg, type Program, type Proc, type Thread } from './program.js';
import { drawIndex } from './weighted.js';

const PS = 4096;

export interface GenConfig {
  procs: number;
  threads: number;
  /** Calls per thread. */
  calls: number;
  /** The shared files every process attacks (trinity's victim files). */
  victims: readonly string[];
  /** Calls allowed (trinity's -c / -x). */
  enabled: ReadonlySet<string>;
}

/** tmpfs, shm, and the pre-existing files of the block fs and of virtiofs (data on disk or in the daemon, nothing cached). */
export const DEFAULT_VICTIMS = [
  '/tmp/victim0', '/tmp/victim1', '/dev/shm/victim2', '/data/file0', '/data/file1', '/mnt/virtiofs/file0', '/mnt/virtiofs/file1',
];

const LENGTHS = [PS, PS, 2 * PS, 3 * PS, 4 * PS, 8 * PS, 16 * PS, PS - 1, PS + 1, 12, 24, 100, 2 * PS - 12, 1, 0];
const OFFSETS = [0, 0, PS, 2 * PS, 3 * PS, PS - 12, 2 * PS - 12, PS + 11, 100, 8 * PS, 17];

/** Call-pair priorities over prefix sums (syzkaller's ChoiceTable). */
export class ChoiceTable {
  readonly descs: readonly SyscallDesc[];
  /** runs[i]: cumulative weights of choosing descs[j] after descs[i]. */
  private readonly runs: Float64Array[];
  private readonly uniform: Float64Array;

  constructor(enabled: ReadonlySet<string>, corpus: readonly Program[] = []) {
    this.descs = SYSCALL_DESCS.filter((d) => enabled.has(d.name));
    if (this.descs.length === 0) throw new Error('no syscalls enabled');
    const n = this.descs.length;
    const idx = new Map(this.descs.map((d, i) => [d.name, i]));
    // Dynamic: how often b follows a in one thread of the corpus.
    const co = new Float64Array(n * n);
    for (const p of corpus) {
      for (const pr of p.procs) for (const th of pr.threads) {
        for (let c = 1; c < th.calls.length; c++) {
          const a = idx.get(th.calls[c - 1]!.name);
          const b = idx.get(th.calls[c]!.name);
          if (a !== undefined && b !== undefined) co[a * n + b]!++;
        }
      }
    }
    this.runs = [];
    for (let i = 0; i < n; i++) {
      const a = this.descs[i]!;
      const run = new Float64Array(n);
      let rowMax = 0;
      for (let j = 0; j < n; j++) rowMax = Math.max(rowMax, co[i * n + j]!);
      let acc = 0;
      for (let j = 0; j < n; j++) {
        const b = this.descs[j]!;
        const dyn = rowMax > 0 ? co[i * n + j]! / rowMax : 0;
        acc += b.weight * staticPrio(a, b) * (1 + 2 * dyn);
        run[j] = acc;
      }
      this.runs.push(run);
    }
    this.uniform = new Float64Array(n);
    let acc = 0;
    for (let j = 0; j < n; j++) this.uniform[j] = acc += this.descs[j]!.weight;
  }

  choose(rng: Rng, prev: string | null): SyscallDesc {
    const i = prev === null ? -1 : this.descs.findIndex((d) => d.name === prev);
    const run = i < 0 || rng.chance(0.05) ? this.uniform : this.runs[i]!;
    return this.descs[drawIndex(rng, run)]!;
  }
}

function staticPrio(a: SyscallDesc, b: SyscallDesc): number {
  const bc = consumes(b);
  if (a.creates !== null && bc.includes(a.creates)) return 1;
  if (consumes(a).some((r) => bc.includes(r))) return 0.6;
  return 0.2;
}

interface Mapping {
  readonly ref: number;
  readonly len: number;
}

/** What a process has while its calls are generated. */
export class ProcState {
  readonly fds: number[] = [];
  readonly maps: Mapping[] = [];
  constructor(public nextRet: { n: number }) {}
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

/** `prev`: the call's arguments generated so far (a length may depend on an address). */
export function genArg(rng: Rng, t: ArgType, st: ProcState, cfg: GenConfig, procs: number, prev: readonly Arg[] = []): Arg {
  switch (t.t) {
    case 'fd':
      if (st.fds.length > 0 && rng.chance(0.95)) return { kind: 'res', ref: pick(rng, st.fds), add: 0 };
      return { kind: 'int', value: rng.chance(0.5) ? -1 : rng.int(8) };
    case 'addr':
      return t.touch === true ? genTouchAddr(rng, st) : genAddr(rng, st);
    case 'len': {
      const within = t.within === undefined ? undefined : prev[t.within];
      const m = within?.kind === 'res' ? st.maps.find((x) => x.ref === within.ref) : undefined;
      if (within?.kind === 'res' && m !== undefined && rng.chance(0.85)) {
        // What is left of the mapping from the address: all of it, some pages of it, or a few bytes.
        const left = Math.max(1, Math.ceil(m.len / PS)) * PS - within.add;
        if (left > 0) {
          const r = rng.int(8);
          return { kind: 'int', value: r < 4 ? left : r < 7 ? Math.min(left, (1 + rng.int(Math.ceil(left / PS))) * PS) : 1 + rng.int(Math.min(left, PS)) };
        }
      }
      // Else any length.
      if (st.maps.length > 0 && rng.chance(0.3)) return { kind: 'int', value: pick(rng, st.maps).len };
      return { kind: 'int', value: rng.chance(0.1) ? rng.int(64) * PS : pick(rng, LENGTHS) };
    }
    case 'off':
      return { kind: 'int', value: rng.chance(0.1) ? rng.int(64) * PS : pick(rng, OFFSETS) };
    case 'flags': {
      let v = 0;
      for (const [, x] of t.set.values) if (rng.chance(0.3)) v |= x;
      if (rng.chance(0.02)) v |= 1 << rng.int(31);
      return { kind: 'int', value: v >>> 0 };
    }
    case 'enum':
      return { kind: 'int', value: rng.chance(0.03) ? rng.int(256) : pick(rng, t.set.values)[1] };
    case 'path':
      if (rng.chance(0.92)) return { kind: 'str', value: pick(rng, cfg.victims) };
      return { kind: 'str', value: pick(rng, ['/tmp/fz' + rng.int(4), '/nonexistent/x', '/tmp', '/tmp/victim0/x']) };
    case 'iov': {
      const segs: IovSeg[] = [];
      const n = 1 + rng.int(3);
      for (let i = 0; i < n; i++) segs.push({ addr: genAddr(rng, st), len: { kind: 'int', value: pick(rng, [12, 100, PS, PS - 12, 2 * PS, 1]) } });
      return { kind: 'iov', segs };
    }
    case 'pid':
      return { kind: 'pid', proc: rng.int(procs) };
    case 'procfile':
      return { kind: 'str', value: rng.chance(0.5) ? 'cmdline' : 'maps' };
    case 'byte':
      return { kind: 'int', value: rng.int(256) };
  }
}

/**
 * Where a memory access goes (trinity's dirty_mapping touches pages of its
 * own mappings): mostly a page inside one of the process's mappings,
 * sometimes at an unaligned offset; else any address genAddr would make.
 * A third of those start at the mapping's first page, so that with the
 * length drawn next (what is left of the mapping, half the time) the access
 * sweeps the whole mapping, as trinity's dirty_whole_mapping does: a random
 * page's remainder is short, and a fault loop refilling pages behind a
 * hole punch's cursor needs many pages to keep ahead of it.
 */
function genTouchAddr(rng: Rng, st: ProcState): Arg {
  if (st.maps.length === 0 || !rng.chance(0.85)) return genAddr(rng, st);
  const m = pick(rng, st.maps);
  const page = rng.chance(1 / 3) ? 0 : rng.int(Math.max(1, Math.ceil(m.len / PS))) * PS;
  return { kind: 'res', ref: m.ref, add: rng.chance(0.8) ? page : page + pick(rng, [12, PS - 12]) };
}

/** Mostly inside, across or just past a known mapping; else the data area or a wild value. */
function genAddr(rng: Rng, st: ProcState): Arg {
  if (st.maps.length > 0 && rng.chance(0.8)) {
    const m = pick(rng, st.maps);
    const pages = Math.max(1, Math.ceil(m.len / PS));
    const add = pick(rng, [0, 0, PS, (pages - 1) * PS, pages * PS, rng.int(pages) * PS, PS - 12, 2 * PS - 12]);
    return { kind: 'res', ref: m.ref, add };
  }
  if (rng.chance(0.7)) return { kind: 'int', value: DATA_AREA + rng.int(DATA_AREA_LEN / PS / 2) * PS };
  return { kind: 'int', value: pick(rng, [0, 0x10000, 0x7f0000000000 - 16 * PS, 0x30000000, 0x7ffffffff000]) };
}

export { HAMMER_RERUN } from './program.js';

/** Step budget (each phase) of a program that hammers a call: a tenth of the default, so hammering stays affordable. */
export const HAMMER_BUDGET = 20_000;

/** Whether a call of the program is hammered (rerun >= HAMMER_RERUN). */
export function hammers(p: Program): boolean {
  return p.procs.some((pr) => pr.threads.some((t) => t.calls.some((c) => (c.props.rerun ?? 0) >= HAMMER_RERUN)));
}

/** Generate one call, recording the resource it creates. */
export function genCall(rng: Rng, d: SyscallDesc, st: ProcState, cfg: GenConfig, procs: number): Call {
  const args: Arg[] = [];
  for (const a of d.args) args.push(genArg(rng, a.type, st, cfg, procs, args));
  if (d.sanitise) {
    const nums = args.map((a) => (a.kind === 'int' ? a.value : 0));
    const before = nums.slice();
    d.sanitise(nums, (p) => rng.chance(p));
    nums.forEach((v, i) => {
      // A value the hook set replaces the argument, even one that referred to a resource (a far MREMAP_FIXED target).
      if (v !== before[i] && (args[i]!.kind === 'int' || args[i]!.kind === 'res')) args[i] = { kind: 'int', value: v >>> 0 === v ? v : v };
    });
  }
  let ret: number | null = null;
  if (d.creates !== null) {
    ret = st.nextRet.n++;
    if (d.creates === 'fd') st.fds.push(ret);
    else {
      const lenArg = d.name === 'mremap' ? args[2] : args[1];
      st.maps.push({ ref: ret, len: lenArg?.kind === 'int' ? Math.max(PS, lenArg.value) : PS });
    }
  }
  const props: { rerun?: number; fail_nth?: number } = {};
  // Only calls that create nothing are hammered: a loop of 20000 mmap or dup
  // calls grows tables, not pressure on one path.
  if (rng.chance(0.04)) props.rerun = d.creates === null && rng.chance(0.005) ? HAMMER_RERUN : 2 + rng.int(15);
  if (rng.chance(0.02)) props.fail_nth = 1 + rng.int(4);
  return { name: d.name, args, ret, props };
}

export function generate(rng: Rng, cfg: GenConfig, ct: ChoiceTable, header: Header): Program {
  const nextRet = { n: 0 };
  const procs: Proc[] = [];
  for (let pi = 0; pi < cfg.procs; pi++) {
    const st = new ProcState(nextRet);
    const threads: Thread[] = [];
    for (let ti = 0; ti < cfg.threads; ti++) {
      const calls: Call[] = [];
      let prev: string | null = null;
      // Each thread starts with a victim file open, as each of trinity's children does.
      if (cfg.enabled.has('open')) {
        const d = ct.descs.find((x) => x.name === 'open')!;
        calls.push(genCall(rng, d, st, cfg, cfg.procs));
        prev = 'open';
      }
      while (calls.length < cfg.calls) {
        const d = ct.choose(rng, prev);
        calls.push(genCall(rng, d, st, cfg, cfg.procs));
        prev = d.name;
      }
      threads.push({ calls });
    }
    procs.push({ threads });
  }
  return { header, procs };
}
