// The virtiofs server (virtiofsd): a simulated userspace task that reads
// requests from the connection, serves them against its own backing store --
// the host's files, separate from the guest's page cache -- and writes the
// replies. Each request takes a latency drawn from the configured model;
// during a stall window the server neither picks requests up nor replies;
// each request may fail with EIO at the configured rate. Latency draws come
// from the run's latency stream, failures from its fault stream (only while
// fault injection is on, i.e. not in the liveness phase).
//
// The server is one thread serving one request at a time, in queue order.
// With nothing queued it sleeps interruptibly on the input queue: no timer,
// and (as a daemon task) it never keeps a run alive.

import { ascending, Stream, TaskState, type Gen, type Task } from '../../../sim/index.js';
import type { Kernel } from '../../kernel.js';
import { PAGE_SIZE, pageOffset, PageImages, copyBytes, pageBuffer, pageCopy, slabBytes } from '../../page.js';
import { EEXIST, EIO, ENOENT, ENOSYS } from '../../errno.js';
import { FuseOpcode, ReqState, type FuseConn, type FuseReq, type FuseServerHooks } from './dev.js';
import { stallEndNs, type FuseLatency, type FuseStall } from './options.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE } from '../shmem.js';

/** One file of the server's export: size and sparse page-sized chunks. */
export class FuseNode {
  /** Chunk index -> 4 KiB of data; an absent chunk reads as zeroes. Shared images are never written in place. */
  readonly chunks = new Map<number, Uint8Array>();
  constructor(readonly nodeid: number, readonly path: string, public size: number) {}
}

/** Immutable chunk images shared by every mount of the victim files (copied before a write). */
const IMAGES = new PageImages();

/** The exp model's tail is cut at this many means, so one request cannot stall a run by chance. */
const EXP_TAIL_MAX = 20;
/** Resolution of the exponential draw. */
const EXP_STEPS = 1 << 20;

export class FuseServer implements FuseServerHooks {
  /** The export: path -> node, in creation order. */
  readonly nodes = new Map<string, FuseNode>();
  private readonly byId = new Map<number, FuseNode>();
  private nextNodeid = 2; // 1 is FUSE_ROOT_ID
  private nextFh = 1;
  task: Task | null = null;
  /** Requests served and failed by injection. */
  served = 0;
  failed = 0;

  constructor(
    private readonly k: Kernel,
    private readonly conn: () => FuseConn,
    readonly latency: FuseLatency,
    readonly stalls: readonly FuseStall[],
    readonly errorRate: number,
  ) {}

  /** FuseServerHooks.start: spawn the daemon task (a method, not a closure per mount: see sim/arrays.ts). */
  start(): Task {
    return (this.task = this.k.sim.spawn('virtiofsd', (t) => this.run(t), { daemon: true }));
  }

  // ------------------------------------------------------------- the export

  /** A file present in the export before the mount (the victims): data in the store only. */
  addFile(path: string, size: number, byteAt: (off: number) => number): FuseNode {
    const n = this.create(path);
    n.size = size;
    for (let idx = 0; idx * PAGE_SIZE < size; idx++) n.chunks.set(idx, IMAGES.get(path, idx, byteAt));
    return n;
  }

  private create(path: string): FuseNode {
    const n = new FuseNode(this.nextNodeid++, path, 0);
    this.nodes.set(path, n);
    this.byId.set(n.nodeid, n);
    return n;
  }

  node(nodeid: number): FuseNode | undefined {
    return this.byId.get(nodeid);
  }

  /** The store's page `idx` of a file, or null where it holds zeroes (a hole, or no such file), for checkers: no copy. */
  pageImage(path: string, idx: number): Uint8Array | null {
    return this.nodes.get(path)?.chunks.get(idx) ?? null;
  }

  /** The store's bytes [off, off + len) of a file (zeroes past its end), for tests and checkers. */
  read(path: string, off: number, len: number): Uint8Array {
    const n = this.nodes.get(path);
    const out = new Uint8Array(len);
    if (n !== undefined) readInto(n, off, Math.max(0, Math.min(len, n.size - off)), out);
    return out;
  }

  // ------------------------------------------------------------ the daemon

  /** The server's main loop (virtiofsd's request thread). */
  *run(t: Task): Gen<void> {
    const conn = this.conn();
    for (;;) {
      const req = conn.devRead(t);
      if (req === null) {
        // Nothing to do: sleep until a request is queued (no timer).
        yield* conn.waitq.waitEvent(() => conn.pending.length > 0, TaskState.Interruptible);
        continue;
      }
      yield* this.delay(t);
      const data = this.serve(req);
      conn.devWrite(t, req, data);
    }
  }

  /** Wait out a stall (if one is on), the request's latency, and a stall that began meanwhile. */
  private *delay(t: Task): Gen<void> {
    const sim = this.k.sim;
    const stalled = stallEndNs(this.stalls, sim.nowNs);
    if (stalled > sim.nowNs) {
      sim.event(t, 'fuse:server stalled', Math.round((stalled - sim.nowNs) / 1e6));
      yield* sim.sleepNs(stalled - sim.nowNs);
    }
    const ns = this.drawLatency();
    if (ns > 0) yield* sim.sleepNs(ns);
    const again = stallEndNs(this.stalls, sim.nowNs);
    if (again > sim.nowNs) {
      sim.event(t, 'fuse:server stalled', Math.round((again - sim.nowNs) / 1e6));
      yield* sim.sleepNs(again - sim.nowNs);
    }
  }

  private drawLatency(): number {
    const l = this.latency;
    const sim = this.k.sim;
    switch (l.kind) {
      case 'fixed':
        return l.ns;
      case 'uniform':
        return l.hiNs === l.loNs ? l.loNs : l.loNs + sim.randInt(Stream.Latency, l.hiNs - l.loNs + 1);
      case 'exp': {
        // Inverse transform of a uniform draw; Math.log is deterministic.
        const u = sim.randInt(Stream.Latency, EXP_STEPS) / EXP_STEPS;
        return Math.round(Math.min(-l.meanNs * Math.log(1 - u), EXP_TAIL_MAX * l.meanNs));
      }
    }
  }

  /** Serve one request against the store; sets the reply fields. Returns a READ's data. */
  private serve(req: FuseReq): Uint8Array | null {
    if (req.state !== ReqState.Sent) throw new Error('fuse server: serving a request it has not read');
    this.served++;
    const k = this.k;
    if (this.errorRate > 0 && k.sim.faultsEnabled && k.sim.chance(Stream.Fault, this.errorRate)) {
      // The host's syscall failed: nothing changed in the store.
      this.failed++;
      k.cov.hit(`fuse:server-eio-${req.opName}`);
      req.error = -EIO;
      return null;
    }
    const n = this.byId.get(req.nodeid);
    switch (req.opcode) {
      case FuseOpcode.LOOKUP: {
        const m = this.nodes.get(req.name);
        if (m === undefined) {
          req.error = -ENOENT;
          return null;
        }
        req.outNodeid = m.nodeid;
        req.outAttrSize = m.size;
        return null;
      }
      case FuseOpcode.CREATE: {
        if (this.nodes.has(req.name)) {
          req.error = -EEXIST;
          return null;
        }
        req.outNodeid = this.create(req.name).nodeid;
        req.outFh = this.nextFh++;
        return null;
      }
      case FuseOpcode.OPEN:
        if (n === undefined) break;
        req.outFh = this.nextFh++;
        return null;
      case FuseOpcode.READ: {
        if (n === undefined) break;
        const count = Math.max(0, Math.min(req.size, n.size - req.offset));
        const out = slabBytes(count);
        readInto(n, req.offset, count, out);
        req.outSize = count;
        return out;
      }
      case FuseOpcode.WRITE: {
        if (n === undefined) break;
        writeFrom(n, req.offset, req.data!);
        if (req.offset + req.size > n.size) n.size = req.offset + req.size;
        req.outSize = req.size;
        return null;
      }
      case FuseOpcode.SETATTR:
        if (n === undefined) break;
        truncateNode(n, req.offset);
        return null;
      case FuseOpcode.FALLOCATE:
        if (n === undefined) break;
        fallocateNode(n, req.mode, req.offset, req.size);
        return null;
      case FuseOpcode.FSYNC:
      case FuseOpcode.FLUSH:
      case FuseOpcode.RELEASE:
        if (n === undefined) break;
        return null;
      default:
        req.error = -ENOSYS;
        return null;
    }
    req.error = -ENOENT; // a stale node id
    return null;
  }
}

/** A chunk to write into: private to this node (shared images are copied first). */
function ownChunk(n: FuseNode, idx: number): Uint8Array {
  let c = n.chunks.get(idx);
  // Slab buffers (page.ts), not an off-heap array per chunk.
  if (c === undefined) n.chunks.set(idx, (c = pageBuffer()));
  else if (IMAGES.isShared(c)) n.chunks.set(idx, (c = pageCopy(c)));
  return c;
}

function readInto(n: FuseNode, off: number, len: number, out: Uint8Array): void {
  let at = 0;
  while (at < len) {
    const p = off + at;
    const idx = Math.floor(p / PAGE_SIZE);
    const o = pageOffset(p);
    const m = Math.min(PAGE_SIZE - o, len - at);
    const c = n.chunks.get(idx);
    if (c !== undefined) copyBytes(out, at, c, o, m);
    at += m;
  }
}

function writeFrom(n: FuseNode, off: number, data: Uint8Array): void {
  let at = 0;
  while (at < data.length) {
    const p = off + at;
    const idx = Math.floor(p / PAGE_SIZE);
    const o = pageOffset(p);
    const m = Math.min(PAGE_SIZE - o, data.length - at);
    copyBytes(ownChunk(n, idx), o, data, at, m);
    at += m;
  }
}

/** Zero [from, to) of the node's data (within its chunks). */
function zeroRange(n: FuseNode, from: number, to: number): void {
  for (const idx of [...n.chunks.keys()].sort(ascending)) {
    const lo = Math.max(from, idx * PAGE_SIZE);
    const hi = Math.min(to, (idx + 1) * PAGE_SIZE);
    if (lo >= hi) continue;
    if (lo === idx * PAGE_SIZE && hi === (idx + 1) * PAGE_SIZE) n.chunks.delete(idx);
    else ownChunk(n, idx).fill(0, lo - idx * PAGE_SIZE, hi - idx * PAGE_SIZE);
  }
}

/** ftruncate on the host file. */
function truncateNode(n: FuseNode, size: number): void {
  if (size < n.size) zeroRange(n, size, n.size);
  n.size = size;
}

/** fallocate(2) on the host file: the modes FUSE forwards. */
function fallocateNode(n: FuseNode, mode: number, off: number, len: number): void {
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    zeroRange(n, off, Math.min(off + len, n.size));
    return;
  }
  if (mode & FALLOC_FL_ZERO_RANGE) zeroRange(n, off, Math.min(off + len, n.size));
  if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > n.size) n.size = off + len;
}
