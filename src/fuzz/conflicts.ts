// Conflicting call pairs of a program, for race-directed hammering.
//
// A starvation or livelock bug needs one task to keep doing something while
// another task's operation on the same object is in progress: a hole punch
// that faulters keep refilling (BUGS.md D), a truncate racing map-ahead (E1).
// Trinity meets such pairs by running for hours; a fuzzer that hammers one
// random call of a random program meets them about never. This module reads
// a program's dataflow (which fd names which file, which mapping shows
// which file pages) and lists the pairs of calls in *different* tasks that
// can meet on one file's pages: a page killer (punch, collapse, zero or
// insert range, truncate, MADV_REMOVE: the calls that take pages out of the
// page cache) and a user (a fault or a read, which brings them back), whose
// reaches overlap -- or would, once a punch or zero range is moved and
// stretched over the user's pages (stretched). The fuzzer hammers the user
// of such a pair and reruns the killer while it loops (hammerPair), after
// making the race as wide as either side: the punch stretched, the user's
// mapping lengthened to the end of the punch, and a memory access widened
// over all the pages of its mapping that the killer takes (raceOf), and
// allocating those pages first so that none lies past EOF,
// steering toward accesses that can meet rather than at random, as Krace's
// alias coverage and syzkaller's collide mode do.
//
// Users that take i_rwsem (allocating fallocate, a write's file range) are
// serialized against every killer, which takes it too: only faults (memory
// accesses, a read's or a write's user buffer in a file mapping), reads and
// readahead race with a killer (see WRITES).
//
// The analysis reads the program's text and, when given one, the results of
// a run of it: a call that failed or was killed there (EBADF, EOPNOTSUPP,
// SIGBUS beyond EOF, SIGSEGV on a read-only mapping) reaches nothing. It is
// still approximate: read()/write() at the file position are taken to start
// at offset 0, and processes started by fork are not followed. It only
// chooses what to try; the kernel decides what happens.

import { DESC_BY_NAME } from '../../syscalls/index.js';
import type { Rng } from '../sim/index.js';
import { HAMMER_RERUN } from './generate.js';
import { composeProcs } from './lockorder.js';
import { drawIndex, pushSum } from './weighted.js';
import { refsOf, validate, type Arg, type Call, type Proc, type Program } from './program.js';

const PS = 4096;
/** The end of a range that runs to EOF (truncate, collapse, insert). */
const TO_EOF = Number.POSITIVE_INFINITY;
/** A pair's weight stops growing past this many shared pages. */
const MAX_WEIGHT = 32;

const FALLOC_FL_PUNCH_HOLE = 0x2;
const FALLOC_FL_COLLAPSE_RANGE = 0x8;
const FALLOC_FL_ZERO_RANGE = 0x10;
const FALLOC_FL_INSERT_RANGE = 0x20;
const MADV_WILLNEED = 3;
const MAP_SHARED = 0x1;
/**
 * Writes. Their file range is reached under i_rwsem, which truncate,
 * fallocate and MADV_REMOVE hold too: no race there. Their user buffer is
 * a fault, a user like any other: write() copies it while it holds the
 * target file's i_rwsem, so a buffer in a mapping of a file being punched
 * faults with one inode's lock held into the other's punch (BUGS.md D1).
 * Hammered writes are throttled at dirty_ratio (balance_dirty_pages in
 * fs/writeback.ts), as hammered stores into shared mappings are.
 */
const WRITES: ReadonlySet<string> = new Set(['write', 'pwrite64', 'writev', 'pwritev']);
/**
 * Users a race may move and widen inside their mapping: an address and the
 * length after it (a memory access, a write's buffer), rewritten by
 * hammerPair.
 */
const MOVABLE: ReadonlySet<string> = new Set(['mem_read', 'mem_write', 'write', 'pwrite64']);
/** Memory accesses: (addr, len, ...). */
const ACCESSES: ReadonlySet<string> = new Set(['mem_read', 'mem_write']);
const MAP_ANONYMOUS = 0x20;
const O_RDWR = 2;
const O_CREAT = 0o100;
const MADV_REMOVE = 9;

/** Where a call sits in a program. */
export interface CallPos {
  readonly proc: number;
  readonly thread: number;
  readonly index: number;
}

/** A call's reach into a file's pages [first, end). A killer takes pages out of the page cache; a user brings them in or reads them. */
export interface Footprint extends CallPos {
  readonly path: string;
  readonly first: number;
  readonly end: number;
  readonly killer: boolean;
  /**
   * A memory access's mapping: the file pages [first, end) it shows. A
   * race may widen the access to all of them that its killer reaches
   * (widened).
   */
  readonly window?: { readonly first: number; readonly end: number };
  /** A fallocate's range: a race may move and stretch it over the pages its user reaches (stretched). */
  readonly stretchable?: boolean;
  /** A fallocate's range starts and ends on page boundaries: it takes every page it reaches, none only in part. */
  readonly aligned?: boolean;
}

/** A killer and a user in different tasks that can meet on pages of one file (raceOf). */
export interface Conflict {
  readonly killer: CallPos;
  readonly user: CallPos;
  readonly path: string;
  /** Pages both reach (capped): the wider the overlap, the longer the killer works in it and the likelier the other meets it. */
  readonly weight: number;
  /** The user widened to the pages of its mapping the killer reaches, if that is more than it reached (widened). */
  readonly widen: Widening | null;
  /** The killer stretched over the pages the user reaches, if that is more than it took (stretched). */
  readonly stretch: Stretch | null;
  /** The user's mapping (an mmap) lengthened to this many bytes, to reach the end of the killer's range (raceOf). */
  readonly extend: number | null;
  /** The file's bytes both sides meet on (raceOf): hammerPair allocates them first, so that none lies past EOF. */
  readonly meet: Stretch;
}

/** A fallocate's range moved and stretched: its offset and length in bytes. */
export interface Stretch {
  readonly off: number;
  readonly len: number;
}

/** A memory access moved and stretched inside its mapping: its address's offset from the mapping's start, and its length. */
export interface Widening {
  readonly add: number;
  readonly len: number;
}

interface MapInfo {
  readonly path: string;
  /** The mmap's fd argument, the process's name for the file. */
  readonly fd: Arg;
  readonly pgoff: number;
  readonly pages: number;
  readonly shared: boolean;
}

const intOf = (a: Arg | undefined): number | null => (a !== undefined && a.kind === 'int' ? a.value : null);
const pagesOf = (bytes: number): number => Math.ceil(Math.max(0, bytes) / PS);

/** A run's outcome of each call: only calls that returned (>= 0) reach anything. */
export interface CallOutcome {
  readonly proc: number;
  readonly thread: number;
  readonly index: number;
  readonly ret: number | null;
}

/**
 * What a process's results name: fds (open, dup) their file's path,
 * mappings (mmap of a file, mremap of one) the file pages they show. Only
 * calls `ok` accepts count. Results are per process: threads share them,
 * and definitions are read first, so a use in one thread sees a definition
 * in another.
 */
function resolve(proc: Proc, ok: (ti: number, ci: number) => boolean): { paths: Map<number, string>; maps: Map<number, MapInfo> } {
  const paths = new Map<number, string>();
  const maps = new Map<number, MapInfo>();
  const pathOf = (a: Arg | undefined): string | undefined => (a?.kind === 'res' ? paths.get(a.ref) : undefined);
  for (let pass = 0; pass < 2; pass++) {
    for (let ti = 0; ti < proc.threads.length; ti++) {
      const calls = proc.threads[ti]!.calls;
      for (let ci = 0; ci < calls.length; ci++) {
        const c = calls[ci]!;
        if (c.ret === null || !ok(ti, ci)) continue;
        const a = c.args;
        if (c.name === 'open' && a[0]?.kind === 'str') paths.set(c.ret, a[0].value);
        else if (c.name === 'dup') {
          const path = pathOf(a[0]);
          if (path !== undefined) paths.set(c.ret, path);
        } else if (c.name === 'mmap') {
          const path = pathOf(a[4]);
          const len = intOf(a[1]);
          const off = intOf(a[5]);
          const flags = intOf(a[3]) ?? 0;
          if (path !== undefined && len !== null && off !== null && !(flags & MAP_ANONYMOUS)) maps.set(c.ret, { path, fd: a[4]!, pgoff: Math.floor(off / PS), pages: pagesOf(len), shared: (flags & MAP_SHARED) !== 0 });
        } else if (c.name === 'mremap' && a[0]?.kind === 'res') {
          const m = maps.get(a[0].ref);
          const len = intOf(a[2]);
          if (m !== undefined && len !== null) maps.set(c.ret, { ...m, pages: pagesOf(len) });
        }
      }
    }
  }
  return { paths, maps };
}

/** Every footprint of the program's calls, in program order; with `results`, only of the calls that succeeded in that run. */
export function footprints(p: Program, results?: readonly CallOutcome[]): Footprint[] {
  const out: Footprint[] = [];
  // What each call that succeeded returned.
  let rets: Map<string, number> | null = null;
  if (results !== undefined) {
    rets = new Map();
    for (const r of results) if (r.ret !== null && r.ret >= 0) rets.set(`${r.proc}.${r.thread}.${r.index}`, r.ret);
  }
  const ok = (pi: number, ti: number, ci: number): boolean => rets === null || rets.has(`${pi}.${ti}.${ci}`);
  p.procs.forEach((proc, pi) => {
    const { paths, maps } = resolve(proc, (ti, ci) => ok(pi, ti, ci));
    const pathOf = (a: Arg | undefined): string | undefined => (a?.kind === 'res' ? paths.get(a.ref) : undefined);
    proc.threads.forEach((t, ti) => {
      t.calls.forEach((c, ci) => {
        const d = DESC_BY_NAME.get(c.name);
        if (d === undefined || d.creates === 'mapping' || !ok(pi, ti, ci)) return;
        const at = { proc: pi, thread: ti, index: ci };
        const add = (path: string, first: number, end: number, killer: boolean): void => {
          if (end > first) out.push({ ...at, path, first, end, killer });
        };
        // A write holds its target's i_rwsem while it copies its buffer, as
        // every killer of that file does: a buffer in a mapping of the file
        // written to never meets one.
        const writeTarget = WRITES.has(c.name) ? pathOf(c.args[0]) : undefined;
        /** The file pages behind [addr, addr + len) of a mapping, clipped to it. */
        const viaMapping = (addr: Arg | undefined, len: number, killer: boolean, sharedOnly = false): void => {
          if (addr?.kind !== 'res') return;
          const m = maps.get(addr.ref);
          if (m === undefined || (sharedOnly && !m.shared) || m.path === writeTarget) return;
          const lo = Math.max(0, Math.floor(addr.add / PS));
          const hi = Math.min(m.pages, pagesOf(addr.add + len));
          if (hi <= lo) return;
          const fp: Footprint = { ...at, path: m.path, first: m.pgoff + lo, end: m.pgoff + hi, killer };
          // Only a memory access or a write's buffer can be moved anywhere in its mapping.
          out.push(MOVABLE.has(c.name) ? { ...fp, window: { first: m.pgoff, end: m.pgoff + m.pages } } : fp);
        };
        const a = c.args;
        switch (c.name) {
          case 'fallocate': {
            const path = pathOf(a[0]);
            const mode = intOf(a[1]) ?? 0;
            const off = intOf(a[2]) ?? 0;
            const len = intOf(a[3]) ?? 0;
            if (path === undefined) return;
            const first = Math.floor(off / PS);
            if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) add(path, first, TO_EOF, true);
            else if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) && pagesOf(off + len) > first) {
              out.push({ ...at, path, first, end: pagesOf(off + len), killer: true, stretchable: true, aligned: off % PS === 0 && (off + len) % PS === 0 });
            }
            // Allocation holds i_rwsem, as every killer does: no race.
            return;
          }
          case 'ftruncate':
          case 'truncate': {
            const path = c.name === 'truncate' ? (a[0]?.kind === 'str' ? a[0].value : undefined) : pathOf(a[0]);
            const len = intOf(a[1]);
            if (path !== undefined && len !== null) add(path, pagesOf(len), TO_EOF, true);
            return;
          }
          case 'madvise': {
            const advice = intOf(a[2]);
            const len = intOf(a[1]) ?? 0;
            if (advice === MADV_REMOVE) viaMapping(a[0], len, true, true);
            else if (advice === MADV_WILLNEED) viaMapping(a[0], len, false);
            return;
          }
          case 'munmap':
          case 'mprotect':
          case 'msync':
            return;
        }
        // Everything else reaches pages through its arguments: an fd with a
        // position and a length, user memory with a length. A read or a
        // memory access returns how many bytes it moved: no more than that
        // was reached (a 53-page read of a 2-page file reads 2).
        let moved = rets?.get(`${pi}.${ti}.${ci}`) ?? Infinity;
        const take = (l: number): number => {
          const got = Math.min(l, moved);
          moved -= got;
          return got;
        };
        let path: string | undefined;
        let pos: number | null = null;
        let len: number | null = null;
        d.args.forEach((ad, i) => {
          const arg = a[i];
          if (ad.type.t === 'fd') path = pathOf(arg);
          else if (ad.type.t === 'off') pos = intOf(arg);
          else if (ad.type.t === 'iov' && arg?.kind === 'iov') {
            let total = 0;
            for (const s of arg.segs) {
              const l = take(intOf(s.len) ?? 0);
              total += l;
              viaMapping(s.addr, l, false);
            }
            len = total;
          } else if (ad.type.t === 'addr') {
            // Its length is the next len argument.
            const j = d.args.findIndex((x, k) => k > i && x.type.t === 'len');
            const l = j >= 0 ? intOf(a[j]) : null;
            if (l !== null) {
              len = take(l);
              viaMapping(arg, len, false);
            }
          } else if (ad.type.t === 'len' && len === null) len = intOf(arg);
        });
        // A write's file range is reached under i_rwsem, which every killer holds too: only its buffer races.
        if (path !== undefined && len !== null && !WRITES.has(c.name)) {
          const off = pos ?? 0;
          add(path, Math.floor(off / PS), pagesOf(off + len), false);
        }
      });
    });
  });
  return out;
}

/** The program's conflicting pairs, in program order of their first call. */
export function conflicts(p: Program, results?: readonly CallOutcome[]): Conflict[] {
  return pairsOf(footprints(p, results));
}

/** The conflicting pairs among one program's footprints. */
function pairsOf(fps: readonly Footprint[]): Conflict[] {
  const out: Conflict[] = [];
  const pos = (f: Footprint): CallPos => ({ proc: f.proc, thread: f.thread, index: f.index });
  for (let i = 0; i < fps.length; i++) {
    const x = fps[i]!;
    for (let j = i + 1; j < fps.length; j++) {
      const y = fps[j]!;
      // A killer against a user: the user refills what the killer takes out.
      // Two killers race too, but neither keeps the other busy.
      if (x.killer === y.killer || (x.proc === y.proc && x.thread === y.thread)) continue;
      const [k, u] = x.killer ? [x, y] : [y, x];
      const r = raceOf(k, u);
      if (r === null) continue;
      out.push({ killer: pos(k), user: pos(u), path: x.path, weight: pairWeight(r.pages), widen: r.widen, stretch: r.stretch, extend: r.extend, meet: r.meet });
    }
  }
  return out;
}

/** Pages two footprints both reach (0 if they are of different files). */
export function overlap(x: Footprint, y: Footprint): number {
  return x.path === y.path ? Math.max(0, Math.min(x.end, y.end) - Math.max(x.first, y.first)) : 0;
}

/**
 * A memory access stretched over every page of its mapping that the killer
 * reaches, or null if it reaches no more than that already. The corpus
 * keeps what its programs did, mostly one-page stores into mappings of
 * many pages: the run showed the store works there, and the race is the
 * time to make it sweep the killer's range, as a faulter that keeps ahead
 * of a hole punch's cursor must (BUGS.md D). Pages past EOF end an access
 * with SIGBUS after the ones before it; each rerun starts again.
 */
export function widened(k: Footprint, u: Footprint): Widening | null {
  if (u.window === undefined || k.path !== u.path || k.end === TO_EOF) return null;
  const lo = Math.max(k.first, u.window.first);
  const hi = Math.min(k.end, u.window.end);
  if (hi - lo <= overlap(k, u)) return null;
  return { add: (lo - u.window.first) * PS, len: (hi - lo) * PS };
}

/**
 * A punch or zero range stretched over every page the user reaches (all of
 * its mapping, for a memory access), together with the pages it took, or
 * null if it takes them all already. The corpus keeps mostly punches of a
 * page or two at some offset, and stores into other pages of the file: the
 * run showed the punch works on that file, and the race is the time to
 * make it take the pages the user brings back, as the user is widened to
 * the pages the killer takes. A hole punch that a faulter can starve (D)
 * must be wide: each pass over its range meets the faulter again. A range
 * that reaches its pages only in part at an edge is stretched too, to
 * whole pages.
 */
export function stretched(k: Footprint, u: Footprint): Stretch | null {
  if (k.stretchable !== true || k.path !== u.path) return null;
  const reach = u.window ?? u;
  const first = Math.min(k.first, reach.first);
  const end = Math.max(k.end, reach.end);
  // A range that reaches a page only in part zeroes it and takes nothing:
  // a punch of 0x11..0x1012 unmaps no page at all. Stretched, it takes them whole.
  if (first === k.first && end === k.end && k.aligned === true) return null;
  return { off: first * PS, len: (end - first) * PS };
}

/**
 * A user's mapping is lengthened to at most this many pages: as many as a
 * victim file has, and well under the smallest memory budget the swarm
 * draws (24 pages). A hammered store over more pages than memory holds
 * measures thrashing, not the kernel: at 64, a race's 24-page store loop
 * under a 24-page budget starved another task in direct reclaim on the
 * fixed kernel.
 */
const MAX_EXTENDED_PAGES = 16;

/**
 * A killer and a user in a race: the pages they meet on (the overlap, or
 * all the widened user reaches), the killer's stretch, the user's mapping
 * lengthened to the end of the (stretched) killer's range, and the user's
 * widening over it; null if they meet on none. A punch that a faulter
 * starves must be wide and so must the faulter's sweep (of a sixteen-page
 * tmpfs file, a store over 8 pages starves a punch of 16 half the time, one
 * over 4 never): the race takes the wider of the two sides' ranges for both.
 */
function raceOf(k: Footprint, u: Footprint): { pages: number; widen: Widening | null; stretch: Stretch | null; extend: number | null; meet: Stretch } | null {
  const stretch = stretched(k, u);
  const k2 = stretch === null ? k : { ...k, first: stretch.off / PS, end: (stretch.off + stretch.len) / PS };
  let u2 = u;
  let extend: number | null = null;
  const w = u.window;
  if (w !== undefined && k2.path === u.path && k2.end !== TO_EOF) {
    const end = Math.min(k2.end, w.first + MAX_EXTENDED_PAGES);
    if (end > w.end) {
      extend = (end - w.first) * PS;
      u2 = { ...u, window: { first: w.first, end } };
    }
  }
  const widen = widened(k2, u2);
  const pages = widen === null ? overlap(k2, u2) : widen.len / PS;
  if (pages <= 0) return null;
  const first = widen === null ? Math.max(k2.first, u2.first) : u2.window!.first + widen.add / PS;
  return { pages, widen, stretch, extend, meet: { off: first * PS, len: pages * PS } };
}

/** The weight of a pair that overlaps in this many pages. */
export const pairWeight = (pages: number): number => Math.min(MAX_WEIGHT, pages);

/**
 * How likely a killer is drawn against the whole corpus: its pages
 * (capped). A range to EOF (truncate, collapse, insert) takes what lies
 * past its start, which the program's text does not tell: it counts as one
 * page.
 */
export const killerWeight = (fp: Footprint): number => (fp.end === TO_EOF ? 1 : pairWeight(fp.end - fp.first));

/**
 * A killer runs this many times in a race: enough that one run begins
 * while the user loops, whatever the two tasks did before.
 */
export const RACE_KILLER_RERUN = 16;

/**
 * The program with the pair's user hammered (rerun HAMMER_RERUN) and its
 * killer rerun RACE_KILLER_RERUN times. The user is the one that loops, as
 * trinity's children touching their mappings do: a killer it keeps from
 * finishing is a livelock (BUGS.md D, where faulters refill a punched hole
 * forever). A killer looping for the whole run could in turn keep a user
 * from finishing -- a fault or a copy that finds its page gone every time,
 * which says more about the loop than about the kernel: the killer's
 * reruns normally end inside the adversarial phase. Just before the user,
 * the pages the two meet on are allocated (fallocate mode 0, through an fd
 * of the user's process that names the file): the race's widths assume
 * they exist, and a victim of five pages, or a file the corpus program
 * truncated, would end every sweep of a sixteen-page store with SIGBUS.
 */
export function hammerPair(
  p: Program,
  c: {
    readonly killer: CallPos;
    readonly user: CallPos;
    readonly path?: string;
    readonly widen?: Widening | null;
    readonly stretch?: Stretch | null;
    readonly extend?: number | null;
    readonly meet?: Stretch | null;
    /**
     * The user's fault taken under another file's i_rwsem (retargeted): a
     * write writes to the `retarget`-th other file its thread opened before
     * it; a memory access becomes a pwrite64 of the same memory to it.
     */
    readonly retarget?: number | null;
    /** Files a retargeted user may open to write to, besides those its thread opened (the fuzzer's victims). */
    readonly victims?: readonly string[];
  },
): Program {
  const at = (x: CallPos, pi: number, ti: number, ci: number): boolean => x.proc === pi && x.thread === ti && x.index === ci;
  const w = c.widen ?? null;
  const s = c.stretch ?? null;
  // fallocate(fd, mode, offset, len)
  const killer = (call: Call): Call => ({
    ...call,
    args: s === null ? call.args : [call.args[0]!, call.args[1]!, { kind: 'int', value: s.off }, { kind: 'int', value: s.len }],
    props: { ...call.props, rerun: RACE_KILLER_RERUN },
  });
  const userCall = p.procs[c.user.proc]?.threads[c.user.thread]?.calls[c.user.index];
  // Where its address and length are: (addr, len, ...) for a memory access, (fd, buf, count, ...) for a write.
  const ai = userCall === undefined ? 0 : addrArgOf(userCall.name);
  const picked = userCall === undefined || c.retarget == null || c.path === undefined ? null : retargeted(p, c.user, c.path, c.retarget, c.victims ?? []);
  // A file to open first: its fd is a result no call of the program has.
  let opening: Call | null = null;
  let target: Arg | null = null;
  if (typeof picked === 'string') {
    opening = { name: 'open', args: [{ kind: 'str', value: picked }, { kind: 'int', value: O_RDWR | O_CREAT }], ret: maxRet(p) + 1, props: {} };
    target = { kind: 'res', ref: opening.ret!, add: 0 };
  } else target = picked;
  const user = (call: Call): Call => {
    const addr = call.args[ai];
    let args = w !== null && addr?.kind === 'res' ? call.args.map((a, i) => (i === ai ? { ...addr, add: w.add } : i === ai + 1 ? { kind: 'int' as const, value: w.len } : a)) : call.args;
    const props = { ...call.props, rerun: HAMMER_RERUN };
    if (target !== null && ACCESSES.has(call.name)) {
      // copy_from_user of the same bytes, inside the target's i_rwsem.
      return { name: 'pwrite64', args: [target, args[ai]!, args[ai + 1]!, { kind: 'int', value: 0 }], ret: null, props };
    }
    if (target !== null) args = [target, ...args.slice(1)];
    return { ...call, args, props };
  };
  // The mmap that made the user's mapping (mmap(addr, len, ...)), if it is to be lengthened.
  const addr = userCall?.args[ai];
  const extend = c.extend ?? null;
  const mapRef = extend !== null && addr?.kind === 'res' ? addr.ref : null;
  const extended = (call: Call): Call => ({ ...call, args: [call.args[0]!, { kind: 'int', value: extend! }, ...call.args.slice(2)] });
  // The pages the two meet on, allocated just before the user starts: a
  // page past EOF is one a store gets SIGBUS on and a read returns short
  // of, every run. fallocate mode 0 extends i_size and never shrinks it.
  const meet = c.meet ?? null;
  const fd = meet === null || userCall === undefined || c.path === undefined ? null : fdOfFile(p.procs[c.user.proc]!, userCall, c.path);
  const allocation: Call | null = fd === null ? null : { name: 'fallocate', args: [fd, { kind: 'int', value: 0 }, { kind: 'int', value: meet!.off }, { kind: 'int', value: meet!.len }], ret: null, props: {} };
  // Loops, not map callbacks: functions made per call are compiled again after every full GC (see sim/arrays.ts).
  const procs: Proc[] = [];
  for (let pi = 0; pi < p.procs.length; pi++) {
    const threads: { calls: Call[] }[] = [];
    const pr = p.procs[pi]!;
    for (let ti = 0; ti < pr.threads.length; ti++) {
      const calls: Call[] = [];
      const src = pr.threads[ti]!.calls;
      for (let ci = 0; ci < src.length; ci++) {
        const call = src[ci]!;
        if (at(c.user, pi, ti, ci)) {
          if (allocation !== null) calls.push(allocation);
          if (opening !== null) calls.push(opening);
          calls.push(user(call));
        } else if (at(c.killer, pi, ti, ci)) calls.push(killer(call));
        else if (pi === c.user.proc && mapRef !== null && call.ret === mapRef && call.name === 'mmap') calls.push(extended(call));
        else calls.push(call);
      }
      threads.push({ calls });
    }
    procs.push({ threads });
  }
  return { ...p, procs };
}

/**
 * The lock a write's user buffer faults under is its target's i_rwsem:
 * which file it writes to decides what the fault can meet (another inode
 * of the same filesystem's lock class, one a killer of the buffer's file
 * holds, BUGS.md D1), not which pages it reaches. A write user's race may
 * take its target among the files its thread opened before it other than
 * the buffer's (`path`): the `pick`-th of them, or null if there is no
 * other, or the user is neither a write nor a memory access. A memory
 * access's fault is the same fault as a write's copy of those bytes: with
 * a target it becomes that write (hammerPair), so the corpus's many
 * accesses to a mapping can meet a killer with a lock held, not only its
 * few writes from one.
 */
function retargeted(p: Program, at: CallPos, path: string, pick: number, victims: readonly string[]): Arg | string | null {
  const calls = p.procs[at.proc]!.threads[at.thread]!.calls;
  const name = calls[at.index]!.name;
  if (!WRITES.has(name) && !ACCESSES.has(name)) return null;
  const { paths } = resolve(p.procs[at.proc]!, () => true);
  const current = calls[at.index]!.args[0];
  const currentPath = current?.kind === 'res' && WRITES.has(name) ? paths.get(current.ref) : undefined;
  const fds: Arg[] = [];
  const opened = new Set<string>();
  for (let i = 0; i < at.index; i++) {
    const r = calls[i]!.ret;
    const f = r === null ? undefined : paths.get(r);
    if (f !== undefined && f !== path && !(current?.kind === 'res' && current.ref === r)) {
      fds.push({ kind: 'res', ref: r!, add: 0 });
      opened.add(f);
    }
  }
  // Or a victim the thread has no fd of yet, opened just before the user.
  const fresh = victims.filter((v) => v !== path && v !== currentPath && !opened.has(v));
  const n = fds.length + fresh.length;
  if (n === 0) return null;
  const i = pick % n;
  return i < fds.length ? fds[i]! : fresh[i - fds.length]!;
}

/** The largest result number of the program's calls (-1 if none). */
function maxRet(p: Program): number {
  let m = -1;
  for (const pr of p.procs) for (const t of pr.threads) for (const c of t.calls) if (c.ret !== null) m = Math.max(m, c.ret);
  return m;
}

/**
 * An fd naming `path` that the user call reaches it through: its own fd
 * argument (a read), or the fd its mapping was made from, through mremaps
 * (a memory access, a read's or a write's buffer, an iovec's segment); null
 * if there is none (the file reached through a literal fd).
 */
function fdOfFile(proc: Proc, call: Call, path: string): Arg | null {
  const { paths, maps } = resolve(proc, () => true);
  const viaMapping = (a: Arg): Arg | null => {
    const m = a.kind === 'res' ? maps.get(a.ref) : undefined;
    return m !== undefined && m.path === path ? m.fd : null;
  };
  for (const a of call.args) {
    if (a.kind === 'res' && paths.get(a.ref) === path) return a;
    const m = a.kind === 'iov' ? a.segs.map((x) => viaMapping(x.addr)).find((x) => x !== null) ?? null : viaMapping(a);
    if (m !== null) return m;
  }
  return null;
}

/** The index of a movable user's address argument; its length is the next one. */
function addrArgOf(name: string): number {
  const i = DESC_BY_NAME.get(name)?.args.findIndex((a) => a.type.t === 'addr') ?? -1;
  return i < 0 ? 0 : i;
}

/** Calls that can set a file's size: its fd (or path, for truncate) is the first argument. */
const SIZERS = new Set(['ftruncate', 'truncate', 'fallocate', 'write', 'pwrite64', 'writev', 'pwritev']);

/**
 * A race side on its own: the call at `at` and the calls of its process
 * that made what it uses (the fd, the mapping, the mapping its address was
 * placed by, ...), and the calls before it that may have sized `path`, its
 * file (a truncate, an allocation, a write), with what they use in turn,
 * in program order (thread by thread), as one thread. Everything else the
 * process did goes: another thread's munmap of the mapping, a process that
 * only ate memory, the calls that kept the pair from starting together.
 */
export function sliceOf(p: Program, at: CallPos, path: string): Proc {
  const proc = p.procs[at.proc]!;
  const threads = proc.threads;
  const { paths } = resolve(proc, () => true);
  const order: [number, number][] = [];
  threads.forEach((t, ti) => t.calls.forEach((_, ci) => order.push([ti, ci])));
  const defOf = new Map<number, number>();
  order.forEach(([ti, ci], i) => {
    const r = threads[ti]!.calls[ci]!.ret;
    if (r !== null) defOf.set(r, i);
  });
  const target = order.findIndex(([ti, ci]) => ti === at.thread && ci === at.index);
  const keep = new Set<number>([target]);
  const work = [target];
  for (let i = 0; i < target; i++) {
    const c = threads[order[i]![0]]!.calls[order[i]![1]]!;
    const first = c.args[0];
    const file = c.name === 'truncate' ? (first?.kind === 'str' ? first.value : undefined) : first?.kind === 'res' ? paths.get(first.ref) : undefined;
    const keepsSize = c.name === 'fallocate' && (intOf(c.args[1]) ?? 0) !== 0;
    if (SIZERS.has(c.name) && file === path && !keepsSize) {
      keep.add(i);
      work.push(i);
    }
  }
  while (work.length > 0) {
    const [ti, ci] = order[work.pop()!]!;
    for (const r of refsOf(threads[ti]!.calls[ci]!)) {
      const d = defOf.get(r);
      if (d !== undefined && !keep.has(d)) {
        keep.add(d);
        work.push(d);
      }
    }
  }
  // The target last: a definition it needs that comes later in program order (another thread's) runs before it here.
  const calls = [...keep].filter((i) => i !== target).sort((x, y) => x - y).map((i) => threads[order[i]![0]]!.calls[order[i]![1]]!);
  calls.push(threads[at.thread]!.calls[at.index]!);
  return { threads: [{ calls }] };
}

/**
 * How often a race runs its two sides sliced (sliceOf) rather than with
 * all their processes did: a slice starts the pair at once and alone, the
 * whole keeps what the other calls did to the page cache first.
 */
const SLICE_CHANCE = 0.5;

/** How often a race's write user writes to another file its thread opened (retargeted). */
const RETARGET_CHANCE = 0.5;
/**
 * How often a race's memory access becomes a write of its bytes to another
 * file (retargeted): less often than a write is retargeted, as most of
 * what a hammered access finds (a punch it keeps refilling, pages mapped
 * past EOF) needs no lock around the fault. At 0.25, D1 took up to 10051
 * executions over catalog-0..29 and D up to 5087; at 0.4, 2799 and 7901.
 */
const WRAP_CHANCE = 0.4;

/** The race of a killer and a user, each a call of a corpus program (maybe the same), hammered (hammerPair). */
function race(rng: Rng, table: { victims: readonly string[]; wrap: boolean }, path: string, k: { program: Program; at: CallPos }, u: { program: Program; at: CallPos }, r0: { widen: Widening | null; stretch: Stretch | null; extend: number | null; meet: Stretch }): Program {
  const name = u.program.procs[u.at.proc]?.threads[u.at.thread]?.calls[u.at.index]?.name ?? '';
  const chance = ACCESSES.has(name) ? (table.wrap ? WRAP_CHANCE : 0) : RETARGET_CHANCE;
  const r = { ...r0, victims: table.victims, retarget: rng.chance(chance) ? rng.int(1 << 16) : null };
  if (rng.chance(SLICE_CHANCE)) {
    const sliced = composeProcs([
      { program: k.program, procs: [sliceOf(k.program, k.at, path)] },
      { program: u.program, procs: [sliceOf(u.program, u.at, path)] },
    ]);
    const last = (pi: number): CallPos => ({ proc: pi, thread: 0, index: sliced.procs[pi]!.threads[0]!.calls.length - 1 });
    const p = hammerPair(sliced, { ...r, path, killer: last(0), user: last(1) });
    // A definition another thread made after one it depends on cannot be put in order: the whole program then.
    if (validate(p).length === 0) return p;
  }
  if (k.program === u.program) return hammerPair(k.program, { ...r, path, killer: k.at, user: u.at });
  const composed = composeProcs([
    { program: k.program, procs: [k.program.procs[k.at.proc]!] },
    { program: u.program, procs: [u.program.procs[u.at.proc]!] },
  ]);
  return hammerPair(composed, { ...r, path, killer: { ...k.at, proc: 0 }, user: { ...u.at, proc: 1 } });
}

/** One side of a race: a call's footprint in a corpus program. */
interface RaceSide {
  readonly program: Program;
  readonly fp: Footprint;
}

/**
 * The corpus's page killers and users, for race-directed hammering. Half
 * the draws take a conflicting pair inside one corpus program, in
 * proportion to the square of the pages both reach: that program's run
 * showed both calls succeed on those pages (the file was big enough, the
 * mapping writable), and a wide pair is both longer at work and likelier to
 * meet, so the rare wide pairs are not drowned by the many one-page ones.
 * The other half pair a killer of one program (in proportion to its pages)
 * with a user of the same file pages in another (in proportion to the pages
 * both reach), their two processes composed into one program: pairs no
 * single program has yet.
 */
export class RaceTable {
  private readonly own: { program: Program; conflict: Conflict }[] = [];
  private readonly ownSums: number[] = [];
  private readonly killers: RaceSide[] = [];
  private readonly killerSums: number[] = [];
  private readonly users = new Map<string, RaceSide[]>();

  /**
   * `victims`: the files a retargeted user may open to write to; `wrap`:
   * whether a memory access may become a pwrite64 when retargeted (hammerPair).
   */
  constructor(
    readonly victims: readonly string[] = [],
    readonly wrap = true,
  ) {}

  /** Killers known: nothing can be drawn without one. */
  get killerCount(): number {
    return this.killers.length;
  }

  /** A corpus program and the results of the run that kept it. */
  add(program: Program, results?: readonly CallOutcome[]): void {
    const fps = footprints(program, results);
    for (const conflict of pairsOf(fps)) {
      this.own.push({ program, conflict });
      pushSum(this.ownSums, conflict.weight ** 2);
    }
    for (const fp of fps) {
      if (fp.killer) {
        this.killers.push({ program, fp });
        pushSum(this.killerSums, killerWeight(fp));
      } else {
        let us = this.users.get(fp.path);
        if (us === undefined) this.users.set(fp.path, (us = []));
        us.push({ program, fp });
      }
    }
  }

  /** A program with a drawn pair hammered (hammerPair; in its source's environment), or null if the killer drawn meets no user. */
  draw(rng: Rng): Program | null {
    if (this.killers.length === 0) return null;
    if (this.own.length > 0 && rng.chance(0.5)) {
      const { program, conflict } = this.own[drawIndex(rng, this.ownSums)]!;
      return race(rng, this, conflict.path, { program, at: conflict.killer }, { program, at: conflict.user }, conflict);
    }
    const k = this.killers[drawIndex(rng, this.killerSums)]!;
    const users = this.users.get(k.fp.path) ?? [];
    const sums: number[] = [];
    const races = users.map((u) => (u.program === k.program && u.fp.proc === k.fp.proc && u.fp.thread === k.fp.thread ? null : raceOf(k.fp, u.fp)));
    for (const r of races) pushSum(sums, r === null ? 0 : pairWeight(r.pages));
    if (sums.length === 0 || sums[sums.length - 1] === 0) return null;
    const i = drawIndex(rng, sums);
    const u = users[i]!;
    return race(rng, this, k.fp.path, { program: k.program, at: k.fp }, { program: u.program, at: u.fp }, races[i]!);
  }
}
