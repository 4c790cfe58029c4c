// A set of objects keyed by a small integer that is unique per kernel (a
// page's pfn, an inode's number), for checkers that sweep the kernel after
// every call: slots stamped with a sweep number instead of a Set per sweep,
// reused across sweeps and kernels. Two distinct objects under one key --
// impossible while the keys are unique -- set `collision`, and the caller
// redoes its sweep the literal way. A sweep never yields, so two never overlap.

/** Keys past this are not given slots (a sweep with one goes the literal way). */
const MAX_KEY = 1 << 28;

export class StampSet<T extends object> {
  private sweep = 0;
  private stamp = new Uint32Array(256);
  private owner: (T | undefined)[] = new Array<T | undefined>(256).fill(undefined);
  private readonly touched: number[] = [];
  private nTouched = 0;
  /** Two objects shared a key in this sweep. */
  collision = false;

  /** Start a sweep with the set empty. */
  begin(): void {
    this.sweep = (this.sweep + 1) >>> 0;
    if (this.sweep === 0) {
      // Wrapped after 2^32 sweeps: forget every stamp.
      this.stamp.fill(0);
      this.sweep = 1;
    }
    this.collision = false;
    this.nTouched = 0;
  }

  /** Objects added in this sweep. */
  get size(): number {
    return this.nTouched;
  }

  /** Add `obj` under `key`: true if it was not in the set yet. */
  add(key: number, obj: T): boolean {
    if (!(key >= 0 && key < MAX_KEY && Number.isInteger(key))) {
      // Not a slot: let the caller's literal sweep judge.
      this.collision = true;
      return false;
    }
    if (key >= this.stamp.length) this.grow(key);
    if (this.stamp[key] === this.sweep) {
      if (this.owner[key] !== obj) this.collision = true;
      return false;
    }
    this.stamp[key] = this.sweep;
    this.owner[key] = obj;
    this.touched[this.nTouched++] = key;
    return true;
  }

  private grow(key: number): void {
    let n = this.stamp.length;
    while (n <= key) n *= 2;
    const s = new Uint32Array(n);
    s.set(this.stamp);
    this.stamp = s;
    const o = new Array<T | undefined>(n).fill(undefined);
    for (let i = 0; i < this.owner.length; i++) o[i] = this.owner[i];
    this.owner = o;
  }

  /**
   * End the sweep: drop the object references, so the set (long-lived, in
   * old space) keeps no kernel alive. `size` stays valid until the next begin().
   */
  end(): void {
    const t = this.touched;
    for (let i = 0; i < this.nTouched; i++) this.owner[t[i]!] = undefined;
  }
}

