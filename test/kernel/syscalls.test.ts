// Syscall semantics, table-driven: for each call, cases that pin the exact
// return value, errno (and which errno wins when several apply), signal and
// data, on the fixed kernel, with every invariant holding afterwards. The
// expected values are Linux's (KERNEL-SPEC.md appendix; most were checked
// against the real kernel through the oracle, see oracle.test.ts).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { proc, runKernel, titles, type Ctx } from './harness.js';
import { MAX_PROCESSES } from '../../src/kernel/syscalls.js';
import type { Gen } from '../../src/sim/index.js';
import {
  EACCES, EAGAIN, EBADF, EEXIST, EFAULT, EINVAL, EISDIR, ENODEV, ENOENT, ENOMEM, ENOSYS, ENOTDIR, EOPNOTSUPP, SIGBUS, SIGSEGV,
  signalResult,
} from '../../src/kernel/errno.js';
import {
  O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
} from '../../src/kernel/fs/inode.js';
import { ENXIO, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../../src/kernel/fs/vfs.js';
import {
  FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_ZERO_RANGE,
} from '../../src/kernel/fs/shmem.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, PROT_NONE, PROT_READ,
  PROT_WRITE,
} from '../../src/kernel/mm/vma.js';
import {
  MADV_DONTNEED, MADV_FREE, MADV_NORMAL, MADV_REMOVE, MADV_SEQUENTIAL, MADV_WILLNEED, MREMAP_DONTUNMAP, MREMAP_FIXED,
  MREMAP_MAYMOVE, MS_ASYNC, MS_INVALIDATE, MS_SYNC,
} from '../../src/kernel/mm/mmap.js';

const PS = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const SEGV = signalResult(SIGSEGV);
const BUS = signalResult(SIGBUS);
/** Free addresses far from where the kernel places mappings by itself. */
const LOW = 0x20000000;
const MAP_SYNC = 0x80000;

// ------------------------------------------------------------------ harness

type Eq = (label: string, actual: unknown, expected: unknown) => void;
type Body = (c: Ctx, eq: Eq) => Gen<unknown>;
interface Case {
  name: string;
  body: Body;
}

/**
 * Run `body` as the only process of a fresh kernel. Checks are recorded
 * during the run (an assertion thrown inside the simulation would become a
 * simulator report) and asserted afterwards, with the run's reports and
 * invariant violations, which must be empty.
 */
function check(body: Body): void {
  const checks: [string, unknown, unknown][] = [];
  let finished = false;
  const o = runKernel(1, (k) => {
    proc(k, 'p', function* (c) {
      yield* body(c, (label, actual, expected) => checks.push([label, actual, expected]));
      finished = true;
    });
  });
  assert.equal(o.r.outcome, 'completed', titles(o).join('; '));
  assert.deepEqual(titles(o), [], 'no report, no invariant broken');
  assert.ok(finished, 'the body ran to its end');
  assert.ok(checks.length > 0, 'the case checks something');
  for (const [label, actual, expected] of checks) assert.deepEqual(actual, expected, label);
}

function table(name: string, cases: Case[]): void {
  describe(name, () => {
    for (const cs of cases) test(cs.name, () => check(cs.body));
  });
}

const fill = (n: number, v: number): number[] => new Array<number>(n).fill(v);

/** A scratch user buffer (private anonymous). */
function* scratch(c: Ctx, pages = 16): Gen<number> {
  const a = yield* c.sys('mmap', 0, pages * PS, RW, ANON, -1, 0);
  assert.ok(a > 0);
  return a;
}

function* openSized(c: Ctx, path: string, size = 0, flags = O_RDWR | O_CREAT): Gen<number> {
  const fd = yield* c.sys('open', path, flags);
  if (fd >= 0 && size > 0) yield* c.sys('ftruncate', fd, size);
  return fd;
}

/** write (off < 0) or pwrite64 `len` bytes of value `v` from buffer `buf`. */
function* put(c: Ctx, buf: number, fd: number, v: number, len: number, off = -1): Gen<number> {
  if (len > 0) yield* c.sys('mem_write', buf, len, v);
  return off < 0 ? yield* c.sys('write', fd, buf, len) : yield* c.sys('pwrite64', fd, buf, len, off);
}

/** read (off < 0) or pread64 into `buf`: the bytes read, or the error. */
function* get(c: Ctx, buf: number, fd: number, len: number, off = -1): Gen<number[] | number> {
  const r = off < 0 ? yield* c.sys('read', fd, buf, len) : yield* c.sys('pread64', fd, buf, len, off);
  if (r <= 0) return r === 0 ? [] : r;
  return yield* c.load(buf, r);
}

function* fileSize(c: Ctx, fd: number): Gen<number> {
  const pos = yield* c.sys('lseek', fd, 0, SEEK_CUR);
  const size = yield* c.sys('lseek', fd, 0, SEEK_END);
  yield* c.sys('lseek', fd, pos, SEEK_SET);
  return size;
}

/** Busy-wait (yielding to the scheduler) until `cond` holds: orders parent and child after fork. */
function* until(cond: () => boolean): Gen<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 100_000) throw new Error('until: condition never held');
    yield;
  }
}

// ---------------------------------------------------------------------- open

table('open', [
  {
    name: 'O_CREAT creates an empty file; fds are allocated lowest first',
    *body(c, eq) {
      eq('first fd', yield* c.sys('open', '/tmp/a', O_RDWR | O_CREAT), 0);
      eq('second fd', yield* c.sys('open', '/dev/shm/b', O_RDWR | O_CREAT), 1);
      eq('size', yield* fileSize(c, 0), 0);
      eq('close', yield* c.sys('close', 0), 0);
      eq('reuses the lowest free fd', yield* c.sys('open', '/tmp/a', O_RDONLY), 0);
    },
  },
  {
    name: 'the tmpfs victims exist at boot: sized, sparse, reading as zeros; O_EXCL finds them',
    *body(c, eq) {
      const buf = yield* scratch(c, 1);
      const fd = yield* c.sys('open', '/dev/shm/victim2', O_RDWR);
      eq('opens without O_CREAT', fd, 0);
      eq('16 pages', yield* fileSize(c, fd), 16 * PS);
      eq('a hole reads as zeros', yield* get(c, buf, fd, 8, 5 * PS), fill(8, 0));
      eq('/tmp/victim1: 5 pages and 100 bytes', yield* fileSize(c, yield* c.sys('open', '/tmp/victim1', O_RDONLY)), 5 * PS + 100);
      eq('O_EXCL', yield* c.sys('open', '/tmp/victim0', O_RDWR | O_CREAT | O_EXCL), -EEXIST);
    },
  },
  {
    name: 'ENOENT: missing file without O_CREAT, missing parent directory even with O_CREAT',
    *body(c, eq) {
      eq('missing file', yield* c.sys('open', '/tmp/nope', O_RDWR), -ENOENT);
      eq('missing file, O_RDONLY', yield* c.sys('open', '/tmp/nope', O_RDONLY), -ENOENT);
      eq('missing parent', yield* c.sys('open', '/tmp/nodir/f', O_RDWR | O_CREAT), -ENOENT);
    },
  },
  {
    name: 'O_CREAT|O_EXCL creates a new file, EEXIST for an existing one (and beats EISDIR)',
    *body(c, eq) {
      eq('new', yield* c.sys('open', '/tmp/x', O_RDWR | O_CREAT | O_EXCL), 0);
      eq('exists', yield* c.sys('open', '/tmp/x', O_RDWR | O_CREAT | O_EXCL), -EEXIST);
      eq('exists, O_RDONLY', yield* c.sys('open', '/tmp/x', O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
      eq('directory', yield* c.sys('open', '/tmp', O_RDWR | O_CREAT | O_EXCL), -EEXIST);
      eq('O_EXCL without O_CREAT is ignored', yield* c.sys('open', '/tmp/x', O_RDWR | O_EXCL), 1);
    },
  },
  {
    name: 'O_TRUNC empties an existing file, for every access mode (O_RDONLY too)',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/t', O_RDWR | O_CREAT);
      eq('write', yield* put(c, buf, fd, 0x41, 100), 100);
      const w = yield* c.sys('open', '/tmp/t', O_WRONLY | O_TRUNC);
      eq('O_WRONLY|O_TRUNC', yield* fileSize(c, fd), 0);
      eq('write again', yield* put(c, buf, fd, 0x42, 50, 0), 50);
      yield* c.sys('open', '/tmp/t', O_RDONLY | O_TRUNC);
      eq('O_RDONLY|O_TRUNC', yield* fileSize(c, fd), 0);
      eq('old data gone', yield* get(c, buf, fd, 10, 0), []);
      eq('close', yield* c.sys('close', w), 0);
    },
  },
  {
    name: 'access modes: O_RDONLY cannot write, O_WRONLY cannot read, O_RDWR does both',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const rw = yield* c.sys('open', '/tmp/m', O_RDWR | O_CREAT);
      const ro = yield* c.sys('open', '/tmp/m', O_RDONLY);
      const wo = yield* c.sys('open', '/tmp/m', O_WRONLY);
      eq('rw write', yield* put(c, buf, rw, 0x61, 8), 8);
      eq('ro write', yield* put(c, buf, ro, 0x62, 8), -EBADF);
      eq('ro read', yield* get(c, buf, ro, 8), fill(8, 0x61));
      eq('wo write', yield* put(c, buf, wo, 0x63, 4), 4);
      eq('wo read', yield* get(c, buf, wo, 8), -EBADF);
      eq('rw read sees wo write', yield* get(c, buf, rw, 8, 0), [...fill(4, 0x63), ...fill(4, 0x61)]);
    },
  },
  {
    name: 'a directory: EISDIR when opened for writing or creating, opens read-only, read is EISDIR',
    *body(c, eq) {
      const buf = yield* scratch(c);
      eq('O_WRONLY', yield* c.sys('open', '/tmp', O_WRONLY), -EISDIR);
      eq('O_RDWR', yield* c.sys('open', '/dev/shm', O_RDWR), -EISDIR);
      eq('O_WRONLY|O_CREAT', yield* c.sys('open', '/tmp', O_WRONLY | O_CREAT), -EISDIR);
      eq('O_RDONLY|O_CREAT', yield* c.sys('open', '/tmp', O_RDONLY | O_CREAT), -EISDIR);
      const d = yield* c.sys('open', '/tmp', O_RDONLY | O_DIRECTORY);
      eq('O_RDONLY', d, 0);
      eq('read', yield* c.sys('read', d, buf, 10), -EISDIR);
      // Whatever the count (oracle: read of 0 bytes from a directory is EISDIR)...
      eq('read 0', yield* c.sys('read', d, buf, 0), -EISDIR);
      // ...after vfs_read's access_ok and import_iovec's checks; a readv of nothing never reaches ->read.
      eq('read, bad buffer', yield* c.sys('read', d, -4096, 10), -EFAULT);
      eq('readv, bad segment', yield* c.sys('readv', d, [[buf, 1], [-4096, 1]]), -EFAULT);
      eq('readv of nothing', yield* c.sys('readv', d, [[buf, 0]]), 0);
    },
  },
  {
    name: 'readv checks every length before any address (import_iovec)',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/iov', O_RDWR | O_CREAT);
      eq('bad address, then a negative length', yield* c.sys('readv', fd, [[-4096, 1], [buf, -1]]), -EINVAL);
      eq('bad address alone', yield* c.sys('readv', fd, [[buf, 1], [-4096, 1]]), -EFAULT);
      eq('writev likewise', yield* c.sys('writev', fd, [[-4096, 1], [buf, -1]]), -EINVAL);
    },
  },
  {
    name: 'ENOTDIR: a regular file used as a directory, O_DIRECTORY on a regular file',
    *body(c, eq) {
      eq('create', yield* c.sys('open', '/tmp/f', O_RDWR | O_CREAT), 0);
      eq('file/x', yield* c.sys('open', '/tmp/f/x', O_RDWR | O_CREAT), -ENOTDIR);
      eq('O_DIRECTORY', yield* c.sys('open', '/tmp/f', O_RDONLY | O_DIRECTORY), -ENOTDIR);
    },
  },
  {
    name: 'O_APPEND: every write lands at EOF, pwrite64 too, and the position follows EOF',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/ap', O_RDWR | O_CREAT);
      eq('initial', yield* put(c, buf, fd, 0x61, 10), 10);
      const ap = yield* c.sys('open', '/tmp/ap', O_WRONLY | O_APPEND);
      eq('lseek to 0', yield* c.sys('lseek', ap, 0, SEEK_SET), 0);
      eq('append', yield* put(c, buf, ap, 0x62, 5), 5);
      eq('position after append', yield* c.sys('lseek', ap, 0, SEEK_CUR), 15);
      eq('pwrite64 at 0 appends', yield* put(c, buf, ap, 0x63, 3, 0), 3);
      eq('position unchanged by pwrite64', yield* c.sys('lseek', ap, 0, SEEK_CUR), 15);
      eq('contents', yield* get(c, buf, fd, 100, 0), [...fill(10, 0x61), ...fill(5, 0x62), ...fill(3, 0x63)]);
    },
  },
]);

// ----------------------------------------------------------------- close/dup

table('close/dup', [
  {
    name: 'close: EBADF for a never-opened fd, a negative fd, and a second close',
    *body(c, eq) {
      const fd = yield* c.sys('open', '/tmp/c', O_RDWR | O_CREAT);
      eq('never opened', yield* c.sys('close', 5), -EBADF);
      eq('negative', yield* c.sys('close', -1), -EBADF);
      eq('close', yield* c.sys('close', fd), 0);
      eq('double close', yield* c.sys('close', fd), -EBADF);
      eq('use after close', yield* c.sys('lseek', fd, 0, SEEK_SET), -EBADF);
    },
  },
  {
    name: 'dup: the lowest free fd, sharing the open file (and its position); EBADF for bad fds',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/d', O_RDWR | O_CREAT);
      const d = yield* c.sys('dup', fd);
      eq('dup fd', d, 1);
      eq('write through the original', yield* put(c, buf, fd, 0x41, 5), 5);
      eq('the dup shares the position', yield* c.sys('lseek', d, 0, SEEK_CUR), 5);
      eq('close the original', yield* c.sys('close', fd), 0);
      eq('the dup still works', yield* get(c, buf, d, 10, 0), fill(5, 0x41));
      eq('dup of a closed fd', yield* c.sys('dup', fd), -EBADF);
      eq('dup of a bad fd', yield* c.sys('dup', 99), -EBADF);
      eq('dup of a negative fd', yield* c.sys('dup', -1), -EBADF);
      eq('dup reuses the freed fd', yield* c.sys('dup', d), 0);
    },
  },
]);

// ------------------------------------------------------ read/pread64/readv

table('read/pread64/readv', [
  {
    name: 'read returns the data and advances the position; 0 at EOF',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/r', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x78, 4096);
      yield* put(c, buf, fd, 0x79, 1904);
      eq('rewind', yield* c.sys('lseek', fd, 0, SEEK_SET), 0);
      eq('first read', yield* get(c, buf, fd, 5000), [...fill(4096, 0x78), ...fill(904, 0x79)]);
      eq('position', yield* c.sys('lseek', fd, 0, SEEK_CUR), 5000);
      eq('short read at the end', yield* get(c, buf, fd, 5000), fill(1000, 0x79));
      eq('EOF', yield* c.sys('read', fd, buf, 10), 0);
      eq('zero-length read', yield* c.sys('read', fd, buf, 0), 0);
    },
  },
  {
    name: 'pread64 reads at the offset and leaves the position alone',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/r', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x78, 4096);
      yield* put(c, buf, fd, 0x79, 100);
      eq('across a page boundary', yield* get(c, buf, fd, 10, 4090), [...fill(6, 0x78), ...fill(4, 0x79)]);
      eq('position unchanged', yield* c.sys('lseek', fd, 0, SEEK_CUR), 4196);
      eq('at EOF', yield* c.sys('pread64', fd, buf, 10, 4196), 0);
      eq('beyond EOF', yield* c.sys('pread64', fd, buf, 10, 1 << 20), 0);
    },
  },
  {
    name: 'EBADF on a write-only fd (even for zero bytes) and on a bad fd',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const wo = yield* c.sys('open', '/tmp/w', O_WRONLY | O_CREAT);
      eq('read', yield* c.sys('read', wo, buf, 10), -EBADF);
      eq('read 0 bytes', yield* c.sys('read', wo, buf, 0), -EBADF);
      eq('pread64', yield* c.sys('pread64', wo, buf, 10, 0), -EBADF);
      eq('readv', yield* c.sys('readv', wo, [[buf, 10]]), -EBADF);
      eq('bad fd', yield* c.sys('read', 42, buf, 10), -EBADF);
      eq('bad fd, pread64', yield* c.sys('pread64', 42, buf, 10, 0), -EBADF);
    },
  },
  {
    name: 'pread64 with a negative offset is EINVAL, which wins over EBADF',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/n', O_RDWR | O_CREAT);
      const wo = yield* c.sys('open', '/tmp/n', O_WRONLY);
      eq('negative offset', yield* c.sys('pread64', fd, buf, 10, -1), -EINVAL);
      eq('negative offset, write-only fd', yield* c.sys('pread64', wo, buf, 10, -1), -EINVAL);
      eq('negative offset, bad fd', yield* c.sys('pread64', 42, buf, 10, -4096), -EINVAL);
    },
  },
  {
    name: 'a hole reads as zeroes; a sparse file reads its data where written',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* openSized(c, '/tmp/h', 8192);
      eq('one byte at 8000', yield* put(c, buf, fd, 0x5a, 1, 8000), 1);
      const data = yield* get(c, buf, fd, 9000, 0);
      eq('length', Array.isArray(data) ? data.length : data, 8192);
      eq('contents', data, [...fill(8000, 0), 0x5a, ...fill(191, 0)]);
    },
  },
  {
    name: 'readv scatters into its iovecs in order; EINVAL for a negative length or too many iovecs',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/v', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x61, 10, 0);
      yield* put(c, buf, fd, 0x62, 10, 10);
      yield* c.sys('mem_write', buf, 200, 0);
      eq('readv', yield* c.sys('readv', fd, [[buf, 5], [buf + 100, 30]]), 20);
      eq('first iovec', yield* c.load(buf, 6), [...fill(5, 0x61), 0]);
      eq('second iovec', yield* c.load(buf + 100, 16), [...fill(5, 0x61), ...fill(10, 0x62), 0]);
      eq('position', yield* c.sys('lseek', fd, 0, SEEK_CUR), 20);
      eq('negative length', yield* c.sys('readv', fd, [[buf, -1]]), -EINVAL);
      eq('1025 iovecs', yield* c.sys('readv', fd, Array.from({ length: 1025 }, () => [buf, 1] as const)), -EINVAL);
      eq('no iovecs', yield* c.sys('readv', fd, []), 0);
    },
  },
  {
    name: 'read into an unmapped buffer is EFAULT; into a read-only one too',
    *body(c, eq) {
      const fd = yield* c.sys('open', '/tmp/e', O_RDWR | O_CREAT);
      const buf = yield* scratch(c);
      yield* put(c, buf, fd, 0x41, 100, 0);
      eq('unmapped', yield* c.sys('pread64', fd, LOW, 10, 0), -EFAULT);
      const ro = yield* c.sys('mmap', 0, PS, PROT_READ, ANON, -1, 0);
      eq('read-only buffer', yield* c.sys('pread64', fd, ro, 10, 0), -EFAULT);
      eq('buffer still zero', yield* c.load(ro, 4), fill(4, 0));
    },
  },
]);

// --------------------------------------------------- write/pwrite64/writev

table('write/pwrite64/writev', [
  {
    name: 'write returns the count and the data reads back',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/dev/shm/w', O_RDWR | O_CREAT);
      eq('write', yield* put(c, buf, fd, 0x31, 5000), 5000);
      eq('write', yield* put(c, buf, fd, 0x32, 10), 10);
      eq('position', yield* c.sys('lseek', fd, 0, SEEK_CUR), 5010);
      eq('read back', yield* get(c, buf, fd, 6000, 0), [...fill(5000, 0x31), ...fill(10, 0x32)]);
      eq('zero-length write', yield* c.sys('write', fd, buf, 0), 0);
    },
  },
  {
    name: 'EBADF on a read-only fd (even for zero bytes) and on a bad fd; nothing written',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const ro = yield* c.sys('open', '/tmp/ro', O_RDONLY | O_CREAT);
      eq('write', yield* put(c, buf, ro, 0x41, 10), -EBADF);
      eq('write 0 bytes', yield* c.sys('write', ro, buf, 0), -EBADF);
      eq('pwrite64', yield* c.sys('pwrite64', ro, buf, 10, 0), -EBADF);
      eq('writev', yield* c.sys('writev', ro, [[buf, 10]]), -EBADF);
      eq('bad fd', yield* c.sys('write', 42, buf, 10), -EBADF);
      eq('size', yield* fileSize(c, ro), 0);
    },
  },
  {
    name: 'pwrite64 writes at the offset, extends with a zero gap, leaves the position; negative offset EINVAL',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/pw', O_RDWR | O_CREAT);
      eq('pwrite64', yield* put(c, buf, fd, 0x41, 4, 10), 4);
      eq('position', yield* c.sys('lseek', fd, 0, SEEK_CUR), 0);
      eq('size', yield* fileSize(c, fd), 14);
      eq('data', yield* get(c, buf, fd, 20, 0), [...fill(10, 0), ...fill(4, 0x41)]);
      eq('negative offset', yield* c.sys('pwrite64', fd, buf, 4, -1), -EINVAL);
      eq('negative offset, bad fd', yield* c.sys('pwrite64', 42, buf, 4, -1), -EINVAL);
      eq('pwritev negative offset', yield* c.sys('pwritev', fd, [[buf, 4]], -2), -EINVAL);
    },
  },
  {
    name: 'writev gathers its iovecs; pwritev writes at an offset; an empty list writes nothing',
    *body(c, eq) {
      const a = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/wv', O_RDWR | O_CREAT);
      yield* c.sys('mem_write', a, PS, 0x41);
      yield* c.sys('mem_write', a + PS, PS, 0x42);
      eq('writev', yield* c.sys('writev', fd, [[a + 4000, 200], [a, 10]]), 210);
      eq('position', yield* c.sys('lseek', fd, 0, SEEK_CUR), 210);
      eq('pwritev', yield* c.sys('pwritev', fd, [[a + PS + 10, 5]], 100), 5);
      eq('position unchanged', yield* c.sys('lseek', fd, 0, SEEK_CUR), 210);
      eq('data', yield* get(c, a + 8 * PS, fd, 300, 0),
        [...fill(96, 0x41), ...fill(4, 0x42), ...fill(5, 0x42), ...fill(95, 0x42), ...fill(10, 0x41)]);
      eq('no iovecs', yield* c.sys('writev', fd, []), 0);
      eq('negative length', yield* c.sys('writev', fd, [[a, -5]]), -EINVAL);
      eq('1025 iovecs', yield* c.sys('writev', fd, Array.from({ length: 1025 }, () => [a, 1] as const)), -EINVAL);
    },
  },
  {
    name: 'a source fault before any byte is EFAULT; a fault midway gives a short count',
    *body(c, eq) {
      const a = yield* scratch(c, 2);
      const fd = yield* c.sys('open', '/tmp/wf', O_RDWR | O_CREAT);
      yield* c.sys('mem_write', a, 2 * PS, 0x43);
      eq('munmap the second page', yield* c.sys('munmap', a + PS, PS), 0);
      eq('unmapped source', yield* c.sys('write', fd, a + PS, 10), -EFAULT);
      eq('unmapped source (writev)', yield* c.sys('writev', fd, [[a + PS, 10]]), -EFAULT);
      eq('crossing into the hole', yield* c.sys('write', fd, a + PS - 96, 200), 96);
      eq('size', yield* fileSize(c, fd), 96);
      eq('a source beyond user space', yield* c.sys('write', fd, 0x7ffffffff000, 0x2000), -EFAULT);
    },
  },
]);

// --------------------------------------------------------------------- lseek

table('lseek', [
  {
    name: 'SEEK_SET, SEEK_CUR and SEEK_END',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/s', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x78, 1000);
      eq('SEEK_SET', yield* c.sys('lseek', fd, 10, SEEK_SET), 10);
      eq('SEEK_CUR +5', yield* c.sys('lseek', fd, 5, SEEK_CUR), 15);
      eq('SEEK_CUR -3', yield* c.sys('lseek', fd, -3, SEEK_CUR), 12);
      eq('SEEK_END', yield* c.sys('lseek', fd, 0, SEEK_END), 1000);
      eq('SEEK_END -1000', yield* c.sys('lseek', fd, -1000, SEEK_END), 0);
      eq('SEEK_END +10', yield* c.sys('lseek', fd, 10, SEEK_END), 1010);
    },
  },
  {
    name: 'EINVAL for a bad whence or a negative result (position unchanged); EBADF for a bad fd',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/s', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x78, 1000);
      eq('set 100', yield* c.sys('lseek', fd, 100, SEEK_SET), 100);
      eq('whence 5', yield* c.sys('lseek', fd, 0, 5), -EINVAL);
      eq('whence -1', yield* c.sys('lseek', fd, 0, -1), -EINVAL);
      eq('negative SEEK_SET', yield* c.sys('lseek', fd, -1, SEEK_SET), -EINVAL);
      eq('negative SEEK_CUR', yield* c.sys('lseek', fd, -101, SEEK_CUR), -EINVAL);
      eq('negative SEEK_END', yield* c.sys('lseek', fd, -1001, SEEK_END), -EINVAL);
      eq('position unchanged', yield* c.sys('lseek', fd, 0, SEEK_CUR), 100);
      eq('bad fd', yield* c.sys('lseek', 42, 0, SEEK_SET), -EBADF);
      eq('bad fd and bad whence', yield* c.sys('lseek', 42, 0, 9), -EBADF);
    },
  },
  {
    name: 'seeking beyond EOF is allowed: reads return 0, a write there leaves a zero hole',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/s', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x78, 10);
      eq('seek', yield* c.sys('lseek', fd, 5000, SEEK_SET), 5000);
      eq('read', yield* c.sys('read', fd, buf, 10), 0);
      eq('write', yield* put(c, buf, fd, 0x79, 2), 2);
      eq('size', yield* fileSize(c, fd), 5002);
      eq('data', yield* get(c, buf, fd, 6000, 0), [...fill(10, 0x78), ...fill(4990, 0), 0x79, 0x79]);
    },
  },
  {
    name: 'SEEK_DATA and SEEK_HOLE on a file without holes; ENXIO at and beyond EOF',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/s', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x78, 1000);
      eq('SEEK_DATA 0', yield* c.sys('lseek', fd, 0, SEEK_DATA), 0);
      eq('SEEK_HOLE 0', yield* c.sys('lseek', fd, 0, SEEK_HOLE), 1000);
      eq('SEEK_DATA 999', yield* c.sys('lseek', fd, 999, SEEK_DATA), 999);
      eq('SEEK_DATA at EOF', yield* c.sys('lseek', fd, 1000, SEEK_DATA), -ENXIO);
      eq('SEEK_HOLE at EOF', yield* c.sys('lseek', fd, 1000, SEEK_HOLE), -ENXIO);
      eq('SEEK_DATA negative', yield* c.sys('lseek', fd, -1, SEEK_DATA), -ENXIO);
    },
  },
]);

// ---------------------------------------------------------------------- mmap

table('mmap', [
  {
    name: 'len 0 is EINVAL (anonymous and file)',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/m', PS);
      eq('anonymous', yield* c.sys('mmap', 0, 0, RW, ANON, -1, 0), -EINVAL);
      eq('file', yield* c.sys('mmap', 0, 0, RW, MAP_SHARED, fd, 0), -EINVAL);
    },
  },
  {
    name: 'an unaligned offset is EINVAL and wins over a bad fd, which wins over len 0',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/m', PS);
      eq('unaligned offset', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 100), -EINVAL);
      eq('negative offset', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, -PS), -EINVAL);
      eq('unaligned offset + bad fd', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, 99, 1), -EINVAL);
      eq('bad fd', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, 99, 0), -EBADF);
      eq('bad fd + len 0', yield* c.sys('mmap', 0, 0, RW, MAP_SHARED, 99, 0), -EBADF);
      eq('closed fd', yield* c.sys('close', fd), 0);
      eq('closed fd', yield* c.sys('mmap', 0, PS, PROT_READ, MAP_SHARED, fd, 0), -EBADF);
      eq('MAP_ANONYMOUS ignores the fd', (yield* c.sys('mmap', 0, PS, RW, ANON, 99, 0)) > 0, true);
    },
  },
  {
    name: 'MAP_SHARED|PROT_WRITE on an O_RDONLY fd is EACCES; read-only shared and private writable are fine',
    *body(c, eq) {
      yield* openSized(c, '/tmp/m', PS);
      const ro = yield* c.sys('open', '/tmp/m', O_RDONLY);
      eq('shared writable', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, ro, 0), -EACCES);
      eq('shared-validate writable', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED_VALIDATE, ro, 0), -EACCES);
      const sh = yield* c.sys('mmap', 0, PS, PROT_READ, MAP_SHARED, ro, 0);
      eq('shared read-only', sh > 0, true);
      const pr = yield* c.sys('mmap', 0, PS, RW, MAP_PRIVATE, ro, 0);
      eq('private writable', pr > 0, true);
      eq('private write is a COW', yield* c.sys('mem_write', pr, 10, 0x41), 10);
      eq('shared mapping unchanged', yield* c.load(sh, 2), [0, 0]);
      eq('but it cannot become writable', yield* c.sys('mprotect', sh, PS, RW), -EACCES);
    },
  },
  {
    name: 'a write-only fd cannot be mapped at all (EACCES)',
    *body(c, eq) {
      yield* openSized(c, '/tmp/m', PS);
      const wo = yield* c.sys('open', '/tmp/m', O_WRONLY);
      eq('shared', yield* c.sys('mmap', 0, PS, PROT_READ, MAP_SHARED, wo, 0), -EACCES);
      eq('shared writable', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, wo, 0), -EACCES);
      eq('private', yield* c.sys('mmap', 0, PS, PROT_READ, MAP_PRIVATE, wo, 0), -EACCES);
    },
  },
  {
    name: 'a bad map type is EINVAL; MAP_SHARED_VALIDATE: unknown flag EOPNOTSUPP on a file, EINVAL when anonymous',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/m', PS);
      eq('type 0', yield* c.sys('mmap', 0, PS, RW, 0, fd, 0), -EINVAL);
      eq('type 4', yield* c.sys('mmap', 0, PS, RW, 4, fd, 0), -EINVAL);
      eq('type 0xf', yield* c.sys('mmap', 0, PS, RW, 0xf, fd, 0), -EINVAL);
      eq('anonymous type 0', yield* c.sys('mmap', 0, PS, RW, MAP_ANONYMOUS, -1, 0), -EINVAL);
      eq('validate + MAP_SYNC', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0), -EOPNOTSUPP);
      eq('validate + unknown bit', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED_VALIDATE | 0x200000, fd, 0), -EOPNOTSUPP);
      eq('validate', (yield* c.sys('mmap', 0, PS, RW, MAP_SHARED_VALIDATE, fd, 0)) > 0, true);
      eq('anonymous validate', yield* c.sys('mmap', 0, PS, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
      eq('MAP_SHARED ignores unknown flags', (yield* c.sys('mmap', 0, PS, RW, MAP_SHARED | MAP_SYNC, fd, 0)) > 0, true);
    },
  },
  {
    name: 'MAP_FIXED_NOREPLACE over an existing mapping is EEXIST and leaves it intact',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 2 * PS, RW, ANON | MAP_FIXED, -1, 0);
      eq('fixed', a, LOW);
      yield* c.sys('mem_write', a, 2 * PS, 0x41);
      eq('same range', yield* c.sys('mmap', a, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), -EEXIST);
      eq('partial overlap', yield* c.sys('mmap', a + PS, 2 * PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), -EEXIST);
      eq('data intact', yield* c.load(a + PS - 1, 2), [0x41, 0x41]);
      eq('free range', yield* c.sys('mmap', a + 2 * PS, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), a + 2 * PS);
    },
  },
  {
    name: 'MAP_FIXED: an unaligned address is EINVAL; an aligned one replaces what was mapped',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 2 * PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mem_write', a, 2 * PS, 0x41);
      eq('unaligned', yield* c.sys('mmap', a + 1, PS, RW, ANON | MAP_FIXED, -1, 0), -EINVAL);
      eq('unaligned NOREPLACE', yield* c.sys('mmap', a + 1, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), -EINVAL);
      eq('still there', yield* c.load(a, 1), [0x41]);
      eq('replace', yield* c.sys('mmap', a + PS, PS, PROT_READ, ANON | MAP_FIXED, -1, 0), a + PS);
      eq('replaced page reads zero', yield* c.load(a + PS, 1), [0]);
      eq('and is read-only', yield* c.sys('mem_write', a + PS, 1, 1), SEGV);
      eq('the first page is untouched', yield* c.load(a, 1), [0x41]);
    },
  },
  {
    name: 'anonymous private memory reads zero, keeps what is written; a free hint is honoured',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW + 0x100000, 3 * PS, RW, ANON, -1, 0);
      eq('hint', a, LOW + 0x100000);
      eq('zero', yield* c.load(a + 5000, 3), [0, 0, 0]);
      eq('write', yield* c.sys('mem_write', a + 5000, 3, 0x7f), 3);
      eq('read back', yield* c.load(a + 4999, 5), [0, 0x7f, 0x7f, 0x7f, 0]);
      const b = yield* c.sys('mmap', a, PS, RW, ANON, -1, 0);
      eq('a taken hint is only a hint', b > 0 && b !== a, true);
    },
  },
  {
    name: 'ENODEV for a directory, ENOMEM for an impossible length',
    *body(c, eq) {
      const d = yield* c.sys('open', '/tmp', O_RDONLY);
      eq('directory', yield* c.sys('mmap', 0, PS, PROT_READ, MAP_PRIVATE, d, 0), -ENODEV);
      eq('directory, unaligned offset', yield* c.sys('mmap', 0, PS, PROT_READ, MAP_PRIVATE, d, 1), -EINVAL);
      eq('all of user space', yield* c.sys('mmap', 0, 0x7ffffffff000, RW, ANON, -1, 0), -ENOMEM);
      eq('length wraps', yield* c.sys('mmap', 0, -PS, RW, ANON, -1, 0), -ENOMEM);
    },
  },
  {
    name: 'a file mapping may extend beyond EOF; the pages wholly beyond SIGBUS',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/m', 2 * PS);
      const a = yield* c.sys('mmap', 0, 4 * PS, RW, MAP_SHARED, fd, PS);
      eq('mmap', a > 0, true);
      eq('file page 1', yield* c.load(a, 1), [0]);
      eq('file page 2: beyond EOF', yield* c.load(a + PS, 1), BUS);
      eq('write beyond EOF', yield* c.sys('mem_write', a + 3 * PS, 1, 1), BUS);
    },
  },
]);

// -------------------------------------------------------------------- munmap

table('munmap', [
  {
    name: 'EINVAL: unaligned address, len 0, a range outside user space',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, 2 * PS, RW, ANON, -1, 0);
      eq('unaligned', yield* c.sys('munmap', a + 1, PS), -EINVAL);
      eq('len 0', yield* c.sys('munmap', a, 0), -EINVAL);
      eq('unaligned, len 0', yield* c.sys('munmap', a + 1, 0), -EINVAL);
      eq('negative address', yield* c.sys('munmap', -PS, PS), -EINVAL);
      eq('beyond TASK_SIZE', yield* c.sys('munmap', 0x7ffffffff000, 2 * PS), -EINVAL);
      eq('still mapped', yield* c.sys('mem_write', a, 2 * PS, 1), 2 * PS);
    },
  },
  {
    name: 'unmapping a hole is not an error (twice neither)',
    *body(c, eq) {
      eq('never mapped', yield* c.sys('munmap', LOW, 16 * PS), 0);
      const a = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
      eq('unmap', yield* c.sys('munmap', a, PS), 0);
      eq('again', yield* c.sys('munmap', a, PS), 0);
      eq('gone', yield* c.load(a, 1), SEGV);
    },
  },
  {
    name: 'a partial unmap splits the VMA; the rest keeps its data; len rounds up to a page',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 4 * PS, RW, ANON | MAP_FIXED, -1, 0);
      for (let i = 0; i < 4; i++) yield* c.sys('mem_write', a + i * PS, PS, 0x41 + i);
      eq('unmap page 1 (len 1)', yield* c.sys('munmap', a + PS, 1), 0);
      eq('VMAs', c.p.mm.overlapping(a, a + 4 * PS).map((v) => [v.start - a, v.end - a]), [[0, PS], [2 * PS, 4 * PS]]);
      eq('page 0', yield* c.load(a + PS - 1, 1), [0x41]);
      eq('page 1', yield* c.load(a + PS, 1), SEGV);
      eq('pages 2-3', yield* c.load(a + 3 * PS - 1, 2), [0x43, 0x44]);
      eq('unmap across the hole', yield* c.sys('munmap', a, 3 * PS), 0);
      eq('VMAs after', c.p.mm.overlapping(a, a + 4 * PS).map((v) => [v.start - a, v.end - a]), [[3 * PS, 4 * PS]]);
      eq('page 3', yield* c.load(a + 3 * PS, 1), [0x44]);
    },
  },
]);

// -------------------------------------------------------------------- mremap

table('mremap', [
  {
    name: 'shrink is in place (no MAYMOVE needed): the tail goes away',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 3 * PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mem_write', a, 3 * PS, 0x41);
      eq('shrink', yield* c.sys('mremap', a, 3 * PS, PS, 0, 0), a);
      eq('kept', yield* c.load(a + PS - 1, 1), [0x41]);
      eq('tail', yield* c.load(a + PS, 1), SEGV);
    },
  },
  {
    name: 'grow in place when the space after is free; the new part reads zero',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mem_write', a, PS, 0x41);
      eq('grow', yield* c.sys('mremap', a, PS, 3 * PS, 0, 0), a);
      eq('old part', yield* c.load(a, 1), [0x41]);
      eq('new part', yield* c.load(a + 2 * PS, 1), [0]);
    },
  },
  {
    name: 'growing into a neighbour without MAYMOVE is ENOMEM (mapping unchanged); with MAYMOVE it moves',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mmap', LOW + PS, PS, PROT_READ, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mem_write', a, PS, 0x41);
      eq('grow in place', yield* c.sys('mremap', a, PS, 2 * PS, 0, 0), -ENOMEM);
      eq('unchanged', yield* c.load(a + PS - 1, 1), [0x41]);
      eq('lengths round up to pages: same size is a no-op', yield* c.sys('mremap', a, 0x800, PS, 0, 0), a);
      const b = yield* c.sys('mremap', a, PS, 4 * PS, MREMAP_MAYMOVE, 0);
      eq('moved', b > 0 && b !== a, true);
      eq('contents moved', yield* c.load(b, 2), [0x41, 0x41]);
      eq('last old byte', yield* c.load(b + PS - 1, 1), [0x41]);
      eq('grown part', yield* c.load(b + 3 * PS, 1), [0]);
      eq('old range gone', yield* c.load(a, 1), SEGV);
    },
  },
  {
    name: 'MAYMOVE keeps the contents of every page, file-backed too',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/mr', 3 * PS);
      const a = yield* c.sys('mmap', LOW, 3 * PS, RW, MAP_SHARED | MAP_FIXED, fd, 0);
      for (let i = 0; i < 3; i++) yield* c.sys('mem_write', a + i * PS, 4, 0x61 + i);
      yield* c.sys('mmap', LOW + 3 * PS, PS, PROT_READ, ANON | MAP_FIXED, -1, 0);
      const b = yield* c.sys('mremap', a + PS, 2 * PS, 3 * PS, MREMAP_MAYMOVE, 0);
      eq('moved', b > 0 && b !== a + PS, true);
      eq('file page 1', yield* c.load(b, 4), fill(4, 0x62));
      eq('file page 2', yield* c.load(b + PS, 4), fill(4, 0x63));
      eq('beyond EOF', yield* c.load(b + 2 * PS, 1), BUS);
      eq('head stays', yield* c.load(a, 4), fill(4, 0x61));
      eq('moved-out part', yield* c.load(a + PS, 1), SEGV);
    },
  },
  {
    name: 'flags validation: unknown flags, FIXED without MAYMOVE, new_len 0, unaligned address: EINVAL',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 2 * PS, RW, ANON | MAP_FIXED, -1, 0);
      eq('unknown flag', yield* c.sys('mremap', a, PS, 2 * PS, 8, 0), -EINVAL);
      eq('FIXED without MAYMOVE', yield* c.sys('mremap', a, PS, PS, MREMAP_FIXED, LOW + 0x100000), -EINVAL);
      eq('new_len 0', yield* c.sys('mremap', a, PS, 0, MREMAP_MAYMOVE, 0), -EINVAL);
      eq('unaligned old address', yield* c.sys('mremap', a + 1, PS, PS, MREMAP_MAYMOVE, 0), -EINVAL);
      eq('new_len beyond user space', yield* c.sys('mremap', a, PS, 0x800000000000, MREMAP_MAYMOVE, 0), -EINVAL);
    },
  },
  {
    name: 'MREMAP_FIXED moves onto the target (replacing it); overlap and unaligned target are EINVAL',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 2 * PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mem_write', a, 2 * PS, 0x41);
      const t = LOW + 0x100000;
      yield* c.sys('mmap', t, 4 * PS, PROT_READ, ANON | MAP_FIXED, -1, 0);
      eq('overlap', yield* c.sys('mremap', a, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, a + PS), -EINVAL);
      eq('unaligned target', yield* c.sys('mremap', a, PS, PS, MREMAP_MAYMOVE | MREMAP_FIXED, t + 1), -EINVAL);
      eq('move', yield* c.sys('mremap', a, 2 * PS, 3 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, t), t);
      eq('contents', yield* c.load(t + 2 * PS - 1, 1), [0x41]);
      eq('writable (the old protection)', yield* c.sys('mem_write', t, 1, 0x42), 1);
      eq('grown part', yield* c.load(t + 2 * PS, 1), [0]);
      eq('the rest of the target stays', yield* c.sys('mem_write', t + 3 * PS, 1, 1), SEGV);
      eq('source gone', yield* c.load(a, 1), SEGV);
    },
  },
  {
    name: 'no VMA at the old address is EFAULT, but a bad target address wins (EINVAL)',
    *body(c, eq) {
      const t = yield* c.sys('mmap', LOW + 0x100000, PS, PROT_READ, ANON | MAP_FIXED, -1, 0);
      eq('no VMA', yield* c.sys('mremap', LOW, PS, 2 * PS, MREMAP_MAYMOVE, 0), -EFAULT);
      eq('no VMA, FIXED', yield* c.sys('mremap', LOW, PS, PS, MREMAP_MAYMOVE | MREMAP_FIXED, t), -EFAULT);
      eq('target not unmapped', yield* c.load(t, 1), [0]);
      eq('no VMA, unaligned target', yield* c.sys('mremap', LOW, PS, PS, MREMAP_MAYMOVE | MREMAP_FIXED, t + 1), -EINVAL);
      eq('no VMA, overlapping target', yield* c.sys('mremap', LOW, PS, PS, MREMAP_MAYMOVE | MREMAP_FIXED, LOW), -EINVAL);
      eq('no VMA, DONTUNMAP unaligned hint', yield* c.sys('mremap', LOW, PS, PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 1), -EINVAL);
      eq('no VMA, old_len 0', yield* c.sys('mremap', LOW, 0, PS, MREMAP_MAYMOVE, 0), -EFAULT);
    },
  },
  {
    name: 'the old range must lie within one VMA (EFAULT); old_len 0 is EINVAL on a private mapping',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mmap', LOW + PS, PS, PROT_READ, ANON | MAP_FIXED, -1, 0);
      eq('across two VMAs', yield* c.sys('mremap', a, 2 * PS, 4 * PS, MREMAP_MAYMOVE, 0), -EFAULT);
      eq('old_len 0, private', yield* c.sys('mremap', a, 0, PS, MREMAP_MAYMOVE, 0), -EINVAL);
    },
  },
  {
    name: 'old_len 0 on a shared mapping creates a second mapping of the same pages',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/dup', PS);
      const a = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a, 8, 0x46);
      const b = yield* c.sys('mremap', a, 0, PS, MREMAP_MAYMOVE, 0);
      eq('new mapping', b > 0 && b !== a, true);
      eq('same data', yield* c.load(b, 8), fill(8, 0x46));
      yield* c.sys('mem_write', b, 1, 0x47);
      eq('shared both ways', yield* c.load(a, 1), [0x47]);
    },
  },
  {
    name: 'MREMAP_DONTUNMAP: needs MAYMOVE and equal lengths; moves the pages, the old range stays mapped and empty',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 2 * PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mem_write', a, 2 * PS, 0x41);
      eq('without MAYMOVE', yield* c.sys('mremap', a, PS, PS, MREMAP_DONTUNMAP, 0), -EINVAL);
      eq('length change', yield* c.sys('mremap', a, PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0), -EINVAL);
      eq('overlapping hint', yield* c.sys('mremap', a, PS, PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, a), -EINVAL);
      const b = yield* c.sys('mremap', a, PS, PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
      eq('moved', b > 0 && b !== a, true);
      eq('pages moved', yield* c.load(b, 2), [0x41, 0x41]);
      eq('old range still mapped, empty', yield* c.load(a, 2), [0, 0]);
      eq('old range writable', yield* c.sys('mem_write', a, 1, 0x42), 1);
      eq('second page untouched', yield* c.load(a + PS, 1), [0x41]);
    },
  },
  {
    name: 'MREMAP_DONTUNMAP on a shared file mapping: the old range refaults from the file',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/du', PS);
      const a = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a, PS, 0x46);
      const b = yield* c.sys('mremap', a, PS, PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
      eq('moved', b > 0 && b !== a, true);
      eq('new', yield* c.load(b, 2), [0x46, 0x46]);
      eq('old refaults from the file', yield* c.load(a, 2), [0x46, 0x46]);
    },
  },
]);

// ------------------------------------------------------------------ mprotect

table('mprotect', [
  {
    name: 'PROT_READ: a CPU write raises SIGSEGV, reads work, data is kept; PROT_READ|PROT_WRITE restores',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, 2 * PS, RW, ANON, -1, 0);
      yield* c.sys('mem_write', a, 2 * PS, 0x41);
      eq('mprotect', yield* c.sys('mprotect', a, PS, PROT_READ), 0);
      eq('write', yield* c.sys('mem_write', a, 1, 0x42), SEGV);
      eq('read', yield* c.load(a, 2), [0x41, 0x41]);
      eq('other page still writable', yield* c.sys('mem_write', a + PS, 1, 0x43), 1);
      eq('restore', yield* c.sys('mprotect', a, PS, RW), 0);
      eq('write again', yield* c.sys('mem_write', a, 1, 0x44), 1);
      eq('data', yield* c.load(a, 2), [0x44, 0x41]);
    },
  },
  {
    name: 'PROT_NONE: reads fault too',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
      yield* c.sys('mem_write', a, 1, 0x41);
      eq('mprotect', yield* c.sys('mprotect', a, PS, PROT_NONE), 0);
      eq('read', yield* c.load(a, 1), SEGV);
      eq('write', yield* c.sys('mem_write', a, 1, 1), SEGV);
      eq('back', yield* c.sys('mprotect', a, PS, PROT_READ), 0);
      eq('data kept', yield* c.load(a, 1), [0x41]);
    },
  },
  {
    name: 'EINVAL for an unaligned start or unknown prot bits; len 0 is a no-op',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
      eq('unaligned', yield* c.sys('mprotect', a + 1, PS, PROT_READ), -EINVAL);
      eq('unaligned, len 0', yield* c.sys('mprotect', a + 1, 0, PROT_READ), -EINVAL);
      eq('unknown prot', yield* c.sys('mprotect', a, PS, 0x100), -EINVAL);
      eq('PROT_GROWSDOWN|PROT_GROWSUP, unaligned', yield* c.sys('mprotect', a + 1, PS, PROT_READ | 0x03000000), -EINVAL);
      eq('PROT_GROWSDOWN on a VMA that cannot grow', yield* c.sys('mprotect', a, PS, PROT_READ | 0x01000000), -EINVAL);
      eq('PROT_GROWSUP on a VMA that cannot grow', yield* c.sys('mprotect', a, PS, PROT_READ | 0x02000000), -EINVAL);
      eq('PROT_GROWSDOWN on a hole', yield* c.sys('mprotect', LOW, PS, PROT_READ | 0x01000000), -ENOMEM);
      eq('PROT_SEM is accepted', yield* c.sys('mprotect', a, PS, RW | 0x8), 0);
      eq('len 0', yield* c.sys('mprotect', a, 0, PROT_READ), 0);
      eq('still writable', yield* c.sys('mem_write', a, 1, 1), 1);
    },
  },
  {
    name: 'ENOMEM on a hole: none at the start; at a later hole the VMAs before it are changed',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 4 * PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('munmap', a + PS, PS);
      eq('hole at the start', yield* c.sys('mprotect', a + PS, PS, PROT_READ), -ENOMEM);
      eq('unmapped entirely', yield* c.sys('mprotect', LOW + 0x100000, PS, PROT_READ), -ENOMEM);
      eq('hole in the middle', yield* c.sys('mprotect', a, 4 * PS, PROT_READ), -ENOMEM);
      eq('the part before the hole changed', yield* c.sys('mem_write', a, 1, 1), SEGV);
      eq('the part after the hole did not', yield* c.sys('mem_write', a + 2 * PS, 1, 1), 1);
    },
  },
  {
    name: 'mprotect of the middle page splits the VMA in three',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 3 * PS, RW, ANON | MAP_FIXED, -1, 0);
      eq('mprotect', yield* c.sys('mprotect', a + PS, PS, PROT_READ), 0);
      eq('VMAs', c.p.mm.overlapping(a, a + 3 * PS).map((v) => [v.start - a, v.prot]), [[0, RW], [PS, PROT_READ], [2 * PS, RW]]);
      eq('back to RW merges', yield* c.sys('mprotect', a + PS, PS, RW), 0);
      eq('one VMA', c.p.mm.overlapping(a, a + 3 * PS).length, 1);
    },
  },
]);

// ------------------------------------------------------------------- madvise

table('madvise', [
  {
    name: 'MADV_DONTNEED on private anonymous memory: zeroes afterwards',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, 2 * PS, RW, ANON, -1, 0);
      yield* c.sys('mem_write', a, 2 * PS, 0x41);
      eq('madvise', yield* c.sys('madvise', a, PS, MADV_DONTNEED), 0);
      eq('dropped', yield* c.load(a, 4), fill(4, 0));
      eq('other page kept', yield* c.load(a + PS, 4), fill(4, 0x41));
    },
  },
  {
    name: 'MADV_DONTNEED on a shared file mapping keeps the data (refaults from the file)',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/dn', PS);
      const a = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a, PS, 0x42);
      eq('madvise', yield* c.sys('madvise', a, PS, MADV_DONTNEED), 0);
      eq('data', yield* c.load(a, 4), fill(4, 0x42));
    },
  },
  {
    name: 'MADV_DONTNEED on a private file mapping drops the COW copies: the file data comes back',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* openSized(c, '/tmp/dp', PS);
      yield* put(c, buf, fd, 0x50, 16, 0);
      const a = yield* c.sys('mmap', 0, PS, RW, MAP_PRIVATE, fd, 0);
      yield* c.sys('mem_write', a, 16, 0x51);
      eq('COW copy', yield* c.load(a, 2), [0x51, 0x51]);
      eq('madvise', yield* c.sys('madvise', a, PS, MADV_DONTNEED), 0);
      eq('file data', yield* c.load(a, 2), [0x50, 0x50]);
    },
  },
  {
    name: 'MADV_REMOVE punches the file: the mapping and the file read zero, the size stays',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* openSized(c, '/tmp/rm', 3 * PS);
      const a = yield* c.sys('mmap', 0, 3 * PS, RW, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a, 3 * PS, 0x52);
      eq('madvise', yield* c.sys('madvise', a + PS, PS, MADV_REMOVE), 0);
      eq('mapping', yield* c.load(a + PS - 1, 2), [0x52, 0]);
      eq('file', yield* get(c, buf, fd, 4, PS), fill(4, 0));
      eq('next page kept', yield* get(c, buf, fd, 1, 2 * PS), [0x52]);
      eq('size', yield* fileSize(c, fd), 3 * PS);
    },
  },
  {
    name: 'MADV_REMOVE needs a shared writable file mapping: EINVAL when anonymous, EACCES otherwise',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/rm', PS);
      const ro = yield* c.sys('open', '/tmp/rm', O_RDONLY);
      const anon = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
      const priv = yield* c.sys('mmap', 0, PS, RW, MAP_PRIVATE, fd, 0);
      const shro = yield* c.sys('mmap', 0, PS, PROT_READ, MAP_SHARED, ro, 0);
      eq('anonymous', yield* c.sys('madvise', anon, PS, MADV_REMOVE), -EINVAL);
      eq('private file', yield* c.sys('madvise', priv, PS, MADV_REMOVE), -EACCES);
      eq('shared, read-only file', yield* c.sys('madvise', shro, PS, MADV_REMOVE), -EACCES);
    },
  },
  {
    name: 'EINVAL for unknown advice (even over a hole) and an unaligned start; len 0 is a no-op',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
      eq('advice 99', yield* c.sys('madvise', a, PS, 99), -EINVAL);
      eq('advice -1', yield* c.sys('madvise', a, PS, -1), -EINVAL);
      eq('advice 99 over a hole', yield* c.sys('madvise', LOW, PS, 99), -EINVAL);
      eq('unaligned', yield* c.sys('madvise', a + 1, PS, MADV_DONTNEED), -EINVAL);
      eq('len 0', yield* c.sys('madvise', a, 0, MADV_DONTNEED), 0);
      eq('len 0 over a hole', yield* c.sys('madvise', LOW, 0, MADV_DONTNEED), 0);
      for (const adv of [MADV_NORMAL, MADV_SEQUENTIAL, MADV_WILLNEED]) eq(`advice ${adv}`, yield* c.sys('madvise', a, PS, adv), 0);
    },
  },
  {
    name: 'ENOMEM for a hole in the range, but the mapped parts are still advised',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 3 * PS, RW, ANON | MAP_FIXED, -1, 0);
      yield* c.sys('mem_write', a, 3 * PS, 0x41);
      yield* c.sys('munmap', a + PS, PS);
      eq('over the hole', yield* c.sys('madvise', a, 3 * PS, MADV_DONTNEED), -ENOMEM);
      eq('before the hole dropped', yield* c.load(a, 1), [0]);
      eq('after the hole dropped', yield* c.load(a + 2 * PS, 1), [0]);
      eq('only a hole', yield* c.sys('madvise', a + PS, PS, MADV_WILLNEED), -ENOMEM);
    },
  },
  {
    name: 'MADV_FREE: private anonymous only (EINVAL on a shared file); the data reads back old or zero',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
      yield* c.sys('mem_write', a, PS, 0x41);
      eq('private anonymous', yield* c.sys('madvise', a, PS, MADV_FREE), 0);
      const got = yield* c.load(a, 4);
      eq('old data or zeroes', JSON.stringify(got) === JSON.stringify(fill(4, 0x41)) || JSON.stringify(got) === JSON.stringify(fill(4, 0)), true);
      const fd = yield* openSized(c, '/tmp/fr', PS);
      const s = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
      eq('shared file', yield* c.sys('madvise', s, PS, MADV_FREE), -EINVAL);
    },
  },
]);

// --------------------------------------------------------------------- msync

table('msync', [
  {
    name: 'flags: unknown bits and MS_ASYNC|MS_SYNC are EINVAL; 0, MS_ASYNC, MS_SYNC, MS_INVALIDATE are fine',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/ms', PS);
      const a = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
      eq('unknown bit', yield* c.sys('msync', a, PS, 8), -EINVAL);
      eq('MS_ASYNC|MS_SYNC', yield* c.sys('msync', a, PS, MS_ASYNC | MS_SYNC), -EINVAL);
      eq('unaligned', yield* c.sys('msync', a + 1, PS, MS_SYNC), -EINVAL);
      eq('unknown bit on a hole', yield* c.sys('msync', LOW, PS, 8), -EINVAL);
      for (const f of [0, MS_ASYNC, MS_SYNC, MS_INVALIDATE, MS_SYNC | MS_INVALIDATE]) eq(`flags ${f}`, yield* c.sys('msync', a, PS, f), 0);
      eq('len 0', yield* c.sys('msync', a, 0, MS_SYNC), 0);
    },
  },
  {
    name: 'ENOMEM for an unmapped range or one with a hole; anonymous memory is fine',
    *body(c, eq) {
      const a = yield* c.sys('mmap', LOW, 3 * PS, RW, ANON | MAP_FIXED, -1, 0);
      eq('anonymous', yield* c.sys('msync', a, 3 * PS, MS_SYNC), 0);
      yield* c.sys('munmap', a + PS, PS);
      eq('hole in the range', yield* c.sys('msync', a, 3 * PS, MS_SYNC), -ENOMEM);
      eq('only the hole', yield* c.sys('msync', a + PS, PS, MS_ASYNC), -ENOMEM);
      eq('unmapped', yield* c.sys('msync', LOW + 0x100000, PS, MS_SYNC), -ENOMEM);
    },
  },
  {
    name: 'MS_SYNC of a shared mapping: the data is the file\'s',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* openSized(c, '/tmp/ms', PS);
      const a = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a, 10, 0x53);
      eq('msync', yield* c.sys('msync', a, PS, MS_SYNC), 0);
      eq('read', yield* get(c, buf, fd, 12, 0), [...fill(10, 0x53), 0, 0]);
    },
  },
]);

// ----------------------------------------------------------------- fallocate

table('fallocate', [
  {
    name: 'mode 0 allocates and extends i_size; KEEP_SIZE allocates without extending',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/fa', O_RDWR | O_CREAT);
      eq('mode 0', yield* c.sys('fallocate', fd, 0, 0, 5000), 0);
      eq('size', yield* fileSize(c, fd), 5000);
      eq('reads zero', yield* get(c, buf, fd, 6000, 0), fill(5000, 0));
      eq('mode 0 inside the file', yield* c.sys('fallocate', fd, 0, 0, 100), 0);
      eq('size unchanged', yield* fileSize(c, fd), 5000);
      eq('KEEP_SIZE', yield* c.sys('fallocate', fd, FALLOC_FL_KEEP_SIZE, 0, 4 * PS), 0);
      eq('size kept', yield* fileSize(c, fd), 5000);
      eq('pages allocated', c.k.dentries.get('/tmp/fa')!.mapping.nrpages, 4);
    },
  },
  {
    name: 'PUNCH_HOLE|KEEP_SIZE zeroes the range (partial pages too) and keeps the size; PUNCH_HOLE alone is EOPNOTSUPP',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/ph', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x41, 3 * PS);
      eq('punch alone', yield* c.sys('fallocate', fd, FALLOC_FL_PUNCH_HOLE, 0, PS), -EOPNOTSUPP);
      eq('data intact', yield* get(c, buf, fd, 1, 0), [0x41]);
      eq('punch', yield* c.sys('fallocate', fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000), 0);
      eq('contents', yield* get(c, buf, fd, 3 * PS, 0), [...fill(100, 0x41), ...fill(5000, 0), ...fill(3 * PS - 5100, 0x41)]);
      eq('size', yield* fileSize(c, fd), 3 * PS);
      eq('punch beyond EOF', yield* c.sys('fallocate', fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10 * PS, PS), 0);
      eq('size still', yield* fileSize(c, fd), 3 * PS);
    },
  },
  {
    name: 'tmpfs supports no COLLAPSE/INSERT/ZERO/UNSHARE range and no unknown bit: EOPNOTSUPP',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/fo', 4 * PS);
      eq('COLLAPSE_RANGE', yield* c.sys('fallocate', fd, FALLOC_FL_COLLAPSE_RANGE, 0, PS), -EOPNOTSUPP);
      eq('INSERT_RANGE', yield* c.sys('fallocate', fd, FALLOC_FL_INSERT_RANGE, 0, PS), -EOPNOTSUPP);
      eq('ZERO_RANGE', yield* c.sys('fallocate', fd, FALLOC_FL_ZERO_RANGE, 0, PS), -EOPNOTSUPP);
      eq('UNSHARE_RANGE', yield* c.sys('fallocate', fd, FALLOC_FL_UNSHARE_RANGE, 0, PS), -EOPNOTSUPP);
      eq('COLLAPSE|KEEP_SIZE', yield* c.sys('fallocate', fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, PS), -EOPNOTSUPP);
      eq('PUNCH|ZERO', yield* c.sys('fallocate', fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, PS), -EOPNOTSUPP);
      eq('unknown bit', yield* c.sys('fallocate', fd, 0x100, 0, PS), -EOPNOTSUPP);
      eq('size', yield* fileSize(c, fd), 4 * PS);
    },
  },
  {
    name: 'EINVAL for off < 0 or len <= 0, before EOPNOTSUPP and EBADF; a bad fd is EBADF first',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/fe', PS);
      const ro = yield* c.sys('open', '/tmp/fe', O_RDONLY);
      eq('off < 0', yield* c.sys('fallocate', fd, 0, -1, PS), -EINVAL);
      eq('len 0', yield* c.sys('fallocate', fd, 0, 0, 0), -EINVAL);
      eq('len < 0', yield* c.sys('fallocate', fd, 0, 0, -5), -EINVAL);
      eq('len 0 + unsupported mode', yield* c.sys('fallocate', fd, FALLOC_FL_PUNCH_HOLE, 0, 0), -EINVAL);
      eq('read-only fd', yield* c.sys('fallocate', ro, 0, 0, PS), -EBADF);
      eq('read-only fd, punch', yield* c.sys('fallocate', ro, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PS), -EBADF);
      eq('read-only fd + off < 0', yield* c.sys('fallocate', ro, 0, -1, PS), -EINVAL);
      eq('read-only fd + PUNCH alone', yield* c.sys('fallocate', ro, FALLOC_FL_PUNCH_HOLE, 0, PS), -EOPNOTSUPP);
      eq('bad fd + off < 0', yield* c.sys('fallocate', 99, 0, -1, PS), -EBADF);
      const d = yield* c.sys('open', '/tmp', O_RDONLY);
      eq('directory (read-only)', yield* c.sys('fallocate', d, 0, 0, PS), -EBADF);
    },
  },
  {
    name: 'a punched range reads zero through a shared mapping (no SIGBUS); a private COW copy survives',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/tmp/pm', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x41, 2 * PS);
      const s = yield* c.sys('mmap', 0, 2 * PS, RW, MAP_SHARED, fd, 0);
      const p = yield* c.sys('mmap', 0, 2 * PS, RW, MAP_PRIVATE, fd, 0);
      yield* c.sys('mem_write', p, 4, 0x50);
      eq('shared sees the file', yield* c.load(s + PS, 1), [0x41]);
      eq('private page 1 read (file page mapped)', yield* c.load(p + PS, 1), [0x41]);
      eq('punch', yield* c.sys('fallocate', fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 * PS), 0);
      eq('shared reads zero', yield* c.load(s, 2), [0, 0]);
      eq('shared, page 1', yield* c.load(s + PS, 2), [0, 0]);
      eq('private COW copy kept', yield* c.load(p, 5), [0x50, 0x50, 0x50, 0x50, 0x41]);
      eq('private non-COW page follows the file', yield* c.load(p + PS, 1), [0]);
      eq('writing refills the hole', yield* c.sys('mem_write', s, 1, 0x53), 1);
      eq('file', yield* get(c, buf, fd, 2, 0), [0x53, 0]);
    },
  },
]);

// ------------------------------------------------------- truncate/ftruncate

table('truncate/ftruncate', [
  {
    name: 'a negative length is EINVAL (before the fd check)',
    *body(c, eq) {
      const fd = yield* c.sys('open', '/tmp/tr', O_RDWR | O_CREAT);
      eq('ftruncate', yield* c.sys('ftruncate', fd, -1), -EINVAL);
      eq('ftruncate, bad fd', yield* c.sys('ftruncate', 99, -1), -EINVAL);
      eq('truncate', yield* c.sys('truncate', '/tmp/tr', -1), -EINVAL);
      eq('truncate, missing file', yield* c.sys('truncate', '/tmp/none', -1), -EINVAL);
    },
  },
  {
    name: 'ftruncate: EINVAL (not EBADF) for a read-only fd or a directory; EBADF for a bad fd',
    *body(c, eq) {
      yield* openSized(c, '/tmp/tr', PS);
      const ro = yield* c.sys('open', '/tmp/tr', O_RDONLY);
      const wo = yield* c.sys('open', '/tmp/tr', O_WRONLY);
      const d = yield* c.sys('open', '/tmp', O_RDONLY);
      eq('read-only fd', yield* c.sys('ftruncate', ro, 10), -EINVAL);
      eq('directory', yield* c.sys('ftruncate', d, 10), -EINVAL);
      eq('bad fd', yield* c.sys('ftruncate', 99, 10), -EBADF);
      eq('size unchanged', yield* fileSize(c, ro), PS);
      eq('write-only fd', yield* c.sys('ftruncate', wo, 10), 0);
      eq('size', yield* fileSize(c, ro), 10);
    },
  },
  {
    name: 'truncate: ENOENT, ENOTDIR, EISDIR; it works on a file not open anywhere',
    *body(c, eq) {
      eq('missing', yield* c.sys('truncate', '/tmp/none', 10), -ENOENT);
      eq('missing parent', yield* c.sys('truncate', '/tmp/nodir/f', 10), -ENOENT);
      eq('directory', yield* c.sys('truncate', '/tmp', 10), -EISDIR);
      const fd = yield* c.sys('open', '/tmp/tp', O_RDWR | O_CREAT);
      eq('file as directory', yield* c.sys('truncate', '/tmp/tp/x', 10), -ENOTDIR);
      eq('close', yield* c.sys('close', fd), 0);
      eq('truncate', yield* c.sys('truncate', '/tmp/tp', 12345), 0);
      const fd2 = yield* c.sys('open', '/tmp/tp', O_RDONLY);
      eq('size', yield* fileSize(c, fd2), 12345);
    },
  },
  {
    name: 'shrinking drops the data beyond the new size: re-extended, it reads zero',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* c.sys('open', '/dev/shm/tz', O_RDWR | O_CREAT);
      yield* put(c, buf, fd, 0x41, 3 * PS);
      eq('shrink', yield* c.sys('ftruncate', fd, 100), 0);
      eq('read', yield* get(c, buf, fd, 200, 0), fill(100, 0x41));
      eq('extend', yield* c.sys('ftruncate', fd, 3 * PS), 0);
      eq('read again', yield* get(c, buf, fd, 3 * PS, 0), [...fill(100, 0x41), ...fill(3 * PS - 100, 0)]);
      eq('truncate to 0 by path', yield* c.sys('truncate', '/dev/shm/tz', 0), 0);
      eq('empty', yield* get(c, buf, fd, 10, 0), []);
      eq('page cache empty', c.k.dentries.get('/dev/shm/tz')!.mapping.nrpages, 0);
    },
  },
]);

// ----------------------------------------------------------- SIGBUS beyond EOF

table('SIGBUS beyond EOF of a file mapping', [
  {
    name: 'shared: pages wholly beyond EOF SIGBUS; the EOF page tail reads zero and a write there does not extend the file',
    *body(c, eq) {
      const buf = yield* scratch(c);
      const fd = yield* openSized(c, '/tmp/sb', 100);
      const a = yield* c.sys('mmap', 0, 3 * PS, RW, MAP_SHARED, fd, 0);
      eq('read page 1', yield* c.load(a + PS, 1), BUS);
      eq('write page 2', yield* c.sys('mem_write', a + 2 * PS, 1, 1), BUS);
      eq('tail of the EOF page', yield* c.load(a + 100, 4), [0, 0, 0, 0]);
      eq('write to the tail', yield* c.sys('mem_write', a + 100, 10, 0x41), 10);
      eq('size unchanged', yield* fileSize(c, fd), 100);
      eq('read() stops at EOF', yield* get(c, buf, fd, 200, 0), fill(100, 0));
      eq('extend', yield* c.sys('ftruncate', fd, 2 * PS), 0);
      eq('page 1 now reads zero', yield* c.load(a + PS, 1), [0]);
    },
  },
  {
    name: 'private: SIGBUS beyond EOF too, and a COW copy beyond a truncation point goes away',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/sp', 2 * PS);
      const a = yield* c.sys('mmap', 0, 3 * PS, RW, MAP_PRIVATE, fd, 0);
      eq('beyond EOF', yield* c.load(a + 2 * PS, 1), BUS);
      eq('COW write to page 1', yield* c.sys('mem_write', a + PS, 1, 0x41), 1);
      eq('truncate', yield* c.sys('ftruncate', fd, PS), 0);
      eq('COW page beyond EOF', yield* c.load(a + PS, 1), BUS);
      eq('page 0 still fine', yield* c.load(a, 1), [0]);
    },
  },
  {
    name: 'a kernel access to a beyond-EOF mapping gets EFAULT, not a signal',
    *body(c, eq) {
      const src = yield* openSized(c, '/tmp/src', PS);
      const dst = yield* c.sys('open', '/tmp/dst', O_RDWR | O_CREAT);
      const a = yield* c.sys('mmap', 0, 2 * PS, RW, MAP_SHARED, src, 0);
      eq('write() from beyond EOF', yield* c.sys('write', dst, a + PS, 10), -EFAULT);
      eq('read() into beyond EOF', yield* c.sys('pread64', src, a + PS, 10, 0), -EFAULT);
      eq('write() across EOF: short', yield* c.sys('write', dst, a + PS - 10, 20), 10);
    },
  },
]);

// ------------------------------------------------------------- COW after fork

describe('fork', () => {
  test('MAP_PRIVATE writes after fork stay in their process; MAP_SHARED writes show in both', () => {
    const seen: Record<string, unknown> = {};
    let childDone = false;
    let parentDone = false;
    let childPid = 0;
    const o = runKernel(1, (k) => {
      proc(k, 'parent', function* (c) {
        const fd = yield* openSized(c, '/tmp/cow', PS);
        const pa = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
        const sa = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        const pf = yield* c.sys('mmap', 0, PS, RW, MAP_PRIVATE, fd, 0);
        const sf = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
        yield* c.sys('mem_write', pa, 4, 0x41);
        yield* c.sys('mem_write', sa, 4, 0x53);
        yield* c.sys('mem_write', pf, 4, 0x50);
        yield* c.sys('mem_write', sf + 8, 4, 0x46);
        childPid = yield* c.fork('child', function* (cc) {
          seen.childSeesPrivate = yield* cc.load(pa, 1);
          seen.childSeesShared = yield* cc.load(sa, 1);
          seen.childSeesPrivateFile = yield* cc.load(pf, 1);
          yield* cc.sys('mem_write', pa, 4, 0x61);
          yield* cc.sys('mem_write', sa, 4, 0x73);
          yield* cc.sys('mem_write', pf, 4, 0x70);
          yield* cc.sys('mem_write', sf + 8, 4, 0x66);
          childDone = true;
          yield* until(() => parentDone);
          seen.childPrivateAfter = yield* cc.load(pa, 4);
          seen.childPrivateFileAfter = yield* cc.load(pf, 4);
          seen.childSharedAfter = yield* cc.load(sa, 4);
        });
        yield* until(() => childDone);
        seen.parentPrivate = yield* c.load(pa, 4);
        seen.parentShared = yield* c.load(sa, 4);
        seen.parentPrivateFile = yield* c.load(pf, 4);
        seen.parentSharedFile = yield* c.load(sf + 8, 4);
        seen.parentPrivateFileUnwritten = yield* c.load(pf + 8, 4);
        yield* c.sys('mem_write', pa, 4, 0x42);
        yield* c.sys('mem_write', pf, 4, 0x51);
        yield* c.sys('mem_write', sa, 4, 0x54);
        parentDone = true;
      });
    });
    assert.equal(o.r.outcome, 'completed', titles(o).join('; '));
    assert.deepEqual(titles(o), []);
    assert.ok(childPid > 1, `fork: ${childPid}`);
    assert.deepEqual(seen, {
      childSeesPrivate: [0x41],
      childSeesShared: [0x53],
      childSeesPrivateFile: [0x50],
      parentPrivate: fill(4, 0x41),
      parentShared: fill(4, 0x73),
      parentPrivateFile: fill(4, 0x50),
      parentSharedFile: fill(4, 0x66),
      // The parent's COW copy of the file page was taken before fork: a snapshot, blind to later file writes.
      parentPrivateFileUnwritten: fill(4, 0),
      childPrivateAfter: fill(4, 0x61),
      childPrivateFileAfter: fill(4, 0x70),
      childSharedAfter: fill(4, 0x54),
    });
  });
});

// ------------------------------------------------- fork, the program call

table('fork (the program call: the child exits at once, the caller waits for it)', [
  {
    name: 'returns the child\'s pid; the parent\'s private pages are its own again once the child is gone',
    *body(c, eq) {
      const a = yield* c.sys('mmap', 0, 2 * PS, RW, ANON, -1, 0);
      eq('store before fork', yield* c.sys('mem_write', a, 2 * PS, 0x41), 2 * PS);
      const pid = yield* c.sys('fork');
      eq('a new pid', pid > c.p.pid, true);
      const child = c.k.processes[pid - 1];
      eq('the child was a process of its own', child?.name, `${c.p.name}.f0`);
      eq('and is gone when fork returns (the caller waited for it)', child?.exited, true);
      // The page is write-protected since the fork: the store faults, and reuses it (the child's mapping is gone).
      eq('store after fork', yield* c.sys('mem_write', a, PS, 0x42), PS);
      eq('the parent sees its own stores', yield* c.load(a, 2), [0x42, 0x42]);
      eq('and the page it did not store to after fork', yield* c.load(a + PS, 1), [0x41]);
      eq('a second fork, a second child', yield* c.sys('fork'), pid + 1);
    },
  },
  {
    name: 'a shared file mapping stays shared and the file stays open in the parent after the child closes its copy',
    *body(c, eq) {
      const fd = yield* openSized(c, '/tmp/forked', PS);
      const a = yield* c.sys('mmap', 0, PS, RW, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a, 8, 0x53);
      yield* c.sys('fork');
      eq('the parent stores through the shared mapping', yield* c.sys('mem_write', a, 4, 0x54), 4);
      const buf = yield* scratch(c, 1);
      eq('the file has it', yield* get(c, buf, fd, 8, 0), [0x54, 0x54, 0x54, 0x54, 0x53, 0x53, 0x53, 0x53]);
      eq('the fd still works', yield* c.sys('fsync', fd), 0);
    },
  },
  {
    name: `EAGAIN once ${MAX_PROCESSES} processes are alive (RLIMIT_NPROC)`,
    *body(c, eq) {
      let live = c.k.processes.filter((p) => !p.exited).length;
      while (live < MAX_PROCESSES) {
        c.k.createProcess(`idle${live++}`).exited = true; // counted below only while alive
      }
      eq('exited processes do not count', (yield* c.sys('fork')) > 0, true);
      const idle = [];
      for (let i = c.k.processes.filter((p) => !p.exited).length; i < MAX_PROCESSES; i++) idle.push(c.k.createProcess(`live${i}`));
      eq('at the limit', yield* c.sys('fork'), -EAGAIN);
      for (const p of idle) p.exited = true;
      eq('below it again', (yield* c.sys('fork')) > 0, true);
    },
  },
]);

test('fork in one thread while another stores to private pages: copy-on-write breaks while a child lives, nothing leaks', () => {
  let copied = 0;
  for (let seed = 1; seed <= 8; seed++) {
    let pids: number[] = [];
    const o = runKernel(seed, (k) => {
      let a = 0;
      proc(k, 'p', function* (c) {
        a = yield* c.sys('mmap', 0, 4 * PS, RW, ANON, -1, 0);
        yield* c.sys('mem_write', a, 4 * PS, 0x41);
        for (let i = 0; i < 20; i++) pids.push(yield* c.sys('fork'));
      }, function* (c) {
        yield* until(() => a !== 0);
        for (let i = 0; i < 100; i++) yield* c.sys('mem_write', a + (i % 4) * PS, 8, i);
      });
    });
    assert.equal(o.r.outcome, 'completed', titles(o).join('; '));
    assert.deepEqual(titles(o), [], `seed ${seed}`);
    assert.equal(pids.length, 20);
    assert.deepEqual(pids, pids.map((_, i) => pids[0]! + i), 'one child after another');
    assert.ok(o.k.processes.every((p) => p.exited), 'every child exited');
    if (o.k.cov.sites().includes('fault:wp-copy')) copied++;
    pids = [];
  }
  assert.ok(copied > 0, 'some store broke copy-on-write while a child still mapped the page');
});

describe('the call table', () => {
  test('a call the kernel does not have fails with ENOSYS, and its cover point says so', () => {
    let r = 0;
    const o = runKernel(1, (k) => {
      proc(k, 'p', function* (c) {
        r = yield* c.sys('no_such_call', 0, 0);
      });
    });
    assert.equal(r, -ENOSYS);
    assert.ok(o.k.cov.sites().includes(`no_such_call:-${ENOSYS}`), o.k.cov.sites().join(' '));
    assert.ok(o.k.cov.sitesInContext().includes(`no_such_call:-${ENOSYS}@no_such_call`));
  });

  test("every call's cover point by result: ok, the errno, or signal; in the call's own context", () => {
    const o = runKernel(1, (k) => {
      proc(k, 'p', function* (c) {
        yield* c.sys('close', 99);
        const a = yield* c.sys('mmap', 0, PS, RW, ANON, -1, 0);
        yield* c.sys('mem_read', a, 8);
        yield* c.sys('mem_read', 0, 8);
        yield* c.sys('munmap', a, PS);
      });
    });
    assert.deepEqual(titles(o), []);
    const sites = o.k.cov.sites();
    for (const s of [`close:-${EBADF}`, 'mmap:ok', 'mem_read:ok', 'mem_read:signal', 'munmap:ok']) assert.ok(sites.includes(s), `${s} in ${sites.join(' ')}`);
    assert.ok(o.k.cov.sitesInContext().includes('mem_read:signal@mem_read'));
    assert.ok(!sites.includes('close:ok'));
  });
});
