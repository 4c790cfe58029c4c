// kcov-style coverage: cheap integer cover points keyed by a site name.
// The set of names hit is what the fuzzer compares.
//
// Site names are code constants (a few hundred at most), so their ids are
// assigned once per process, in a registry shared by every kernel, and each
// kernel only counts hits by id: no Map per kernel, and sites() walks the
// registry's name order instead of sorting the names of every run. The
// registry holds names only, no simulation state; the ids never leave this
// module, so the order kernels first met the names in changes nothing.

const SITE_IDS = new Map<string, number>();
const SITE_NAMES: string[] = [];
/** Every id, in name order; rebuilt when a site has been registered since (rare after warm-up). */
let byName: number[] = [];

function siteId(site: string): number {
  let id = SITE_IDS.get(site);
  if (id === undefined) {
    id = SITE_NAMES.length;
    SITE_NAMES.push(site);
    SITE_IDS.set(site, id);
  }
  return id;
}

function idsByName(): number[] {
  if (byName.length !== SITE_NAMES.length) {
    // Array.prototype.sort's default order (UTF-16 code units), as sites() always returned.
    byName = SITE_NAMES.map((_, i) => i).sort((a, b) => (SITE_NAMES[a]! < SITE_NAMES[b]! ? -1 : SITE_NAMES[a]! > SITE_NAMES[b]! ? 1 : 0));
  }
  return byName;
}

export class Coverage {
  /** Hits by site id (ids beyond the end: none). */
  private readonly counts: number[] = [];

  hit(site: string): void {
    const id = siteId(site);
    const c = this.counts;
    while (c.length <= id) c.push(0);
    c[id]!++;
  }

  /** Names of the cover points hit, sorted. */
  sites(): string[] {
    const out: string[] = [];
    const c = this.counts;
    const ids = idsByName();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < c.length && c[id]! > 0) out.push(SITE_NAMES[id]!);
    }
    return out;
  }
}
