// User-memory access: the CPU's loads and stores (mem_read/mem_write) and the
// kernel's copy_{from,to}_user, both through the same fault path.

import type { Gen, MaybeGen, Task } from '../../sim/index.js';
import type { Kernel, Process } from '../kernel.js';
import { PAGE_SIZE, pageOffset, copyBytes, type Page } from '../page.js';
import { doUserAddrFault, FAULT_OK, FAULT_SIGBUS, FAULT_OOM } from './fault.js';
import { PROT_READ, PROT_WRITE, TASK_SIZE, type MM } from './vma.js';
import { SIGBUS, SIGKILL, SIGSEGV, signalResult } from '../errno.js';

/**
 * might_fault(): lockdep records a read acquisition of mmap_lock at every
 * user copy that may fault, whether or not it does, so lock orders such as
 * i_rwsem -> mmap_lock are seen on every write(), not only on unlucky ones.
 */
function mightFault(k: Kernel, t: Task, mm: MM): void {
  k.sim.lockdep.acquireRelease(t, mm.mmapLock.cls, 0, 1);
}

/** The page mapped at addr with the needed access, or null (a fault is needed). */
function presentPage(mm: MM, addr: number, write: boolean): Page | null {
  const pte = mm.pt.get(Math.floor(addr / PAGE_SIZE));
  if (pte === undefined || (write && !pte.writable)) return null;
  const vma = mm.vmaAt(addr);
  if (vma === null || !(vma.prot & (write ? PROT_WRITE : PROT_READ | PROT_WRITE))) return null;
  pte.young = true; // the CPU sets the accessed bit
  return pte.page;
}

function signalFor(fault: number): number {
  return fault === FAULT_SIGBUS ? SIGBUS : fault === FAULT_OOM ? SIGKILL : SIGSEGV;
}

/**
 * A CPU access of `len` bytes at `addr`, page by page. For a read, `out`
 * receives the bytes; for a write, each byte is set to `value`. Returns
 * bytes accessed, or signalResult(SIGSEGV/SIGBUS); a generator only if a
 * page needs a fault (see MaybeGen).
 */
export function userAccess(k: Kernel, t: Task, p: Process, addr: number, len: number, write: boolean, value: number, out: number[] | null): MaybeGen {
  if (addr < 0 || addr + len > TASK_SIZE) return signalResult(SIGSEGV);
  const done = accessPresent(p.mm, addr, len, 0, write, value, out);
  return done === len ? done : userAccessFaulting(k, t, p, addr, len, done, write, value, out);
}

/** userAccess from `done` on, through present pages only; returns where it stopped. */
function accessPresent(mm: MM, addr: number, len: number, done: number, write: boolean, value: number, out: number[] | null): number {
  while (done < len) {
    const a = addr + done;
    const page = presentPage(mm, a, write);
    if (page === null) break;
    const off = pageOffset(a);
    const n = Math.min(PAGE_SIZE - off, len - done);
    if (write) {
      page.bytes().fill(value & 0xff, off, off + n);
      if (!page.anon) page.dirty = true;
    } else if (out !== null) {
      for (let i = 0; i < n; i++) out.push(page.byte(off + i));
    }
    done += n;
  }
  return done;
}

/** The rest of userAccess from the first page that needs a fault. */
function* userAccessFaulting(k: Kernel, t: Task, p: Process, addr: number, len: number, done: number, write: boolean, value: number, out: number[] | null): Gen<number> {
  while (done < len) {
    const a = addr + done;
    for (let tries = 0; presentPage(p.mm, a, write) === null; tries++) {
      // After VM_FAULT_NOPAGE the CPU simply retries the access; returning to
      // user space is a preemption point. The liveness monitor bounds this.
      if (tries > 0) yield;
      const f = yield* doUserAddrFault(k, t, p.mm, a, write, true);
      if (f !== FAULT_OK) return signalResult(signalFor(f));
    }
    // presentPage found the page and set its accessed bit; so does accessPresent again.
    done = accessPresent(p.mm, addr, len, done, write, value, out);
  }
  return done;
}

/**
 * copy_to_user: copy `len` bytes of `src` from `srcOff` on to user memory,
 * faulting as needed. Returns the number of bytes NOT copied (0 on
 * success), as the kernel's does; a generator only if a page needs a fault.
 * The bytes are read from `src` as the copy goes, as copy_page_to_iter
 * reads the page: a fault in the middle may see later bytes change.
 */
export function copyToUser(k: Kernel, t: Task, p: Process, addr: number, src: Uint8Array, srcOff: number, len: number): MaybeGen {
  if (addr < 0 || addr + len > TASK_SIZE) return len;
  mightFault(k, t, p.mm);
  const done = copyPresent(p.mm, addr, src, srcOff, 0, len);
  return done === len ? 0 : copyToUserFaulting(k, t, p, addr, src, srcOff, done, len);
}

/** copy_to_user from `done` on, into present writable pages only; returns where it stopped. */
function copyPresent(mm: MM, addr: number, src: Uint8Array, srcOff: number, done: number, len: number): number {
  while (done < len) {
    const a = addr + done;
    const page = presentPage(mm, a, true);
    if (page === null) break;
    const off = pageOffset(a);
    const n = Math.min(PAGE_SIZE - off, len - done);
    copyBytes(page.bytes(), off, src, srcOff + done, n);
    if (!page.anon) page.dirty = true;
    done += n;
  }
  return done;
}

/** The rest of copyToUser from the first page that needs a fault. */
function* copyToUserFaulting(k: Kernel, t: Task, p: Process, addr: number, src: Uint8Array, srcOff: number, done: number, len: number): Gen<number> {
  while (done < len) {
    const f = yield* doUserAddrFault(k, t, p.mm, addr + done, true, false);
    if (f !== FAULT_OK) return len - done;
    // Re-check: the PTE may be gone again.
    done = copyPresent(p.mm, addr, src, srcOff, done, len);
  }
  return 0;
}

/**
 * fault_in_readable: fault in the source of a copy_from_user ahead of time
 * (with no page locks held). Returns the number of bytes that could NOT be
 * faulted in; a generator only if a page needs a fault.
 */
export function faultInReadable(k: Kernel, t: Task, p: Process, addr: number, len: number): MaybeGen {
  if (addr < 0 || addr + len > TASK_SIZE) return len;
  mightFault(k, t, p.mm);
  const d = t.enter('fault_in_readable');
  const done = readablePresent(p.mm, addr, 0, len);
  if (done < len) return faultInReadableFaulting(k, t, p, addr, done, len, d);
  t.leave(d);
  return 0;
}

/** fault_in_readable from `done` on, over present pages only; returns where it stopped. */
function readablePresent(mm: MM, addr: number, done: number, len: number): number {
  while (done < len) {
    const a = addr + done;
    if (presentPage(mm, a, false) === null) break;
    done += Math.min(PAGE_SIZE - pageOffset(a), len - done);
  }
  return done;
}

/** The rest of faultInReadable from the first page that needs a fault; leaves frame `d`. */
function* faultInReadableFaulting(k: Kernel, t: Task, p: Process, addr: number, done: number, len: number, d: number): Gen<number> {
  while (done < len) {
    const a = addr + done;
    const f = yield* doUserAddrFault(k, t, p.mm, a, false, false);
    if (f !== FAULT_OK) break;
    // A fault that succeeded counts the page, as the loop always has, without looking again.
    done = readablePresent(p.mm, addr, done + Math.min(PAGE_SIZE - pageOffset(a), len - done), len);
  }
  t.leave(d);
  return len - done;
}

/**
 * copy_from_user with page faults disabled (copy_page_from_iter_atomic):
 * copies only from present PTEs, never sleeps. Returns the bytes copied.
 */
export function copyFromUserAtomic(p: Process, addr: number, dst: Uint8Array, dstOff: number, len: number): number {
  let done = 0;
  while (done < len) {
    const a = addr + done;
    const off = pageOffset(a);
    const n = Math.min(PAGE_SIZE - off, len - done);
    const page = presentPage(p.mm, a, false);
    if (page === null) break;
    if (page.data === null) dst.fill(0, dstOff + done, dstOff + done + n);
    else copyBytes(dst, dstOff + done, page.data, off, n);
    done += n;
  }
  return done;
}

/** access_ok: the range lies in user space. */
export function accessOk(addr: number, len: number): boolean {
  return addr >= 0 && len >= 0 && addr + len <= TASK_SIZE;
}

