// The event trace of a run: every task switch, lock acquire/contend/release,
// sleep, wake-up, timer and operation boundary. Its hash (FNV-1a over the
// event words, two 32-bit lanes) proves determinism; the stored events feed
// replay output and timelines. Names are interned to integers so the hot path
// hashes numbers, never strings.

export enum Ev {
  Switch = 1,
  Spawn = 2,
  Exit = 3,
  Acquire = 4,
  Contend = 5,
  Release = 6,
  Sleep = 7,
  Wake = 8,
  TimerFire = 9,
  OpBegin = 10,
  OpEnd = 11,
  Report = 12,
  Phase = 13,
  /** Kernel-defined events (faults, FUSE requests, I/O): a = interned label. */
  Kernel = 14,
}

export const EV_NAMES: Record<number, string> = {
  1: 'switch', 2: 'spawn', 3: 'exit', 4: 'acquire', 5: 'contend', 6: 'release',
  7: 'sleep', 8: 'wake', 9: 'timer', 10: 'begin', 11: 'end', 12: 'report', 13: 'phase', 14: 'event',
};

export interface TraceEvent {
  step: number;
  timeNs: number;
  kind: Ev;
  task: number;
  /** Interned name (lock class, op, label) or -1. */
  name: string;
  arg: number;
}

const FNV_PRIME = 0x01000193;

export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x050c5d1f;
  count = 0;
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();
  // Stored events as parallel typed columns (bounded by `limit`).
  private cols: Float64Array;
  private stored = 0;
  /**
   * With a tail: the first `head` events stay where they are and the rest of
   * the room is a ring of the latest events; `next` is the ring's slot for
   * the next one. Without: the first `limit` events.
   */
  private readonly head: number;
  private next = 0;

  /**
   * `limit`: events to keep (0: none, the hash only). `tail`: past the
   * limit, keep the first quarter of it and the latest events in the rest
   * -- what a reader of a long run's failure wants is how it ended (the
   * report is the last event) and how it began.
   */
  constructor(
    private readonly limit: number,
    tail = false,
  ) {
    this.cols = new Float64Array(limit > 0 ? Math.min(limit, 4096) * 6 : 0);
    this.head = tail && limit >= 4 ? Math.ceil(limit / 4) : limit;
  }

  intern(name: string): number {
    // A syscall's begin and end, or a lock's acquire and release, intern the
    // same name back to back: one remembered name spares the Map lookup.
    if (name === this.lastName) return this.lastId;
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    this.lastName = name;
    this.lastId = id;
    return id;
  }

  private lastName: string | null = null;
  private lastId = -1;

  private mix(v: number): void {
    this.h1 = Math.imul(this.h1 ^ (v & 0xffff), FNV_PRIME);
    this.h1 = Math.imul(this.h1 ^ (v >>> 16), FNV_PRIME);
    this.h2 = Math.imul(this.h2 ^ (v & 0xff), FNV_PRIME) ^ (this.h1 >>> 7);
  }

  /** Record an event. `name` is an interned id (or -1), `arg` any small integer. */
  add(step: number, timeNs: number, kind: Ev, task: number, name: number, arg: number): void {
    this.count++;
    this.mix(kind);
    this.mix(task);
    this.mix(name);
    this.mix(arg | 0);
    let slot: number;
    if (this.stored < this.limit) {
      slot = this.stored++;
      if (slot * 6 + 6 > this.cols.length) {
        const n = new Float64Array(Math.min(this.limit * 6, this.cols.length * 2));
        n.set(this.cols);
        this.cols = n;
      }
    } else if (this.head < this.limit) {
      // Full, with a tail: overwrite the oldest event of the ring.
      slot = this.head + this.next;
      this.next = (this.next + 1) % (this.limit - this.head);
    } else return;
    const c = this.cols;
    const off = slot * 6;
    c[off] = step;
    c[off + 1] = timeNs;
    c[off + 2] = kind;
    c[off + 3] = task;
    c[off + 4] = name;
    c[off + 5] = arg;
  }

  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** Stored events (at most `limit`), decoded, in the order they happened (the events not kept fall between `gap().at - 1` and `gap().at`). */
  events(): TraceEvent[] {
    const out: TraceEvent[] = [];
    const c = this.cols;
    const ring = this.limit - this.head;
    const wrapped = this.count > this.stored && ring > 0;
    for (let k = 0; k < this.stored; k++) {
      // Past the head, a ring that has wrapped starts at its oldest slot.
      const i = wrapped && k >= this.head ? this.head + ((this.next + k - this.head) % ring) : k;
      const o = i * 6;
      const nameId = c[o + 4]!;
      out.push({
        step: c[o]!,
        timeNs: c[o + 1]!,
        kind: c[o + 2]! as Ev,
        task: c[o + 3]!,
        name: nameId >= 0 ? this.names[nameId]! : '',
        arg: c[o + 5]!,
      });
    }
    return out;
  }

  get truncated(): boolean {
    return this.count > this.stored;
  }

  /** Where events() skips the events not kept, and how many: at the end for a trace without a tail. */
  gap(): { at: number; count: number } {
    return { at: this.count > this.stored && this.head < this.limit ? this.head : this.stored, count: this.count - this.stored };
  }
}
