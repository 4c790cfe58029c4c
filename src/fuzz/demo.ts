// A built-in simulation that exercises the engine until the fuzzer exists:
// a ring of tasks ("philosophers") each taking two mutexes of one class in
// a ring order, with one rwsem reader/writer pair on the side. Ordered with
// nesting subclasses it is clean; with the last philosopher reversing its
// order, lockdep flags the inversion and some schedules really deadlock.

import { Mutex, PctStrategy, RandomStrategy, RwSemaphore, Sim, type Report, type Strategy } from '../sim/index.js';

export interface DemoOptions {
  seeds: number;
  tasks: number;
  strategy: 'random' | 'pct';
  buggy: boolean;
}

export interface DemoSummary {
  runs: number;
  steps: number;
  virtualNs: number;
  byTitle: Map<string, number>;
  firstReport: Report | null;
  firstSeed: number;
}

function oneRun(seed: number, o: DemoOptions, strategy: Strategy): ReturnType<Sim['run']> {
  const sim = new Sim({ seed, strategy, stopOnReport: true });
  const forks = Array.from({ length: o.tasks }, () => new Mutex(sim, '&fork->lock'));
  const table = new RwSemaphore(sim, '&table->rwsem');
  for (let i = 0; i < o.tasks; i++) {
    sim.spawn(`phil${i}`, function* (t) {
      let first = i;
      let second = (i + 1) % o.tasks;
      // Fixed order: always the lower-numbered fork first (subclass 1 for the
      // nested one). The buggy variant lets the last task take them in ring order.
      if (!(o.buggy && i === o.tasks - 1) && first > second) [first, second] = [second, first];
      for (let round = 0; round < 3; round++) {
        sim.opBegin(t, 'dine');
        const d = t.enter('dine');
        yield* table.downRead();
        yield* forks[first]!.lock(0);
        yield* forks[second]!.lock(1);
        yield;
        forks[second]!.unlock(t);
        forks[first]!.unlock(t);
        table.upRead(t);
        t.leave(d);
        sim.opEnd(t, 0);
        yield* sim.sleepNs(1000 + sim.taskRandInt(t, 1000));
      }
    });
  }
  sim.spawn('waiter', function* (t) {
    for (let round = 0; round < 3; round++) {
      const d = t.enter('clear_table');
      yield* table.downWrite();
      yield;
      table.upWrite(t);
      t.leave(d);
      yield* sim.sleepNs(1500);
    }
  });
  return sim.run();
}

export function runDemo(o: DemoOptions, onRun?: (seed: number, r: ReturnType<Sim['run']>) => void): DemoSummary {
  const strategy = o.strategy === 'pct' ? new PctStrategy(3) : new RandomStrategy();
  const s: DemoSummary = { runs: 0, steps: 0, virtualNs: 0, byTitle: new Map(), firstReport: null, firstSeed: -1 };
  for (let seed = 1; seed <= o.seeds; seed++) {
    const r = oneRun(seed, o, strategy);
    s.runs++;
    s.steps += r.steps;
    s.virtualNs += r.virtualNs;
    for (const rep of r.reports) {
      s.byTitle.set(rep.title, (s.byTitle.get(rep.title) ?? 0) + 1);
      if (s.firstReport === null) {
        s.firstReport = rep;
        s.firstSeed = seed;
      }
    }
    onRun?.(seed, r);
  }
  return s;
}
