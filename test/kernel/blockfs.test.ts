// blockfs at /data: a block-backed filesystem whose page cache is filled by
// filemap_fault / filemap_read / readahead from a device with I/O latency,
// written back by fsync, with ext4's fallocate modes; and the profile
// switches of entries B (mmap_lock across I/O, the fpin leak) and E2 (no
// invalidate_lock).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preadBytes, proc, runKernel, scratch, titles, type Ctx, type Outcome } from './harness.js';
import { Rng, type Gen } from '../../src/sim/index.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/kernel/fs/inode.js';
import { MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import { MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED } from '../../src/kernel/mm/mmap.js';
import { EFBIG, EINVAL, EOPNOTSUPP, SIGBUS, SIGKILL, signalResult } from '../../src/kernel/errno.js';
import { BLOCKFS_VICTIMS } from '../../src/kernel/fs/blockfs.js';
import { checkBlockfs } from '../../src/kernel/fs/blockfs_checker.js';

const PS = 4096;
const FILE0 = BLOCKFS_VICTIMS[0]!;
const FILE1 = BLOCKFS_VICTIMS[1]!;
const LATENCY_NS = 100_000;


function expected(v: { byteAt(off: number): number }, off: number, len: number): number[] {
  return Array.from({ length: len }, (_, i) => v.byteAt(off + i));
}

function clean(o: Outcome, seed: number | string = ''): void {
  assert.equal(o.r.outcome, 'completed', `seed ${seed}: ${o.r.outcome} ${titles(o).join('; ')}`);
  assert.deepEqual(titles(o), [], `seed ${seed}`);
  assert.deepEqual(checkBlockfs(o.k).map((v) => v.title), [], `seed ${seed}`);
}

function blockOf(k: Kernel, path: string, idx: number): number {
  const inode = k.dentries.get(path)!;
  const ext = k.blockfs.info(inode).map.get(idx);
  return ext === undefined || ext.unwritten ? -1 : ext.block;
}

// ------------------------------------------------------------ basic I/O

test('read() of an uncached victim file returns the on-disk data, through the device', () => {
  let got: number[] | number = [];
  let got1: number[] | number = [];
  let reads = 0;
  const o = runKernel(1, (k) => {
    proc(k, 'reader', function* (c) {
      const buf = yield* scratch(c, 4);
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      got = yield* preadBytes(c, fd, buf, 3 * PS, PS + 100);
      const fd1 = yield* c.sys('open', FILE1.path, O_RDONLY);
      got1 = yield* preadBytes(c, fd1, buf, 2 * PS, 4 * PS);
      reads = k.blockfs.dev.readsCompleted;
    });
  });
  clean(o);
  assert.deepEqual(got, expected(FILE0, PS + 100, 3 * PS));
  assert.deepEqual(got1, expected(FILE1, 4 * PS, PS + 100), 'a short read at EOF');
  assert.ok(reads >= 4, `device reads: ${reads}`);
});

test('write() then read() round-trips on a new file; the data reaches the device only at fsync (delayed allocation)', () => {
  const seen: unknown[] = [];
  const o = runKernel(2, (k) => {
    proc(k, 'writer', function* (c) {
      const buf = yield* scratch(c, 6);
      yield* c.sys('mem_write', buf, 2 * PS, 0x5a);
      yield* c.sys('mem_write', buf + 100, 50, 0x33);
      const fd = yield* c.sys('open', '/data/new', O_RDWR | O_CREAT);
      seen.push(yield* c.sys('pwrite64', fd, buf, 2 * PS, 1000));
      seen.push(blockOf(k, '/data/new', 0));
      const rbuf = buf + 2 * PS;
      seen.push(yield* preadBytes(c, fd, rbuf, 2 * PS + 1000, 0));
      seen.push(yield* c.sys('fsync', fd));
      const b0 = blockOf(k, '/data/new', 0);
      const b2 = blockOf(k, '/data/new', 2);
      seen.push(b0 >= 0 && b2 >= 0);
      seen.push(Array.from(k.blockfs.dev.peek(b0)!.subarray(995, 1105)));
      seen.push(Array.from(k.blockfs.dev.peek(b2)!.subarray(0, 1000)).every((x) => x === 0x5a) && k.blockfs.dev.peek(b2)![1000] === 0);
    });
  });
  clean(o);
  const data = Array.from({ length: 2 * PS }, (_, i) => (i >= 100 && i < 150 ? 0x33 : 0x5a));
  assert.deepEqual(seen[0], 2 * PS);
  assert.equal(seen[1], -1, 'no block before writeback');
  assert.deepEqual(seen[2], [...new Array<number>(1000).fill(0), ...data]);
  assert.equal(seen[3], 0);
  assert.equal(seen[4], true);
  assert.deepEqual(seen[5], [0, 0, 0, 0, 0, ...data.slice(0, 105)]);
  assert.equal(seen[6], true, 'the EOF block is zero beyond EOF');
});

test('a partial overwrite of an uncached page reads the rest of the page from disk first', () => {
  let got: number[] | number = [];
  const o = runKernel(3, (k) => {
    proc(k, 'p', function* (c) {
      const buf = yield* scratch(c, 2);
      yield* c.sys('mem_write', buf, 10, 0x7e);
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      assert.equal(yield* c.sys('pwrite64', fd, buf, 10, 2 * PS + 20), 10);
      got = yield* preadBytes(c, fd, buf + PS, 40, 2 * PS);
    });
  });
  clean(o);
  assert.deepEqual(got, [...expected(FILE0, 2 * PS, 20), ...new Array<number>(10).fill(0x7e), ...expected(FILE0, 2 * PS + 30, 10)]);
});

// ------------------------------------------------------------ page faults

test('a mapped read of an uncached file faults through filemap_fault, drops mmap_lock for the I/O (VM_FAULT_RETRY) and sees the disk data', () => {
  let got: number[] | number = [];
  let elapsedNs = 0;
  const o = runKernel(4, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      const t0 = k.sim.nowNs;
      got = yield* c.load(a + 5 * PS + 7, 20);
      elapsedNs = k.sim.nowNs - t0;
    });
  });
  clean(o);
  assert.deepEqual(got, expected(FILE0, 5 * PS + 7, 20));
  const sites = o.k.cov.sites();
  for (const s of ['filemap_fault:major', 'filemap_fault:drop-mmap-lock', 'filemap_fault:retry', 'fault:retry', 'blockfs:read-io']) {
    assert.ok(sites.includes(s), `coverage site ${s} hit`);
  }
  assert.ok(elapsedNs >= LATENCY_NS && elapsedNs < 2 * LATENCY_NS, `the fault took ${elapsedNs} ns, one device latency`);
});

test('virtual time follows the configured device latency', () => {
  for (const latencyNs of [10_000, 5_000_000]) {
    let elapsedNs = 0;
    const o = runKernel(5, (k) => {
      proc(k, 'p', function* (c) {
        const fd = yield* c.sys('open', FILE1.path, O_RDONLY);
        const a = yield* c.sys('mmap', 0, 6 * PS, PROT_READ, MAP_PRIVATE, fd, 0);
        yield* c.sys('madvise', a, 6 * PS, MADV_RANDOM);
        const t0 = k.sim.nowNs;
        assert.deepEqual(yield* c.load(a + 2 * PS, 4), expected(FILE1, 2 * PS, 4));
        elapsedNs = k.sim.nowNs - t0;
      });
    }, {}, { blockfs: { latencyNs } });
    clean(o);
    assert.ok(elapsedNs >= latencyNs && elapsedNs < latencyNs + 50_000, `latency ${latencyNs}: the fault took ${elapsedNs} ns`);
    assert.equal(o.k.blockfs.dev.readsCompleted, 1, 'MADV_RANDOM: no readahead, one read');
  }
});

test('without MADV_RANDOM a fault reads around the faulting page; later faults need no I/O', () => {
  let reads: number[] = [];
  const o = runKernel(6, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      yield* c.load(a, 1);
      reads.push(k.blockfs.dev.readsSubmitted);
      for (let i = 0; i < 16; i++) assert.deepEqual(yield* c.load(a + i * PS + 9, 1), [FILE0.byteAt(i * PS)]);
      reads.push(k.blockfs.dev.readsSubmitted);
    });
  });
  clean(o);
  assert.deepEqual(reads, [16, 16]);
});

test('MADV_SEQUENTIAL reads ahead from the faulting page instead of around it', () => {
  let reads = -1;
  const o = runKernel(6, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      yield* c.sys('madvise', a, 16 * PS, MADV_SEQUENTIAL);
      assert.deepEqual(yield* c.load(a + 8 * PS, 1), [FILE0.byteAt(8 * PS)]);
      reads = k.blockfs.dev.readsSubmitted;
      const mapping = k.dentries.get(FILE0.path)!.mapping;
      assert.deepEqual(mapping.indicesIn(0, 100), [8, 9, 10, 11, 12, 13, 14, 15]);
    });
  });
  clean(o);
  assert.equal(reads, 8);
});

test('sequential read() ramps the readahead window up through PG_readahead marks, as mm/readahead.c does', () => {
  const reads: number[] = [];
  const o = runKernel(6, (k) => {
    proc(k, 'p', function* (c) {
      const buf = yield* scratch(c, 1);
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      for (let i = 0; i < 6; i++) {
        assert.equal(yield* c.sys('read', fd, buf, PS), PS);
        assert.deepEqual(yield* c.load(buf + 17, 1), [FILE0.byteAt(i * PS)]);
        reads.push(k.blockfs.dev.readsSubmitted);
      }
    });
  });
  clean(o);
  // 4 pages at first (async mark on page 1), then 8 more (mark on page 4), then the rest up to EOF.
  assert.deepEqual(reads, [4, 12, 12, 12, 16, 16]);
  assert.ok(o.k.cov.sites().includes('readahead:async-expected'));
});

test('MADV_WILLNEED starts readahead with mmap_lock dropped; the later faults are minor', () => {
  const seen: number[] = [];
  const o = runKernel(7, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE1.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 6 * PS, PROT_READ, MAP_SHARED, fd, 0);
      seen.push(yield* c.sys('madvise', a, 6 * PS, MADV_WILLNEED));
      seen.push(k.blockfs.dev.readsSubmitted);
      yield* k.sim.sleepNs(10 * LATENCY_NS);
      const t0 = k.sim.nowNs;
      for (let i = 0; i < 6; i++) assert.deepEqual(yield* c.load(a + i * PS, 1), [FILE1.byteAt(i * PS)]);
      seen.push(k.sim.nowNs - t0 < LATENCY_NS ? 1 : 0);
      seen.push(k.blockfs.dev.readsSubmitted);
    });
  });
  clean(o);
  assert.deepEqual(seen, [0, 6, 1, 6]);
  assert.ok(o.k.cov.sites().includes('blockfs:willneed'));
});

test('truncating below mapped pages makes them SIGBUS; the pages below EOF still read', () => {
  const seen: unknown[] = [];
  const o = runKernel(8, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      const priv = yield* c.sys('mmap', 0, 16 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      seen.push(yield* c.load(a + 10 * PS, 1));
      seen.push(yield* c.sys('mem_write', priv + 12 * PS, 1, 1)); // a COW copy beyond the future EOF
      seen.push(yield* c.sys('ftruncate', fd, 4 * PS - 10));
      seen.push(yield* c.sys('mem_read', a + 10 * PS, 1));
      seen.push(yield* c.sys('mem_read', priv + 12 * PS, 1));
      seen.push(yield* c.sys('mem_read', a + 4 * PS, 1));
      seen.push(yield* c.load(a + 4 * PS - 12, 4));
    });
  });
  clean(o);
  const B = signalResult(SIGBUS);
  assert.deepEqual(seen, [[0x4b], 1, 0, B, B, B, [0x44, 0x44, 0, 0]]);
});

// ------------------------------------------------------------ durability

test('fsync makes written data durable on the device; clean pages can be evicted and re-read, dirty ones survive eviction', () => {
  const seen: unknown[] = [];
  const o = runKernel(9, (k) => {
    proc(k, 'p', function* (c) {
      const buf = yield* scratch(c, 4);
      yield* c.sys('mem_write', buf, 2 * PS, 0x21);
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      yield* c.sys('pwrite64', fd, buf, PS, 3 * PS);
      const b3 = blockOf(k, FILE0.path, 3);
      seen.push(k.blockfs.dev.peek(b3)![0]); // still the old data on disk
      yield* preadBytes(c, fd, buf + 2 * PS, 4, 0); // clean pages, read ahead
      seen.push((yield* k.blockfs.dropCaches(k, c.t)) > 0 ? 'evicted-some' : 'none');
      seen.push(k.dentries.get(FILE0.path)!.mapping.pages.has(3) ? 'dirty page kept' : 'lost');
      seen.push((yield* preadBytes(c, fd, buf + 2 * PS, 4, 3 * PS + 100)) as number[]);
      seen.push(yield* c.sys('fsync', fd));
      seen.push(k.blockfs.dev.peek(b3)![100]);
      yield* k.blockfs.dropCaches(k, c.t);
      seen.push(k.dentries.get(FILE0.path)!.mapping.nrpages);
      const before = k.blockfs.dev.readsCompleted;
      seen.push((yield* preadBytes(c, fd, buf + 2 * PS, 4, 3 * PS + 100)) as number[]);
      seen.push(k.blockfs.dev.readsCompleted > before);
    });
  });
  clean(o);
  assert.deepEqual(seen, [0x44, 'evicted-some', 'dirty page kept', [0x21, 0x21, 0x21, 0x21], 0, 0x21, 0, [0x21, 0x21, 0x21, 0x21], true]);
});

test('stores through a shared mapping reach the disk at msync(MS_SYNC), and a hole page gets a block at writeback', () => {
  const seen: unknown[] = [];
  const o = runKernel(10, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', '/data/sparse', O_RDWR | O_CREAT);
      yield* c.sys('ftruncate', fd, 4 * PS);
      const a = yield* c.sys('mmap', 0, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a + 2 * PS + 5, 3, 0x66);
      seen.push(blockOf(k, '/data/sparse', 2));
      seen.push(yield* c.sys('msync', a, 4 * PS, 4));
      const b = blockOf(k, '/data/sparse', 2);
      seen.push(Array.from(k.blockfs.dev.peek(b)!.subarray(4, 9)));
      seen.push(blockOf(k, '/data/sparse', 1));
    });
  });
  clean(o);
  assert.deepEqual(seen, [-1, 0, [0, 0x66, 0x66, 0x66, 0], -1]);
});

// ------------------------------------------------------------- fallocate

const KEEP = 0x01, PUNCH = 0x02, NO_HIDE_STALE = 0x04, COLLAPSE = 0x08, ZERO = 0x10, INSERT = 0x20, UNSHARE = 0x40, WRITE_ZEROES = 0x80;
const SIZE0 = FILE0.size;
const old = (off: number): number => FILE0.byteAt(off);
const zeroIn = (from: number, to: number) => (off: number): number => (off >= from && off < to ? 0 : old(off));

/** [name, mode, off, len, expected ret, expected i_size, expected contents (unchanged if absent)]. */
const FALLOC_CASES: [string, number, number, number, number, number, ((off: number) => number)?][] = [
  ['allocate past EOF grows i_size', 0, 20 * PS, PS, 0, 21 * PS, (off) => (off < SIZE0 ? old(off) : 0)],
  ['KEEP_SIZE allocates without growing', KEEP, 20 * PS, PS, 0, SIZE0],
  ['allocate over data changes nothing', 0, PS, 3 * PS, 0, SIZE0],
  ['PUNCH_HOLE|KEEP_SIZE zeroes whole blocks', PUNCH | KEEP, PS, 2 * PS, 0, SIZE0, zeroIn(PS, 3 * PS)],
  ['PUNCH_HOLE|KEEP_SIZE zeroes partial blocks', PUNCH | KEEP, PS + 100, 2 * PS, 0, SIZE0, zeroIn(PS + 100, 3 * PS + 100)],
  ['PUNCH_HOLE|KEEP_SIZE inside one block', PUNCH | KEEP, 5 * PS + 10, 20, 0, SIZE0, zeroIn(5 * PS + 10, 5 * PS + 30)],
  ['PUNCH_HOLE|KEEP_SIZE beyond EOF is a no-op', PUNCH | KEEP, 20 * PS, PS, 0, SIZE0],
  ['PUNCH_HOLE|KEEP_SIZE across EOF', PUNCH | KEEP, 14 * PS, 10 * PS, 0, SIZE0, zeroIn(14 * PS, SIZE0)],
  ['PUNCH_HOLE without KEEP_SIZE', PUNCH, PS, PS, -EOPNOTSUPP, SIZE0],
  ['ZERO_RANGE, unaligned', ZERO, PS + 10, 100, 0, SIZE0, zeroIn(PS + 10, PS + 110)],
  ['ZERO_RANGE over blocks', ZERO, 2 * PS, 3 * PS, 0, SIZE0, zeroIn(2 * PS, 5 * PS)],
  ['ZERO_RANGE past EOF grows i_size', ZERO, 15 * PS + 5, 2 * PS, 0, 17 * PS + 5, zeroIn(15 * PS + 5, 17 * PS + 5)],
  ['ZERO_RANGE|KEEP_SIZE past EOF', ZERO | KEEP, 15 * PS, 2 * PS, 0, SIZE0, zeroIn(15 * PS, SIZE0)],
  ['COLLAPSE_RANGE shifts the tail down', COLLAPSE, PS, 2 * PS, 0, SIZE0 - 2 * PS, (off) => (off < PS ? old(off) : old(off + 2 * PS))],
  ['COLLAPSE_RANGE unaligned offset', COLLAPSE, PS + 1, PS, -EINVAL, SIZE0],
  ['COLLAPSE_RANGE unaligned length', COLLAPSE, PS, PS + 1, -EINVAL, SIZE0],
  ['COLLAPSE_RANGE reaching EOF', COLLAPSE, 15 * PS, PS, -EINVAL, SIZE0],
  ['COLLAPSE_RANGE past EOF', COLLAPSE, 14 * PS, 4 * PS, -EINVAL, SIZE0],
  ['COLLAPSE_RANGE|KEEP_SIZE', COLLAPSE | KEEP, PS, PS, -EOPNOTSUPP, SIZE0],
  ['INSERT_RANGE shifts the tail up', INSERT, PS, 2 * PS, 0, SIZE0 + 2 * PS, (off) => (off < PS ? old(off) : off < 3 * PS ? 0 : old(off - 2 * PS))],
  ['INSERT_RANGE at EOF', INSERT, SIZE0, PS, -EINVAL, SIZE0],
  ['INSERT_RANGE unaligned length', INSERT, PS, 100, -EINVAL, SIZE0],
  ['INSERT_RANGE beyond s_maxbytes', INSERT, PS, (2 ** 32 - 1) * PS - 2 * PS, -EFBIG, SIZE0],
  ['INSERT_RANGE|KEEP_SIZE', INSERT | KEEP, PS, PS, -EOPNOTSUPP, SIZE0],
  ['UNSHARE_RANGE', UNSHARE, 0, PS, -EOPNOTSUPP, SIZE0],
  ['WRITE_ZEROES', WRITE_ZEROES, 0, PS, -EOPNOTSUPP, SIZE0],
  ['PUNCH_HOLE|KEEP_SIZE|NO_HIDE_STALE', PUNCH | KEEP | NO_HIDE_STALE, 0, PS, -EOPNOTSUPP, SIZE0],
  ['PUNCH_HOLE|ZERO_RANGE|KEEP_SIZE', PUNCH | ZERO | KEEP, 0, PS, -EOPNOTSUPP, SIZE0],
  ['an unknown mode bit', 0x100, 0, PS, -EOPNOTSUPP, SIZE0],
  ['len 0', 0, 0, 0, -EINVAL, SIZE0],
  ['negative offset', 0, -PS, PS, -EINVAL, SIZE0],
];

test('fallocate on blockfs follows ext4: the mode matrix, alignment rules, exact errno, contents in cache and on disk', () => {
  for (const [name, mode, off, len, ret, size, byteAt] of FALLOC_CASES) {
    const seen: unknown[] = [];
    const o = runKernel(`falloc:${name}`, (k) => {
      proc(k, 'p', function* (c) {
        const buf = yield* scratch(c, 24);
        const fd = yield* c.sys('open', FILE0.path, O_RDWR);
        // Some of the file cached and dirty, some only on disk.
        assert.equal(yield* c.sys('pread64', fd, buf, 4 * PS, 0), 4 * PS);
        assert.equal(yield* c.sys('pwrite64', fd, buf + 2 * PS, 2 * PS, 2 * PS), 2 * PS);
        seen.push(yield* c.sys('fallocate', fd, mode, off, len));
        seen.push(yield* c.sys('lseek', fd, 0, 2));
        seen.push(yield* preadBytes(c, fd, buf, 24 * PS, 0));
        assert.equal(yield* c.sys('fsync', fd), 0);
        yield* k.blockfs.dropCaches(k, c.t);
        seen.push(yield* preadBytes(c, fd, buf, 24 * PS, 0));
      });
    });
    clean(o, name);
    const want = Array.from({ length: size }, (_, i) => (byteAt ?? old)(i));
    assert.deepEqual(seen.slice(0, 2), [ret, size], name);
    assert.deepEqual(seen[2], want, `${name}: contents through the cache`);
    assert.deepEqual(seen[3], want, `${name}: contents from the disk`);
  }
});

test('a punched hole gives its blocks back to the device; they are reused with a new generation', () => {
  const seen: unknown[] = [];
  const o = runKernel(11, (k) => {
    proc(k, 'p', function* (c) {
      const buf = yield* scratch(c, 1);
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      const b = blockOf(k, FILE0.path, 3);
      const gen = k.blockfs.dev.genOf(b);
      const free = k.blockfs.dev.blocksFree;
      seen.push(yield* c.sys('fallocate', fd, PUNCH | KEEP, 3 * PS, PS));
      seen.push(k.blockfs.dev.isAllocated(b), k.blockfs.dev.blocksFree - free);
      const fd2 = yield* c.sys('open', '/data/other', O_RDWR | O_CREAT);
      yield* c.sys('pwrite64', fd2, buf, 10, 0);
      yield* c.sys('fsync', fd2);
      seen.push(blockOf(k, '/data/other', 0) === b, k.blockfs.dev.genOf(b) - gen);
    });
  });
  clean(o);
  assert.deepEqual(seen, [0, false, 1, true, 1]);
});

// ------------------------------------------------ punch vs. concurrent readers

/**
 * Entry E2's shape: file0 on disk, nothing cached; one process reads pages
 * 2..5 through a shared mapping and through read() while another punches
 * them out. Returns what the puncher reads back once the punch returned
 * (through read() and through a fresh mapping).
 */
function punchRace(seed: number, switches: Record<string, string> = {}): { o: Outcome; after: (number[] | number)[]; during: (number[] | number)[] } {
  const after: (number[] | number)[] = [];
  const during: (number[] | number)[] = [];
  const o = runKernel(seed, (k) => {
    proc(k, 'reader', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      for (let i = 2; i < 6; i++) during.push(yield* c.load(a + i * PS + 1, 2));
    }, function* (c) {
      const buf = yield* scratch(c, 1);
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      during.push(yield* preadBytes(c, fd, buf, 2, 4 * PS));
    });
    proc(k, 'puncher', function* (c) {
      const buf = yield* scratch(c, 4);
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      assert.equal(yield* c.sys('fallocate', fd, PUNCH | KEEP, 2 * PS, 4 * PS), 0);
      after.push(yield* preadBytes(c, fd, buf, 4 * PS, 2 * PS));
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      for (let i = 2; i < 6; i++) after.push(yield* c.load(a + i * PS, PS));
    });
  }, {}, { switches });
  return { o, after, during };
}

test('punch hole against concurrent mapped and read() readers: afterwards the range reads zero, every invariant holds (many seeds)', () => {
  const zeros = (n: number) => new Array<number>(n).fill(0);
  for (let seed = 1; seed <= 200; seed++) {
    const { o, after, during } = punchRace(seed);
    clean(o, seed);
    assert.deepEqual(after, [zeros(4 * PS), zeros(PS), zeros(PS), zeros(PS), zeros(PS)], `seed ${seed}: the hole reads zero`);
    // The concurrent readers see either the old data or the hole.
    for (const d of during) {
      assert.ok(Array.isArray(d) && (d.every((x) => x === 0) || d.every((x) => x >= 0x43 && x <= 0x46)), `seed ${seed}: read ${JSON.stringify(d)}`);
    }
  }
});

test('invalidate_lock=off (before 5.15): a fault or read() in the punch window caches stale data for some seeds', () => {
  let stale = 0;
  const found = new Set<string>();
  for (let seed = 1; seed <= 100; seed++) {
    const { o, after } = punchRace(seed, { invalidate_lock: 'off' });
    assert.equal(o.r.outcome, 'completed', `seed ${seed}`);
    // checkInvariants runs the blockfs checker too: only its E2 title may appear.
    assert.deepEqual(titles(o).filter((x) => !x.startsWith('invariant: BUG: stale data after punch hole in ')), [], `seed ${seed}: no lock, refcount or mapping invariant breaks`);
    const bad = after.some((x) => Array.isArray(x) && x.some((b) => b !== 0));
    const reported = checkBlockfs(o.k);
    assert.equal(bad, reported.length > 0, `seed ${seed}: the checker agrees with the data`);
    for (const v of reported) found.add(v.title);
    if (bad) stale++;
  }
  assert.ok(stale >= 10, `stale data after the punch in ${stale}/100 seeds`);
  assert.ok(found.has('BUG: stale data after punch hole in filemap_fault'), [...found].join('; '));
});

// ---------------------------------------------------- entry B: mmap_lock and I/O

/**
 * Seed 001's priority inversion: T1 faults on an uncached file behind a
 * throttled device, T2 (same process) munmaps (an mmap_lock writer), and a
 * monitor process reads /proc/<pid>/maps. Returns how long the monitor's
 * read took.
 */
function mmapLockStall(seed: number, switches: Record<string, string>): { o: Outcome; monitorNs: number; faulted: number[] | number } {
  let monitorNs = -1;
  let faulted: number[] | number = [];
  const o = runKernel(seed, (k) => {
    const victim = proc(k, 'victim', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      faulted = yield* c.load(a + 3 * PS, 1);
    }, function* (c) {
      const anon = yield* scratch(c, 1);
      yield* k.sim.sleepNs(1_000_000);
      assert.equal(yield* c.sys('munmap', anon, PS), 0);
    });
    proc(k, 'monitor', function* (c) {
      yield* k.sim.sleepNs(2_000_000);
      const t0 = k.sim.nowNs;
      assert.ok((yield* c.sys('proc_read', victim.pid, 'maps')) > 0);
      monitorNs = k.sim.nowNs - t0;
    });
  }, { stopOnReport: false }, { switches, blockfs: { throttleNs: 5_000_000 } });
  return { o, monitorNs, faulted };
}

test('fault_io=hold (before 5.1): a /proc/<pid>/maps reader stalls behind the fault\'s throttled I/O; the fixed fault drops mmap_lock first', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const held = mmapLockStall(seed, { fault_io: 'hold' });
    // Invariant B flags the held lock whatever the latency.
    assert.deepEqual(titles(held.o), ['warning: WARNING: mmap_lock held across I/O in filemap_fault'], `seed ${seed}`);
    assert.deepEqual(held.faulted, [0x44]);
    assert.ok(held.monitorNs > 10_000_000, `seed ${seed}: hold: the monitor waited ${held.monitorNs} ns`);
    const fixed = mmapLockStall(seed, {});
    clean(fixed.o, seed);
    assert.deepEqual(fixed.faulted, [0x44]);
    assert.ok(fixed.monitorNs >= 0 && fixed.monitorNs < 100_000, `seed ${seed}: fixed: the monitor waited ${fixed.monitorNs} ns`);
  }
});

/** A major fault with no memory left for the page cache (the page-table page takes the last one). */
function faultWithoutMemory(seed: number, switches: Record<string, string>, stopOnReport = true): { o: Outcome; r: number } {
  let r = 0;
  const o = runKernel(seed, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      yield* c.sys('close', fd);
      r = yield* c.sys('mem_read', a, 1);
    });
  }, { stopOnReport }, { switches, memoryPages: 1 });
  return { o, r };
}

test('a page-cache allocation failure after mmap_lock was dropped retries cleanly and ends in OOM (fixed path)', () => {
  const { o, r } = faultWithoutMemory(1, {});
  clean(o);
  assert.equal(r, signalResult(SIGKILL));
  assert.ok(o.k.cov.sites().includes('filemap_fault:oom-after-drop'));
  assert.equal(o.k.dentries.get(FILE0.path)!.openCount, 0, 'the file is released');
});

test('fault_io=leaky (Josef\'s v4): the same failure leaks fpin and unlocks mmap_lock twice', () => {
  const a = faultWithoutMemory(1, { fault_io: 'leaky' });
  assert.deepEqual(titles(a.o), ['lockdep: bad unlock balance detected: &mm->mmap_lock']);
  const b = faultWithoutMemory(1, { fault_io: 'leaky' }, false);
  assert.ok(titles(b.o).includes('leak: file refcount leak'), titles(b.o).join('; '));
  assert.equal(b.o.k.dentries.get(FILE0.path)!.openCount, 1, 'the file is never released');
});

// ------------------------------------------------------------------ stress

const DATA_FILES = [FILE0.path, FILE1.path, '/data/v2'];

/** One thread's random calls over /data (after test/kernel/random-program.ts), drop_caches included. */
function* randomDataThread(c: Ctx, rng: Rng, calls: number): Gen<void> {
  const fds: number[] = [];
  const maps: [number, number][] = [];
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[rng.int(xs.length)] : undefined);
  const len = (): number => [PS, 2 * PS, 3 * PS, 8 * PS, 100, PS + 1, PS - 1][rng.int(7)]!;
  const off = (): number => [0, PS, 2 * PS, 5 * PS, 17, 3 * PS + 7, 12 * PS][rng.int(7)]!;
  const addr = (): number => {
    const m = pick(maps);
    if (m === undefined) return 0x20000000;
    return m[0] + rng.int(Math.max(1, Math.ceil(m[1] / PS) + (rng.chance(0.1) ? 1 : 0))) * PS + (rng.chance(0.2) ? 13 : 0);
  };
  const pageAddr = (): number => {
    const a = addr();
    return a - (a % PS);
  };
  const buf = yield* scratch(c, 4);
  for (let i = 0; i < calls; i++) {
    const fd = pick(fds) ?? 99;
    switch (rng.int(20)) {
      case 0: case 1: {
        const r = yield* c.sys('open', DATA_FILES[rng.int(DATA_FILES.length)]!, rng.chance(0.8) ? O_RDWR | O_CREAT : O_RDONLY | O_CREAT);
        if (r >= 0) fds.push(r);
        break;
      }
      case 2: case 3: {
        const l = len() + (rng.chance(0.5) ? 8 * PS : 0);
        const flags = (rng.chance(0.6) ? MAP_SHARED : MAP_PRIVATE) | (rng.chance(0.1) && maps.length ? MAP_FIXED : 0);
        const a = yield* c.sys('mmap', flags & MAP_FIXED ? pageAddr() : 0, l, PROT_READ | (rng.chance(0.7) ? PROT_WRITE : 0), flags, fd, rng.chance(0.8) ? 0 : PS);
        if (a > 0) maps.push([a, l]);
        break;
      }
      case 4: yield* c.sys('mem_write', addr(), 1 + rng.int(2 * PS), 0x41 + rng.int(26)); break;
      case 5: case 6: yield* c.sys('mem_read', addr(), 1 + rng.int(2 * PS)); break;
      case 7: yield* c.sys('ftruncate', fd, off() * rng.int(3)); break;
      case 8: yield* c.sys('fallocate', fd, [0, KEEP, PUNCH | KEEP, PUNCH | KEEP, ZERO, ZERO | KEEP, COLLAPSE, INSERT][rng.int(8)]!, off(), len()); break;
      case 9: yield* c.sys('pwritev', fd, [[buf, 1 + rng.int(PS)], [addr(), 1 + rng.int(PS)]], off()); break;
      case 10: case 11: yield* c.sys('pread64', fd, rng.chance(0.7) ? buf : addr(), 1 + rng.int(3 * PS), off()); break;
      case 12: {
        const m = pick(maps);
        if (m) yield* c.sys('munmap', m[0] + (rng.chance(0.5) ? PS : 0), rng.chance(0.5) ? PS : m[1]);
        break;
      }
      case 13: {
        const m = pick(maps);
        if (m) {
          const r = yield* c.sys('mremap', m[0], m[1], len() * (1 + rng.int(2)), rng.chance(0.7) ? 1 : 0, 0);
          if (r > 0) maps.push([r, m[1]]);
        }
        break;
      }
      case 14: yield* c.sys('madvise', pageAddr(), len(), [4, 9, 3, 1, 2, 0][rng.int(6)]!); break;
      case 15: yield* c.sys('fsync', fd); break;
      case 16: yield* c.sys('msync', pageAddr(), len(), 4); break;
      case 17: yield* c.sys('write', fd, buf, 1 + rng.int(2 * PS)); break;
      case 18: yield* c.k.blockfs.dropCaches(c.k, c.t); break;
      default: yield* c.sys('truncate', DATA_FILES[rng.int(DATA_FILES.length)]!, off()); break;
    }
  }
}

function randomDataProgram(seed: number): Outcome {
  const rng = new Rng(`blockfs-program:${seed}`);
  const nproc = 1 + rng.int(3);
  return runKernel(seed, (k) => {
    for (let p = 0; p < nproc; p++) {
      const nthreads = 1 + rng.int(2);
      const bodies = Array.from({ length: nthreads }, (_, th) => {
        const trng = new Rng(`blockfs-program:${seed}:${p}:${th}`);
        return (c: Ctx) => randomDataThread(c, trng, 20 + trng.int(40));
      });
      proc(k, `p${p}`, ...bodies);
    }
  }, { maxSteps: 500_000 });
}

test('random multi-process programs over /data keep every invariant and report nothing', () => {
  const failures: string[] = [];
  const sites = new Set<string>();
  for (let seed = 1; seed <= 300; seed++) {
    const o = randomDataProgram(seed);
    const ts = [...titles(o), ...checkBlockfs(o.k).map((v) => `${v.kind}: ${v.title}`)];
    if (o.r.outcome !== 'completed' || ts.length > 0) failures.push(`seed ${seed}: ${o.r.outcome} ${ts.join('; ')}`);
    for (const s of o.k.cov.sites()) sites.add(s);
  }
  assert.deepEqual(failures.slice(0, 5), []);
  for (const s of ['blockfs:punch', 'blockfs:collapse', 'blockfs:insert', 'blockfs:zero-range', 'blockfs:delalloc', 'filemap_fault:retry', 'filemap_fault:page-not-uptodate', 'readahead:window', 'blockfs:willneed']) {
    assert.ok(sites.has(s), `coverage site ${s} hit`);
  }
});

test('fault_io=hold with I/O throttled past the hung-task timeout: the mmap_lock writer queued behind the fault hangs; the fixed kernel finishes', () => {
  const run = (switches: Record<string, string>) => runKernel(1, (k) => {
    const victim = proc(k, 'victim', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      yield* c.sys('madvise', a, 16 * PS, MADV_RANDOM);
      yield* c.load(a + 3 * PS, 1);
    }, function* (c) {
      const anon = yield* scratch(c, 1);
      yield* k.sim.sleepNs(1_000_000);
      yield* c.sys('munmap', anon, PS);
    });
    proc(k, 'ps', function* (c) {
      yield* k.sim.sleepNs(2_000_000);
      yield* c.sys('proc_read', victim.pid, 'cmdline');
    });
  }, { stopOnReport: false }, { switches, blockfs: { throttleNs: 200e9 } });
  assert.deepEqual(titles(run({ fault_io: 'hold' })), [
    'warning: WARNING: mmap_lock held across I/O in filemap_fault',
    'hang: INFO: task hung in vm_munmap',
  ]);
  clean(run({}));
});

test('->page_mkwrite: a store into a shared mapping waits for a punch in progress (ext4 takes invalidate_lock shared), so the punch walks its mappings once', async () => {
  // A punch of 32 pages of a file with 200 mappings while a store sweeps all
  // 32: each page the store maps again ahead of the punch's cursor costs the
  // punch a walk of all 200 (without ->page_mkwrite: some 6900 steps, 35
  // walks). With ext4's page_mkwrite the store waits for the punch, which
  // walks the mappings about once.
  const { execute } = await import('../../src/fuzz/execute.js');
  const { parseProgram } = await import('../../src/fuzz/format.js');
  const punchSteps = (profile: string): number => {
    const r = execute(parseProgram(`profile: ${profile}
seed: 1
strategy: random
option: maxSteps=20000
option: livenessSteps=20000

proc 0:
  thread 0:
    r0 = open("/data/file0", O_RDWR|O_CREAT)
    ftruncate(r0, 0x20000)
    mmap(0x0, 0x20000, PROT_READ, MAP_SHARED, r0, 0x0) (rerun: 200)
    fallocate(r0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x20000)
proc 1:
  thread 0:
    r1 = open("/data/file0", O_RDWR|O_CREAT)
    r2 = mmap(0x0, 0x20000, PROT_READ|PROT_WRITE, MAP_SHARED, r1, 0x0)
    mem_write(r2, 0x20000, 0x41) (rerun: 2000)
`), { traceLimit: 1_000_000 });
    const begin = r.events.find((e) => e.name === 'fallocate' && e.kind === 10)!;
    const end = r.events.find((e) => e.name === 'fallocate' && e.kind === 11 && e.task === begin.task);
    assert.ok(end !== undefined, `${profile}: the punch ended`);
    assert.ok(r.coverage.includes('blockfs:mkwrite'), profile);
    return end.step - begin.step;
  };
  const fixed = punchSteps('default');
  assert.ok(fixed < 3 * 200, `default: ${fixed} steps`);
  // A store to a page a read fault mapped read-only goes through it too (wp_page_shared).
  const wp = execute(parseProgram(`profile: default
seed: 1
strategy: random

proc 0:
  thread 0:
    r0 = open("/data/file0", O_RDWR|O_CREAT)
    ftruncate(r0, 0x2000)
    r1 = mmap(0x0, 0x2000, PROT_READ|PROT_WRITE, MAP_SHARED, r0, 0x0)
    mem_read(r1, 0x2000)
    mem_write(r1, 0x2000, 0x41)
    fsync(r0)
`));
  assert.deepEqual(wp.reports, []);
  assert.ok(wp.coverage.includes('fault:wp-mkwrite') && !wp.coverage.includes('fault:wp-shared'), wp.coverage.filter((c) => c.startsWith('fault:')).join(' '));
  assert.ok(wp.coverage.includes('blockfs:writeback'), 'the stored pages were dirty and written back');
});
