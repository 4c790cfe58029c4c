// Seeded random streams. The run seed is the only entropy: each purpose
// (scheduler, fault injection, latency, each task's data) gets its own stream
// derived from it, so that removing one call while minimizing does not
// reshuffle every other random decision.

import seedrandom from 'seedrandom';

export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string) {
    this.prng = seedrandom.alea(seed);
  }

  /** Uniform integer in [0, n), n >= 1. */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.prng();
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.prng() < p;
  }
}

/** The fixed stream names; per-task streams are `task:<id>`. */
export enum Stream {
  Scheduler = 0,
  Fault = 1,
  Latency = 2,
  Data = 3,
  /** The liveness phase's fair scheduler. */
  Liveness = 4,
}
const STREAM_NAMES = ['sched', 'fault', 'latency', 'data', 'liveness'];

export function deriveRng(seed: string | number, stream: Stream | string): Rng {
  const name = typeof stream === 'string' ? stream : STREAM_NAMES[stream];
  return new Rng(`${seed}/${name}`);
}
