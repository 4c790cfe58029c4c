// VFS system calls: open/close/dup/read/write/lseek/fsync/truncate/fallocate,
// with the checks in the order Linux makes them (which error wins matters).

import type { Gen, Task } from '../../sim/index.js';
import { RLIMIT_NOFILE, type Kernel, type Process } from '../kernel.js';
import {
  EBADF, EEXIST, EFAULT, EFBIG, EINVAL, EISDIR, EMFILE, ENODEV, ENOENT, ENOTDIR, EOPNOTSUPP,
} from '../errno.js';
import { accessOk } from '../mm/uaccess.js';
import type { Iovec } from '../syscalls.js';
import {
  O_ACCMODE, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC, type File,
} from './inode.js';
import {
  FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_NO_HIDE_STALE,
  FALLOC_FL_PUNCH_HOLE, FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_WRITE_ZEROES, FALLOC_FL_ZERO_RANGE,
} from './shmem.js';

export const ENXIO = 6;
export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
export const IOV_MAX = 1024;
/** MAX_RW_COUNT: INT_MAX rounded down to a page. */
export const MAX_RW_COUNT = 0x7ffff000;

export function fdget(p: Process, fd: number): File | null {
  if (!Number.isInteger(fd) || fd < 0 || fd >= p.fds.length) return null;
  return p.fds[fd] ?? null;
}

function installFd(p: Process, f: File): number {
  let fd = p.fds.indexOf(null);
  if (fd < 0) fd = p.fds.length;
  if (fd >= RLIMIT_NOFILE) return -EMFILE;
  p.fds[fd] = f;
  return fd;
}

function normalize(path: string): string | null {
  if (!path.startsWith('/')) return null;
  const parts: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return '/' + parts.join('/');
}

/**
 * What a path walk needs of a path string, which depends on the string
 * alone: its normalized form, its directory, and the ancestors that must
 * exist as directories. Computed once per string (a module-level cache,
 * bounded) rather than split and joined at every open; the walk itself
 * (lookup) still asks this kernel's namespace every time.
 */
interface PathWalk {
  /** Not an absolute path: -ENOENT. */
  readonly invalid: boolean;
  readonly full: string;
  readonly dir: string;
  /** Every ancestor of `full`, outermost first ('/' excluded). */
  readonly ancestors: readonly string[];
}

const PATH_WALKS = new Map<string, PathWalk>();
const PATH_WALKS_MAX = 4096;
const INVALID_PATH: PathWalk = { invalid: true, full: '', dir: '', ancestors: [] };

function pathWalk(path: string): PathWalk {
  let w = PATH_WALKS.get(path);
  if (w !== undefined) return w;
  const full = normalize(path);
  if (full === null) w = INVALID_PATH;
  else {
    const dir = full.slice(0, full.lastIndexOf('/')) || '/';
    const ancestors: string[] = [];
    let prefix = '';
    for (const c of dir.split('/').filter(Boolean)) {
      prefix += '/' + c;
      ancestors.push(prefix);
    }
    w = { invalid: false, full, dir, ancestors };
  }
  if (PATH_WALKS.size < PATH_WALKS_MAX) PATH_WALKS.set(path, w);
  return w;
}

/** Path walk: 0, or -ENOENT / -ENOTDIR. */
function lookup(k: Kernel, w: PathWalk): number {
  if (w.invalid) return -ENOENT;
  // Every ancestor must exist and be a directory.
  const a = w.ancestors;
  for (let i = 0; i < a.length; i++) {
    const ino = k.dentries.get(a[i]!);
    if (ino === undefined) return -ENOENT;
    if (!ino.isDir) return -ENOTDIR;
  }
  return 0;
}

export function* sysOpen(k: Kernel, t: Task, p: Process, path: string, flags: number): Gen<number> {
  const l = pathWalk(path);
  const err = lookup(k, l);
  if (err) return err;
  let inode = k.dentries.get(l.full);
  let created = false;
  if (inode === undefined) {
    if (!(flags & O_CREAT)) return -ENOENT;
    const ops = k.fsFor(l.dir);
    if (ops === null) return -EOPNOTSUPP; // no writable filesystem there
    inode = k.createInode(l.full, ops);
    created = true;
    k.cov.hit('open:create');
  } else {
    if ((flags & O_CREAT) && (flags & O_EXCL)) return -EEXIST;
    if ((flags & O_DIRECTORY) && !inode.isDir) return -ENOTDIR;
    if (inode.isDir && ((flags & O_ACCMODE) !== 0 || (flags & O_CREAT))) return -EISDIR;
  }
  const f = k.newFile(inode, flags & ~(O_CREAT | O_EXCL | O_TRUNC));
  if (inode.ops.open !== undefined) {
    // do_dentry_open: ->open before the fd exists; a failed open is never released.
    const r = yield* inode.ops.open(k, t, f, created);
    if (r < 0) {
      k.fput(f);
      return r;
    }
  }
  const fd = installFd(p, f);
  if (fd < 0) {
    k.fput(f);
    return fd;
  }
  // O_TRUNC truncates whatever the access mode (O_RDONLY|O_TRUNC too: do_open -> handle_truncate).
  if ((flags & O_TRUNC) && inode.isReg && inode.size > 0) {
    yield* inode.iRwsem.downWrite();
    yield* inode.ops.setSize(k, t, inode, 0);
    inode.iRwsem.upWrite(t);
  }
  return fd;
}

export function* sysClose(k: Kernel, t: Task, p: Process, fd: number): Gen<number> {
  const f = fdget(p, fd);
  if (f === null) return -EBADF;
  p.fds[fd] = null;
  // filp_close: ->flush at every close; its error is close()'s, the fd is gone anyway.
  const r = f.inode.ops.flush !== undefined ? yield* f.inode.ops.flush(k, t, f) : 0;
  k.fput(f);
  return r;
}

export function* sysDup(k: Kernel, _t: Task, p: Process, fd: number): Gen<number> {
  const f = fdget(p, fd);
  if (f === null) return -EBADF;
  const nfd = installFd(p, k.getFile(f));
  if (nfd < 0) k.fput(f);
  return nfd;
}

/**
 * read/pread64/readv's checks before any I/O, in Linux's order (fdget's
 * mode, import_iovec: the segment count, every length, then every address;
 * for read() vfs_read's access_ok), and last a directory's ->read
 * (generic_read_dir), which fails whatever the count -- but a readv of
 * nothing returns before calling it. The bytes asked for, or -errno. Not
 * part of the generator, whose every register is saved and restored at
 * each scheduling point inside the read.
 */
function readChecks(f: File | null, iov: Iovec, pos: number, vectored: boolean): number {
  if (f === null || !f.readable) return -EBADF;
  if (vectored && iov.length > IOV_MAX) return -EINVAL;
  if (pos < -1) return -EINVAL;
  let total = 0;
  for (let i = 0; i < iov.length; i++) {
    if (iov[i]![1] < 0) return -EINVAL;
    total += iov[i]![1];
  }
  for (let i = 0; i < iov.length; i++) if (!accessOk(iov[i]![0], iov[i]![1])) return -EFAULT;
  if (f.inode.isDir && !(vectored && total === 0)) return -EISDIR;
  return total;
}

/** read/pread64/readv: pos -1 means the file position. */
export function* sysRead(k: Kernel, t: Task, p: Process, fd: number, iov: Iovec, pos: number, vectored: boolean): Gen<number> {
  const f = fdget(p, fd);
  const total = readChecks(f, iov, pos, vectored);
  if (total <= 0 || f === null) return total;
  const d = t.enter('vfs_read');
  let at = pos === -1 ? f.pos : pos;
  let done = 0;
  let ret = 0;
  for (let i = 0; i < iov.length; i++) {
    const n = Math.min(iov[i]![1], MAX_RW_COUNT - done);
    if (n <= 0) break;
    const r = yield* f.inode.ops.readIter(k, t, f, at, iov[i]![0], n);
    if (r < 0) {
      ret = done > 0 ? done : r;
      done = -1;
      break;
    }
    done += r;
    at += r;
    if (r < n) break;
  }
  if (done >= 0) {
    ret = done;
    if (pos === -1) f.pos = at;
  }
  t.leave(d);
  return ret;
}

/** write/pwrite64/writev/pwritev's checks before any I/O, as readChecks: the bytes to write, or -errno. */
function writeChecks(f: File | null, iov: Iovec, pos: number, vectored: boolean): number {
  if (f === null || !f.writable) return -EBADF;
  if (vectored && iov.length > IOV_MAX) return -EINVAL;
  if (pos < -1) return -EINVAL;
  let total = 0;
  for (let i = 0; i < iov.length; i++) {
    if (iov[i]![1] < 0) return -EINVAL;
    total += iov[i]![1];
  }
  if (total === 0) return 0;
  for (let i = 0; i < iov.length; i++) if (!accessOk(iov[i]![0], iov[i]![1])) return -EFAULT;
  return total;
}

/** write/pwrite64/writev/pwritev: pos -1 means the file position. */
export function* sysWrite(k: Kernel, t: Task, p: Process, fd: number, iov: Iovec, pos: number, vectored: boolean): Gen<number> {
  const f = fdget(p, fd);
  const total = writeChecks(f, iov, pos, vectored);
  if (total <= 0 || f === null) return total;
  const d = t.enter('vfs_write');
  const start = pos === -1 ? f.pos : pos;
  const r = yield* f.inode.ops.writeIter(k, t, f, start, iov);
  if (r > 0 && pos === -1) f.pos = f.flags & O_APPEND ? f.inode.size : start + r;
  t.leave(d);
  return r;
}

export function* sysLseek(_k: Kernel, _t: Task, p: Process, fd: number, off: number, whence: number): Gen<number> {
  const f = fdget(p, fd);
  if (f === null) return -EBADF;
  const size = f.inode.size;
  let np: number;
  switch (whence) {
    case SEEK_SET: np = off; break;
    case SEEK_CUR: np = f.pos + off; break;
    case SEEK_END: np = size + off; break;
    case SEEK_DATA:
      if (off < 0 || off >= size) return -ENXIO;
      np = off;
      break;
    case SEEK_HOLE:
      if (off < 0 || off >= size) return -ENXIO;
      np = size;
      break;
    default:
      return -EINVAL;
  }
  if (np < 0) return -EINVAL;
  f.pos = np;
  return np;
}

export function* sysFsync(k: Kernel, t: Task, p: Process, fd: number): Gen<number> {
  const f = fdget(p, fd);
  if (f === null) return -EBADF;
  return yield* f.inode.ops.fsync(k, t, f);
}

function* doTruncate(k: Kernel, t: Task, f: { inode: import('./inode.js').Inode }, len: number): Gen<number> {
  const inode = f.inode;
  if (len > inode.ops.maxBytes) return -EFBIG;
  yield* inode.iRwsem.downWrite();
  const r = yield* inode.ops.setSize(k, t, inode, len);
  inode.iRwsem.upWrite(t);
  return r;
}

export function* sysFtruncate(k: Kernel, t: Task, p: Process, fd: number, len: number): Gen<number> {
  if (len < 0) return -EINVAL;
  const f = fdget(p, fd);
  if (f === null) return -EBADF;
  // Linux: EINVAL, not EBADF, for a non-regular file or one not open for writing.
  if (!f.inode.isReg || !f.writable) return -EINVAL;
  return yield* doTruncate(k, t, f, len);
}

export function* sysTruncate(k: Kernel, t: Task, _p: Process, path: string, len: number): Gen<number> {
  if (len < 0) return -EINVAL;
  const l = pathWalk(path);
  const err = lookup(k, l);
  if (err) return err;
  const inode = k.dentries.get(l.full);
  if (inode === undefined) return -ENOENT;
  if (inode.isDir) return -EISDIR;
  if (!inode.isReg) return -EINVAL;
  return yield* doTruncate(k, t, { inode }, len);
}

const FALLOC_FL_SUPPORTED = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
  FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES;

/** vfs_fallocate's checks, in order (fs/open.c), then ->fallocate. */
export function* sysFallocate(k: Kernel, t: Task, p: Process, fd: number, mode: number, off: number, len: number): Gen<number> {
  const f = fdget(p, fd);
  if (f === null) return -EBADF; // fdget happens before vfs_fallocate
  if (off < 0 || len <= 0) return -EINVAL;
  if (mode & ~FALLOC_FL_SUPPORTED & ~FALLOC_FL_NO_HIDE_STALE) return -EOPNOTSUPP;
  const op = mode & ~FALLOC_FL_KEEP_SIZE & ~FALLOC_FL_NO_HIDE_STALE;
  // Exactly one operation (6.13+ rework): none = allocate.
  switch (op) {
    case 0:
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
      break;
    case FALLOC_FL_PUNCH_HOLE:
      if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
      break;
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case FALLOC_FL_WRITE_ZEROES:
      if (mode & FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP;
      break;
    default:
      return -EOPNOTSUPP;
  }
  if (!f.writable) return -EBADF;
  const inode = f.inode;
  if (inode.isDir) return -EISDIR;
  if (!inode.isReg) return -ENODEV;
  if (off + len > inode.ops.maxBytes || off + len < 0) return -EFBIG;
  const d = t.enter('vfs_fallocate');
  const r = yield* inode.ops.fallocate(k, t, f, mode, off, len);
  t.leave(d);
  return r;
}

