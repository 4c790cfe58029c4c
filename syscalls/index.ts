// Every syscall and pseudo-call description, by name.

import type { SyscallDesc } from './types.js';
import { open } from './open.js';
import { close } from './close.js';
import { dup } from './dup.js';
import { read } from './read.js';
import { pread64 } from './pread64.js';
import { readv } from './readv.js';
import { write } from './write.js';
import { pwrite64 } from './pwrite64.js';
import { writev } from './writev.js';
import { pwritev } from './pwritev.js';
import { lseek } from './lseek.js';
import { fsync } from './fsync.js';
import { mmap } from './mmap.js';
import { munmap } from './munmap.js';
import { mremap } from './mremap.js';
import { mprotect } from './mprotect.js';
import { madvise } from './madvise.js';
import { msync } from './msync.js';
import { fallocate } from './fallocate.js';
import { truncate } from './truncate.js';
import { ftruncate } from './ftruncate.js';
import { mem_read } from './mem_read.js';
import { mem_write } from './mem_write.js';
import { proc_read } from './proc_read.js';
import { fork } from './fork.js';

export const SYSCALL_DESCS: readonly SyscallDesc[] = [
  open, close, dup, read, pread64, readv, write, pwrite64, writev, pwritev, lseek, fsync,
  mmap, munmap, mremap, mprotect, madvise, msync, fallocate, truncate, ftruncate,
  mem_read, mem_write, proc_read, fork,
];

export const DESC_BY_NAME: ReadonlyMap<string, SyscallDesc> = new Map(SYSCALL_DESCS.map((d) => [d.name, d]));

export * from './types.js';
export * from './flags.js';
