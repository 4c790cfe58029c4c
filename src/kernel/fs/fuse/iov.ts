// A small struct iov_iter over user iovecs, for fuse_fill_write_pages: a
// page's worth of bytes may span segments, so faulting in and copying work
// across them, as fault_in_iov_iter_readable and copy_page_from_iter_atomic
// do.

import type { Gen, Task } from '../../../sim/index.js';
import type { Kernel, Process } from '../../kernel.js';
import { copyFromUserAtomic, faultInReadable } from '../../mm/uaccess.js';
import { iovCount } from '../shmem.js';

export type Iovec = readonly (readonly [number, number])[];

export class IovIter {
  private seg = 0;
  private segOff = 0;
  /** iov_iter_count: bytes left. */
  count: number;

  constructor(private readonly iov: Iovec) {
    this.count = iovCount(iov);
  }

  /** Skip exhausted (and empty) segments. */
  private settle(): void {
    while (this.seg < this.iov.length && this.segOff >= this.iov[this.seg]![1]) {
      this.seg++;
      this.segOff = 0;
    }
  }

  /** iov_iter_single_seg_count: bytes left in the current segment. */
  singleSegCount(): number {
    this.settle();
    return this.seg < this.iov.length ? this.iov[this.seg]![1] - this.segOff : 0;
  }

  /**
   * fault_in_iov_iter_readable: fault in the next `bytes` bytes, segment by
   * segment, stopping at the first failure. Returns the bytes NOT faulted in.
   */
  *faultInReadable(k: Kernel, t: Task, p: Process, bytes: number): Gen<number> {
    this.settle();
    let seg = this.seg;
    let off = this.segOff;
    let left = Math.min(bytes, this.count);
    while (left > 0 && seg < this.iov.length) {
      const [addr, len] = this.iov[seg]!;
      const n = Math.min(len - off, left);
      if (n > 0) {
        let missed = faultInReadable(k, t, p, addr + off, n);
        if (typeof missed !== 'number') missed = yield* missed;
        if (missed > 0) return left - (n - missed);
        left -= n;
      }
      seg++;
      off = 0;
    }
    return left;
  }

  /**
   * copy_page_from_iter_atomic: copy up to `bytes` into `dst` at `dstOff`
   * from present PTEs only (page faults disabled), across segments; advance
   * by what was copied and return it.
   */
  copyFromUserAtomic(p: Process, dst: Uint8Array, dstOff: number, bytes: number): number {
    let done = 0;
    bytes = Math.min(bytes, this.count);
    while (done < bytes) {
      this.settle();
      if (this.seg >= this.iov.length) break;
      const [addr, len] = this.iov[this.seg]!;
      const n = Math.min(len - this.segOff, bytes - done);
      const got = copyFromUserAtomic(p, addr + this.segOff, dst, dstOff + done, n);
      done += got;
      this.segOff += got;
      this.count -= got;
      if (got < n) break;
    }
    return done;
  }
}
