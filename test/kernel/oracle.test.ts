// The real Linux kernel as the oracle: each program below (in the line format
// of /work/shared/oracle/oracle.c) runs once on this machine's kernel, against
// tmpfs at /dev/shm, and once on the simulated kernel through a translator;
// every call must answer the same (ret, errno, signal, checksum).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proc, runKernel, titles, type Ctx } from './harness.js';
import { resultSignal, SIGNAL_NAMES } from '../../src/kernel/errno.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { Gen } from '../../src/sim/index.js';

// ------------------------------------------------------------------ programs

/** Paths under /dev/shm/o/ get a per-run prefix (the same in both kernels). */
const DIR = '/dev/shm/o';

const PROGRAMS: Record<string, string> = {
  // /work/shared/oracle/sample.prog, verbatim but for the file name.
  sample: `
r0 = open /dev/shm/o/sample 66
ftruncate r0 8192
m0 = mmap 0 12288 3 1 r0 0
mem_write m0+0 100 65
mem_read m0+0 4096
mem_read m0+8192 1
ftruncate r0 100
mem_read m0+4096 1
mem_read m0+0 200
fallocate r0 2 0 4096
fallocate r0 3 0 4096
pread r0 100 0
mremap m0+0 12288 24576 0
munmap m0+1 4096
close r0
close r0
`,

  open_rw: `
# open: create, exclusive, missing, truncate, access modes, append, directory
r0 = open /dev/shm/o/rw 66
r1 = open /dev/shm/o/rw 194
r1 = open /dev/shm/o/nonexistent 2
r1 = open /dev/shm/o/missing-dir/x 66
r1 = open /dev/shm/o 1
r1 = open /dev/shm/o 2
r1 = open /dev/shm/o 66
r2 = open /dev/shm/o 0
close r2
write r0 97 5000
lseek r0 0 1
pread r0 5000 0
pread r0 10 4990
pread r0 10 5000
pread r0 10 -1
read r0 10
lseek r0 0 0
read r0 3000
read r0 3000
read r0 3000
r3 = open /dev/shm/o/rw 0
write r3 1 1
pwrite r3 1 1 0
read r3 4
r4 = open /dev/shm/o/rw 1
read r4 4
pread r4 4 0
pwrite r4 98 4 4998
pwrite r4 98 4 -1
pread r3 8 4996
r5 = open /dev/shm/o/rw 1025
lseek r5 0 1
write r5 99 10
lseek r5 0 1
pread r3 12 4998
r6 = open /dev/shm/o/rw 514
lseek r3 0 2
pread r3 10 0
write r6 100 3
read r3 10
close r6
close r5
close r4
close r3
close r0
close 99
close -1
dup 99
r7 = dup r0
# O_TRUNC truncates even with O_RDONLY; pwrite on O_APPEND appends, whatever the offset
r8 = open /dev/shm/o/rw2 66
write r8 65 100
r9 = open /dev/shm/o/rw2 512
lseek r8 0 2
r10 = open /dev/shm/o/rw2 1026
pwrite r10 66 10 0
lseek r8 0 2
lseek r10 0 1
pread r8 10 0
# ENOTDIR, O_DIRECTORY, EEXIST beats EISDIR
r11 = open /dev/shm/o/rw2/x 66
r11 = open /dev/shm/o/rw2 65536
r11 = open /dev/shm/o/rw2 194
r11 = open /dev/shm/o/nope 128
r11 = open /dev/shm/o 65
r11 = open /dev/shm/o 194
r11 = open /dev/shm/o 0x10000
close r11
r12 = open /dev/shm/o/rw3 0x241
write r12 1 1
r13 = open /dev/shm/o/rw3 0x240
write r13 1 1
close r13
close r12
close r10
close r9
close r8
`,

  lseek_dup: `
r0 = open /dev/shm/o/seek 66
pwrite r0 120 1000 0
lseek r0 10 0
lseek r0 5 1
lseek r0 -3 1
lseek r0 0 2
lseek r0 -1000 2
lseek r0 -1001 2
lseek r0 -20 1
lseek r0 0 3
lseek r0 0 4
lseek r0 999 3
lseek r0 1000 3
lseek r0 1000 4
lseek r0 -1 3
lseek r0 1 5
lseek r0 1 -1
lseek 77 0 0
lseek r0 5000 0
read r0 10
lseek r0 100 0
r1 = dup r0
read r1 10
lseek r0 0 1
write r1 121 10
pread r0 20 100
close r1
close r0
`,

  vectored: `
r0 = open /dev/shm/o/vec 66
m0 = mmap 0 8192 3 0x22 -1 0
mem_write m0+0 4096 65
mem_write m0+4096 4096 66
writev r0 -1 m0+4000 200 m0+0 10
lseek r0 0 1
writev r0 100 m0+4090 10
pread r0 210 0
pread r0 120 0
writev r0 -1
writev r0 5000 m0+8000 100
pread r0 100 5000
r1 = open /dev/shm/o/vec 0
writev r1 -1 m0+0 10
munmap m0+4096 4096
writev r0 -1 m0+4096 10
writev r0 0 m0+4000 200
pread r0 100 0
close r1
close r0
`,

  rw_errno: `
# read/write errno precedence
r0 = open /dev/shm/o/rwe 66
r1 = open /dev/shm/o/rwe 1
r2 = open /dev/shm/o/rwe 0
r3 = open /dev/shm/o 0
pread r3 10 0
read r3 10
read r3 0
write r3 1 1
read r1 0
write r2 1 0
pread r1 10 -1
pwrite r2 1 1 -1
pread 99 10 -1
pread 99 0 0
read r0 0
write r0 1 0
pwrite r0 120 10 100000
lseek r0 0 2
pread r0 10 99995
pread r0 10 50000
ftruncate r1 5
lseek r2 0 2
fsync r2
fsync 99
fsync r3
close r3
close r2
close r1
close r0
`,

  mmap_errno: `
r0 = open /dev/shm/o/mm 66
ftruncate r0 8192
r1 = open /dev/shm/o/mm 0
r2 = open /dev/shm/o/mm 1
# len 0, unaligned offset, bad fd, and which wins
m0 = mmap 0 0 3 1 r0 0
m0 = mmap 0 4096 3 1 r0 100
m0 = mmap 0 4096 3 1 99 0
m0 = mmap 0 4096 3 1 99 1
m0 = mmap 0 0 3 1 99 0
# shared+write on O_RDONLY, write-only fd
m0 = mmap 0 4096 3 1 r1 0
m0 = mmap 0 4096 1 1 r1 0
m1 = mmap 0 4096 1 1 r2 0
m1 = mmap 0 4096 1 2 r2 0
m1 = mmap 0 4096 3 2 r1 0
# map types
m2 = mmap 0 4096 3 0 r0 0
m2 = mmap 0 4096 3 4 r0 0
m2 = mmap 0 4096 3 0x20 -1 0
m2 = mmap 0 4096 3 0x0f r0 0
# MAP_SHARED_VALIDATE: unknown flags, and anonymous
m2 = mmap 0 4096 3 0x80003 r0 0
m2 = mmap 0 4096 3 0x200003 r0 0
m2 = mmap 0 4096 3 3 r0 0
m5 = mmap 0 4096 3 0x23 -1 0
m5 = mmap 0 4096 3 0x80023 -1 0
# MAP_FIXED_NOREPLACE, MAP_FIXED unaligned
m3 = mmap 0 8192 3 0x22 -1 0
m4 = mmap m3+0 4096 3 0x100022 -1 0
m4 = mmap m3+4096 8192 3 0x100022 -1 0
m4 = mmap m3+1 4096 3 0x32 -1 0
m4 = mmap m3+1 4096 3 0x100022 -1 0
m4 = mmap m3+0 4096 1 0x32 -1 0
mem_write m3+0 1 7
mem_write m3+4096 1 7
mem_read m3+4096 1
# beyond EOF is allowed at mmap time, SIGBUS on access
m6 = mmap 0 16384 3 1 r0 8192
mem_read m6+0 1
mem_read m1+0 4096
mem_write m1+0 1 1
mem_read m2+0 4096
# a directory has no mmap
r3 = open /dev/shm/o 0
m7 = mmap 0 4096 1 2 r3 0
m7 = mmap 0 4096 1 2 r3 1
close r3
# huge lengths
m7 = mmap 0 0x7ffffffff000 3 0x22 -1 0
m7 = mmap 0 -4096 3 0x22 -1 0
# closed fd
close r2
m7 = mmap 0 4096 1 1 r2 0
close r1
close r0
`,

  munmap_mprotect: `
m0 = mmap 0 16384 3 0x22 -1 0
mem_write m0+0 16384 90
munmap m0+1 4096
munmap m0+0 0
munmap m0+1 0
munmap m0+4096 4096
mem_read m0+4096 1
mem_read m0+0 1
mem_read m0+8192 1
munmap m0+4096 4096
munmap m0+4096 4095
munmap -4096 4096
munmap 0x7ffffffff000 8192
mprotect m0+1 4096 1
mprotect m0+0 4096 0x100
mprotect m0+0 4096 1
mem_write m0+0 1 1
mem_read m0+0 2
mprotect m0+0 16384 3
mem_write m0+0 1 1
mem_read m0+0 1
mprotect m0+4096 4096 3
# PROT_GROWSDOWN/PROT_GROWSUP: both at once EINVAL; on a VMA that cannot grow EINVAL; no VMA ENOMEM
mprotect m0+0 4096 0x3000001
mprotect m0+1 4096 0x3000001
mprotect m0+0 4096 0x1000001
mprotect m0+0 4096 0x2000001
mprotect m0+4096 4096 0x1000001
mprotect m0+4096 4096 0x2000001
mprotect m0+4096 8192 0x1000001
mprotect m0+4096 8192 0x2000001
mprotect m0+0 4096 8
mprotect m0+0 0 3
mprotect m0+1 0 3
mprotect m0+8192 8192 0
mem_read m0+8192 1
mprotect m0+8192 8192 1
mem_read m0+8192 1
mem_write m0+12288 1 1
r0 = open /dev/shm/o/mp 66
ftruncate r0 4096
r1 = open /dev/shm/o/mp 0
m1 = mmap 0 4096 1 1 r1 0
mprotect m1+0 4096 3
mprotect m1+0 4096 5
m2 = mmap 0 4096 1 2 r1 0
mprotect m2+0 4096 3
mem_write m2+0 10 55
pread r0 10 0
mem_read m2+0 10
munmap m2+0 4096
munmap m1+0 4096
munmap m0+0 16384
mem_read m0+0 1
close r1
close r0
`,

  mremap: `
m0 = mmap 0 16384 3 0x22 -1 0
mem_write m0+0 4096 1
mem_write m0+4096 4096 2
mem_write m0+8192 4096 3
mem_write m0+12288 4096 4
# flags validation
m1 = mremap m0+0 4096 8192 8 0
m1 = mremap m0+0 4096 4096 2 0
m1 = mremap m0+0 4096 8192 5 0
m1 = mremap m0+0 4096 4096 4 0
m1 = mremap m0+1 4096 4096 1 0
m1 = mremap m0+0 4096 0 1 0
# shrink in place
m1 = mremap m0+8192 8192 4096 0 0
mem_read m0+8192 4096
mem_read m0+12288 1
# grow in place into the freed page
m1 = mremap m0+8192 4096 8192 0 0
mem_read m0+12288 1
# cannot grow without MAYMOVE: m0 ends right below the next mapping
m2 = mmap 0 4096 3 0x22 -1 0
m3 = mmap 0 4096 1 0x22 -1 0
m4 = mremap m3+0 4096 8192 0 0
m4 = mremap m3+0 4096 8192 1 0
# no VMA, a range across VMAs, growing from the middle of a VMA
m5 = mmap 0 4096 3 0x22 -1 0
munmap m5+0 4096
m5 = mremap m5+0 4096 4096 0 0
m5 = mremap m5+0 4096 8192 1 0
m5 = mremap m3+0 8192 16384 1 0
mremap m0+0 4096 8192 0 0
# move keeps the contents
m6 = mremap m0+0 8192 32768 1 0
mem_read m0+0 1
mem_read m6+0 4096
mem_read m6+4096 4096
mem_read m6+8192 4096
mem_write m6+20000 1 9
# FIXED: overlap, unaligned, moves to the target
m7 = mmap 0 16384 1 0x22 -1 0
m8 = mremap m6+0 8192 8192 3 m6+4096
m8 = mremap m6+0 4096 4096 3 m7+1
m8 = mremap m6+0 4096 4096 3 0x7ffffffff000
# the new address is checked before the VMA lookup: EINVAL beats EFAULT
m8 = mremap m5+0 4096 4096 3 m7+1
m8 = mremap m5+0 4096 4096 3 m5+0
m8 = mremap m5+0 4096 4096 5 1
m8 = mremap m6+0 4096 4096 5 m6+0
m8 = mremap m5+0 4096 0x800000000000 1 0
m8 = mremap m6+0 4096 0x800000000000 1 0
m8 = mremap m5+0 4096 0x7ffffffff000 1 0
m8 = mremap m5+0 0 4096 1 0
m8 = mremap m5+0 4096 4096 3 m7+0
mem_read m7+0 1
m8 = mremap m6+0 4096 8192 3 m7+0
mem_read m8+0 4096
mem_read m8+4096 1
mem_read m6+0 1
# DONTUNMAP leaves an empty anonymous mapping behind
m9 = mremap m6+4096 4096 4096 5 0
mem_read m9+0 4096
mem_read m6+4096 4096
m10 = mremap m6+8192 4096 8192 5 0
# DONTUNMAP compares the page-aligned lengths
m10 = mremap m6+8192 4096 4000 5 0
mem_read m10+0 4096
mem_read m6+8192 1
# shared file mapping: old_len 0 duplicates, DONTUNMAP refaults from the file
r0 = open /dev/shm/o/mr 66
ftruncate r0 8192
m11 = mmap 0 8192 3 1 r0 0
mem_write m11+0 8192 70
m12 = mremap m11+0 0 4096 1 0
mem_read m12+0 4096
m13 = mremap m7+0 0 4096 1 0
m14 = mremap m11+0 8192 8192 5 0
mem_read m11+0 4096
mem_read m14+4096 4096
m15 = mremap m14+0 8192 16384 1 0
mem_read m15+8192 1
close r0
`,

  madvise_msync: `
m0 = mmap 0 16384 3 0x22 -1 0
mem_write m0+0 16384 77
madvise m0+0 4096 4
mem_read m0+0 4096
mem_read m0+4096 4096
# MADV_FREE: the pages may read back either old data or zeroes (Linux keeps them without memory pressure)
madvise m0+4096 4096 8
madvise m0+0 4096 99
madvise m0+0 4096 -1
madvise m0+1 4096 4
madvise m0+0 0 4
madvise m0+0 4096 0
madvise m0+0 4096 1
madvise m0+0 4096 2
madvise m0+0 4096 3
madvise m0+0 4096 9
# a hole in the range: ENOMEM, but the mapped parts are still advised
munmap m0+8192 4096
mem_write m0+12288 4 5
madvise m0+4096 12288 4
mem_read m0+12288 4
madvise m0+8192 4096 4
madvise m0+8192 4096 3
r0 = open /dev/shm/o/adv 66
ftruncate r0 16384
m1 = mmap 0 16384 3 1 r0 0
mem_write m1+0 16384 88
madvise m1+0 4096 4
mem_read m1+0 4096
madvise m1+4096 4096 9
mem_read m1+4096 4096
pread r0 4096 4096
m2 = mmap 0 4096 3 2 r0 8192
mem_write m2+0 10 1
madvise m2+0 4096 4
mem_read m2+0 4096
madvise m2+0 4096 9
r1 = open /dev/shm/o/adv 0
m3 = mmap 0 4096 1 1 r1 0
madvise m3+0 4096 9
madvise m1+0 4096 8
msync m1+0 4096 4
msync m1+0 4096 1
msync m1+0 4096 2
msync m1+0 4096 0
msync m1+0 4096 5
msync m1+0 4096 8
msync m1+1 4096 4
msync m1+0 0 4
msync m0+0 16384 4
msync m0+8192 4096 1
msync m0+0 16384 6
msync m0+4096 4096 6
munmap m0+0 16384
msync m0+0 4096 4
msync m0+1 4096 12
munmap m3+0 4096
close r1
close r0
`,

  fallocate_truncate: `
r0 = open /dev/shm/o/fa 66
r1 = open /dev/shm/o/fa 0
fallocate r0 0 0 8192
lseek r0 0 2
fallocate r0 1 0 16384
lseek r0 0 2
fallocate r0 2 0 4096
fallocate r0 3 0 4096
fallocate r0 8 0 4096
fallocate r0 0x10 0 4096
fallocate r0 0x20 0 4096
fallocate r0 0x40 0 4096
fallocate r0 0x100 0 4096
fallocate r0 0 -1 4096
fallocate r0 0 0 0
fallocate r0 0 0 -5
fallocate r1 0 0 4096
fallocate r1 3 0 4096
fallocate r1 0 -1 4096
fallocate r1 2 0 4096
fallocate 99 0 -1 4096
fallocate r0 3 -1 0
fallocate r0 9 0 4096
fallocate r0 0x13 0 4096
fallocate r0 2 0 0
fallocate r0 0x21 0 4096
fallocate r0 0 100 0x7fffffffffffffff
fallocate r0 3 100 0x7fffffffffffffff
pwrite r0 65 8192 0
fallocate r0 3 100 5000
pread r0 8192 0
pread r0 200 0
lseek r0 0 2
fallocate r0 0 8000 10000
lseek r0 0 2
fallocate r0 3 40960 4096
lseek r0 0 2
pread r0 100 17900
ftruncate r0 -1
ftruncate r1 10
ftruncate 99 10
ftruncate r1 -1
ftruncate r0 300
pread r0 1000 0
ftruncate r0 6000
pread r0 6000 0
pread r0 100 250
truncate /dev/shm/o/fa 100
lseek r0 0 2
truncate /dev/shm/o/fa -1
truncate /dev/shm/o/nothing 10
truncate /dev/shm/o 10
truncate /dev/shm/o/nothing/x 10
r2 = open /dev/shm/o 0
ftruncate r2 10
fallocate r2 0 0 10
close r2
m0 = mmap 0 12288 3 1 r0 0
ftruncate r0 5000
mem_write m0+4096 4096 3
mem_read m0+8192 1
mem_read m0+5000 10
ftruncate r0 4096
mem_read m0+4096 1
ftruncate r0 12288
mem_read m0+4096 10
pread r0 100 4096
close r1
close r0
`,

  cow_private: `
r0 = open /dev/shm/o/cow 66
pwrite r0 65 8192 0
m0 = mmap 0 8192 3 2 r0 0
m1 = mmap 0 8192 3 1 r0 0
mem_read m0+0 16
mem_write m0+0 16 66
mem_read m0+0 16
mem_read m1+0 16
pread r0 16 0
mem_write m1+4096 16 67
mem_read m0+4096 16
mem_write m1+0 16 68
mem_read m0+0 16
fallocate r0 3 0 8192
mem_read m0+0 16
mem_read m0+4096 16
mem_read m1+0 16
ftruncate r0 0
mem_read m0+0 1
mem_write m0+0 1 1
ftruncate r0 8192
mem_read m0+0 16
close r0
`,
};

// ---------------------------------------------------------------- the oracle

let oracleBin: string | null = null;
let skipReason = '';
let workDir = '';
/** Per-run prefix of file names under /dev/shm/o, so concurrent runs never collide. */
const PREFIX = `faultline-oracle-${process.pid}-`;

function withPrefix(text: string): string {
  return text.replace(/\/dev\/shm\/o\/([\w.-]+)/g, (_m, name: string) => `${DIR}/${PREFIX}${name}`);
}

function cleanShm(): void {
  if (!existsSync(DIR)) return;
  for (const f of readdirSync(DIR)) if (f.startsWith(PREFIX)) rmSync(join(DIR, f), { recursive: true, force: true });
}

function oracleSource(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/test/kernel -> repo root -> /work/shared
  for (const c of [resolve(here, '../../../../shared/oracle/oracle.c'), '/work/shared/oracle/oracle.c']) if (existsSync(c)) return c;
  return '/work/shared/oracle/oracle.c';
}

before(() => {
  if (process.platform !== 'linux') {
    skipReason = `the oracle needs the real Linux kernel (platform is ${process.platform})`;
    return;
  }
  const src = oracleSource();
  if (!existsSync(src)) {
    skipReason = `oracle source ${src} not found`;
    return;
  }
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error !== undefined || gcc.status !== 0) {
    skipReason = 'gcc is not installed: cannot build the real-kernel oracle (oracle.c); skipping the comparison';
    return;
  }
  workDir = mkdtempSync(join(tmpdir(), 'faultline-oracle-'));
  const bin = join(workDir, 'oracle');
  const cc = spawnSync('gcc', ['-O1', '-o', bin, src], { encoding: 'utf8' });
  if (cc.status !== 0) {
    skipReason = `gcc failed to build ${src}: ${cc.stderr}`;
    return;
  }
  mkdirSync(DIR, { recursive: true });
  cleanShm();
  oracleBin = bin;
});

after(() => {
  cleanShm();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function runReal(text: string): string[] {
  const r = spawnSync(oracleBin!, [], { input: text, encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, `oracle exited with ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0);
}

// ---------------------------------------------------------------- translator

/** FNV-1a 32, as oracle.c's fnv(). */
export function fnv1a32(bytes: readonly number[]): number {
  let h = 2166136261;
  for (const b of bytes) {
    h ^= b & 0xff;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

/** strtol(s, 0, 0): optional sign, then 0x hex, leading-0 octal or decimal, up to the first bad digit. */
export function strtol(s: string): number {
  let i = 0;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  let base = 10;
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) {
    base = 16;
    i += 2;
  } else if (s[i] === '0') base = 8;
  let v = 0;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 16);
    if (Number.isNaN(d) || d >= base) break;
    v = v * base + d;
  }
  return neg ? -v : v;
}

/** C's (int) cast of a long. */
const int32 = (v: number): number => Number(BigInt.asIntN(32, BigInt(v)));

/** Where the translator keeps oracle.c's static buffer (its .bss) in the simulated process. */
const SCRATCH = 0x555555000000;
const SCRATCH_LEN = 1 << 22;

/**
 * Runs one oracle program on the simulated kernel, producing oracle.c's
 * output lines. The process first gets what the real oracle process already
 * has: fds 0-2 (stdin/out/err), oracle.c's buffer, and a mapping right at
 * the top of the mmap area standing in for the shared libraries (so a first
 * mapping cannot grow upwards in place, as in the real process).
 */
function* translate(c: Ctx, text: string, out: string[]): Gen<void> {
  const R: number[] = [];
  const M: number[] = [];
  // Process image.
  const stdio = yield* c.sys('open', `${DIR}/${PREFIX}.stdio`, 0o102);
  assert.equal(stdio, 0);
  yield* c.sys('dup', stdio);
  yield* c.sys('dup', stdio);
  const libs = yield* c.sys('mmap', 0, 4096, 1, 0x21 /* MAP_SHARED|MAP_ANONYMOUS: never merges */, -1, 0);
  assert.ok(libs > 0, `libs: ${libs}`);
  const buf = yield* c.sys('mmap', SCRATCH, SCRATCH_LEN, 3, 0x32 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED */, -1, 0);
  assert.equal(buf, SCRATCH);

  const num = (s: string): number => {
    if (s[0] === 'r') return R[parseInt(s.slice(1), 10)] ?? 0;
    if (s[0] === 'm') {
      const plus = s.indexOf('+');
      return (M[parseInt(s.slice(1), 10)] ?? 0) + (plus >= 0 ? strtol(s.slice(plus + 1)) : 0);
    }
    return strtol(s);
  };
  const checksum = function* (addr: number, len: number): Gen<number> {
    const bytes = yield* c.load(addr, len);
    assert.ok(Array.isArray(bytes), `checksum read at ${addr.toString(16)}: ${bytes}`);
    return fnv1a32(bytes);
  };

  let idx = 0;
  for (const raw of text.split('\n')) {
    let t = raw.split(/[ \t]+/).filter((x) => x.length > 0).slice(0, 16);
    if (t.length === 0 || t[0]![0] === '#') continue;
    let storeR = -1;
    let storeM = -1;
    if (t.length > 2 && t[1] === '=') {
      if (t[0]![0] === 'r') storeR = parseInt(t[0]!.slice(1), 10);
      else storeM = parseInt(t[0]!.slice(1), 10);
      t = t.slice(2);
    }
    const op = t[0]!;
    let ret: number;
    let ck: number | null = null;
    switch (op) {
      case 'open': ret = yield* c.sys('open', t[1]!, int32(num(t[2]!))); break;
      case 'close': ret = yield* c.sys('close', int32(num(t[1]!))); break;
      case 'dup': ret = yield* c.sys('dup', int32(num(t[1]!))); break;
      case 'fsync': ret = yield* c.sys('fsync', int32(num(t[1]!))); break;
      case 'ftruncate': ret = yield* c.sys('ftruncate', int32(num(t[1]!)), num(t[2]!)); break;
      case 'truncate': ret = yield* c.sys('truncate', t[1]!, num(t[2]!)); break;
      case 'fallocate': ret = yield* c.sys('fallocate', int32(num(t[1]!)), int32(num(t[2]!)), num(t[3]!), num(t[4]!)); break;
      case 'lseek': ret = yield* c.sys('lseek', int32(num(t[1]!)), num(t[2]!), int32(num(t[3]!))); break;
      case 'mmap':
        ret = yield* c.sys('mmap', num(t[1]!), num(t[2]!), int32(num(t[3]!)), int32(num(t[4]!)), int32(num(t[5]!)), num(t[6]!));
        if (ret >= 0 && storeM >= 0) M[storeM] = ret;
        storeM = -1;
        break;
      case 'mremap':
        ret = yield* c.sys('mremap', num(t[1]!), num(t[2]!), num(t[3]!), int32(num(t[4]!)), t.length > 5 ? num(t[5]!) : 0);
        if (ret >= 0 && storeM >= 0) M[storeM] = ret;
        storeM = -1;
        break;
      case 'munmap': ret = yield* c.sys('munmap', num(t[1]!), num(t[2]!)); break;
      case 'mprotect': ret = yield* c.sys('mprotect', num(t[1]!), num(t[2]!), int32(num(t[3]!))); break;
      case 'madvise': ret = yield* c.sys('madvise', num(t[1]!), num(t[2]!), int32(num(t[3]!))); break;
      case 'msync': ret = yield* c.sys('msync', num(t[1]!), num(t[2]!), int32(num(t[3]!))); break;
      case 'write':
      case 'pwrite': {
        const len = num(t[3]!);
        assert.ok(len >= 0 && len <= SCRATCH_LEN, `${op} length ${len} does not fit the scratch buffer`);
        if (len > 0) assert.equal(yield* c.sys('mem_write', SCRATCH, len, int32(num(t[2]!))), len);
        ret = op === 'write'
          ? yield* c.sys('write', int32(num(t[1]!)), SCRATCH, len)
          : yield* c.sys('pwrite64', int32(num(t[1]!)), SCRATCH, len, num(t[4]!));
        break;
      }
      case 'writev': {
        const iov: [number, number][] = [];
        for (let i = 3; i + 1 < t.length && iov.length < 8; i += 2) iov.push([num(t[i]!), num(t[i + 1]!)]);
        const off = num(t[2]!);
        ret = off < 0 ? yield* c.sys('writev', int32(num(t[1]!)), iov) : yield* c.sys('pwritev', int32(num(t[1]!)), iov, off);
        break;
      }
      case 'read':
      case 'pread': {
        const len = num(t[2]!);
        assert.ok(len >= 0 && len <= SCRATCH_LEN, `${op} length ${len} does not fit the scratch buffer`);
        ret = op === 'read'
          ? yield* c.sys('read', int32(num(t[1]!)), SCRATCH, len)
          : yield* c.sys('pread64', int32(num(t[1]!)), SCRATCH, len, num(t[3]!));
        if (ret > 0) ck = yield* checksum(SCRATCH, ret);
        break;
      }
      case 'mem_read': {
        const bytes = yield* c.load(num(t[1]!), num(t[2]!));
        if (Array.isArray(bytes)) {
          ret = 0;
          ck = fnv1a32(bytes);
        } else ret = bytes;
        break;
      }
      case 'mem_write': {
        const r = yield* c.sys('mem_write', num(t[1]!), num(t[2]!), int32(num(t[3]!)));
        ret = r >= 0 ? 0 : r;
        break;
      }
      default:
        throw new Error(`unknown op ${op}`);
    }
    const sig = resultSignal(ret);
    let line: string;
    if (sig) line = `${idx} ${op} signal=${SIGNAL_NAMES[sig] ?? sig}`;
    else {
      if (storeR >= 0) R[storeR] = ret < 0 ? -1 : ret;
      const shown = ret < 0 ? -1 : op === 'mmap' || op === 'mremap' ? 0 : ret;
      line = `${idx} ${op} ret=${shown} errno=${ret < 0 ? -ret : 0}`;
      if (ck !== null) line += ` ck=${ck.toString(16).padStart(8, '0')}`;
    }
    out.push(line);
    idx++;
  }
}

function runSim(text: string): { lines: string[]; titles: string[]; outcome: string } {
  const lines: string[] = [];
  const o = runKernel(1, (k: Kernel) => {
    // The simulator has no mkdir(2); the kernel's own mkdir builds /dev/shm/o.
    (k as unknown as { mkdir(path: string): unknown }).mkdir(DIR);
    proc(k, 'oracle', (c) => translate(c, text, lines));
  });
  return { lines, titles: titles(o), outcome: o.r.outcome };
}

// --------------------------------------------------------------------- tests

test('the translator computes FNV-1a 32 and strtol as oracle.c does', () => {
  assert.equal(fnv1a32([]), 0x811c9dc5);
  assert.equal(fnv1a32([0x61]), 0xe40c292c);
  assert.equal(fnv1a32([...'foobar'].map((ch) => ch.charCodeAt(0))), 0xbf9cf968);
  assert.deepEqual(['66', '0x100022', '-1', '010', '12abc', '-0x10'].map(strtol), [66, 0x100022, -1, 8, 12, -16]);
});

for (const [name, program] of Object.entries(PROGRAMS)) {
  test(`oracle: program '${name}' answers call by call as real Linux does`, (t) => {
    const text = withPrefix(program);
    // The simulated side runs even without the oracle: it must finish with every invariant holding.
    const sim = runSim(text);
    assert.equal(sim.outcome, 'completed', `simulation: ${sim.outcome} ${sim.titles.join('; ')}`);
    assert.deepEqual(sim.titles, [], 'no report or invariant violation in the simulation');
    if (oracleBin === null) {
      t.skip(skipReason);
      return;
    }
    cleanShm();
    let real: string[];
    try {
      real = runReal(text);
    } finally {
      cleanShm();
    }
    if (process.env.ORACLE_DUMP) for (let i = 0; i < real.length; i++) console.log(`${real[i]}\t| ${sim.lines[i]}`);
    const calls = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).map((l) => l.trim());
    const diffs: string[] = [];
    for (let i = 0; i < Math.max(real.length, sim.lines.length); i++) {
      if (real[i] !== sim.lines[i]) diffs.push(`  ${calls[i] ?? '?'}\n    linux: ${real[i] ?? '(none)'}\n    sim:   ${sim.lines[i] ?? '(none)'}`);
    }
    assert.equal(real.length, calls.length, 'the oracle ran every line');
    assert.deepEqual(diffs, [], `${name}: the simulated kernel differs from Linux:\n${diffs.join('\n')}`);
  });
}
