// Random well-formed multi-process programs over the shared victim files,
// for property tests of the fixed kernel (not the fuzzer's generator).

import { Rng } from '../../src/sim/index.js';
import { proc, runKernel, type Ctx } from './harness.js';
import type { KernelOptions } from '../../src/kernel/kernel.js';
import { O_CREAT, O_RDWR, O_RDONLY } from '../../src/kernel/fs/inode.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/kernel/mm/vma.js';

const PS = 4096;
const FILES = ['/tmp/v0', '/tmp/v1', '/dev/shm/v2', '/data/file0'];

/** Round down to a page: `& ~(PS - 1)` would cut 47-bit addresses to 32 bits. */
const pageDown = (a: number): number => a - (a % PS);

/** One thread's random calls, choosing arguments from what it has so far. */
function* randomThread(c: Ctx, rng: Rng, calls: number, files: readonly string[] = FILES): Generator<undefined, void, undefined> {
  const fds: number[] = [];
  const maps: [number, number][] = [];
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[rng.int(xs.length)] : undefined);
  const len = (): number => [PS, 2 * PS, 3 * PS, 8 * PS, 100, PS + 1, PS - 1][rng.int(7)]!;
  const off = (): number => [0, PS, 2 * PS, 5 * PS, 17, 3 * PS + 7][rng.int(6)]!;
  const addr = (): number => {
    const m = pick(maps);
    if (m === undefined) return 0x20000000;
    return m[0] + rng.int(Math.max(1, m[1] / PS + 1)) * PS + (rng.chance(0.2) ? 13 : 0);
  };
  for (let i = 0; i < calls; i++) {
    const fd = pick(fds) ?? 99;
    switch (rng.int(16)) {
      case 0: case 1: {
        const r = yield* c.sys('open', files[rng.int(files.length)]!, rng.chance(0.8) ? O_RDWR | O_CREAT : O_RDONLY | O_CREAT);
        if (r >= 0) fds.push(r);
        break;
      }
      case 2: case 3: {
        const l = len();
        const anon = rng.chance(0.25);
        const flags = (rng.chance(0.6) ? MAP_SHARED : MAP_PRIVATE) | (anon ? MAP_ANONYMOUS : 0) | (rng.chance(0.1) && maps.length ? MAP_FIXED : 0);
        const a = yield* c.sys('mmap', flags & MAP_FIXED ? pageDown(addr()) : 0, l, PROT_READ | (rng.chance(0.7) ? PROT_WRITE : 0), flags, fd, rng.chance(0.8) ? 0 : PS);
        if (a > 0) maps.push([a, l]);
        break;
      }
      case 4: case 5: yield* c.sys('mem_write', addr(), 1 + rng.int(2 * PS), 0x41 + rng.int(26)); break;
      case 6: yield* c.sys('mem_read', addr(), 1 + rng.int(2 * PS)); break;
      case 7: yield* c.sys('ftruncate', fd, off() * rng.int(3)); break;
      case 8: yield* c.sys('fallocate', fd, rng.chance(0.7) ? 3 : 0, off(), len()); break;
      case 9: yield* c.sys('pwritev', fd, [[addr(), 1 + rng.int(PS)], [addr(), 1 + rng.int(PS)]], off()); break;
      case 10: yield* c.sys('pread64', fd, addr(), 1 + rng.int(2 * PS), off()); break;
      case 11: {
        const m = pick(maps);
        if (m) yield* c.sys('munmap', m[0] + (rng.chance(0.5) ? PS : 0), rng.chance(0.5) ? PS : m[1]);
        break;
      }
      case 12: {
        const m = pick(maps);
        if (m) {
          const r = yield* c.sys('mremap', m[0], m[1], len() * (1 + rng.int(2)), rng.chance(0.7) ? 1 : 0, 0);
          if (r > 0) maps.push([r, m[1]]);
        }
        break;
      }
      case 13: yield* c.sys('mprotect', pageDown(addr()), len(), rng.chance(0.5) ? PROT_READ : PROT_READ | PROT_WRITE); break;
      case 14: yield* c.sys('madvise', pageDown(addr()), len(), [4, 9, 3, 1][rng.int(4)]!); break;
      default: yield* c.sys('truncate', files[rng.int(files.length)]!, off()); break;
    }
  }
}

/** A random program over `files` (default: tmpfs, shm and /data), on a kernel built with `kopts`. */
export function randomProgram(seed: number, files: readonly string[] = FILES, kopts: KernelOptions = {}) {
  const rng = new Rng(`program:${seed}`);
  const nproc = 1 + rng.int(3);
  return runKernel(seed, (k) => {
    for (let p = 0; p < nproc; p++) {
      const nthreads = 1 + rng.int(2);
      const bodies = Array.from({ length: nthreads }, (_, th) => {
        const trng = new Rng(`program:${seed}:${p}:${th}`);
        return (c: Ctx) => randomThread(c, trng, 10 + trng.int(30), files);
      });
      proc(k, `p${p}`, ...bodies);
    }
  }, { maxSteps: 500_000 }, kopts);
}

