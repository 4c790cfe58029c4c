// Recorded data for the UI tests: a stream of live-run snapshots and the
// findings a test database holds. Plain values, as the views receive them.

import type { FindingView, LiveStats, WorkerView } from '../../src/ui/types.js';

export const LOCKDEP_DETAILS = [
  '======================================================',
  'WARNING: possible circular locking dependency detected',
  '------------------------------------------------------',
  'p0.t1 is trying to acquire lock:',
  '  (&sb->s_type->i_mutex_key){+.+.}, at: shmem_fault',
  'but task is already holding lock:',
  '  (&mm->mmap_lock){++++}, at: do_user_addr_fault',
  'the existing dependency chain (in reverse order) is:',
  '-> #1 (&mm->mmap_lock){++++}: __might_fault <- shmem_file_write_iter',
  '-> #0 (&sb->s_type->i_mutex_key){+.+.}: shmem_fault',
].join('\n');

export const HUNG_DETAILS = [
  'INFO: task p1.t0 blocked for more than 120 seconds.',
  'task:p1.t0 state:D',
  'Call Trace:',
  '  rwsem_down_write_slowpath',
  '  shmem_fallocate',
  '  vfs_fallocate',
].join('\n');

export const PROGRAM = [
  'profile: shmem-take1',
  'seed: 7',
  'strategy: random',
  '',
  'proc 0:',
  '  thread 0:',
  '    r0 = open("/dev/shm/victim", O_RDWR|O_CREAT)',
  '    fallocate(r0, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE, 0x0, 0x10000)',
  '',
].join('\n');

function worker(execs: number, corpus: number, findings: number): WorkerView {
  return { execs, calls: execs * 60, virtualNs: execs * 20_000, corpus, signal: corpus * 2, findings };
}

function snapshot(wallMs: number, execs: number, findings: FindingView[], extra: Partial<LiveStats> = {}): LiveStats {
  const half = Math.floor(execs / 2);
  return {
    execs, calls: execs * 60, virtualNs: execs * 20_000, corpus: 10 + Math.floor(execs / 100), signal: 40 + Math.floor(execs / 50),
    wallMs, findings,
    perSyscall: new Map([
      ['open', { count: execs * 3, errors: execs }],
      ['mmap', { count: execs * 2, errors: 7 }],
      ['fallocate', { count: execs, errors: 0 }],
    ]),
    workers: [worker(half, 5, findings.length), worker(execs - half, 6, 0)],
    ...extra,
  };
}

const HANG: FindingView = { kind: 'hang', title: 'INFO: task hung in shmem_fallocate', count: 1, isNew: true };
const LOCKDEP: FindingView = { kind: 'lockdep', title: 'possible deadlock in shmem_fault', count: 1, isNew: true, minimized: false };

/** A run that finds a hang at 1 s and a lockdep report at 1.5 s, seen again later. */
export const STREAM: readonly LiveStats[] = [
  snapshot(0, 0, []),
  snapshot(500, 400, []),
  snapshot(1000, 800, [HANG]),
  snapshot(1500, 1200, [HANG, LOCKDEP]),
  snapshot(2000, 1600, [{ ...HANG, count: 4 }, { ...LOCKDEP, count: 3, minimized: true }], { kernel: { pagesInCache: 1234 } }),
];
