// kcov-style coverage: cheap integer cover points keyed by a site name.
// Ids are assigned per kernel instance in first-hit order; the set of names
// hit is what the fuzzer compares.

export class Coverage {
  private readonly ids = new Map<string, number>();
  readonly hits: number[] = [];

  hit(site: string): void {
    let id = this.ids.get(site);
    if (id === undefined) {
      id = this.hits.length;
      this.ids.set(site, id);
      this.hits.push(0);
    }
    this.hits[id]!++;
  }

  /** Names of the cover points hit, sorted. */
  sites(): string[] {
    return [...this.ids.keys()].sort();
  }
}
