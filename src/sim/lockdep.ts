// lockdep: the kernel's lock-dependency validator, on lock *classes*.
//
// Every acquisition of B while the task holds A adds the edge A -> B to a
// global graph (as check_prevs_add: from the nearest held lock, and from any
// trylocks above it). A new edge is checked at once for a path back (a
// circular dependency) so an inversion is reported the first time it is
// *seen*, in a run that never deadlocks. Read acquisitions follow the modern
// rules (Documentation/locking/lockdep-design.rst, "strong" dependency paths):
// an edge is typed by how the older lock is held (Exclusive / Shared) and how
// the newer one is taken (Recursive reader / Non-recursive); a cycle counts
// only if no two adjacent edges form -(*R)-> -(S*)->. rw_semaphore readers are
// non-recursive (read = 1); rwlock/RCU-style readers are recursive (read = 2).

import type { Task } from './task.js';
import { removeAt } from './arrays.js';

export class LockClass {
  constructor(readonly id: number, readonly name: string) {}
}

/** 0 = write/exclusive, 1 = non-recursive read (rwsem), 2 = recursive read. */
export type ReadMode = 0 | 1 | 2;

export interface HeldLock {
  readonly cls: LockClass;
  readonly subclass: number;
  readonly node: number;
  readonly read: ReadMode;
  readonly trylock: boolean;
  readonly lock: object;
  readonly where: string;
}

interface Edge {
  readonly from: number;
  readonly to: number;
  types: number;
  /** Who first took the dependency, and with which kernel stack (joined only for a report). */
  readonly task: Task;
  readonly fromWhere: string;
  readonly toWhere: string;
  readonly stack: readonly string[];
}

/** How lockdep tells the simulator what it found. */
export interface LockdepSink {
  lockdepReport(title: string, details: string): void;
}

const MAX_SUBCLASSES = 8;
// Edge type bits: index = (prev held shared ? 2 : 0) + (next taken recursive-read ? 1 : 0).
const T_EN = 0, T_ER = 1, T_SN = 2, T_SR = 3;
const TYPE_NAMES = ['EN', 'ER', 'SN', 'SR'];

export class Lockdep {
  private readonly classes: LockClass[] = [];
  private readonly byName = new Map<string, LockClass>();
  private readonly edges = new Map<number, Edge>();
  private readonly adj: number[][] = [];
  /** Like debug_locks: lockdep turns itself off after its first report. */
  enabled = true;
  /** Dependencies recorded (for stats and tests). */
  edgeCount = 0;

  constructor(private readonly sink: LockdepSink) {}

  /**
   * The class for a lock kind; all locks of one kind share it (e.g. every
   * mmap_lock). Locks of one name can have different keys, as Linux's
   * lockdep_set_class gives each filesystem type its own i_rwsem class
   * (sb->s_type->i_mutex_key): a class is its key, and as in Linux's
   * reports (name_version) the second class of a name prints as `name#2`,
   * the third as `name#3`.
   */
  classFor(name: string, key: string = name): LockClass {
    let c = this.byName.get(key);
    if (c === undefined) {
      const version = (this.nameVersions.get(name) ?? 0) + 1;
      this.nameVersions.set(name, version);
      c = new LockClass(this.classes.length, version === 1 ? name : `${name}#${version}`);
      this.classes.push(c);
      this.byName.set(key, c);
    }
    return c;
  }

  /** Classes registered under each name so far. */
  private readonly nameVersions = new Map<string, number>();

  private nodeName(node: number): string {
    const c = this.classes[Math.floor(node / MAX_SUBCLASSES)]!;
    const sub = node % MAX_SUBCLASSES;
    return sub === 0 ? c.name : `${c.name}/${sub}`;
  }

  /**
   * Record an acquisition (before any waiting, as the kernel's lock_acquire):
   * checks recursion, adds dependencies, pushes the held lock.
   */
  acquire(t: Task, cls: LockClass, subclass: number, read: ReadMode, trylock: boolean, lock: object): void {
    if (subclass < 0 || subclass >= MAX_SUBCLASSES) throw new Error(`lockdep: bad subclass ${subclass}`);
    const node = cls.id * MAX_SUBCLASSES + subclass;
    const where = t.where();
    this.checkDeps(t, node, read, trylock, where);
    t.held.push({ cls, subclass, node, read, trylock, lock, where });
  }

  /**
   * An acquisition released at once (might_lock, might_fault, the
   * fs_reclaim annotation of an allocation): exactly acquire() then
   * release() of a lock nobody else can hold, without the held-lock entry
   * that would be pushed and popped again.
   */
  acquireRelease(t: Task, cls: LockClass, subclass: number, read: ReadMode): void {
    if (subclass < 0 || subclass >= MAX_SUBCLASSES) throw new Error(`lockdep: bad subclass ${subclass}`);
    this.checkDeps(t, cls.id * MAX_SUBCLASSES + subclass, read, false, t.where());
  }

  /** An acquisition's checks against the held locks: recursion, then the new dependencies. */
  private checkDeps(t: Task, node: number, read: ReadMode, trylock: boolean, where: string): void {
    const held = t.held;
    if (this.enabled && !trylock && held.length > 0) {
      // check_deadlock: the same class (and subclass) already held.
      for (let i = held.length - 1; i >= 0; i--) {
        const h = held[i]!;
        // Read-after-read of one class is allowed only for recursive readers.
        if (h.node === node && !(read === 2 && h.read !== 0)) {
          this.reportRecursion(t, h, node, read, where);
          break;
        }
      }
      // check_prevs_add: from the nearest held lock, and from trylocks above it.
      for (let i = held.length - 1; i >= 0 && this.enabled; i--) {
        const h = held[i]!;
        if (h.node !== node) this.addEdge(t, h, node, read, where);
        if (!h.trylock) break;
      }
    }
  }

  /** Release `lock`; a release of a lock the task does not hold is reported. */
  release(t: Task, lock: object, cls: LockClass): void {
    const held = t.held;
    // Locks are nearly always released innermost first: pop, not splice.
    const top = held.length - 1;
    if (top >= 0 && held[top]!.lock === lock) {
      held.pop();
      return;
    }
    for (let i = top - 1; i >= 0; i--) {
      if (held[i]!.lock === lock) {
        removeAt(held, i);
        return;
      }
    }
    if (!this.enabled) return;
    this.enabled = false;
    this.sink.lockdepReport(
      `bad unlock balance detected: ${cls.name}`,
      [
        '=====================================',
        'WARNING: bad unlock balance detected!',
        '-------------------------------------',
        `${t} is trying to release lock (${cls.name}) at: ${t.where()}`,
        'but there are no more locks to release!',
        '',
        heldLocksText(t),
      ].join('\n'),
    );
  }

  /** lockdep_sys_exit: returning to user space with a lock held. */
  checkUserReturn(t: Task): void {
    if (!this.enabled || t.held.length === 0) return;
    this.enabled = false;
    const h = t.held[t.held.length - 1]!;
    this.sink.lockdepReport(
      `lock held when returning to user space: ${h.cls.name}`,
      [
        '================================================',
        'WARNING: lock held when returning to user space!',
        '------------------------------------------------',
        `${t} is leaving the kernel with locks still held!`,
        heldLocksText(t),
      ].join('\n'),
    );
  }

  private addEdge(t: Task, prev: HeldLock, next: number, read: ReadMode, where: string): void {
    const type = (prev.read !== 0 ? 2 : 0) + (read === 2 ? 1 : 0);
    const key = prev.node * 65536 + next;
    let e = this.edges.get(key);
    if (e !== undefined && (e.types & (1 << type)) !== 0) return;
    if (e === undefined) {
      // Every run relearns its dependencies: keep the stack as a copy of its
      // frames and build the strings only if a report prints them.
      e = { from: prev.node, to: next, types: 0, task: t, fromWhere: prev.where, toWhere: where, stack: t.stack.slice() };
      this.edges.set(key, e);
      (this.adj[prev.node] ??= []).push(next);
      this.edgeCount++;
    }
    e.types |= 1 << type;
    const path = this.findStrongPath(next, prev.node, type);
    if (path !== null) this.reportCycle(t, prev, next, where, path);
  }

  /**
   * Breadth-first search for a strong path from `from` to `to` that closes a
   * strong cycle with the new edge (to -> from) of type `newType`.
   * Returns the path as a list of edges, or null.
   */
  private findStrongPath(from: number, to: number, newType: number): Edge[] | null {
    if (from === to) return [];
    // State = node * 2 + (last edge ended in a recursive read ? 1 : 0).
    const startR = newType & 1;
    const start = from * 2 + startR;
    const b = bfs.begin(this.classes.length * MAX_SUBCLASSES * 2);
    try {
      b.visit(start, -1, null);
      for (let qi = 0; qi < b.queued; qi++) {
        const s = b.queue[qi]!;
        const node = s >> 1;
        const lastR = s & 1;
        const outs = this.adj[node];
        if (outs === undefined) continue;
        for (const nx of outs) {
          const e = this.edges.get(node * 65536 + nx)!;
          for (let ty = 0; ty < 4; ty++) {
            if ((e.types & (1 << ty)) === 0) continue;
            if (lastR && ty >= T_SN) continue; // -(*R)-> -(S*)-> is not strong
            const ns = nx * 2 + (ty & 1);
            if (b.seen(ns)) continue;
            b.visit(ns, s, e);
            if (nx === to && !((ty & 1) && newType >= T_SN)) {
              const path: Edge[] = [];
              for (let cur = ns; cur !== start; cur = b.parent[cur]!) path.push(b.via[cur]!);
              return path.reverse();
            }
          }
        }
      }
      return null;
    } finally {
      b.end();
    }
  }

  private reportCycle(t: Task, prev: HeldLock, next: number, where: string, path: Edge[]): void {
    this.enabled = false;
    const names = new Set<string>();
    names.add(prev.cls.name);
    names.add(this.classes[Math.floor(next / MAX_SUBCLASSES)]!.name);
    for (const e of path) {
      names.add(this.classes[Math.floor(e.from / MAX_SUBCLASSES)]!.name);
      names.add(this.classes[Math.floor(e.to / MAX_SUBCLASSES)]!.name);
    }
    const sorted = [...names].sort();
    const lines = [
      '======================================================',
      'WARNING: possible circular locking dependency detected',
      '------------------------------------------------------',
      `${t} is trying to acquire lock:`,
      ` (${this.nodeName(next)}), at: ${where}`,
      '',
      'but task is already holding lock:',
      ` (${this.nodeName(prev.node)}), at: ${prev.where}`,
      '',
      'which lock already depends on the new lock.',
      '',
      'the existing dependency chain (in reverse order) is:',
    ];
    // Chain: new edge's target back to the held lock, printed newest first as the kernel does.
    const chain = [...path].reverse();
    let n = chain.length;
    for (const e of chain) {
      lines.push('', `-> #${n--} (${this.nodeName(e.to)}){${edgeTypes(e.types)}}:`);
      lines.push(`       first taken after ${this.nodeName(e.from)} by ${e.task} at: ${e.toWhere}`);
      lines.push(`       ${e.stack.join(' <- ') || '(no kernel frames)'}`);
    }
    lines.push('', `-> #0 (${this.nodeName(next)}):`, `       ${t.stack.join(' <- ') || '(no kernel frames)'}`);
    lines.push('', 'other info that might help us debug this:', '', heldLocksText(t));
    this.sink.lockdepReport(`possible circular locking dependency: ${sorted.join(', ')}`, lines.join('\n'));
  }

  private reportRecursion(t: Task, h: HeldLock, node: number, read: ReadMode, where: string): void {
    this.enabled = false;
    this.sink.lockdepReport(
      `possible recursive locking detected: ${h.cls.name}`,
      [
        '============================================',
        'WARNING: possible recursive locking detected',
        '--------------------------------------------',
        `${t} is trying to acquire lock:`,
        ` (${this.nodeName(node)}){${read ? 'read' : 'write'}}, at: ${where}`,
        '',
        'but task is already holding lock:',
        ` (${this.nodeName(h.node)}){${h.read ? 'read' : 'write'}}, at: ${h.where}`,
        '',
        '*** DEADLOCK ***',
        '',
        heldLocksText(t),
      ].join('\n'),
    );
  }

  /** Every recorded dependency, as "A -> B" lines, in the order first seen (fuzzer signal, tests). */
  dependencies(): string[] {
    const out: string[] = [];
    for (const e of this.edges.values()) out.push(`${this.nodeName(e.from)} -> ${this.nodeName(e.to)}`);
    return out;
  }
}

/**
 * Scratch of the strong-path search, run at every new dependency: parent
 * state and edge by state, a visit stamp, and the queue, reused instead of
 * two Maps per search. One search at a time (it never yields); end() drops
 * the edge references so no finished run stays reachable.
 */
class BfsScratch {
  private sweep = 0;
  stamp = new Uint32Array(256);
  parent = new Int32Array(256);
  via: (Edge | undefined)[] = new Array<Edge | undefined>(256).fill(undefined);
  queue = new Int32Array(256);
  queued = 0;

  begin(states: number): this {
    if (states > this.stamp.length) {
      let n = this.stamp.length;
      while (n < states) n *= 2;
      this.stamp = new Uint32Array(n);
      this.parent = new Int32Array(n);
      this.via = new Array<Edge | undefined>(n).fill(undefined);
      this.queue = new Int32Array(n);
      this.sweep = 0;
    }
    this.sweep = (this.sweep + 1) >>> 0;
    if (this.sweep === 0) {
      this.stamp.fill(0);
      this.sweep = 1;
    }
    this.queued = 0;
    return this;
  }

  seen(state: number): boolean {
    return this.stamp[state] === this.sweep;
  }

  visit(state: number, parent: number, via: Edge | null): void {
    this.stamp[state] = this.sweep;
    this.parent[state] = parent;
    if (via !== null) this.via[state] = via;
    this.queue[this.queued++] = state;
  }

  end(): void {
    for (let i = 0; i < this.queued; i++) this.via[this.queue[i]!] = undefined;
    this.queued = 0;
  }
}

const bfs = new BfsScratch();

function edgeTypes(mask: number): string {
  const out: string[] = [];
  for (let i = 0; i < 4; i++) if (mask & (1 << i)) out.push(TYPE_NAMES[i]!);
  return out.join(',');
}

export function heldLocksText(t: Task): string {
  if (t.held.length === 0) return `no locks held by ${t}.`;
  const lines = [`${t.held.length} lock${t.held.length > 1 ? 's' : ''} held by ${t}:`];
  t.held.forEach((h, i) => {
    const sub = h.subclass ? `/${h.subclass}` : '';
    lines.push(` #${i}: (${h.cls.name}${sub}){${h.read === 0 ? 'write' : h.read === 1 ? 'read' : 'recursive-read'}}, at: ${h.where}`);
  });
  return lines.join('\n');
}

export { T_EN, T_ER, T_SN, T_SR };
