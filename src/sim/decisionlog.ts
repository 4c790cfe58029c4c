// The decision log of a run, shuttle-style: each scheduling step records the
// chosen task id, each random draw records its value, as unsigned varints.
// Runs of the same task are run-length encoded (PCT runs one task for long
// stretches). Every CHECKPOINT_EVERY picks a 7-bit fingerprint of the runnable
// set is written, so replay stops with a divergence error when the runnable
// set differs from the recording.

export const CHECKPOINT_EVERY = 256;
/** Log bytes kept in a plain array before the writer moves to a typed one. */
const SMALL_LOG_MAX = 256;

export class ReplayDivergence extends Error {
  constructor(readonly step: number, message: string) {
    super(`replay diverged at step ${step}: ${message}`);
    this.name = 'ReplayDivergence';
  }
}

export class DecisionLogWriter {
  /**
   * The first bytes go to a plain array: most logs are well under a hundred
   * bytes, and a typed array over 64 bytes is an off-heap allocation that
   * costs more than the whole log. Past SMALL_LOG_MAX bytes (a long run) the
   * log moves to a typed array that doubles.
   */
  private readonly small: number[] = [];
  private big: Uint8Array | null = null;
  private len = 0;
  private lastId = -1;
  private repeat = 0;
  private picks = 0;

  private byte(b: number): void {
    if (this.big === null) {
      if (this.small.length < SMALL_LOG_MAX) {
        this.small.push(b);
        return;
      }
      this.big = new Uint8Array(SMALL_LOG_MAX * 4);
      this.big.set(this.small);
      this.len = this.small.length;
    }
    if (this.len === this.big.length) {
      const nb = new Uint8Array(this.big.length * 2);
      nb.set(this.big);
      this.big = nb;
    }
    this.big[this.len++] = b;
  }

  private varint(v: number): void {
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  private flush(): void {
    if (this.repeat > 0) {
      this.varint(this.repeat * 2 + 1);
      this.repeat = 0;
    }
  }

  pick(taskId: number, fingerprint: number): void {
    const checkpoint = this.picks % CHECKPOINT_EVERY === 0;
    this.picks++;
    if (taskId === this.lastId && !checkpoint) {
      this.repeat++;
      return;
    }
    this.flush();
    this.varint(taskId * 2);
    this.lastId = taskId;
    if (checkpoint) this.varint(fingerprint & 0x7f);
  }

  draw(value: number): void {
    this.flush();
    this.varint(value);
  }

  finish(): Uint8Array {
    this.flush();
    return this.big === null ? new Uint8Array(this.small) : this.big.slice(0, this.len);
  }
}

export class DecisionLogReader {
  private pos = 0;
  private lastId = -1;
  private repeatLeft = 0;
  private picks = 0;

  constructor(private readonly buf: Uint8Array) {}

  private varint(step: number): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ReplayDivergence(step, 'the recorded schedule ended early');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }

  /** The next recorded task id; checks the runnable-set fingerprint at checkpoints. */
  pick(step: number, fingerprint: number): number {
    const checkpoint = this.picks % CHECKPOINT_EVERY === 0;
    this.picks++;
    if (this.repeatLeft > 0 && !checkpoint) {
      this.repeatLeft--;
      return this.lastId;
    }
    if (this.repeatLeft > 0) throw new ReplayDivergence(step, 'corrupt schedule (run crosses a checkpoint)');
    const v = this.varint(step);
    if (v & 1) {
      // (v - 1) / 2 repeats of the last id, this pick being the first of them.
      this.repeatLeft = (v - 1) / 2 - 1;
      return this.lastId;
    }
    this.lastId = v / 2;
    if (checkpoint) {
      const fp = this.varint(step);
      if (fp !== (fingerprint & 0x7f)) throw new ReplayDivergence(step, 'the runnable set differs from the recording');
    }
    return this.lastId;
  }

  draw(step: number, n: number): number {
    if (this.repeatLeft > 0) throw new ReplayDivergence(step, 'a random draw where the recording has a scheduling step');
    const v = this.varint(step);
    if (v >= n) throw new ReplayDivergence(step, `recorded draw ${v} out of range ${n}`);
    return v;
  }

  get exhausted(): boolean {
    return this.pos >= this.buf.length && this.repeatLeft === 0;
  }
}

export function encodeLog(log: Uint8Array): string {
  // A view of the same bytes, not a copy.
  return Buffer.from(log.buffer, log.byteOffset, log.byteLength).toString('base64');
}

export function decodeLog(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
