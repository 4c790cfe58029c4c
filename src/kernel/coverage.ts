// kcov-style coverage: cheap integer cover points keyed by a site name.
// The set of names hit is what the fuzzer compares. Each hit is also counted
// in its context: the system call the hitting task is in (or the kernel
// thread's name), as kcov collects coverage per call -- a shmem fault taken
// by write() copying its buffer is not the same stepping stone as one taken
// by a store.
//
// Site and context names are code constants (a few hundred sites, a few
// dozen syscalls and kernel threads), so their ids are assigned once per
// process, in registries shared by every kernel, and each kernel only counts
// hits by id: no Map per kernel, and sites() walks the registry's name order
// instead of sorting the names of every run. The registries hold names only,
// no simulation state. The ids are this process's own (a worker thread has
// its own registries): what leaves a process is names, or hashes of them
// (the fuzzer's signal), so the order kernels first met the names in
// changes nothing.

import type { Sim } from '../sim/index.js';

class Registry {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  /** Every id, in name order; rebuilt when a name has been registered since (rare after warm-up). */
  private byName: number[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  idsByName(): number[] {
    const names = this.names;
    if (this.byName.length !== names.length) {
      // Array.prototype.sort's default order (UTF-16 code units), as sites() always returned.
      this.byName = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
    }
    return this.byName;
  }
}

const SITES = new Registry();
const CONTEXTS = new Registry();
/** A (site, context) pair is site * CONTEXTS_MAX + context. */
const CONTEXTS_MAX = 1024;
/** The name of each pair met so far (built once, not per run). */
const PAIR_NAMES = new Map<number, string>();

/** The id of a cover point, for Coverage.hitSite: a call site that names a constant point looks it up once. */
export function coverSite(name: string): number {
  return SITES.id(name);
}

export class Coverage {
  /** Hits by site id (ids beyond the end: none). */
  private readonly counts: number[] = [];
  /** (site, context) pairs hit. */
  private readonly pairs = new Set<number>();
  /** The context of the last hit and its id. */
  private ctxName: string | null = null;
  private ctxId = -1;

  constructor(private readonly sim: Sim | null = null) {}

  hit(site: string): void {
    this.hitSite(SITES.id(site));
  }

  /** A hit of a cover point by its id from coverSite (no lookup of its name). */
  hitSite(id: number): void {
    const c = this.counts;
    while (c.length <= id) c.push(0);
    c[id]!++;
    const t = this.sim?.current;
    if (t == null) return;
    // A user task outside a call has its own name as opName: call it "user".
    const ctx = t.opNameId >= 0 ? t.opName : t.daemon ? t.name : 'user';
    // Hits come in runs from one context: look its id up when it changes.
    if (ctx !== this.ctxName) {
      this.ctxName = ctx;
      this.ctxId = CONTEXTS.id(ctx);
      if (this.ctxId >= CONTEXTS_MAX) throw new Error(`coverage: more than ${CONTEXTS_MAX} contexts`);
    }
    this.pairs.add(id * CONTEXTS_MAX + this.ctxId);
  }

  /** Ids of the cover points hit, in the order of their names (see coverSiteName). */
  siteIds(): number[] {
    const out: number[] = [];
    const c = this.counts;
    const ids = SITES.idsByName();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < c.length && c[id]! > 0) out.push(id);
    }
    return out;
  }

  /** Names of the cover points hit, sorted. */
  sites(): string[] {
    return coverSiteNames(this.siteIds());
  }

  /** Ids of the (site, context) pairs hit, in first-hit order (see coverPairName). */
  pairIds(): number[] {
    return Array.from(this.pairs);
  }

  /** "site@context" for every cover point hit, by context (system call or kernel thread), in first-hit order. */
  sitesInContext(): string[] {
    return coverPairNames(this.pairIds());
  }
}

/** The name of a cover point by id (Coverage.siteIds). */
export function coverSiteName(id: number): string {
  return SITES.names[id]!;
}

/** The names of cover points by id (Coverage.siteIds). */
export function coverSiteNames(ids: readonly number[]): string[] {
  const out = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = SITES.names[ids[i]!]!;
  return out;
}

/** The name of a (site, context) pair by id (Coverage.pairIds): "site@context". */
export function coverPairName(p: number): string {
  let name = PAIR_NAMES.get(p);
  if (name === undefined) PAIR_NAMES.set(p, (name = `${SITES.names[Math.floor(p / CONTEXTS_MAX)]!}@${CONTEXTS.names[p % CONTEXTS_MAX]!}`));
  return name;
}

/** coverPairName of each id. */
export function coverPairNames(ids: readonly number[]): string[] {
  const out = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = coverPairName(ids[i]!);
  return out;
}
