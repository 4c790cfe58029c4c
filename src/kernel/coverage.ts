// kcov-style coverage: cheap integer cover points keyed by a site name.
// Ids are assigned per kernel instance in first-hit order; the set of names
// hit is what the fuzzer compares. Each hit is also counted in its context:
// the system call the hitting task is in (or the kernel thread's name), as
// kcov collects coverage per call -- a shmem fault taken by write() copying
// its buffer is not the same stepping stone as one taken by a store.

import type { Sim } from '../sim/index.js';

export class Coverage {
  private readonly ids = new Map<string, number>();
  readonly hits: number[] = [];
  /** Context names by id, and (site id, context id) pairs seen, keyed site * 1024 + context. */
  private readonly ctxIds = new Map<string, number>();
  private readonly ctxNames: string[] = [];
  private readonly pairs = new Set<number>();

  constructor(private readonly sim: Sim | null = null) {}

  hit(site: string): void {
    let id = this.ids.get(site);
    if (id === undefined) {
      id = this.hits.length;
      this.ids.set(site, id);
      this.hits.push(0);
    }
    this.hits[id]!++;
    const t = this.sim?.current;
    if (t == null) return;
    // A user task outside a call has its own name as opName: call it "user".
    const ctx = t.opNameId >= 0 ? t.opName : t.daemon ? t.name : 'user';
    let c = this.ctxIds.get(ctx);
    if (c === undefined) {
      c = this.ctxNames.length;
      this.ctxIds.set(ctx, c);
      this.ctxNames.push(ctx);
    }
    this.pairs.add(id * 1024 + c);
  }

  /** Names of the cover points hit, sorted. */
  sites(): string[] {
    return [...this.ids.keys()].sort();
  }

  /** "site@context" for every cover point hit, by context (system call or kernel thread), sorted. */
  sitesInContext(): string[] {
    const names = [...this.ids.keys()];
    const out: string[] = [];
    for (const p of this.pairs) out.push(`${names[Math.floor(p / 1024)]!}@${this.ctxNames[p % 1024]!}`);
    return out.sort();
  }
}
