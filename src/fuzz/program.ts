// The program model (syzkaller's prog/, in small): typed data that
// generation, mutation, minimization, the text format and the executor all
// speak. A program is processes x threads x calls; a call may define a
// result (r0, r1, ...) that later calls use as an fd or a mapping address,
// so programs stay well formed when calls move or disappear.

/** An argument of a call. */
export type Arg =
  /** A plain integer (lengths, offsets, flags, addresses). */
  | { readonly kind: 'int'; readonly value: number }
  /** A string (paths, procfs file names). */
  | { readonly kind: 'str'; readonly value: string }
  /** The result of an earlier call in the same process, plus an offset (r3+0x1000). */
  | { readonly kind: 'res'; readonly ref: number; readonly add: number }
  /** The pid of a process of this program, by index (proc 1 -> pid:1). */
  | { readonly kind: 'pid'; readonly proc: number }
  /** An iovec array: [{addr, len}, ...]. */
  | { readonly kind: 'iov'; readonly segs: readonly IovSeg[] };

export interface IovSeg {
  readonly addr: Arg;
  readonly len: Arg;
}

/** Call properties, as syzkaller's: how to run the call rather than what it is. */
export interface CallProps {
  /** Run the call this many times in a row (trinity's hammering; starvation needs it). */
  readonly rerun?: number;
  /** Fail the Nth page allocation inside this call (fail_nth). */
  readonly fail_nth?: number;
}

export interface Call {
  readonly name: string;
  readonly args: readonly Arg[];
  /** The result index this call defines (r<N>), or null. */
  readonly ret: number | null;
  readonly props: CallProps;
  /** Comment lines written just above the call (kept through parse and format). */
  readonly comment?: readonly string[];
}

export interface Thread {
  readonly calls: readonly Call[];
}

export interface Proc {
  readonly threads: readonly Thread[];
}

/** Header of a program / reproducer: everything needed to rerun it exactly. */
export interface Header {
  /** Kernel profile, e.g. "default" or "default+fuse_write=lock_all". */
  readonly profile: string;
  readonly seed: string;
  /** "random", "pct", "pct:D" or "pct:D:K" (depth D over the first K steps), or "preempt:LIST". */
  readonly strategy: string;
  /** Kernel and environment options (memoryPages, hungTaskTimeoutNs, fuse latency, ...), as strings. */
  readonly options: Readonly<Record<string, string>>;
  /** The recorded decision log (base64), for exact replay; absent in plain programs. */
  readonly schedule?: string;
  /** Comment lines at the top of the file. */
  readonly comments?: readonly string[];
}

export interface Program {
  readonly header: Header;
  readonly procs: readonly Proc[];
}

export const int = (value: number): Arg => ({ kind: 'int', value });
export const str = (value: string): Arg => ({ kind: 'str', value });
export const res = (ref: number, add = 0): Arg => ({ kind: 'res', ref, add });
export const pid = (proc: number): Arg => ({ kind: 'pid', proc });
export const iov = (segs: readonly IovSeg[]): Arg => ({ kind: 'iov', segs });

/**
 * A hammered call (trinity runs one syscall in a loop for hours): enough
 * repetitions to outlast the short step budget a hammering program runs
 * under (see Fuzzer), so a livelock it feeds shows in the liveness phase.
 * It keeps going in the liveness phase, where other repeated calls stop
 * (execute.ts).
 */
export const HAMMER_RERUN = 20_000;

export const DEFAULT_HEADER: Header = { profile: 'default', seed: '1', strategy: 'random', options: {} };

/** Every call of the program with its position, in program order. */
export function* allCalls(p: Program): Generator<{ proc: number; thread: number; index: number; call: Call }> {
  for (let pi = 0; pi < p.procs.length; pi++) {
    const threads = p.procs[pi]!.threads;
    for (let ti = 0; ti < threads.length; ti++) {
      const calls = threads[ti]!.calls;
      for (let ci = 0; ci < calls.length; ci++) yield { proc: pi, thread: ti, index: ci, call: calls[ci]! };
    }
  }
}

export function callCount(p: Program): number {
  let n = 0;
  for (const pr of p.procs) for (const t of pr.threads) n += t.calls.length;
  return n;
}

/** Result indices a call uses. */
export function refsOf(c: Call): number[] {
  const out: number[] = [];
  const visit = (a: Arg): void => {
    if (a.kind === 'res') out.push(a.ref);
    else if (a.kind === 'iov') for (const s of a.segs) {
      visit(s.addr);
      visit(s.len);
    }
  };
  for (const a of c.args) visit(a);
  return out;
}

/**
 * Well-formedness: each result is defined once, by an earlier call of the
 * same process (any thread: a use that runs before the definition sees an
 * invalid value, which is fine and realistic); pid args name real
 * processes. Returns the problems found (empty = well formed).
 */
export function validate(p: Program): string[] {
  const problems: string[] = [];
  const definedIn = new Map<number, number>();
  for (const { proc, call } of allCalls(p)) {
    if (call.ret !== null) {
      if (definedIn.has(call.ret)) problems.push(`r${call.ret} defined twice`);
      definedIn.set(call.ret, proc);
    }
  }
  for (const { proc, thread, index, call } of allCalls(p)) {
    for (const r of refsOf(call)) {
      const d = definedIn.get(r);
      if (d === undefined) problems.push(`proc ${proc} thread ${thread} call ${index} (${call.name}) uses undefined r${r}`);
      else if (d !== proc) problems.push(`proc ${proc} thread ${thread} call ${index} (${call.name}) uses r${r} of proc ${d}`);
    }
    for (const a of call.args) {
      if (a.kind === 'pid' && (a.proc < 0 || a.proc >= p.procs.length)) problems.push(`${call.name} names missing proc ${a.proc}`);
    }
  }
  return problems;
}
