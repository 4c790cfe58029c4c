// virtiofs at /mnt/virtiofs: a FUSE mount served by a simulated daemon with
// its own store and a latency model. Reads and writes go through the daemon,
// latency and stalls move the virtual clock, request waits follow
// request_wait_answer (killable, then uninterruptible once the server has the
// request), failures surface as EIO/SIGBUS, the two cache modes behave as
// Linux's, truncate and fallocate are forwarded, and entry A (seed 000: the
// fuse write deadlock) is there on linux-5.9-virtiofs and gone on default.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { preadBytes, proc, runKernel, scratch, titles, type Ctx, type Outcome } from './harness.js';
import { randomProgram } from './random-program.js';
import { TaskState, type Gen, type Task } from '../../src/sim/index.js';
import type { KernelOptions } from '../../src/kernel/kernel.js';
import { O_CREAT, O_RDONLY, O_RDWR, O_TRUNC } from '../../src/kernel/fs/inode.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import { MADV_RANDOM, MS_SYNC } from '../../src/kernel/mm/mmap.js';
import { EINTR, EIO, EOPNOTSUPP, SIGBUS, signalResult } from '../../src/kernel/errno.js';
import {
  FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE,
} from '../../src/kernel/fs/shmem.js';
import {
  FUSE_VICTIMS, FuseOptionError, checkFuse, fuseOptionsFromHeader, parseFuseLatency, parseFuseStall, stallEndNs,
} from '../../src/kernel/fs/fuse/index.js';
import { execute, OptionError } from '../../src/fuzz/execute.js';
import { parseProgram } from '../../src/fuzz/format.js';

const PS = 4096;
const FILE0 = FUSE_VICTIMS[0]!;
const FILE1 = FUSE_VICTIMS[1]!;
const REPRO = fileURLToPath(new URL('../../../corpus/a-fuse-write-deadlock.prog', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/faultline', import.meta.url));
const A_TITLE = 'deadlock: page lock held by fuse_fill_write_pages, waited on in filemap_fault';


/** Put `bytes` in user memory at `addr`, one mem_write per byte. */
function* poke(c: Ctx, addr: number, bytes: readonly number[]): Gen<void> {
  for (let i = 0; i < bytes.length; i++) yield* c.sys('mem_write', addr + i, 1, bytes[i]!);
}

function expected(v: { byteAt(off: number): number }, off: number, len: number): number[] {
  return Array.from({ length: len }, (_, i) => v.byteAt(off + i));
}

const store = (o: Outcome, path: string, off: number, len: number): number[] => Array.from(o.k.fuse.server.read(path, off, len));

/** Completed, nothing reported, and the page cache agrees with the daemon's store. */
function clean(o: Outcome, seed: number | string = ''): void {
  assert.equal(o.r.outcome, 'completed', `seed ${seed}: ${o.r.outcome} ${titles(o).join('; ')}`);
  assert.deepEqual(titles(o), [], `seed ${seed}`);
  assert.deepEqual(checkFuse(o.k).map((v) => v.details), [], `seed ${seed}`);
}

// ------------------------------------------------------------ options

test('latency, stall and error-rate specs parse as documented; bad ones are rejected with a reason', () => {
  assert.deepEqual(parseFuseLatency('fixed:2ms'), { kind: 'fixed', ns: 2e6 });
  assert.deepEqual(parseFuseLatency('uniform:1ms-5ms'), { kind: 'uniform', loNs: 1e6, hiNs: 5e6 });
  assert.deepEqual(parseFuseLatency('exp:2ms'), { kind: 'exp', meanNs: 2e6 });
  assert.deepEqual(parseFuseLatency('fixed:1.5us'), { kind: 'fixed', ns: 1500 });
  assert.deepEqual(parseFuseStall('30s@every:5s'), [{ durationNs: 30e9, kind: 'every', atNs: 5e9 }]);
  assert.deepEqual(parseFuseStall('30s@once:1s,2s@every:1m'.replace('1m', '60s')).map((s) => s.kind), ['once', 'every']);
  for (const bad of ['fixed', 'fixed:2', 'fixed:-1ms', 'uniform:5ms-1ms', 'uniform:1ms', 'exp:0ms', 'gauss:1ms', 'fixed:2 ms', 'fixed:2days']) {
    assert.throws(() => parseFuseLatency(bad), FuseOptionError, bad);
  }
  for (const bad of ['30s', '30s@every', '30s@every:0s', '0s@once:1s', '30s@sometimes:5s', 'x@once:1s']) {
    assert.throws(() => parseFuseStall(bad), FuseOptionError, bad);
  }
  for (const bad of [{ fuseErrorRate: '1.5' }, { fuseErrorRate: 'often' }, { fuseWritebackCache: 'maybe' }, { fuseLatency: 'fast' }] as Record<string, string>[]) {
    assert.throws(() => fuseOptionsFromHeader(bad), (e: Error) => e instanceof FuseOptionError && e.message.startsWith(`option ${Object.keys(bad)[0]}=`));
  }
  assert.deepEqual(fuseOptionsFromHeader({ fuseErrorRate: '0.01', fuseWritebackCache: '1', memoryPages: '4' }), { errorRate: 0.01, writebackCache: true });
});

test('stall windows: every:P stalls after each P of service, once:T once from T', () => {
  const every = parseFuseStall('30s@every:5s');
  assert.equal(stallEndNs(every, 1e9), 1e9, 'serving');
  assert.equal(stallEndNs(every, 5e9), 35e9, 'first stall');
  assert.equal(stallEndNs(every, 34e9), 35e9);
  assert.equal(stallEndNs(every, 36e9), 36e9, 'serving again');
  assert.equal(stallEndNs(every, 41e9), 70e9, 'second stall');
  const once = parseFuseStall('30s@once:1s');
  assert.equal(stallEndNs(once, 0.5e9), 0.5e9);
  assert.equal(stallEndNs(once, 1e9), 31e9);
  assert.equal(stallEndNs(once, 40e9), 40e9);
  // Touching windows chain.
  assert.equal(stallEndNs(parseFuseStall('1s@once:1s,1s@once:2s'), 1.5e9), 3e9);
});

test('execute rejects an unknown or malformed FUSE option with an OptionError naming it', () => {
  const base = parseProgram(readFileSync(REPRO, 'utf8'), 'a.prog');
  for (const [k, v] of [['fuseLatency', 'exp:soon'], ['fuseStall', '1s'], ['fuseErrorRate', '2'], ['fuseLatencyNs', '5']] as const) {
    const p = { ...base, header: { ...base.header, options: { [k]: v } } };
    assert.throws(() => execute(p), (e: Error) => e instanceof OptionError && e.message.includes(k), `${k}=${v}`);
  }
  const ok = execute({ ...base, header: { ...base.header, profile: 'default', options: { fuseLatency: 'uniform:1ms-2ms', fuseStall: '1s@once:0s' } } });
  assert.equal(ok.outcome, 'completed');
  assert.ok(ok.virtualNs >= 1e9, 'the stall at time 0 delays the first request');
});

test('faultline run: a bad --fuse-latency is a usage error (exit 2); a good one pins the option', () => {
  const bad = spawnSync(process.execPath, [BIN, 'run', REPRO, '--fuse-latency', 'exp:3'], { encoding: 'utf8' });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--fuse-latency.*exp:3.*invalid/);
  const good = spawnSync(process.execPath, [BIN, 'run', REPRO, '--profile', 'default', '--fuse-latency', 'fixed:1ms', '--json'], { encoding: 'utf8' });
  assert.equal(good.status, 0, good.stderr);
  const r = JSON.parse(good.stdout) as { virtualNs: number; reports: unknown[] };
  assert.deepEqual(r.reports, []);
  assert.ok(r.virtualNs >= 7e6, `seven requests of 1 ms: ${r.virtualNs} ns`);
});

// ------------------------------------------------------------ data paths

test('read() of a victim file returns the daemon\'s data through READ requests; nothing was cached', () => {
  let got: number[] | number = [];
  let got1: number[] | number = [];
  let cachedBefore = -1;
  const o = runKernel(1, (k) => {
    proc(k, 'reader', function* (c) {
      const buf = yield* scratch(c, 4);
      cachedBefore = k.dentries.get(FILE0.path)!.mapping.nrpages;
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      got = yield* preadBytes(c, fd, buf, 3 * PS, PS + 100);
      const fd1 = yield* c.sys('open', FILE1.path, O_RDONLY);
      got1 = yield* preadBytes(c, fd1, buf, 2 * PS, 2 * PS);
    });
  });
  clean(o);
  assert.equal(cachedBefore, 0);
  assert.deepEqual(got, expected(FILE0, PS + 100, 3 * PS));
  assert.deepEqual(got1, expected(FILE1, 2 * PS, PS + 100), 'a short read at EOF');
  const sites = o.k.cov.sites();
  for (const s of ['fuse:open', 'fuse:readahead', 'readahead:window', 'fuse:flush', 'fuse:release']) assert.ok(sites.includes(s), s);
  assert.ok(o.k.fuse.server.served >= 6, `requests served: ${o.k.fuse.server.served}`);
});

test('write-through: the data is in the daemon\'s store when write() returns; a new page cache reads it back', () => {
  const seen: unknown[] = [];
  const data = Array.from({ length: 2 * PS }, (_, i) => (i < 100 ? 0x5a : 0x33));
  const o = runKernel(2, (k) => {
    proc(k, 'writer', function* (c) {
      const buf = yield* scratch(c, 4);
      yield* c.sys('mem_write', buf, 2 * PS, 0x33);
      yield* c.sys('mem_write', buf, 100, 0x5a);
      const fd = yield* c.sys('open', '/mnt/virtiofs/new', O_RDWR | O_CREAT);
      seen.push(yield* c.sys('pwrite64', fd, buf, 2 * PS, 1000));
      seen.push(Array.from(k.fuse.server.read('/mnt/virtiofs/new', 1000, 2 * PS)));
      seen.push(k.dentries.get('/mnt/virtiofs/new')!.size);
      // Drop the cache (as a second client would see it) and read through the daemon.
      yield* c.sys('close', fd);
      const fd2 = yield* c.sys('open', '/mnt/virtiofs/new', O_RDONLY);
      seen.push(yield* preadBytes(c, fd2, buf + 2 * PS, 2 * PS, 1000));
    });
  });
  clean(o);
  assert.equal(seen[0], 2 * PS);
  assert.deepEqual(seen[1], data, 'in the store at once: write-through');
  assert.equal(seen[2], 1000 + 2 * PS);
  assert.deepEqual(seen[3], data);
  assert.deepEqual(store(o, '/mnt/virtiofs/new', 0, 1000), new Array<number>(1000).fill(0), 'a hole reads as zeroes');
  assert.ok(o.k.cov.sites().includes('fuse:write-through'));
  assert.ok(o.k.cov.sites().includes('fuse:create'));
});

test('stores through a shared mapping reach the daemon at msync(MS_SYNC), not before', () => {
  const seen: number[][] = [];
  const o = runKernel(3, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      const a = yield* c.sys('mmap', 0, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      yield* c.sys('mem_write', a + PS + 10, 20, 0x7e);
      seen.push(Array.from(k.fuse.server.read(FILE0.path, PS + 10, 20)));
      assert.equal(yield* c.sys('msync', a, 4 * PS, MS_SYNC), 0);
      seen.push(Array.from(k.fuse.server.read(FILE0.path, PS, 40)));
    });
  });
  clean(o);
  assert.deepEqual(seen[0], expected(FILE0, PS + 10, 20), 'dirty in the page cache only');
  assert.deepEqual(seen[1], [...expected(FILE0, PS, 10), ...new Array<number>(20).fill(0x7e), ...expected(FILE0, PS + 30, 10)]);
  assert.ok(o.k.cov.sites().includes('fuse:writepage'));
});

test('writeback cache: write() only dirties the page cache (a partial page is read first); fsync sends it; write-through sends at once', () => {
  const run = (writebackCache: boolean) => {
    const seen: unknown[] = [];
    const o = runKernel(4, (k) => {
      proc(k, 'p', function* (c) {
        const buf = yield* scratch(c, 1);
        yield* c.sys('mem_write', buf, 10, 0x21);
        const fd = yield* c.sys('open', FILE0.path, O_RDWR);
        seen.push(yield* c.sys('pwrite64', fd, buf, 10, 2 * PS + 20));
        seen.push(Array.from(k.fuse.server.read(FILE0.path, 2 * PS + 16, 18)));
        seen.push(yield* preadBytes(c, fd, buf + 100, 18, 2 * PS + 16));
        seen.push(yield* c.sys('fsync', fd));
        seen.push(Array.from(k.fuse.server.read(FILE0.path, 2 * PS + 16, 18)));
      });
    }, {}, { fuse: { writebackCache } });
    clean(o);
    return { seen, sites: o.k.cov.sites() };
  };
  const after = [...expected(FILE0, 2 * PS + 16, 4), ...new Array<number>(10).fill(0x21), ...expected(FILE0, 2 * PS + 30, 4)];
  const wb = run(true);
  assert.deepEqual(wb.seen, [10, expected(FILE0, 2 * PS + 16, 18), after, 0, after]);
  assert.ok(wb.sites.includes('fuse:readpage'), 'fuse_write_begin read the partial page first');
  assert.ok(wb.sites.includes('fuse:writepage') && !wb.sites.includes('fuse:write-through'));
  const wt = run(false);
  assert.deepEqual(wt.seen, [10, after, after, 0, after]);
  assert.ok(wt.sites.includes('fuse:write-through') && !wt.sites.includes('fuse:writepage'));
});

test('truncate is a SETATTR: the store shrinks, pages beyond EOF SIGBUS, the EOF page is zeroed past EOF', () => {
  const seen: unknown[] = [];
  const o = runKernel(5, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      const a = yield* c.sys('mmap', 0, 8 * PS, PROT_READ, MAP_SHARED, fd, 0);
      seen.push(yield* c.load(a + 5 * PS, 1));
      seen.push(yield* c.sys('ftruncate', fd, 2 * PS + 100));
      seen.push(k.fuse.server.nodes.get(FILE0.path)!.size);
      seen.push(yield* c.load(a + 5 * PS, 1));
      seen.push(yield* c.load(a + 2 * PS + 98, 4));
      seen.push(yield* c.sys('ftruncate', fd, 4 * PS));
      seen.push(Array.from(k.fuse.server.read(FILE0.path, 2 * PS + 98, 4)));
    });
  });
  clean(o);
  assert.deepEqual(seen, [[0x66], 0, 2 * PS + 100, signalResult(SIGBUS), [0x63, 0x63, 0, 0], 0, [0x63, 0x63, 0, 0]]);
});

test('a size change invalidates the whole cache, shadow entries of evicted pages included', () => {
  let left = -1;
  const o = runKernel(5, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      const shadows = k.dentries.get(FILE0.path)!.mapping.shadows;
      shadows.set(1, 0);
      shadows.set(20, 0);
      // Growing: truncate_pagecache drops nothing, invalidate_inode_pages2 drops every shadow.
      assert.equal(yield* c.sys('ftruncate', fd, 32 * PS), 0);
      left = shadows.size;
    });
  });
  clean(o);
  assert.equal(left, 0);
});

test('fallocate is forwarded: punch hole zeroes the store and the cache, mode 0 grows the file, unsupported modes are EOPNOTSUPP', () => {
  const seen: unknown[] = [];
  const o = runKernel(6, (k) => {
    proc(k, 'p', function* (c) {
      const buf = yield* scratch(c, 2);
      const fd = yield* c.sys('open', FILE0.path, O_RDWR);
      seen.push(yield* preadBytes(c, fd, buf, 2, 3 * PS - 1));
      seen.push(yield* c.sys('fallocate', fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * PS + 100, 2 * PS));
      seen.push(yield* preadBytes(c, fd, buf, 4, 2 * PS + 98));
      seen.push(Array.from(k.fuse.server.read(FILE0.path, 4 * PS + 98, 4)));
      seen.push(yield* c.sys('fallocate', fd, 0, 8 * PS, 3 * PS));
      seen.push(k.dentries.get(FILE0.path)!.size);
      seen.push(yield* preadBytes(c, fd, buf, 2, 99));
      // A range inside one cached page, starting at its first byte: the page is zeroed, not dropped.
      seen.push(yield* c.sys('fallocate', fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 100));
      seen.push(yield* preadBytes(c, fd, buf, 2, 99));
      seen.push(yield* c.sys('fallocate', fd, FALLOC_FL_COLLAPSE_RANGE, 0, PS));
    });
  });
  clean(o);
  assert.deepEqual(seen, [[0x63, 0x64], 0, [0x63, 0x63, 0, 0], [0, 0, 0x65, 0x65], 0, 11 * PS, [0x61, 0x61], 0, [0, 0x61], -EOPNOTSUPP]);
  assert.deepEqual(store(o, FILE0.path, 0, 100), new Array<number>(100).fill(0));
  assert.equal(o.k.fuse.server.nodes.get(FILE0.path)!.size, 11 * PS);
});

// ------------------------------------------------------------ latency

/** A read-heavy program: 8 random-access mapped reads of uncached pages, one READ each. */
function readHeavy(seed: number, latency: string): { elapsedNs: number; reads: number; o: Outcome } {
  let elapsedNs = 0;
  let reads = 0;
  const o = runKernel(seed, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE0.path, O_RDONLY);
      const a = yield* c.sys('mmap', 0, 8 * PS, PROT_READ, MAP_SHARED, fd, 0);
      yield* c.sys('madvise', a, 8 * PS, MADV_RANDOM);
      const served = k.fuse.server.served;
      const t0 = k.sim.nowNs;
      for (let i = 0; i < 8; i++) assert.deepEqual(yield* c.load(a + i * PS + 1, 1), [0x61 + i]);
      elapsedNs = k.sim.nowNs - t0;
      reads = k.fuse.server.served - served;
    });
  }, {}, { fuse: { latency } });
  clean(o, seed);
  return { elapsedNs, reads, o };
}

test('the daemon\'s latency model moves the virtual clock as configured', () => {
  const a = readHeavy(7, 'fixed:1ms');
  const b = readHeavy(7, 'fixed:4ms');
  assert.equal(a.reads, 8);
  assert.equal(b.reads, 8);
  assert.ok(a.elapsedNs >= 8e6 && a.elapsedNs < 8.2e6, `fixed:1ms: ${a.elapsedNs} ns`);
  assert.ok(b.elapsedNs >= 32e6 && b.elapsedNs < 32.2e6, `fixed:4ms: ${b.elapsedNs} ns`);
  // Uniform draws stay in their bounds; exponential ones average near the mean.
  const u = readHeavy(8, 'uniform:1ms-3ms');
  assert.ok(u.elapsedNs >= 8e6 && u.elapsedNs < 24.2e6, `uniform: ${u.elapsedNs}`);
  let sum = 0;
  for (let s = 0; s < 20; s++) sum += readHeavy(100 + s, 'exp:2ms').elapsedNs;
  const mean = sum / 20 / 8;
  assert.ok(mean > 1.4e6 && mean < 2.6e6, `exp:2ms mean per request ${mean} ns`);
  // The same seed draws the same latencies.
  assert.equal(readHeavy(9, 'exp:2ms').elapsedNs, readHeavy(9, 'exp:2ms').elapsedNs);
});

test('an idle daemon sleeps interruptibly on its queue with no timer and does not keep the run alive', () => {
  let daemon: Task | null = null;
  const o = runKernel(10, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', FILE1.path, O_RDONLY);
      yield* c.sys('close', fd);
      yield* k.sim.sleepNs(1e6);
      daemon = k.fuse.server.task;
    });
  });
  clean(o);
  const d = daemon as Task | null;
  assert.ok(d !== null && d.daemon);
  assert.equal(d.state, TaskState.Interruptible);
  assert.equal(d.waitingOn?.waitName, 'fuse_iqueue');
  assert.equal(d.timerSeq, -1);
  assert.ok(o.r.virtualNs < 2e6, `the run ended with the program: ${o.r.virtualNs}`);
});

test('FUSE requests are traced, so replay --trace shows them', () => {
  const p = parseProgram(readFileSync(REPRO, 'utf8'), 'a.prog');
  const r = execute({ ...p, header: { ...p.header, profile: 'default' } }, { traceLimit: 10_000 });
  const labels = r.events.map((e) => e.name);
  for (const l of ['fuse:CREATE', 'fuse:WRITE', 'fuse:WRITE read by server', 'fuse:READ reply', 'fuse:FLUSH', 'fuse:RELEASE']) assert.ok(labels.includes(l), l);
  assert.ok(r.taskNames.includes('virtiofsd'));
});

// ------------------------------------------------------------ stalls, kills

/** Two writers to file1 while the daemon stalls from 1 ms for `stall`: the second waits on i_rwsem in D. */
function stalledWriters(stall: string): { o: Outcome; results: number[] } {
  const results: number[] = [];
  const o = runKernel(11, (k) => {
    for (const name of ['w1', 'w2']) {
      proc(k, name, function* (c) {
        const buf = yield* scratch(c, 1);
        const fd = yield* c.sys('open', FILE1.path, O_RDWR);
        yield* k.sim.sleepNs(name === 'w1' ? 2e6 : 3e6);
        results.push(yield* c.sys('pwrite64', fd, buf, 100, name === 'w1' ? 0 : PS));
      });
    }
  }, { stopOnReport: false }, { fuse: { stall: `${stall}@once:1ms` } });
  return { o, results };
}

test('a daemon stall past the hung-task timeout gets the writer queued on i_rwsem reported hung; a shorter one does not', () => {
  const long = stalledWriters('200s');
  assert.deepEqual(titles(long.o), ['hang: INFO: task hung in fuse_cache_write_iter']);
  assert.match(long.o.r.reports[0]!.details, /w2/);
  assert.deepEqual(long.results, [100, 100], 'both finish once the stall ends');
  const short = stalledWriters('60s');
  clean(short.o);
  assert.deepEqual(short.results, [100, 100]);
  assert.ok(short.o.r.virtualNs > 60e9);
});

test('FUSE request waits are killable: a queued request fails with EINTR; one the server has is waited out in D', () => {
  const tasks: Record<string, Task> = {};
  const res: Record<string, number> = {};
  const at: Record<string, number> = {};
  const o = runKernel(12, (k) => {
    // Two write-through writers on two files: the first WRITE is with the
    // stalled server, the second waits in the queue behind it.
    for (const [name, path, when] of [['sent', FILE0.path, 2e6], ['queued', FILE1.path, 3e6]] as const) {
      proc(k, name, function* (c) {
        tasks[name] = c.t;
        const buf = yield* scratch(c, 1);
        const fd = yield* c.sys('open', path, O_RDWR);
        yield* k.sim.sleepNs(when);
        res[name] = yield* c.sys('pwrite64', fd, buf, 10, 0);
        at[name] = k.sim.nowNs;
      });
    }
    proc(k, 'killer', function* () {
      yield* k.sim.sleepNs(10e6);
      k.sim.kill(tasks.queued!);
      k.sim.kill(tasks.sent!);
    });
  }, { stopOnReport: false }, { fuse: { stall: '200s@once:2ms' } });
  assert.equal(res.queued, -EINTR);
  assert.ok(at.queued! < 11e6, `the queued request is abandoned at once (${at.queued} ns)`);
  assert.equal(res.sent, 10, 'the request the server had completes normally');
  assert.ok(at.sent! >= 200e9);
  // Killed, the first waits uninterruptibly for its reply, and khungtaskd
  // sees it (so does it the killed second one's FLUSH at exit, a forced request).
  const ts = titles(o);
  assert.ok(ts.length >= 1 && ts.every((x) => x === 'hang: INFO: task hung in request_wait_answer'), ts.join('; '));
  assert.match(o.r.reports[0]!.details, /sent/);
  assert.ok(o.k.cov.sites().includes('fuse:request-aborted') && o.k.cov.sites().includes('fuse:request-wait-it-out'));
});

test('injected EIO: read() fails with -EIO, a mapped read with SIGBUS, other attempts see the right data, invariants hold', () => {
  const outcomes = new Set<string>();
  for (let seed = 1; seed <= 40; seed++) {
    const o = runKernel(seed, (k) => {
      proc(k, 'p', function* (c) {
        const buf = yield* scratch(c, 1);
        const fd = yield* c.sys('open', FILE0.path, O_RDWR);
        if (fd < 0) {
          assert.equal(fd, -EIO);
          outcomes.add('open:EIO');
          return;
        }
        // Mapped reads first (random access: one synchronous READ each, retried once by the fault).
        const a = yield* c.sys('mmap', 0, 4 * PS, PROT_READ, MAP_SHARED, fd, 0);
        yield* c.sys('madvise', a, 4 * PS, MADV_RANDOM);
        for (let i = 0; i < 4; i++) {
          const r = yield* c.load(a + i * PS, 2);
          if (typeof r === 'number') {
            assert.equal(r, signalResult(SIGBUS), `seed ${seed}`);
            outcomes.add('load:SIGBUS');
          } else {
            assert.deepEqual(r, expected(FILE0, i * PS, 2));
            outcomes.add('load:ok');
          }
        }
        for (let i = 4; i < 8; i++) {
          const r = yield* preadBytes(c, fd, buf, 8, i * PS);
          if (typeof r === 'number') {
            assert.equal(r, -EIO, `seed ${seed}`);
            outcomes.add('read:EIO');
          } else {
            assert.deepEqual(r, expected(FILE0, i * PS, 8), `seed ${seed}`);
            outcomes.add('read:ok');
          }
        }
      });
    }, {}, { fuse: { errorRate: 0.3 } });
    clean(o, seed);
  }
  for (const x of ['open:EIO', 'read:EIO', 'read:ok', 'load:SIGBUS', 'load:ok']) assert.ok(outcomes.has(x), x);
});

// ------------------------------------------------------------ entry A

test('entry A: the corpus reproducer deadlocks on linux-5.9-virtiofs for most seeds and never on default', () => {
  const text = readFileSync(REPRO, 'utf8');
  const expect = /^# expect: (.*)$/m.exec(text)?.[1];
  assert.equal(expect, A_TITLE);
  const p = parseProgram(text, 'a.prog');
  assert.equal(p.header.profile, 'linux-5.9-virtiofs');
  let hits = 0;
  for (let s = 0; s < 50; s++) {
    const r = execute({ ...p, header: { ...p.header, seed: `a${s}` } });
    if (r.reports.length > 0) {
      assert.equal(r.reports[0]!.title, A_TITLE);
      assert.equal(r.reports[0]!.kind, 'deadlock');
    }
    if (r.reports[0]?.title === A_TITLE) hits++;
  }
  assert.ok(hits >= 45, `buggy: ${hits}/50`);
  for (let s = 0; s < 300; s++) {
    const strategy = s % 2 ? 'pct:3' : 'random';
    const r = execute({ ...p, header: { ...p.header, profile: 'default', seed: `f${s}`, strategy } });
    assert.deepEqual(r.reports.map((x) => x.title), [], `seed f${s}`);
    assert.deepEqual(r.results.map((x) => x.ret), [0, r.results[1]!.ret, 11, 11, 24], `seed f${s}`);
  }
});

test('entry A fixed: after Vivek\'s reproducer the file holds "Hello World\\0" at 2*4096-12 and at 2*4096 (KERNEL-SPEC A.4)', () => {
  const hello = [...'Hello World'].map((ch) => ch.charCodeAt(0));
  const run = (switches: Record<string, string>, kopts: KernelOptions = {}) => {
    const rets: number[] = [];
    const o = runKernel(13, (k) => {
      proc(k, 'p', function* (c) {
        const buf = yield* scratch(c, 1);
        yield* poke(c, buf, hello);
        const fd = yield* c.sys('open', '/mnt/virtiofs/g638', O_RDWR | O_CREAT | O_TRUNC);
        const m = yield* c.sys('mmap', 0, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        rets.push(yield* c.sys('pwrite64', fd, buf, 11, 0));
        rets.push(yield* c.sys('pwrite64', fd, buf, 11, PS));
        rets.push(yield* c.sys('pwritev', fd, [[m, 12], [m + PS, 12]], 2 * PS - 12));
        rets.push(yield* c.sys('close', fd));
      });
    }, {}, { switches, ...kopts });
    return { o, rets };
  };
  const fixed = run({});
  clean(fixed.o);
  assert.deepEqual(fixed.rets, [11, 11, 24, 0]);
  const want = [...hello, 0, ...hello, 0];
  assert.deepEqual(store(fixed.o, '/mnt/virtiofs/g638', 2 * PS - 12, 24), want, 'in the daemon\'s store');
  assert.equal(fixed.o.k.fuse.server.nodes.get('/mnt/virtiofs/g638')!.size, 2 * PS + 12);
  assert.ok(fixed.o.k.cov.sites().includes('fuse:fill-partial-page-locked'));
  const buggy = run({ fuse_write: 'lock_all' });
  assert.deepEqual(titles(buggy.o), [`deadlock: ${A_TITLE}`]);
  assert.deepEqual(buggy.rets, [11, 11], 'the pwritev never returns');
  // The writeback cache does not go through fuse_perform_write: no deadlock on either profile.
  const wb = run({ fuse_write: 'lock_all' }, { fuse: { writebackCache: true } });
  clean(wb.o);
  assert.deepEqual(wb.rets, [11, 11, 24, 0]);
  assert.deepEqual(store(wb.o, '/mnt/virtiofs/g638', 2 * PS - 12, 24), want);
});

test('entry A on lock_all: two writers whose sources are mappings of each other\'s files can deadlock ABBA', () => {
  let hits = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const o = runKernel(seed, (k) => {
      for (const f of ['/mnt/virtiofs/x', '/mnt/virtiofs/y']) {
        proc(k, `mk${f}`, function* (c) {
          const fd = yield* c.sys('open', f, O_RDWR | O_CREAT);
          yield* c.sys('ftruncate', fd, 4 * PS);
        });
      }
      // Each locks page 0 of its file (first chunk, from anonymous memory),
      // then faults in its second chunk: a fresh mapping of page 0 of the other file.
      const writer = (mine: string, other: string) => function* (c: Ctx) {
        const buf = yield* scratch(c, 1);
        yield* k.sim.sleepNs(5e6);
        const fd = yield* c.sys('open', mine, O_RDWR);
        const ofd = yield* c.sys('open', other, O_RDWR);
        const m = yield* c.sys('mmap', 0, 2 * PS, PROT_READ, MAP_SHARED, ofd, 0);
        yield* c.sys('madvise', m, 2 * PS, MADV_RANDOM);
        yield* c.sys('pwritev', fd, [[buf, 12], [m, 12]], PS - 12);
      };
      proc(k, 'A', writer('/mnt/virtiofs/x', '/mnt/virtiofs/y'));
      proc(k, 'B', writer('/mnt/virtiofs/y', '/mnt/virtiofs/x'));
    }, {}, { switches: { fuse_write: 'lock_all' } });
    // A two-task cycle: each holds its own page 0 and waits for the other's.
    if (o.r.reports.some((r) => r.title === A_TITLE && /A\/\d+ .*waits for page lock/.test(r.details) && /B\/\d+ .*waits for page lock/.test(r.details))) hits++;
    assert.ok(o.r.reports.every((r) => r.title === A_TITLE), `seed ${seed}: ${titles(o).join('; ')}`);
  }
  assert.ok(hits >= 20, `ABBA hits: ${hits}/30`);
});

// ------------------------------------------------------------ random programs

test('random multi-process programs over /mnt/virtiofs keep every invariant and report nothing (both cache modes)', () => {
  const files = ['/mnt/virtiofs/file0', '/mnt/virtiofs/file1', '/mnt/virtiofs/v2', '/tmp/v0'];
  const failures: string[] = [];
  const sites = new Set<string>();
  for (let seed = 1; seed <= 120; seed++) {
    const kopts: KernelOptions = { fuse: { writebackCache: seed % 2 === 0, latency: seed % 3 === 0 ? 'exp:100us' : 'fixed:20us' } };
    const o = randomProgram(seed, files, kopts);
    const ts = [...titles(o), ...checkFuse(o.k).map((v) => `${v.title}: ${v.details}`)];
    if (o.r.outcome !== 'completed' || ts.length > 0) failures.push(`seed ${seed}: ${o.r.outcome} ${ts.join('; ')}`);
    for (const s of o.k.cov.sites()) sites.add(s);
  }
  assert.deepEqual(failures.slice(0, 5), []);
  for (const s of ['fuse:write-through', 'fuse:writepage', 'fuse:readahead', 'fuse:readpage', 'fuse:truncate-down', 'fuse:fallocate-3', 'fuse:flush', 'fuse:create', 'fuse:launder']) {
    assert.ok(sites.has(s), `coverage site ${s} hit`);
  }
});
