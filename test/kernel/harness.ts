// Test harness: build a Sim and a Kernel, start processes whose threads run
// generator bodies that issue calls, run, then check invariants and leaks.

import { Sim, type Gen, type RunResult, type SimOptions, type Task } from '../../src/sim/index.js';
import { Kernel, type KernelOptions, type Process } from '../../src/kernel/kernel.js';
import { syscall, exitProcess, fork, type Arg } from '../../src/kernel/syscalls.js';
import { checkInvariants, checkLeaks, type Violation } from '../../src/kernel/invariants.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import { formatResult } from '../../src/kernel/errno.js';

export interface Ctx {
  k: Kernel;
  t: Task;
  p: Process;
  /** Issue a call; returns its result. */
  sys(name: string, ...args: Arg[]): Gen<number>;
  /** mem_read returning the bytes (or the signal result as a number). */
  load(addr: number, len: number): Gen<number[] | number>;
  fork(name: string, body: (c: Ctx) => Gen<unknown>): Gen<number>;
}

export interface Outcome {
  r: RunResult;
  k: Kernel;
  violations: Violation[];
}

function ctx(k: Kernel, t: Task, p: Process): Ctx {
  const c: Ctx = {
    k, t, p,
    *sys(name, ...args) {
      return yield* syscall(k, t, p, name, args);
    },
    *load(addr, len) {
      const out: number[] = [];
      const r = yield* syscall(k, t, p, 'mem_read', [addr, len], out);
      return r < 0 ? r : out;
    },
    *fork(name, body) {
      const child = yield* fork(k, t, p, name);
      if (typeof child === 'number') return child;
      startThreads(k, child, [body]);
      return child.pid;
    },
  };
  return c;
}

function startThreads(k: Kernel, p: Process, bodies: ((c: Ctx) => Gen<unknown>)[]): void {
  let live = bodies.length;
  bodies.forEach((body, i) => {
    k.spawnThread(p, `${p.name}${bodies.length > 1 ? `.${i}` : ''}`, function* (t) {
      yield* body(ctx(k, t, p));
      if (--live === 0) yield* exitProcess(k, t, p);
    });
  });
}

/** Start a process with one thread per body. */
export function proc(k: Kernel, name: string, ...bodies: ((c: Ctx) => Gen<unknown>)[]): Process {
  const p = k.createProcess(name);
  startThreads(k, p, bodies);
  return p;
}

export function runKernel(seed: number | string, build: (k: Kernel) => void, opts: Partial<SimOptions> = {}, kopts: KernelOptions = {}): Outcome {
  const sim = new Sim({ seed, ...opts });
  const k = new Kernel(sim, kopts);
  build(k);
  const r = sim.run();
  const violations = r.outcome === 'completed' ? [...checkInvariants(k, k.inSyscall === 0), ...(k.processes.every((p) => p.exited) ? checkLeaks(k) : [])] : [];
  return { r, k, violations };
}

export function titles(o: Outcome): string[] {
  return [...o.r.reports.map((x) => `${x.kind}: ${x.title}`), ...o.violations.map((v) => `${v.kind}: ${v.title}`)];
}

/** Anonymous scratch memory for read()/write() buffers. */
export function* scratch(c: Ctx, pages: number): Gen<number> {
  const a = yield* c.sys('mmap', 0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a <= 0) throw new Error(`mmap scratch: ${formatResult(a)}`);
  return a;
}

/** pread `len` bytes at `off` into scratch memory and return them (or the error). */
export function* preadBytes(c: Ctx, fd: number, buf: number, len: number, off: number): Gen<number[] | number> {
  const r = yield* c.sys('pread64', fd, buf, len, off);
  if (r < 0) return r;
  return yield* c.load(buf, r);
}
