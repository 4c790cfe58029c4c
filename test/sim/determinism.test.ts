// Determinism of the simulation engine: one seed decides everything, a
// recorded decision log replays the identical run, a log that does not fit
// the program is caught as a divergence, and the per-purpose random streams
// do not disturb one another.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sim,
  Trace,
  Ev,
  Stream,
  PctStrategy,
  RandomStrategy,
  Mutex,
  RwSemaphore,
  BitLock,
  WaitQueue,
  Completion,
  type RunResult,
  type SimOptions,
  type Strategy,
} from '../../src/sim/index.js';

interface ProgramOpts {
  workers?: number;
  rounds?: number;
  /** Extra draws from Stream.Latency in worker 0 (must not disturb anything else). */
  extraLatencyDraws?: boolean;
  /** Skip the Stream.Fault draws entirely. */
  noFaultDraws?: boolean;
}

interface ProgramOut {
  faults: number[];
  data: number[];
}

/**
 * A small multi-task program over every primitive: mutex, rwsem (read and
 * write), a page lock with a timed sleep inside, a wait queue, a completion,
 * and random draws from several streams whose values end up in the trace.
 */
function program(sim: Sim, o: ProgramOpts = {}): ProgramOut {
  const workers = o.workers ?? 4;
  const rounds = o.rounds ?? 6;
  const m = new Mutex(sim, 'prog_mutex');
  const rw = new RwSemaphore(sim, 'prog_rwsem');
  const page = new BitLock();
  const wq = new WaitQueue(sim, 'prog_wq');
  const done = new Completion(sim, 'prog_done');
  const out: ProgramOut = { faults: [], data: [] };
  let finished = 0;
  for (let i = 0; i < workers; i++) {
    sim.spawn(`worker${i}`, function* (t) {
      const d = t.enter('worker_fn');
      for (let k = 0; k < rounds; k++) {
        const op = sim.taskRandInt(t, 4);
        out.data.push(op);
        sim.event(t, 'op', op);
        if (!o.noFaultDraws) {
          const f = sim.randInt(Stream.Fault, 1000);
          out.faults.push(f);
        }
        if (o.extraLatencyDraws && i === 0) sim.randInt(Stream.Latency, 1000);
        switch (op) {
          case 0:
            yield* m.lock();
            yield;
            m.unlock(t);
            break;
          case 1:
            yield* rw.downRead();
            yield;
            rw.upRead(t);
            break;
          case 2:
            yield* rw.downWrite();
            yield;
            rw.upWrite(t);
            break;
          default: {
            yield* page.lock(sim);
            const ns = 100 + sim.randInt(Stream.Data, 5000);
            sim.event(t, 'sleep', ns);
            yield* sim.sleepNs(ns);
            page.unlock(sim);
          }
        }
        yield;
      }
      t.leave(d);
      finished++;
      wq.wakeUpAll();
    });
  }
  sim.spawn('collector', function* () {
    yield* wq.waitEvent(() => finished === workers);
    done.completeAll();
  });
  sim.spawn('late', function* () {
    yield* done.wait();
  });
  return out;
}

function runProgram(opts: SimOptions, po?: ProgramOpts): { r: RunResult; out: ProgramOut } {
  const sim = new Sim(opts);
  const out = program(sim, po);
  return { r: sim.run(), out };
}

function fingerprint(r: RunResult) {
  return { outcome: r.outcome, traceHash: r.traceHash, steps: r.steps, virtualNs: r.virtualNs, events: r.events };
}

// ------------------------------------------------------------------ seeds

test('the same seed gives the same trace hash, steps, time and decision log on every run', () => {
  const first = runProgram({ seed: 'same-seed' }).r;
  assert.equal(first.outcome, 'completed');
  assert.deepEqual(first.reports, []);
  assert.ok(first.steps > 60, 'the program must be big enough to matter');
  for (let i = 0; i < 20; i++) {
    const r = runProgram({ seed: 'same-seed' }).r;
    assert.deepEqual(fingerprint(r), fingerprint(first), `run ${i}`);
    assert.deepEqual(r.decisions, first.decisions);
  }
});

test('the same seed under PCT gives the same trace hash on every run', () => {
  const first = runProgram({ seed: 77, strategy: new PctStrategy(3) }).r;
  for (let i = 0; i < 20; i++) {
    const r = runProgram({ seed: 77, strategy: new PctStrategy(3) }).r;
    assert.deepEqual(fingerprint(r), fingerprint(first), `run ${i}`);
  }
});

test('different seeds give different schedules', () => {
  const hashes = new Set<string>();
  const logs = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const r = runProgram({ seed }).r;
    assert.equal(r.outcome, 'completed', `seed ${seed}`);
    hashes.add(r.traceHash);
    logs.add(Buffer.from(r.decisions!).toString('hex'));
  }
  assert.ok(hashes.size >= 18, `only ${hashes.size} distinct trace hashes over 20 seeds`);
  assert.ok(logs.size >= 18, `only ${logs.size} distinct decision logs over 20 seeds`);
});

test('numeric and string forms of one seed are the same seed', () => {
  assert.equal(runProgram({ seed: 42 }).r.traceHash, runProgram({ seed: '42' }).r.traceHash);
});

// ----------------------------------------------------------------- replay

function checkReplay(rec: RunResult, opts: SimOptions, po?: ProgramOpts): RunResult {
  assert.ok(rec.decisions !== null && rec.decisions.length > 0);
  const rep = runProgram({ ...opts, strategy: undefined, replay: rec.decisions }, po).r;
  assert.equal(rep.divergence, null);
  assert.deepEqual(fingerprint(rep), fingerprint(rec));
  assert.equal(rep.decisions, null, 'a replay does not record');
  return rep;
}

test('a recorded decision log replays to the identical trace hash and step count (random strategy)', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const opts: SimOptions = { seed, strategy: new RandomStrategy() };
    const { r } = runProgram(opts);
    assert.equal(r.outcome, 'completed');
    checkReplay(r, opts);
  }
});

test('a recorded decision log replays to the identical trace hash and step count (PCT strategy)', () => {
  // One PCT object across runs, as the fuzzer uses it (its step estimate grows).
  const pct: Strategy = new PctStrategy(3, 50);
  for (let seed = 1; seed <= 10; seed++) {
    const opts: SimOptions = { seed, strategy: pct };
    const { r } = runProgram(opts);
    assert.equal(r.outcome, 'completed');
    checkReplay(r, opts);
  }
});

test('PCT and random strategies schedule the same seed differently', () => {
  const a = runProgram({ seed: 5, strategy: new RandomStrategy() }).r;
  const b = runProgram({ seed: 5, strategy: new PctStrategy(3) }).r;
  assert.notEqual(a.traceHash, b.traceHash);
});

test('replay draws random values from the log: the program sees the recorded values', () => {
  const { r, out } = runProgram({ seed: 8 });
  const rep = runProgram({ seed: 8, replay: r.decisions });
  assert.equal(rep.r.outcome, 'completed');
  assert.deepEqual(rep.out.faults, out.faults);
  assert.deepEqual(rep.out.data, out.data);
});

test('a run that ends in a report replays to the same report', () => {
  // AB-BA on two mutexes: lockdep reports the inversion once both orders are seen.
  const build = (sim: Sim) => {
    const a = new Mutex(sim, 'lock_A');
    const b = new Mutex(sim, 'lock_B');
    sim.spawn('ab', function* (t) {
      yield* a.lock();
      yield* b.lock();
      b.unlock(t);
      a.unlock(t);
    });
    sim.spawn('ba', function* (t) {
      yield;
      yield;
      yield* b.lock();
      yield* a.lock();
      a.unlock(t);
      b.unlock(t);
    });
  };
  for (let seed = 1; seed <= 5; seed++) {
    const s1 = new Sim({ seed });
    build(s1);
    const r = s1.run();
    assert.equal(r.outcome, 'report', `seed ${seed}`);
    const s2 = new Sim({ seed, replay: r.decisions });
    build(s2);
    const rep = s2.run();
    assert.equal(rep.divergence, null);
    assert.deepEqual(fingerprint(rep), fingerprint(r));
    assert.deepEqual(rep.reports.map((x) => x.title), r.reports.map((x) => x.title));
  }
});

test('a run that reaches the liveness phase replays to the identical trace hash', () => {
  // A small adversarial budget so the run continues under the fair liveness schedule.
  for (let seed = 1; seed <= 5; seed++) {
    const opts: SimOptions = { seed, maxSteps: 40 };
    const { r } = runProgram(opts);
    assert.equal(r.outcome, 'completed', `seed ${seed}`);
    assert.ok(r.livenessSteps > 0, 'the run must reach the liveness phase');
    const rep = runProgram({ ...opts, replay: r.decisions }).r;
    assert.equal(rep.divergence, null, `seed ${seed}: ${rep.divergence}`);
    assert.deepEqual(fingerprint(rep), fingerprint(r));
    assert.equal(rep.livenessSteps, r.livenessSteps);
  }
});

// ------------------------------------------------------------- divergence

test('replaying a log recorded from a different program diverges with a message', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { r } = runProgram({ seed }, { workers: 4 });
    const rep = runProgram({ seed, replay: r.decisions }, { workers: 2, rounds: 3 }).r;
    assert.equal(rep.outcome, 'diverged', `seed ${seed}`);
    assert.match(rep.divergence ?? '', /^replay diverged at step \d+: .+/);
  }
});

test('replaying a truncated log diverges: the recorded schedule ended early', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { r } = runProgram({ seed });
    const cut = r.decisions!.slice(0, Math.floor(r.decisions!.length / 2));
    const rep = runProgram({ seed, replay: cut }).r;
    assert.equal(rep.outcome, 'diverged', `seed ${seed}`);
    assert.match(rep.divergence ?? '', /^replay diverged at step \d+: /);
    assert.ok(rep.steps < r.steps, 'the replay stops before the recorded run ended');
  }
  // Cutting only the last byte: the very end of the schedule is missing.
  const { r } = runProgram({ seed: 1 });
  const rep = runProgram({ seed: 1, replay: r.decisions!.slice(0, -1) }).r;
  assert.equal(rep.outcome, 'diverged');
  assert.match(rep.divergence ?? '', /^replay diverged at step \d+: /);
});

test('a tampered task id in the log diverges: the recorded task is not runnable', () => {
  const { r } = runProgram({ seed: 3 });
  const bad = r.decisions!.slice();
  // The first pick is a checkpoint: varint(id * 2), then the fingerprint.
  assert.ok(bad[0]! < 0x80 && bad[0]! % 2 === 0);
  bad[0] = 50 * 2;
  const rep = runProgram({ seed: 3, replay: bad }).r;
  assert.equal(rep.outcome, 'diverged');
  assert.equal(rep.divergence, 'replay diverged at step 0: recorded task 50 is not runnable');
});

test('a tampered runnable-set fingerprint in the log diverges at the checkpoint', () => {
  const { r } = runProgram({ seed: 3 });
  const bad = r.decisions!.slice();
  bad[1] = (bad[1]! ^ 1) & 0x7f;
  const rep = runProgram({ seed: 3, replay: bad }).r;
  assert.equal(rep.outcome, 'diverged');
  assert.equal(rep.divergence, 'replay diverged at step 0: the runnable set differs from the recording');
});

test('a log with extra recorded decisions past the end of the run diverges', () => {
  const { r } = runProgram({ seed: 4 });
  const longer = new Uint8Array(r.decisions!.length + 2);
  longer.set(r.decisions!);
  longer[r.decisions!.length] = 0; // pick task 0
  longer[r.decisions!.length + 1] = 0;
  const rep = runProgram({ seed: 4, replay: longer }).r;
  assert.equal(rep.outcome, 'diverged');
  assert.match(rep.divergence ?? '', /^replay diverged at step \d+: .+/);
});

test('an extra runnable task that the recording never had diverges at the first checkpoint', () => {
  const build = (sim: Sim, extra: boolean) => {
    for (let i = 0; i < 3; i++) {
      sim.spawn(`t${i}`, function* () {
        for (let k = 0; k < 20; k++) yield;
      });
    }
    if (extra) {
      sim.spawn('extra', function* () {
        yield;
      });
    }
  };
  const s1 = new Sim({ seed: 12 });
  build(s1, false);
  const r = s1.run();
  assert.equal(r.outcome, 'completed');
  const s2 = new Sim({ seed: 12, replay: r.decisions });
  build(s2, true);
  const rep = s2.run();
  assert.equal(rep.outcome, 'diverged');
  assert.equal(rep.divergence, 'replay diverged at step 0: the runnable set differs from the recording');
});

test('replaying on a program where one task takes an extra step diverges', () => {
  const build = (sim: Sim, variant: number) => {
    const m = new Mutex(sim, 'm');
    for (let i = 0; i < 3; i++) {
      sim.spawn(`t${i}`, function* (t) {
        for (let k = 0; k < 300; k++) {
          if (variant === 1 && i === 0 && k === 150) {
            yield* m.lock();
            m.unlock(t);
          }
          yield;
        }
      });
    }
  };
  for (let seed = 1; seed <= 5; seed++) {
    const s1 = new Sim({ seed });
    build(s1, 0);
    const r = s1.run();
    const s2 = new Sim({ seed, replay: r.decisions });
    build(s2, 1);
    const rep = s2.run();
    assert.equal(rep.outcome, 'diverged', `seed ${seed}`);
    assert.match(rep.divergence ?? '', /^replay diverged at step \d+: /);
  }
});

// ---------------------------------------------------------------- streams

test('draws from one stream do not change the values of another stream or the schedule', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const plain = runProgram({ seed });
    const extra = runProgram({ seed }, { extraLatencyDraws: true });
    assert.equal(plain.r.outcome, 'completed');
    assert.equal(extra.r.outcome, 'completed');
    assert.ok(plain.out.faults.length > 0);
    assert.deepEqual(extra.out.faults, plain.out.faults, `seed ${seed}: Fault stream values changed`);
    assert.deepEqual(extra.out.data, plain.out.data, `seed ${seed}: task data stream values changed`);
    assert.equal(extra.r.traceHash, plain.r.traceHash, `seed ${seed}: schedule changed`);
    assert.notDeepEqual(extra.r.decisions, plain.r.decisions, 'the extra draws are recorded');
  }
});

test('fault-stream draws do not change the scheduling sequence', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const withFaults = runProgram({ seed }).r;
    const without = runProgram({ seed }, { noFaultDraws: true }).r;
    assert.equal(without.traceHash, withFaults.traceHash, `seed ${seed}`);
    assert.equal(without.steps, withFaults.steps);
  }
});

test('each stream gives a different sequence for one seed, and each task has its own data stream', () => {
  const sim = new Sim({ seed: 21 });
  const seqs: Record<string, number[]> = { fault: [], latency: [], t0: [], t1: [] };
  sim.spawn('t0', function* (t) {
    for (let i = 0; i < 16; i++) {
      seqs.fault!.push(sim.randInt(Stream.Fault, 1 << 30));
      seqs.latency!.push(sim.randInt(Stream.Latency, 1 << 30));
      seqs.t0!.push(sim.taskRandInt(t, 1 << 30));
      yield;
    }
  });
  sim.spawn('t1', function* (t) {
    for (let i = 0; i < 16; i++) {
      seqs.t1!.push(sim.taskRandInt(t, 1 << 30));
      yield;
    }
  });
  assert.equal(sim.run().outcome, 'completed');
  const keys = Object.keys(seqs);
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      assert.notDeepEqual(seqs[keys[i]!], seqs[keys[j]!], `${keys[i]} and ${keys[j]} must differ`);
    }
  }
  // A task's stream does not depend on how its draws interleave with others'.
  const sim2 = new Sim({ seed: 21 });
  const t1only: number[] = [];
  sim2.spawn('t0', function* () {
    yield;
  });
  sim2.spawn('t1', function* (t) {
    for (let i = 0; i < 16; i++) {
      t1only.push(sim2.taskRandInt(t, 1 << 30));
      yield;
    }
  });
  sim2.run();
  assert.deepEqual(t1only, seqs.t1);
});

test('a trace with a tail keeps the first quarter of its room and the latest events; the hash covers every event either way', () => {
  const fill = (t: Trace, n: number): Trace => {
    for (let i = 0; i < n; i++) t.add(i, i * 10, Ev.Kernel, i % 3, t.intern(`e${i}`), i);
    return t;
  };
  const steps = (t: Trace): number[] => t.events().map((e) => e.step);
  // Under the limit the two are the same.
  assert.deepEqual(steps(fill(new Trace(8, true), 6)), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(fill(new Trace(8, true), 6).gap(), { at: 6, count: 0 });
  // Past it: the first 2 and the latest 6 of 20, in order.
  const tail = fill(new Trace(8, true), 20);
  assert.deepEqual(steps(tail), [0, 1, 14, 15, 16, 17, 18, 19]);
  assert.deepEqual(tail.gap(), { at: 2, count: 12 });
  assert.equal(tail.events()[7]!.name, 'e19');
  // Without a tail: the first 8.
  const head = fill(new Trace(8), 20);
  assert.deepEqual(steps(head), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(head.gap(), { at: 8, count: 12 });
  assert.equal(tail.hash(), head.hash());
  assert.equal(tail.hash(), fill(new Trace(0), 20).hash());
});
