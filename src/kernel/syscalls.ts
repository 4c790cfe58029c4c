// The system-call boundary: one entry point that runs a named call as the
// given task of the given process, marks it as an operation for the liveness
// monitor, and checks on the way out that no lock is held in user space.

import { TaskState, WAIT_INTERRUPTED, WaitQueue, type Gen, type MaybeGen, type Task } from '../sim/index.js';
import type { Kernel, Process } from './kernel.js';
import { EAGAIN, EINTR, ENOSYS, EINVAL, ESRCH } from './errno.js';
import { sysClose, sysDup, sysFallocate, sysFsync, sysFtruncate, sysLseek, sysOpen, sysRead, sysTruncate, sysWrite } from './fs/vfs.js';
import { dupMmap, exitMmap, sysMadvise, sysMmap, sysMprotect, sysMremap, sysMsync, sysMunmap } from './mm/mmap.js';
import { userAccess } from './mm/uaccess.js';
import { resultSignal } from './errno.js';
import { coverSite } from './coverage.js';

export type Iovec = readonly (readonly [number, number])[];
export type Arg = number | string | Iovec;

/** Names of the calls the kernel implements (syscalls and pseudo-calls). */
export const SYSCALLS = [
  'open', 'openat', 'close', 'dup', 'read', 'pread64', 'readv', 'write', 'pwrite64', 'writev', 'pwritev', 'lseek',
  'fsync', 'mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'msync', 'fallocate', 'truncate', 'ftruncate',
  'mem_read', 'mem_write', 'proc_read', 'fork',
] as const;
export type SyscallName = (typeof SYSCALLS)[number];

const n = (a: Arg | undefined): number => (typeof a === 'number' ? a : 0);
const s = (a: Arg | undefined): string => (typeof a === 'string' ? a : '');
const v = (a: Arg | undefined): Iovec => (Array.isArray(a) ? (a as Iovec) : []);

export const AT_FDCWD = -100;

/** A call's handler: its result, or a generator to run for it (see MaybeGen). */
type Handler = (k: Kernel, t: Task, p: Process, a: readonly Arg[], out: number[] | null) => MaybeGen;

/**
 * The call table (the kernel's sys_call_table): every call of SYSCALLS
 * and its handler, which decodes the call's arguments. A call costs the
 * handler one generator object and one level of delegation less when the
 * handler returns its result without blocking (a hammered call is mostly
 * this overhead).
 */
const TABLE: { readonly [N in SyscallName]: Handler } = {
  open: (k, t, p, a) => sysOpen(k, t, p, s(a[0]), n(a[1])),
  openat: (k, t, p, a) => (n(a[0]) !== AT_FDCWD && !s(a[1]).startsWith('/') ? -EINVAL : sysOpen(k, t, p, s(a[1]), n(a[2]))),
  close: (k, t, p, a) => sysClose(k, t, p, n(a[0])),
  dup: (k, t, p, a) => sysDup(k, t, p, n(a[0])),
  read: (k, t, p, a) => sysRead(k, t, p, n(a[0]), [[n(a[1]), n(a[2])]], -1, false),
  pread64: (k, t, p, a) => (n(a[3]) < 0 ? -EINVAL : sysRead(k, t, p, n(a[0]), [[n(a[1]), n(a[2])]], n(a[3]), false)),
  readv: (k, t, p, a) => sysRead(k, t, p, n(a[0]), v(a[1]), -1, true),
  write: (k, t, p, a) => sysWrite(k, t, p, n(a[0]), [[n(a[1]), n(a[2])]], -1, false),
  pwrite64: (k, t, p, a) => (n(a[3]) < 0 ? -EINVAL : sysWrite(k, t, p, n(a[0]), [[n(a[1]), n(a[2])]], n(a[3]), false)),
  writev: (k, t, p, a) => sysWrite(k, t, p, n(a[0]), v(a[1]), -1, true),
  pwritev: (k, t, p, a) => (n(a[2]) < 0 ? -EINVAL : sysWrite(k, t, p, n(a[0]), v(a[1]), n(a[2]), true)),
  lseek: (k, t, p, a) => sysLseek(k, t, p, n(a[0]), n(a[1]), n(a[2])),
  fsync: (k, t, p, a) => sysFsync(k, t, p, n(a[0])),
  mmap: (k, t, p, a) => sysMmap(k, t, p, n(a[0]), n(a[1]), n(a[2]), n(a[3]), n(a[4]), n(a[5])),
  munmap: (k, t, p, a) => sysMunmap(k, t, p, n(a[0]), n(a[1])),
  mremap: (k, t, p, a) => sysMremap(k, t, p, n(a[0]), n(a[1]), n(a[2]), n(a[3]), n(a[4])),
  mprotect: (k, t, p, a) => sysMprotect(k, t, p, n(a[0]), n(a[1]), n(a[2])),
  madvise: (k, t, p, a) => sysMadvise(k, t, p, n(a[0]), n(a[1]), n(a[2])),
  msync: (k, t, p, a) => sysMsync(k, t, p, n(a[0]), n(a[1]), n(a[2])),
  fallocate: (k, t, p, a) => sysFallocate(k, t, p, n(a[0]), n(a[1]), n(a[2]), n(a[3])),
  truncate: (k, t, p, a) => sysTruncate(k, t, p, s(a[0]), n(a[1])),
  ftruncate: (k, t, p, a) => sysFtruncate(k, t, p, n(a[0]), n(a[1])),
  mem_read: (k, t, p, a, out) => userAccess(k, t, p, n(a[0]), n(a[1]), false, 0, out),
  mem_write: (k, t, p, a) => userAccess(k, t, p, n(a[0]), n(a[1]), true, n(a[2]), null),
  proc_read: (k, t, _p, a) => procRead(k, t, n(a[0]), s(a[1])),
  fork: (k, t, p) => sysFork(k, t, p),
};

const enosys: Handler = () => -ENOSYS;

/**
 * A call as the kernel runs it, looked up by name once (the executor looks
 * up each call of a program once, not at each of its repetitions): its
 * handler, its __x64_sys_ frame and its cover points by result. The name
 * is the table's own string for a known call.
 */
export class SyscallEntry {
  readonly frame: string;
  private readonly okSite: number;
  private readonly errSites = new Map<number, number>();

  constructor(
    readonly name: string,
    readonly handler: Handler,
  ) {
    this.frame = `__x64_sys_${name}`;
    this.okSite = coverSite(`${name}:ok`);
  }

  /** The cover point of a result: "<call>:ok", "<call>:signal" or "<call>:-<errno>". */
  siteOf(r: number): number {
    if (r >= 0) return this.okSite;
    let c = this.errSites.get(r);
    if (c === undefined) this.errSites.set(r, (c = coverSite(`${this.name}:${resultSignal(r) ? 'signal' : r}`)));
    return c;
  }
}

/** The entry of each call of the table. */
const ENTRIES = new Map<string, SyscallEntry>(SYSCALLS.map((name) => [name, new SyscallEntry(name, TABLE[name])]));

/** The entry of the call named `name`; for a name the kernel has no call of, one that fails with ENOSYS. */
export function syscallEntry(name: string): SyscallEntry {
  return ENTRIES.get(name) ?? new SyscallEntry(name, enosys);
}

/** Run one call; the result is >= 0, -errno, or a signal result (see errno.ts). */
export function* syscall(k: Kernel, t: Task, p: Process, name: string, args: readonly Arg[], out?: number[]): Gen<number> {
  // User space between calls is preemptible (the timer tick), so a task
  // hammering a call in a loop interleaves with the others.
  yield;
  const e = syscallEntry(name);
  const d = syscallEnter(k, t, e);
  let r = e.handler(k, t, p, args, out ?? null);
  if (typeof r !== 'number') r = yield* r;
  syscallExit(k, t, e, d, r);
  return r;
}

/**
 * syscall() in three parts, for a caller that runs calls in a loop of its
 * own (the executor's threads): after its own `yield`, syscallEnter, then
 * syscallBody (delegating to what it returns if that is a generator, see
 * MaybeGen), then syscallExit -- exactly what syscall()
 * does, with one generator object and one level of delegation less per
 * call. Returns the depth to pass to syscallExit.
 */
export function syscallEnter(k: Kernel, t: Task, e: SyscallEntry): number {
  k.sim.opBegin(t, e.name);
  k.inSyscall++;
  return t.enter(e.frame);
}

/** The call's handler (see syscallEnter). */
export function syscallBody(k: Kernel, t: Task, p: Process, e: SyscallEntry, args: readonly Arg[]): MaybeGen {
  return e.handler(k, t, p, args, null);
}

/** The way out of a call with result `r` (see syscallEnter). */
export function syscallExit(k: Kernel, t: Task, e: SyscallEntry, depth: number, r: number): void {
  t.leave(depth);
  k.inSyscall--;
  k.cov.hitSite(e.siteOf(r));
  k.sim.lockdep.checkUserReturn(t);
  k.sim.opEnd(t, r);
}

/**
 * Reading /proc/<pid>/cmdline or /maps takes the target's mmap_lock for read
 * (killable), as proc_pid_cmdline_read (access_remote_vm) and m_start do.
 * Returns the number of bytes the read produced.
 */
function* procRead(k: Kernel, t: Task, pid: number, what: string): Gen<number> {
  const target = k.process(pid);
  if (target === null) return -ESRCH;
  if (what !== 'cmdline' && what !== 'maps') return -EINVAL;
  const d = t.enter(what === 'cmdline' ? 'proc_pid_cmdline_read' : 'show_map');
  const mm = target.mm;
  // Before 4.x killable conversions (and in linux-4.20's get_cmdline path),
  // the reader took mmap_lock uninterruptibly: khungtaskd can see it stall.
  if (k.sw('proc_mmap_lock', 'killable') === 'plain') yield* mm.mmapLock.downRead();
  else if ((yield* mm.mmapLock.downReadKillable()) < 0) {
    t.leave(d);
    return -4;
  }
  const text = what === 'cmdline' ? target.cmdline : mm.vmas.map((x) => x.toString() + '\n').join('');
  mm.mmapLock.upRead(t);
  t.leave(d);
  return text.length;
}

/** fork(): a child with a copy-on-write copy of the address space and the same open files. */
export function* fork(k: Kernel, t: Task, p: Process, childName: string): Gen<Process | number> {
  k.sim.opBegin(t, 'fork');
  k.inSyscall++;
  const r = yield* copyProcess(k, t, p, childName);
  k.inSyscall--;
  k.sim.opEnd(t, typeof r === 'number' ? r : r.pid);
  return r;
}

/**
 * Processes alive at once (RLIMIT_NPROC, small: a hammered fork must not
 * grow the simulation without bound). Past it fork fails with EAGAIN, as
 * Linux's copy_process does at the limit.
 */
export const MAX_PROCESSES = 64;

/** kernel_clone's copy_process for fork: the limit, the address space (dup_mmap) and the file table. */
function* copyProcess(k: Kernel, t: Task, p: Process, childName: string): Gen<Process | number> {
  let live = 0;
  for (const q of k.processes) if (!q.exited) live++;
  if (live >= MAX_PROCESSES) return -EAGAIN;
  const d = t.enter('kernel_clone');
  const child = k.createProcess(childName);
  const r = yield* dupMmap(k, t, p.mm, child.mm);
  for (const f of p.fds) child.fds.push(f === null ? null : k.getFile(f));
  t.leave(d);
  return r < 0 ? r : child;
}

/**
 * The fork call of programs: `pid = fork(); if (pid == 0) _exit(0);
 * waitpid(pid)`. The child's copy of the address space write-protects the
 * parent's private pages (a store by another thread of the parent while the
 * child lives breaks copy-on-write), and the child's exit_mmap and file
 * flushes race the other tasks' calls; the caller sleeps in wait4
 * (interruptibly) until the child is gone, so a hammered fork keeps one
 * child at a time. Returns the child's pid. A child that would live on
 * would need calls of its own: the program's processes are that.
 */
function* sysFork(k: Kernel, t: Task, p: Process): Gen<number> {
  const name = `${p.name}.f${k.forks++}`;
  const child = yield* copyProcess(k, t, p, name);
  if (typeof child === 'number') return child;
  const exited = (child.exitWait = new WaitQueue(k.sim, 'wait4'));
  k.spawnThread(child, name, (ct: Task) => childExit(k, ct, child));
  k.cov.hit('fork:child');
  const d = t.enter('kernel_wait4');
  const w = yield* exited.waitEvent(() => child.exited, TaskState.Interruptible);
  t.leave(d);
  return w === WAIT_INTERRUPTED ? -EINTR : child.pid;
}

function* childExit(k: Kernel, t: Task, child: Process): Gen<void> {
  yield;
  yield* exitProcess(k, t, child);
}

/** exit(): close every file and tear the address space down. */
export function* exitProcess(k: Kernel, t: Task, p: Process): Gen<void> {
  k.sim.opBegin(t, 'exit');
  k.inSyscall++;
  const d = t.enter('do_exit');
  for (let fd = 0; fd < p.fds.length; fd++) {
    const f = p.fds[fd];
    p.fds[fd] = null;
    if (!f) continue;
    // close_files -> filp_close: ->flush, then fput.
    if (f.inode.ops.flush !== undefined) yield* f.inode.ops.flush(k, t, f);
    k.fput(f);
  }
  yield* exitMmap(k, t, p.mm);
  p.exited = true;
  p.exitWait?.wakeUpAll();
  t.leave(d);
  k.inSyscall--;
  k.sim.opEnd(t, 0);
}
