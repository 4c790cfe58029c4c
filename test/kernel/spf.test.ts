// Speculative page faults (entry C, seed 002): the fault path that runs
// without mmap_lock, falls back when the VMA changes under it, and the
// lockdep cycle Laurent Dufour's v2 annotations produce with reclaim --
// reported on spf=v2, never on the later revisions (spf=raw) or mainline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { proc, runKernel, titles, type Outcome } from './harness.js';
import type { Gen } from '../../src/sim/index.js';
import type { Kernel, KernelOptions } from '../../src/kernel/kernel.js';
import { O_RDONLY } from '../../src/kernel/fs/inode.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import { MREMAP_FIXED, MREMAP_MAYMOVE } from '../../src/kernel/mm/mmap.js';
import { SIGSEGV, formatResult, signalResult } from '../../src/kernel/errno.js';
import { checkInvariants } from '../../src/kernel/invariants.js';
import { parseProgram } from '../../src/fuzz/format.js';
import { execute } from '../../src/fuzz/execute.js';
import { HPAGE_PMD_SIZE, KHUGEPAGED_SCAN_SLEEP_NS } from '../../src/kernel/mm/khugepaged.js';

const PS = 4096;
const C_TITLE = 'possible circular locking dependency: &mapping->i_mmap_rwsem, &vma->vm_sequence, fs_reclaim';

function clean(o: Outcome, what: string | number = ''): void {
  assert.equal(o.r.outcome, 'completed', `${what}: ${o.r.outcome} ${titles(o).join('; ')}`);
  assert.deepEqual(titles(o), [], `${what}`);
}

/** Poll (1 us sleeps) until `cond` holds. */
function* until(k: Kernel, cond: () => boolean): Gen<void> {
  for (let i = 0; i < 100_000 && !cond(); i++) yield* k.sim.sleepNs(1000);
  assert.ok(cond(), 'condition never came true');
}

// -------------------------------------------------------- the fault path

/** Thread 1 takes mmap_lock for write and holds it 10 ms; thread 0 meanwhile writes to a fresh page of its anonymous mapping. */
function faultUnderWriter(spf: string): { o: Outcome; r: number; lockedAtEnd: boolean } {
  let r = 0;
  let lockedAtEnd = false;
  let ready = false;
  let held = false;
  const o = runKernel(1, (k) => {
    proc(k, 'p', function* (c) {
      const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      // A classic fault first: it sets up the anon_vma and the page table the speculative path needs.
      assert.equal(yield* c.sys('mem_write', a, 1, 1), 1);
      ready = true;
      yield* until(k, () => held);
      r = yield* c.sys('mem_write', a + 5 * PS, 1, 2);
      lockedAtEnd = c.p.mm.mmapLock.isWriteLocked();
    }, function* (c) {
      yield* until(k, () => ready);
      yield* c.p.mm.mmapLock.downWrite();
      held = true;
      yield* k.sim.sleepNs(10e6);
      c.p.mm.mmapLock.upWrite(c.t);
    });
  }, {}, { switches: { spf } });
  return { o, r, lockedAtEnd };
}

test('a speculative fault completes while another thread holds mmap_lock for write; the classic fault waits for it', () => {
  for (const spf of ['v2', 'raw']) {
    const { o, r, lockedAtEnd } = faultUnderWriter(spf);
    clean(o, spf);
    assert.equal(r, 1);
    assert.ok(lockedAtEnd, `spf=${spf}: the write finished while mmap_lock was still held for write`);
    assert.ok(o.k.vmstat.spfCommitted >= 1, JSON.stringify(o.k.vmstat.nonZero()));
    assert.ok(o.k.cov.sites().includes('spf:anon-new'));
  }
  const off = faultUnderWriter('off');
  clean(off.o);
  assert.equal(off.r, 1);
  assert.equal(off.lockedAtEnd, false, 'mainline: the fault waited for mmap_lock');
  assert.equal(off.o.k.vmstat.spfAttempts, 0);
});

test('the speculative path handles only anonymous VMAs with an anon_vma and a page table; everything else falls back', () => {
  let results: number[] = [];
  const o = runKernel(1, (k) => {
    proc(k, 'p', function* (c) {
      const fd = yield* c.sys('open', '/data/file1', O_RDONLY);
      const f = yield* c.sys('mmap', 0, 2 * PS, PROT_READ, MAP_SHARED, fd, 0);
      const a = yield* c.sys('mmap', 0, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      results = [
        yield* c.sys('mem_write', a, 1, 1), // no anon_vma yet: classic
        yield* c.sys('mem_read', f, 1), // a file VMA (vm_ops): classic
        yield* c.sys('mem_write', a + PS, 1, 1), // speculative
        yield* c.sys('mem_read', a + 2 * PS, 1), // speculative, the zero page
        yield* c.sys('mprotect', a + 3 * PS, PS, PROT_READ),
        yield* c.sys('mem_write', a + 3 * PS, 1, 1), // read-only: classic, SIGSEGV
      ];
      void k;
    });
  }, {}, { switches: { spf: 'raw' } });
  clean(o);
  assert.deepEqual(results.map(formatResult), ['1', '1', '1', '1', '0', formatResult(signalResult(SIGSEGV))]);
  const sites = o.k.cov.sites();
  for (const s of ['spf:fallback-no-anon-vma', 'spf:fallback-file', 'spf:fallback-access', 'spf:anon-new', 'spf:anon-zero']) assert.ok(sites.includes(s), s);
  assert.equal(o.k.vmstat.spfCommitted, 2);
});

/** One thread writes all over an anonymous mapping while another keeps changing it (mprotect, munmap, mmap MAP_FIXED, mremap). */
function faultsVersusChanges(seed: number, spf: string): { o: Outcome; writes: number[] } {
  const writes: number[] = [];
  const o = runKernel(seed, (k) => {
    let base = 0;
    proc(k, 'p', function* (c) {
      base = yield* c.sys('mmap', 0, 32 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      yield* c.sys('mem_write', base, 1, 1);
      for (let i = 0; i < 64; i++) writes.push(yield* c.sys('mem_write', base + ((i * 7) % 32) * PS, 1, i));
    }, function* (c) {
      yield* until(k, () => base !== 0);
      for (let i = 0; i < 12; i++) {
        const at = base + ((i * 5) % 28) * PS;
        yield* c.sys('mprotect', at, 4 * PS, PROT_READ);
        yield* c.sys('mprotect', at, 4 * PS, PROT_READ | PROT_WRITE);
        yield* c.sys('munmap', at + PS, PS);
        yield* c.sys('mmap', at + PS, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      }
    });
  }, {}, { switches: { spf } });
  return { o, writes };
}

test('a speculative fault that sees the VMA change before it commits falls back; every invariant holds', () => {
  const sites = new Set<string>();
  let committed = 0;
  for (let seed = 1; seed <= 30; seed++) {
    for (const spf of ['v2', 'raw']) {
      const { o, writes } = faultsVersusChanges(seed, spf);
      clean(o, `${spf} seed ${seed}`);
      // Each write lands, or meets a read-only window (SIGSEGV); never anything else.
      for (const w of writes) assert.ok(w === 1 || w === signalResult(SIGSEGV), `${spf} seed ${seed}: ${formatResult(w)}`);
      for (const s of o.k.cov.sites()) sites.add(s);
      committed += o.k.vmstat.spfCommitted;
    }
  }
  assert.ok(sites.has('spf:fallback-seq-changed'), [...sites].filter((s) => s.startsWith('spf')).join(' '));
  assert.ok(committed > 100, `${committed} speculative commits`);
});

test('the checker flags a writable PTE in a read-only VMA (what a speculative fault racing mprotect without the sequence check would leave)', () => {
  const o = runKernel(1, (k) => {
    proc(k, 'p', function* (c) {
      const a = yield* c.sys('mmap', 0, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      yield* c.sys('mem_write', a, 1, 1);
      yield* c.sys('mprotect', a, PS, PROT_READ);
      assert.deepEqual(checkInvariants(k, true).map((v) => v.title), []);
      c.p.mm.pt.get(a / PS)!.writable = true; // the broken state, by hand
      assert.deepEqual(checkInvariants(k, true).map((v) => v.title), ['BUG: writable PTE in a read-only VMA installed in handle_mm_fault']);
      c.p.mm.pt.get(a / PS)!.writable = false;
    });
  }, {}, { switches: { spf: 'raw' } });
  clean(o);
});

// ------------------------------------------------------------- entry C

/** Sergey's three paths as three processes (the corpus reproducer's shape), optionally with khugepaged's allocation doing the reclaim. */
function chain(seed: number, kopts: KernelOptions, viaKhugepaged = false): Outcome {
  return runKernel(seed, (k) => {
    proc(k, 'split', function* (c) {
      const fd = yield* c.sys('open', '/data/file1', O_RDONLY);
      const f = yield* c.sys('mmap', 0, 3 * PS, PROT_READ, MAP_PRIVATE, fd, 0);
      yield* c.sys('mmap', f + 3 * PS, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
      assert.equal(yield* c.sys('munmap', f + PS, PS), 0);
    });
    proc(k, 'mremap', function* (c) {
      const a = yield* c.sys('mmap', 0, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      yield* c.sys('mem_write', a, 1, 0x41);
      assert.equal(yield* c.sys('mremap', a, PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, 0x30000000), 0x30000000);
    });
    proc(k, 'reclaim', function* (c) {
      const fd = yield* c.sys('open', '/data/file0', O_RDONLY);
      const f = yield* c.sys('mmap', 0, 16 * PS, PROT_READ, MAP_SHARED, fd, 0);
      yield* c.sys('mem_read', f, 16 * PS);
      if (viaKhugepaged) {
        const a = yield* c.sys('mmap', 0, 2 * HPAGE_PMD_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        yield* c.sys('mem_write', Math.ceil(a / HPAGE_PMD_SIZE) * HPAGE_PMD_SIZE, 1, 1);
        yield* k.sim.sleepNs(1.5 * KHUGEPAGED_SCAN_SLEEP_NS);
      } else {
        const a = yield* c.sys('mmap', 0, 16 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        yield* c.sys('mem_write', a, 16 * PS, 0x42);
      }
    });
  }, { stopOnReport: false }, kopts);
}

test('spf=v2: lockdep sees each path add its link and reports the cycle when the last one closes it', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const o = chain(seed, { memoryPages: 32, switches: { spf: 'v2' } });
    assert.deepEqual(titles(o), [`lockdep: ${C_TITLE}`], `seed ${seed}`);
    const deps = o.k.sim.lockdep.dependencies();
    for (const d of ['&mapping->i_mmap_rwsem -> &vma->vm_sequence', '&vma->vm_sequence -> &vma->vm_sequence/1', '&vma->vm_sequence/1 -> fs_reclaim', 'fs_reclaim -> &mapping->i_mmap_rwsem']) {
      assert.ok(deps.includes(d), `seed ${seed}: ${d}`);
    }
    assert.match(o.r.reports[0]!.details, /WARNING: possible circular locking dependency detected/);
  }
});

test('spf=raw and mainline: the same three paths, no report (the __vma_adjust and move_vma writes are invisible to lockdep)', () => {
  for (const spf of ['raw', 'off']) {
    for (let seed = 1; seed <= 20; seed++) {
      const o = chain(seed, { memoryPages: 32, kswapd: seed % 2 === 0, switches: { spf } });
      clean(o, `${spf} seed ${seed}`);
      const deps = o.k.sim.lockdep.dependencies();
      assert.ok(deps.includes('fs_reclaim -> &mapping->i_mmap_rwsem'), 'reclaim still walked the rmap');
      assert.ok(!deps.some((d) => d.includes('vm_sequence') && (d.includes('fs_reclaim') || d.includes('i_mmap_rwsem'))), deps.join('\n'));
    }
  }
});

test('as in Sergey\'s splat: khugepaged\'s huge-page allocation is the reclaim that closes the cycle', () => {
  // Room for everything but the 512 pages of a huge page: only khugepaged's allocation reclaims.
  const o = chain(1, { memoryPages: 530, khugepaged: true, switches: { spf: 'v2' } }, true);
  assert.deepEqual(titles(o), [`lockdep: ${C_TITLE}`]);
  assert.match(o.r.reports[0]!.task ?? '', /^khugepaged/);
  assert.match(o.r.reports[0]!.details, /khugepaged_alloc_page|try_to_free_pages/);
});

test('the corpus reproducer: spf-v2 reports entry C for most seeds; spf-raw and default report nothing for hundreds', () => {
  const file = fileURLToPath(new URL('../../../corpus/c-spf-vm-sequence.prog', import.meta.url));
  const text = readFileSync(file, 'utf8');
  assert.equal(/^# expect: (.+)$/m.exec(text)?.[1], C_TITLE);
  const p = parseProgram(text, 'c-spf-vm-sequence.prog');
  const run = (profile: string, seed: string, strategy = p.header.strategy) => execute({ ...p, header: { ...p.header, profile, seed, strategy } }, { record: false });
  let hits = 0;
  for (let s = 1; s <= 20; s++) if (run('spf-v2', String(s)).reports.some((r) => r.title === C_TITLE)) hits++;
  assert.ok(hits >= 18, `${hits}/20`);
  for (const profile of ['spf-raw', 'default']) {
    for (let s = 1; s <= 200; s++) {
      const r = run(profile, `f${s}`, s % 2 ? 'random' : 'pct:3');
      assert.deepEqual(r.reports.map((x) => x.title), [], `${profile} seed f${s}`);
    }
  }
});
