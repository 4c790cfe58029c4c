// The quiescent invariant sweep is allocation-free (pfn-indexed scratch);
// checkInvariantsSlow is the literal Map/Set sweep it replaced. On live
// kernel states, intact and deliberately corrupted, both must report the
// same violations in the same order -- and the corruptions must be caught.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Sim, type Gen, type Task } from '../../src/sim/index.js';
import { Kernel, type Process } from '../../src/kernel/kernel.js';
import { syscall } from '../../src/kernel/syscalls.js';
import { checkInvariants, checkInvariantsSlow } from '../../src/kernel/invariants.js';
import { checkFuse } from '../../src/kernel/fs/fuse/index.js';
import { checkVmscan, checkVmscanSlow } from '../../src/kernel/mm/vmscan_checker.js';
import { O_CREAT, O_RDWR } from '../../src/kernel/fs/inode.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';
import { PAGE_SIZE, type Page } from '../../src/kernel/page.js';

const FILES = ['/tmp/v0', '/tmp/v1', '/dev/shm/v2', '/data/file0', '/data/file1'];
const DATA = 0x20000000;

/** Random calls that leave mappings, cached pages and COW copies behind (no exit). */
function* calls(k: Kernel, t: Task, p: Process, rng: Rng, n: number): Gen<void> {
  const fds: number[] = [];
  const maps: number[] = [];
  const sys = (name: string, ...args: (number | string)[]): Gen<number> => syscall(k, t, p, name, args);
  yield* sys('mmap', DATA, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | 0x10, -1, 0);
  for (let i = 0; i < n; i++) {
    const fd = fds.length ? fds[rng.int(fds.length)]! : -1;
    const m = maps.length ? maps[rng.int(maps.length)]! : DATA;
    const at = m + rng.int(4) * PAGE_SIZE;
    switch (rng.int(9)) {
      case 0: {
        const r = yield* sys('open', FILES[rng.int(FILES.length)]!, O_RDWR | O_CREAT);
        if (r >= 0) fds.push(r);
        break;
      }
      case 1: {
        const r = yield* sys('mmap', 0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, rng.chance(0.5) ? MAP_SHARED : MAP_PRIVATE, fd, 0);
        if (r >= 0) maps.push(r);
        break;
      }
      case 2: yield* sys('write', fd, DATA, 1 + rng.int(3 * PAGE_SIZE)); break;
      case 3: yield* sys('mem_read', at, 1); break;
      case 4: yield* sys('mem_write', at, 1, 7); break;
      case 5: yield* sys('ftruncate', fd, rng.int(5) * PAGE_SIZE); break;
      case 6: yield* sys('pread64', fd, DATA, PAGE_SIZE, rng.int(3) * PAGE_SIZE); break;
      case 7: yield* sys('fallocate', fd, 3, rng.int(3) * PAGE_SIZE, PAGE_SIZE); break;
      case 8: {
        // Shared anonymous memory: a tmpfs inode outside the namespace, reached only through its file.
        const r = yield* sys('mmap', 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (r >= 0) maps.push(r);
        break;
      }
    }
  }
}

function liveKernel(seed: number): Kernel {
  const sim = new Sim({ seed, stopOnReport: false });
  const k = new Kernel(sim, {});
  for (let pi = 0; pi < 2; pi++) {
    const p = k.createProcess(`p${pi}`);
    for (let ti = 0; ti < 2; ti++) {
      const rng = new Rng(`inv:${seed}:${pi}:${ti}`);
      k.spawnThread(p, `p${pi}.t${ti}`, (t) => calls(k, t, p, rng, 25));
    }
  }
  sim.run();
  return k;
}

function same(k: Kernel, what: string): string[] {
  const fast = checkInvariants(k, true);
  const slow = checkInvariantsSlow(k, true);
  assert.deepEqual(fast, slow, what);
  return fast.map((v) => v.title);
}

function mappedPages(k: Kernel): { p: Process; vpn: number; page: Page }[] {
  const out: { p: Process; vpn: number; page: Page }[] = [];
  for (const p of k.processes) for (const [vpn, pte] of p.mm.pt) if (pte.page !== k.zeroPage) out.push({ p, vpn, page: pte.page });
  return out;
}

test('the allocation-free sweep reports exactly what the Map/Set sweep reports, intact or corrupted', () => {
  let caught = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const corrupt = [
      (k: Kernel) => {
        const m = mappedPages(k)[0];
        if (m) m.page.mapcount++;
        return m ? /mapcount mismatch/ : null;
      },
      (k: Kernel) => {
        const m = mappedPages(k).find((x) => !x.page.anon);
        if (!m) return null;
        m.page.mapping!.pages.delete(m.page.index);
        m.page.mapping = null;
        return /stale page mapped after truncate/;
      },
      (k: Kernel) => {
        const m = mappedPages(k)[0];
        if (m) m.page.refcount += 2;
        return m ? /page refcount leak/ : null;
      },
      (k: Kernel) => {
        const m = mappedPages(k)[0];
        if (!m) return null;
        m.p.mm.pt.set(0x10, { page: m.page, writable: false, by: 'test' });
        return /PTE outside any VMA/;
      },
      (k: Kernel) => {
        const v = k.processes.flatMap((p) => p.mm.vmas).find((x) => x.file !== null);
        if (!v) return null;
        v.mm.removeVma(v);
        return /stale VMA in i_mmap/;
      },
      (k: Kernel) => {
        const ino = [...k.dentries.values()].find((i) => i.mapping.pages.size > 0);
        if (!ino) return null;
        const [idx, page] = [...ino.mapping.pages][0]!;
        page.index = idx + 1;
        return /wrong mapping or index/;
      },
      // An inode only an open file reaches (shared anonymous memory).
      (k: Kernel) => {
        const ino = k.files.map((f) => f.inode).find((i) => k.dentries.get(i.path) !== i && i.mapping.pages.size > 0);
        if (!ino) return null;
        const [idx, page] = [...ino.mapping.pages][0]!;
        page.index = idx + 7;
        return /wrong mapping or index/;
      },
      (k: Kernel) => {
        const m = mappedPages(k)[0];
        if (m) m.page.refcount = -1;
        return m ? /refcount underflow/ : null;
      },
      // Anonymous pages are in no page cache: only the walk over mapped pages judges them.
      (k: Kernel) => {
        const m = mappedPages(k).find((x) => x.page.anon);
        if (m) m.page.mapcount--;
        return m ? /mapcount mismatch/ : null;
      },
      (k: Kernel) => {
        const m = mappedPages(k).find((x) => x.page.anon);
        if (m) m.page.refcount++;
        return m ? /page refcount leak/ : null;
      },
    ];
    const k = liveKernel(seed);
    assert.deepEqual(same(k, `seed ${seed} intact`), [], `seed ${seed}: the fixed kernel is consistent`);
    const c = corrupt[seed % corrupt.length]!;
    const want = c(k);
    const got = same(k, `seed ${seed} corrupted`);
    if (want !== null) {
      assert.ok(got.some((x) => want.test(x)), `seed ${seed}: ${want} not in ${got.join('; ')}`);
      caught++;
    }
  }
  assert.ok(caught >= 40, `only ${caught} corruptions could be made`);
});

test('sweeps back to back reuse the scratch without leaking state between kernels', () => {
  const a = liveKernel(3);
  const b = liveKernel(4);
  mappedPages(a)[0]!.page.mapcount += 5;
  const ta = same(a, 'a');
  assert.deepEqual(same(b, 'b'), []);
  assert.deepEqual(same(a, 'a again'), ta);
});

test('the FUSE data checker catches a clean virtiofs page that differs from the server (it is not part of the sweep)', () => {
  const sim = new Sim({ seed: 1, stopOnReport: false });
  const k = new Kernel(sim, {});
  const p = k.createProcess('p0');
  k.spawnThread(p, 'p0.t0', function* (t) {
    yield* syscall(k, t, p, 'mmap', [DATA, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | 0x10, -1, 0]);
    const fd = yield* syscall(k, t, p, 'open', ['/mnt/virtiofs/file0', O_RDWR]);
    yield* syscall(k, t, p, 'pread64', [fd, DATA, 2 * PAGE_SIZE, 0]);
  });
  sim.run();
  assert.deepEqual(same(k, 'intact'), []);
  const inode = k.dentries.get('/mnt/virtiofs/file0')!;
  const page = inode.mapping.pages.get(1)!;
  assert.ok(page.uptodate && !page.dirty);
  page.bytes()[100] ^= 0xff;
  assert.deepEqual(checkFuse(k).map((v) => v.title), ['BUG: clean page-cache page differs from the FUSE server']);
  assert.deepEqual(same(k, 'corrupted'), [], 'the sweep leaves FUSE data to checkFuse');
  page.bytes()[100] ^= 0xff;
  assert.deepEqual(checkFuse(k), []);
});

test('the vmscan checker reports exactly what its literal Set sweep reports, intact or corrupted', () => {
  const corrupt: ((k: Kernel) => RegExp | null)[] = [
    // A cached file page off its LRU list.
    (k) => {
      const page = [...k.lru.inactiveFile][0];
      if (page === undefined) return null;
      k.lru.inactiveFile.delete(page);
      page.lru = 0;
      return /missing from the LRU/;
    },
    (k) => {
      const ino = [...k.dentries.values()].find((i) => i.mapping.pages.size > 0);
      if (!ino) return null;
      ino.mapping.nrDirty += 1;
      return /dirty page accounting mismatch/;
    },
    (k) => {
      k.pagesInUse += 3;
      return /page allocation accounting leak/;
    },
    (k) => {
      const m = mappedPages(k)[0];
      if (!m) return null;
      m.p.mm.pt.get(m.vpn)!.writable = true;
      const v = m.p.mm.vmaAt(m.vpn * PAGE_SIZE)!;
      v.prot = PROT_READ;
      return /writable PTE in a read-only VMA/;
    },
    // One page in two caches: counted once.
    (k) => {
      const inos = [...k.dentries.values()].filter((i) => i.mapping.pages.size > 0);
      if (inos.length < 2) return null;
      const page = [...inos[0]!.mapping.pages.values()][0]!;
      inos[1]!.mapping.pages.set(1 << 20, page);
      return null;
    },
    // Two pages under one pfn: the fast check must fall back to the literal one.
    (k) => {
      const m = mappedPages(k).filter((x) => x.page.anon);
      if (m.length < 2) return null;
      (m[1]!.page as { pfn: number }).pfn = m[0]!.page.pfn;
      return null;
    },
  ];
  let caught = 0;
  for (let seed = 1; seed <= 36; seed++) {
    const k = liveKernel(seed);
    for (const quiescent of [true, false]) assert.deepEqual(checkVmscan(k, quiescent), checkVmscanSlow(k, quiescent), `seed ${seed} intact`);
    const want = corrupt[seed % corrupt.length]!(k);
    const fast = checkVmscan(k, true);
    assert.deepEqual(fast, checkVmscanSlow(k, true), `seed ${seed} corrupted`);
    assert.deepEqual(checkVmscan(k, false), checkVmscanSlow(k, false), `seed ${seed} corrupted, not quiescent`);
    if (want !== null) {
      assert.ok(fast.some((v) => want.test(v.title)), `seed ${seed}: ${want} not in ${fast.map((v) => v.title).join('; ')}`);
      caught++;
    }
  }
  assert.ok(caught >= 16, `only ${caught} corruptions could be made`);
});
