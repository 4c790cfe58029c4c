// The FUSE connection (fs/fuse/dev.c): requests, the input queue the server
// reads them from, and the reply path. A synchronous request
// (fuse_simple_request) is queued and its sender sleeps in
// request_wait_answer until the server has replied; a background request
// (fuse_simple_background: readahead, writeback, RELEASE) is queued and its
// `end` callback runs when the reply comes, in the server's context, as
// request_end does.
//
// request_wait_answer, as in Linux: first an interruptible wait (we model
// fatal signals only, so any signal here is SIGKILL); after a signal, a
// killable wait unless the request is forced (FLUSH, RELEASE, writeback);
// after a fatal signal, a request the server has not read yet is taken off
// the queue and fails with -EINTR, while one the server already has must be
// waited for uninterruptibly -- the server will write into its buffers. So a
// killed task behind a stalled server sits in D, as it would under Linux.

import { TaskState, WaitQueue, removeAt, type Gen, type Task } from '../../../sim/index.js';
import type { Kernel } from '../../kernel.js';
import { copyBytes, slabBytes, type Page } from '../../page.js';
import { EINTR } from '../../errno.js';
import { ioWaitCheck } from '../../mm/fault.js';

/** The opcodes we model (include/uapi/linux/fuse.h). */
export const enum FuseOpcode {
  LOOKUP = 1,
  SETATTR = 4,
  OPEN = 14,
  READ = 15,
  WRITE = 16,
  RELEASE = 18,
  FSYNC = 20,
  FLUSH = 25,
  CREATE = 35,
  FALLOCATE = 43,
}

export const FUSE_OPCODE_NAMES: Readonly<Record<number, string>> = {
  1: 'LOOKUP', 4: 'SETATTR', 14: 'OPEN', 15: 'READ', 16: 'WRITE', 18: 'RELEASE', 20: 'FSYNC', 25: 'FLUSH',
  35: 'CREATE', 43: 'FALLOCATE',
};

export const enum ReqState {
  /** On the input queue, not read by the server yet (FR_PENDING). */
  Pending = 0,
  /** Read by the server (FR_SENT): it owns the buffers until it replies. */
  Sent = 1,
  /** Replied, or aborted while pending (FR_FINISHED). */
  Finished = 2,
}

/** struct fuse_req with its fuse_args: one request and, once answered, its reply. */
/**
 * What runs at a background request's reply, in the server's context
 * (args->end). An object with a method rather than an arrow function per
 * request: functions made per call are compiled again after every full GC
 * (see sim/arrays.ts).
 */
export interface FuseReqEnd {
  reqEnd(req: FuseReq): void;
}

export class FuseReq {
  unique = 0;
  state = ReqState.Pending;
  /** The reply's error: 0 or -errno. */
  error = 0;
  /** READ: bytes the server returned; WRITE: bytes it wrote (fuse_write_out.size). */
  outSize = 0;
  /** LOOKUP/CREATE: the node id; OPEN/CREATE: the file handle. */
  outNodeid = 0;
  outFh = 0;
  /** LOOKUP: the file size the server reports. */
  outAttrSize = 0;
  /** WRITE: the bytes the server took from the request's pages when it read the request. */
  data: Uint8Array | null = null;
  /** Who sent it (for traces); null for requests sent from no task. */
  sender: Task | null = null;
  /** Virtual time it was queued. */
  queuedNs = 0;
  waitq: WaitQueue | null = null;

  constructor(
    readonly opcode: FuseOpcode,
    readonly nodeid: number,
    /** READ/WRITE/FALLOCATE: byte offset; SETATTR: the new size. */
    readonly offset: number,
    /** READ/WRITE/FALLOCATE: byte count. */
    readonly size: number,
    /** FALLOCATE: mode; OPEN/CREATE: open flags. */
    readonly mode: number,
    /** LOOKUP/CREATE: the path (the daemon resolves it in its export). */
    readonly name: string,
    /** READ: the page-cache pages the reply fills (page_zeroing); WRITE: the pages the data comes from. */
    readonly pages: readonly Page[] | null,
    /** WRITE from pages: offset of the data in the first page (descs[0].offset) and each page's length. */
    readonly pageOffset: number,
    readonly pageLens: readonly number[] | null,
    /** Forced (args->force): not abandoned on a fatal signal. */
    readonly force: boolean,
    /** Background: `end` runs at the reply, nobody waits. */
    readonly end: FuseReqEnd | null,
  ) {}

  get opName(): string {
    return FUSE_OPCODE_NAMES[this.opcode] ?? `op${this.opcode}`;
  }
}

/** The trace labels of one opcode's request events. */
interface FuseLabels {
  readonly sent: string;
  readonly aborted: string;
  readonly read: string;
  readonly reply: string;
  /** What a sender waits on, for invariant B's report. */
  readonly waitAnswer: string;
}

const FUSE_LABELS = new Map<number, FuseLabels>();

/** A request's trace labels, built once per opcode rather than at every event. */
function labels(req: FuseReq): FuseLabels {
  let l = FUSE_LABELS.get(req.opcode);
  if (l === undefined) {
    const n = req.opName;
    l = { sent: `fuse:${n}`, aborted: `fuse:${n} aborted`, read: `fuse:${n} read by server`, reply: `fuse:${n} reply`, waitAnswer: `a FUSE ${n} request (request_wait_answer)` };
    FUSE_LABELS.set(req.opcode, l);
  }
  return l;
}

/** Bound on queued requests: every sender is a task or a bounded loop, so more is a model bug. */
const PENDING_MAX = 1 << 16;

/** The server side: how a connection hands requests to the daemon and gets replies. */
export interface FuseServerHooks {
  /** Spawn the daemon task (called at the first request, see FuseConn.queue). */
  start(): Task;
}

/**
 * struct fuse_conn with its fuse_iqueue. The daemon task sleeps on `waitq`
 * (fiq->waitq) while `pending` is empty; senders wake it.
 */
export class FuseConn {
  readonly pending: FuseReq[] = [];
  readonly waitq: WaitQueue;
  daemon: Task | null = null;
  private nextUnique = 1;
  /** Negotiated at FUSE_INIT (virtiofs): 128 KiB requests, big writes. */
  readonly maxPages = 32;
  readonly maxWrite = 32 * 4096;
  readonly bigWrites = true;
  /** The server answered ENOSYS once: do not send these again. */
  noFlush = false;
  noFsync = false;
  noFallocate = false;
  /** Requests sent and replies written, for tests and the UI. */
  sent = 0;
  replied = 0;
  /** Virtual time from queueing to reply, summed over replied requests; the deepest the input queue got. */
  latencyNs = 0;
  maxPending = 0;

  constructor(private readonly k: Kernel, private readonly server: FuseServerHooks) {
    this.waitq = new WaitQueue(k.sim, 'fuse_iqueue');
  }

  /**
   * queue_request_and_unlock: put the request on the input queue and wake
   * the server. The daemon task is spawned with the first request, so runs
   * that never touch the mount schedule exactly as before it existed; once
   * started it lives as long as the run (it never keeps a run alive).
   */
  private queue(t: Task | null, req: FuseReq): void {
    if (this.pending.length >= PENDING_MAX) throw new Error('fuse: input queue overflow');
    req.unique = this.nextUnique++;
    req.sender = t;
    this.pending.push(req);
    if (this.pending.length > this.maxPending) this.maxPending = this.pending.length;
    req.queuedNs = this.k.sim.nowNs;
    this.sent++;
    if (this.daemon === null) this.daemon = this.server.start();
    this.k.sim.event(t, labels(req).sent, req.nodeid);
    this.waitq.wakeUp();
  }

  /**
   * fuse_simple_request: send and wait for the reply. Returns the reply's
   * error (0 or -errno); -EINTR if a fatal signal took it off the queue
   * before the server read it.
   */
  *simpleRequest(t: Task, req: FuseReq): Gen<number> {
    const d = t.enter('fuse_simple_request');
    const wq = new WaitQueue(this.k.sim, 'fuse request');
    req.waitq = wq;
    this.queue(t, req);
    // The server answers it: the wait-for graph follows the waiter to the daemon.
    wq.owner = this.daemon;
    wq.ownerWhere = 'the FUSE server';
    ioWaitCheck(this.k, t, labels(req).waitAnswer);
    yield* this.requestWaitAnswer(t, req, wq);
    t.leave(d);
    return req.error;
  }

  private *requestWaitAnswer(t: Task, req: FuseReq, wq: WaitQueue): Gen<void> {
    const d = t.enter('request_wait_answer');
    const done = (): boolean => req.state === ReqState.Finished;
    // Any signal may interrupt this (fc->no_interrupt is not set).
    if ((yield* wq.waitEvent(done, TaskState.Interruptible)) === 0) {
      t.leave(d);
      return;
    }
    // FR_INTERRUPTED: a FUSE_INTERRUPT would be queued for a sent request; virtiofs drops it.
    if (!req.force) {
      // Only fatal signals may interrupt this.
      if ((yield* wq.waitEvent(done, TaskState.Killable)) === 0) {
        t.leave(d);
        return;
      }
      if (req.state === ReqState.Pending) {
        // Not in userspace yet: bail out.
        const i = this.pending.indexOf(req);
        if (i >= 0) removeAt(this.pending, i);
        req.state = ReqState.Finished;
        req.error = -EINTR;
        this.k.cov.hit('fuse:request-aborted');
        this.k.sim.event(t, labels(req).aborted, req.unique);
        t.leave(d);
        return;
      }
    }
    // Either the request is already in userspace, or it was forced: wait it out.
    this.k.cov.hit('fuse:request-wait-it-out');
    yield* wq.waitEvent(done, TaskState.Uninterruptible);
    t.leave(d);
  }

  /** fuse_simple_background: queue it; `req.end` runs when the reply comes. */
  background(t: Task | null, req: FuseReq): void {
    if (req.end === null) throw new Error('fuse: a background request needs an end callback');
    this.queue(t, req);
  }

  // ------------------------------------------------------ the device side

  /**
   * fuse_dev_do_read: the server takes the oldest request. Its in-arguments
   * are copied now (fuse_copy_args): a WRITE's data is what the pages hold
   * at this moment, as with Linux, where the server reads the pages.
   * Returns null if nothing is pending.
   */
  devRead(t: Task): FuseReq | null {
    const req = this.pending.shift();
    if (req === undefined) return null;
    req.state = ReqState.Sent;
    if (req.opcode === FuseOpcode.WRITE && req.pages !== null) req.data = copyFromPages(req.pages, req.pageOffset, req.pageLens!, req.size);
    this.k.sim.event(t, labels(req).read, req.unique);
    return req;
  }

  /**
   * fuse_dev_do_write then request_end: the reply's out-arguments are copied
   * (a READ's data into its pages, zero-filled past what the server
   * returned), the request is finished, its waiter woken, or its `end` run.
   */
  devWrite(t: Task, req: FuseReq, readData: Uint8Array | null): void {
    if (req.state !== ReqState.Sent) throw new Error(`fuse: reply to request ${req.unique} in state ${req.state}`);
    if (req.opcode === FuseOpcode.READ && req.error === 0 && req.pages !== null) {
      copyToPages(req.pages, readData, req.outSize);
    }
    req.state = ReqState.Finished;
    this.replied++;
    this.latencyNs += this.k.sim.nowNs - req.queuedNs;
    this.k.sim.event(t, labels(req).reply, req.error);
    if (req.waitq !== null) req.waitq.wakeUpAll();
    if (req.end !== null) req.end.reqEnd(req);
  }
}

/** The bytes of a WRITE from its pages: `lens[i]` bytes of page i, the first starting at `offset`. */
function copyFromPages(pages: readonly Page[], offset: number, lens: readonly number[], size: number): Uint8Array {
  const out = slabBytes(size);
  let at = 0;
  for (let i = 0; i < pages.length && at < size; i++) {
    const from = i === 0 ? offset : 0;
    const n = Math.min(lens[i]!, size - at);
    const src = pages[i]!.data;
    if (src !== null) copyBytes(out, at, src, from, n);
    at += n;
  }
  return out;
}

/** page_zeroing: each page gets its share of `data` (`count` bytes), zeroes after. */
function copyToPages(pages: readonly Page[], data: Uint8Array | null, count: number): void {
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i]!;
    const from = i * 4096;
    const n = Math.max(0, Math.min(4096, count - from));
    if (n === 0 || data === null) {
      page.zero();
      continue;
    }
    const dst = page.bytes();
    dst.set(data.subarray(from, from + n), 0);
    if (n < 4096) dst.fill(0, n);
  }
}
