// Lock-order feedback. In a real kernel lockdep's dependency graph lives as
// long as the boot: a fuzzer that runs thousands of programs in one VM gets a
// cycle report when the last of its edges appears, whichever program added
// the others (and syzkaller then rebuilds a reproducer from the programs in
// the log). Here every execution boots a fresh kernel, so the fuzzer keeps
// the session's graph itself: each dependency class A -> class B with the
// program that first recorded it. When a new dependency closes a cycle
// through dependencies of earlier programs, the contributing programs'
// processes are composed into one program and run: if the cycle is real,
// lockdep reports it within that single run, and the composed program is a
// self-contained reproducer like any other.

import { hammers } from './generate.js';
import { graftProcs } from './mutate.js';
import type { Program, Proc } from './program.js';

/** Composition gives up on cycles longer than this (each hop brings a process). */
const MAX_CYCLE = 4;
/**
 * Compositions of one cycle, at most: the first, from the programs that
 * first recorded its dependencies, then one each time another program
 * records one of them, with that program in its place. An edge's first
 * recorder may have needed a schedule or an environment the composition
 * does not give it (spf-v2 on catalog-1: eight processes whose cycle never
 * showed in forty runs), and the cycle was then lost for the session.
 */
const MAX_COMPOSITIONS = 4;

export class LockOrderGraph {
  /**
   * Dependencies in the order first seen, each with the first program
   * that recorded it and the latest. Whole programs are composed, not the
   * recording process: an edge's context can live in another process (the
   * mapping reclaim unmaps).
   */
  private readonly edges = new Map<string, { readonly first: Program; latest: Program }>();
  private readonly adj = new Map<string, string[]>();
  /** Cycles composed (their sorted dependencies) that may be composed again, with how often they were. */
  private readonly open = new Map<string, { readonly deps: readonly string[]; compositions: number }>();
  /** The open cycles through each dependency. */
  private readonly cyclesOf = new Map<string, string[]>();
  /** Cycles reported, or composed MAX_COMPOSITIONS times: never composed again. */
  private readonly done = new Set<string>();
  /** The cycle each composed program is for (reported). */
  private readonly cycleOf = new WeakMap<Program, string>();

  get size(): number {
    return this.edges.size;
  }

  /**
   * Record the dependencies of one run of `program`; returns a program for
   * each new cycle they close through dependencies of other programs, and
   * for each open cycle one of whose dependencies this program records too
   * (another program than the last to record it).
   */
  add(program: Program, deps: readonly string[]): Program[] {
    const out: Program[] = [];
    for (const dep of deps) {
      const recorded = this.edges.get(dep);
      if (recorded !== undefined) {
        if (recorded.latest === program) continue;
        recorded.latest = program;
        // A copy: a composition may close its cycle, which takes it out of the list.
        for (const key of [...(this.cyclesOf.get(dep) ?? [])]) {
          const c = this.open.get(key);
          if (c === undefined) continue;
          // This program in the dependency's place, the latest recorders elsewhere.
          const parts = c.deps.map((d) => (d === dep ? program : this.edges.get(d)!.latest));
          if (parts.every((x) => x === program)) continue;
          out.push(this.composed(key, parts));
        }
        continue;
      }
      const arrow = dep.indexOf(' -> ');
      const from = dep.slice(0, arrow);
      const to = dep.slice(arrow + 4);
      this.edges.set(dep, { first: program, latest: program });
      let succ = this.adj.get(from);
      if (succ === undefined) this.adj.set(from, (succ = []));
      succ.push(to);
      const path = this.path(to, from);
      if (path === null) continue;
      const cycle = [...path, dep];
      const key = [...cycle].sort().join('\n');
      if (this.done.has(key) || this.open.has(key)) continue;
      const parts = cycle.map((d) => this.edges.get(d)!.first);
      // A cycle one program closes by itself is lockdep's business in that run.
      if (parts.every((c) => c === program)) continue;
      this.open.set(key, { deps: cycle, compositions: 0 });
      for (const d of cycle) {
        let ks = this.cyclesOf.get(d);
        if (ks === undefined) this.cyclesOf.set(d, (ks = []));
        ks.push(key);
      }
      out.push(this.composed(key, parts));
    }
    return out;
  }

  /** A composed program reported: its cycle is never composed again. */
  reported(composed: Program): void {
    const key = this.cycleOf.get(composed);
    if (key !== undefined) this.close(key);
  }

  private composed(key: string, parts: readonly Program[]): Program {
    const c = this.open.get(key)!;
    if (++c.compositions >= MAX_COMPOSITIONS) this.close(key);
    const p = compose(parts);
    this.cycleOf.set(p, key);
    return p;
  }

  private close(key: string): void {
    const c = this.open.get(key);
    if (c === undefined) return;
    this.open.delete(key);
    this.done.add(key);
    for (const d of c.deps) {
      const ks = this.cyclesOf.get(d)!;
      ks.splice(ks.indexOf(key), 1);
    }
  }

  /** Shortest dependency path from `from` to `to` (as dependency strings), at most MAX_CYCLE - 1 long. */
  private path(from: string, to: string): string[] | null {
    if (from === to) return [];
    const prev = new Map<string, string>([[from, '']]);
    let frontier = [from];
    for (let depth = 0; depth < MAX_CYCLE - 1 && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const n of frontier) {
        for (const s of this.adj.get(n) ?? []) {
          if (prev.has(s)) continue;
          prev.set(s, n);
          if (s === to) {
            const deps: string[] = [];
            for (let x = s; x !== from; x = prev.get(x)!) deps.unshift(`${prev.get(x)!} -> ${x}`);
            return deps;
          }
          next.push(s);
        }
      }
      frontier = next;
    }
    return null;
  }
}

/**
 * One program from the processes of the contributing programs (each once), in the
 * environment they ran in: the smallest memory budget among them (reclaim
 * may be what one of them needed), any kernel thread one of them had, the
 * first contributor's other options and the budgets of a hammering one.
 */
function compose(parts: readonly Program[]): Program {
  return composeProcs([...new Set(parts)].map((program) => ({ program, procs: program.procs })));
}

/**
 * One program from chosen processes of other programs, in the environment
 * they ran in (as compose's). A process is self-contained (its results are
 * its own); a pid argument still names a process by its index in the new
 * program.
 */
export function composeProcs(parts: readonly { program: Program; procs: readonly Proc[] }[]): Program {
  const grafts: (readonly Proc[])[] = [];
  const options: Record<string, string> = {};
  for (const { program: c, procs } of parts) {
    grafts.push(procs);
    for (const [k, v] of Object.entries(c.header.options)) {
      if (k === 'memoryPages') options[k] = options[k] === undefined ? v : String(Math.min(Number(options[k]), Number(v)));
      else if ((k === 'kswapd' || k === 'flusher' || k === 'khugepaged') && v === '1') options[k] = v;
      else options[k] ??= v;
    }
  }
  const first = parts[0]!.program.header;
  const program = graftProcs({ header: { ...first, schedule: undefined, options }, procs: [] }, grafts.flat());
  // Budgets belong to hammering programs; keep them only if the composition hammers.
  if (!hammers(program)) {
    delete options.maxSteps;
    delete options.livenessSteps;
  }
  return program;
}
