// Timers in a binary min-heap ordered by (deadline, sequence number): never a
// re-sort, ties always broken by creation order, so firing order is fixed.

export interface TimerTarget {
  onTimer(arg: number): void;
}

export class TimerHeap {
  private deadlines: number[] = [];
  private seqs: number[] = [];
  private targets: TimerTarget[] = [];
  private args: number[] = [];
  private nextSeq = 0;
  /** Cancelled sequence numbers are skipped when they reach the top. */
  private readonly cancelled = new Set<number>();

  get size(): number {
    return this.deadlines.length - this.cancelled.size;
  }

  add(deadlineNs: number, target: TimerTarget, arg: number): number {
    const seq = this.nextSeq++;
    this.deadlines.push(deadlineNs);
    this.seqs.push(seq);
    this.targets.push(target);
    this.args.push(arg);
    this.up(this.deadlines.length - 1);
    return seq;
  }

  cancel(seq: number): void {
    this.cancelled.add(seq);
  }

  /** Deadline of the earliest live timer, or -1 when there is none. */
  peekDeadline(): number {
    this.dropCancelled();
    return this.deadlines.length > 0 ? this.deadlines[0]! : -1;
  }

  /** Pop and fire the earliest timer if it is due at `nowNs`; false if none is due. */
  fireDue(nowNs: number): boolean {
    this.dropCancelled();
    if (this.deadlines.length === 0 || this.deadlines[0]! > nowNs) return false;
    const target = this.targets[0]!;
    const arg = this.args[0]!;
    this.removeTop();
    target.onTimer(arg);
    return true;
  }

  private dropCancelled(): void {
    while (this.deadlines.length > 0 && this.cancelled.size > 0 && this.cancelled.has(this.seqs[0]!)) {
      this.cancelled.delete(this.seqs[0]!);
      this.removeTop();
    }
  }

  private removeTop(): void {
    const last = this.deadlines.length - 1;
    this.swap(0, last);
    this.deadlines.pop();
    this.seqs.pop();
    this.targets.pop();
    this.args.pop();
    if (last > 0) this.down(0);
  }

  private less(i: number, j: number): boolean {
    const a = this.deadlines[i]!;
    const b = this.deadlines[j]!;
    return a < b || (a === b && this.seqs[i]! < this.seqs[j]!);
  }

  private swap(i: number, j: number): void {
    const d = this.deadlines, s = this.seqs, t = this.targets, a = this.args;
    [d[i], d[j]] = [d[j]!, d[i]!];
    [s[i], s[j]] = [s[j]!, s[i]!];
    [t[i], t[j]] = [t[j]!, t[i]!];
    [a[i], a[j]] = [a[j]!, a[i]!];
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.deadlines.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
