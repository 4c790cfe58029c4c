// The detectors, each in a crafted buggy scenario and silent in the correct
// variant: khungtaskd (hung task), the wait-for graph (deadlock), lost
// wake-ups, the liveness monitor (starvation, blocked forever), and model
// exceptions turned into simulator-error reports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sim,
  Task,
  TaskState,
  WAIT_INTERRUPTED,
  Mutex,
  BitLock,
  WaitQueue,
  SimAssertionError,
  type RunResult,
  type SimOptions,
} from '../../src/sim/index.js';
import { assertClean, pause, titles, until } from './helpers.js';

const SEEDS = Array.from({ length: 50 }, (_, i) => i + 1);





// ------------------------------------------------------------ hung task

/** A holder takes the mutex and sleeps `holdNs`; a waiter blocks on it in shmem_fallocate. */
function hungScenario(holdNs: number, killable: boolean, opts: Partial<SimOptions> = {}): { r: RunResult; waiterResult: number | null } {
  const sim = new Sim({ seed: 1, ...opts });
  const m = new Mutex(sim, '&inode->i_rwsem');
  let waiterResult: number | null = null;
  sim.spawn('holder', function* (t) {
    t.enter('shmem_punch_hole');
    yield* m.lock();
    yield* sim.sleepNs(holdNs);
    m.unlock(t);
  });
  sim.spawn('waiter', function* (t) {
    t.enter('shmem_fallocate');
    yield* until(() => m.isLocked());
    if (killable) waiterResult = yield* m.lockKillable();
    else {
      yield* m.lock();
      waiterResult = 0;
    }
    if (waiterResult === 0) m.unlock(t);
  });
  return { r: sim.run(), waiterResult };
}

test('hung task: a task in D on a mutex whose holder sleeps 200 s is reported after the 120 s timeout', () => {
  const { r } = hungScenario(200e9, false);
  assert.deepEqual(titles(r), ['hang: INFO: task hung in shmem_fallocate']);
  const rep = r.reports[0]!;
  assert.equal(rep.task, 'waiter/1');
  assert.ok(rep.timeNs >= 120e9 && rep.timeNs < 121e9, `reported at the timeout, not at ${rep.timeNs}`);
  assert.match(rep.details, /INFO: task waiter\/1:1 blocked for more than 120s\./);
  assert.match(rep.details, /state:D/);
  assert.match(rep.details, /waiting on: &inode->i_rwsem/);
  assert.match(rep.details, /mutex_lock <- shmem_fallocate/);
});

test('hung task: no report when the holder sleeps only 100 s', () => {
  const { r, waiterResult } = hungScenario(100e9, false);
  assertClean(r);
  assert.equal(waiterResult, 0);
  assert.ok(r.virtualNs >= 100e9);
});

test('hung task: a custom hungTaskTimeoutNs is honoured both ways', () => {
  const hung = hungScenario(15e9, false, { hungTaskTimeoutNs: 10e9 }).r;
  assert.deepEqual(titles(hung), ['hang: INFO: task hung in shmem_fallocate']);
  assert.ok(hung.reports[0]!.timeNs >= 10e9 && hung.reports[0]!.timeNs < 11e9);
  assert.match(hung.reports[0]!.details, /blocked for more than 10s\./);
  assertClean(hungScenario(5e9, false, { hungTaskTimeoutNs: 10e9 }).r);
});

test('hung task: killable waits are skipped by khungtaskd', () => {
  const { r, waiterResult } = hungScenario(200e9, true);
  assert.ok(!titles(r).some((x) => x.includes('INFO: task hung')), titles(r).join('; '));
  assertClean(r);
  assert.equal(waiterResult, 0);
});

test('a killable waiter killed while waiting returns WAIT_INTERRUPTED and nothing is reported', () => {
  const sim = new Sim({ seed: 1 });
  const m = new Mutex(sim, 'M');
  let res: number | null = null;
  sim.spawn('holder', function* (t) {
    yield* m.lock();
    yield* sim.sleepNs(200e9);
    m.unlock(t);
  });
  const W = sim.spawn('waiter', function* () {
    yield* until(() => m.isLocked());
    res = yield* m.lockKillable();
  });
  sim.spawn('killer', function* () {
    yield* sim.sleepNs(1e9);
    assert.equal(W.state, TaskState.Killable);
    sim.kill(W);
  });
  assertClean(sim.run());
  assert.equal(res, WAIT_INTERRUPTED);
});

// ------------------------------------------------------------ deadlock

test('deadlock: ABBA on two mutexes is reported at once from the wait-for cycle, while a third task keeps running', () => {
  for (const seed of SEEDS.slice(0, 20)) {
    const sim = new Sim({ seed });
    sim.lockdep.enabled = false; // the wait-for graph alone
    const A = new Mutex(sim, 'lock_a');
    const B = new Mutex(sim, 'lock_b');
    let spins = 0;
    sim.spawn('task1', function* (t) {
      t.enter('task1_fn');
      yield* A.lock();
      yield* until(() => B.isLocked());
      yield* B.lock();
      B.unlock(t);
      A.unlock(t);
    });
    sim.spawn('task2', function* (t) {
      t.enter('task2_fn');
      yield* B.lock();
      yield* until(() => A.isLocked());
      yield* A.lock();
      A.unlock(t);
      B.unlock(t);
    });
    sim.spawn('spinner', function* () {
      for (let i = 0; i < 1_000_000; i++) {
        spins++;
        yield;
      }
    });
    const r = sim.run();
    assert.deepEqual(titles(r), ['deadlock: deadlock: lock_a held by task1_fn, waited on in task2_fn'], `seed ${seed}`);
    assert.equal(r.outcome, 'report');
    const rep = r.reports[0]!;
    assert.ok(rep.timeNs < 100_000, `reported at once, not at ${rep.timeNs}ns`);
    assert.ok(r.steps < 1000 && spins < 1000, 'the spinner did not have to finish first');
    assert.match(rep.details, /wait-for cycle detected/);
    assert.match(rep.details, /task1\/0 \(D\) waits for lock_b in task1_fn, held by task2\/1 \(taken in task2_fn\)/);
    assert.match(rep.details, /task2\/1 \(D\) waits for lock_a in task2_fn, held by task1\/0 \(taken in task1_fn\)/);
  }
});

test('deadlock: unforced ABBA deadlocks under some seeds, and every report is the same deadlock', () => {
  let deadlocks = 0;
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    sim.lockdep.enabled = false;
    const A = new Mutex(sim, 'lock_a');
    const B = new Mutex(sim, 'lock_b');
    sim.spawn('task1', function* (t) {
      t.enter('task1_fn');
      yield* A.lock();
      yield;
      yield* B.lock();
      B.unlock(t);
      A.unlock(t);
    });
    sim.spawn('task2', function* (t) {
      t.enter('task2_fn');
      yield* B.lock();
      yield;
      yield* A.lock();
      A.unlock(t);
      B.unlock(t);
    });
    const r = sim.run();
    if (r.reports.length > 0) {
      deadlocks++;
      assert.deepEqual(titles(r), ['deadlock: deadlock: lock_a held by task1_fn, waited on in task2_fn'], `seed ${seed}`);
    } else assertClean(r, `seed ${seed}`);
  }
  assert.ok(deadlocks > 0 && deadlocks < SEEDS.length, `deadlocks in ${deadlocks}/${SEEDS.length} seeds`);
});

test('deadlock: the consistent ordering gives no report over many seeds', () => {
  let contended = 0;
  for (const seed of Array.from({ length: 200 }, (_, i) => i + 1)) {
    const sim = new Sim({ seed });
    const A = new Mutex(sim, 'lock_a');
    const B = new Mutex(sim, 'lock_b');
    for (const name of ['task1', 'task2', 'task3']) {
      sim.spawn(name, function* (t) {
        t.enter(`${name}_fn`);
        if (A.isLocked()) contended++;
        yield* A.lock();
        yield;
        yield* B.lock();
        yield;
        B.unlock(t);
        A.unlock(t);
      });
    }
    assertClean(sim.run(), `seed ${seed}`);
  }
  assert.ok(contended > 0);
});

test('deadlock: a task waiting on a page lock it holds itself', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const sim = new Sim({ seed });
    const page = new BitLock();
    let spins = 0;
    sim.spawn('fuse', function* (t) {
      t.enter('fuse_fill_write_pages');
      yield* page.lock(sim);
      t.enter('iov_iter_fault_in_readable');
      t.enter('filemap_fault');
      yield* page.lock(sim);
      page.unlock(sim);
    });
    sim.spawn('spinner', function* () {
      for (let i = 0; i < 1_000_000; i++) {
        spins++;
        yield;
      }
    });
    const r = sim.run();
    assert.deepEqual(titles(r), ['deadlock: deadlock: bit lock held by fuse_fill_write_pages, waited on in filemap_fault'], `seed ${seed}`);
    assert.match(r.reports[0]!.details, /The task waits on a lock it holds itself\./);
    assert.ok(spins < 1000);
  }
});

test('page lock: the correct variant (unlock before relocking) gives no report', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const sim = new Sim({ seed });
    const page = new BitLock();
    for (const name of ['a', 'b']) {
      sim.spawn(name, function* (t) {
        t.enter('fuse_fill_write_pages');
        yield* page.lock(sim);
        yield;
        page.unlock(sim);
        t.enter('filemap_fault');
        yield* page.lock(sim);
        page.unlock(sim);
      });
    }
    assertClean(sim.run(), `seed ${seed}`);
  }
});

// ------------------------------------------------------------ lost wake-up

function lostWakeupScenario(seed: number, buggy: boolean): RunResult {
  const sim = new Sim({ seed });
  const wq = new WaitQueue(sim, 'pipe_wait');
  let ready = false;
  sim.spawn('waiter', function* (t) {
    t.enter('pipe_read');
    yield* pause(2);
    if (buggy) {
      // The condition is checked, then the task is queued and sleeps: a wake-up
      // in between finds nobody queued and is lost.
      if (!ready) {
        yield;
        wq.add(t);
        sim.block(t, TaskState.Uninterruptible, wq, () => ready);
        yield;
      }
    } else {
      yield* wq.waitEvent(() => ready);
    }
    assert.equal(ready, true);
  });
  sim.spawn('waker', function* (t) {
    t.enter('pipe_write');
    yield* pause(3);
    ready = true;
    wq.wakeUp();
  });
  return sim.run();
}

test('lost wake-up: the buggy open-coded wait loses the wake-up under some seeds', () => {
  let lost = 0;
  const seeds = Array.from({ length: 100 }, (_, i) => i + 1);
  for (const seed of seeds) {
    const r = lostWakeupScenario(seed, true);
    if (r.reports.length === 0) {
      assertClean(r, `seed ${seed}`);
      continue;
    }
    lost++;
    assert.deepEqual(titles(r), ['lost-wakeup: lost wake-up: task waiting in pipe_read'], `seed ${seed}`);
    assert.match(r.reports[0]!.details, /waiter\/0 sleeps in D on pipe_wait although the condition it waits for holds/);
  }
  assert.ok(lost > 0 && lost < seeds.length, `lost wake-ups in ${lost}/${seeds.length} seeds`);
});

test('lost wake-up: wq.waitEvent never loses it over the same seeds', () => {
  for (let seed = 1; seed <= 100; seed++) assertClean(lostWakeupScenario(seed, false), `seed ${seed}`);
});

// ------------------------------------------------------------ liveness

/**
 * A fault handler that asks a daemon for a page and retries if the mapping
 * changed meanwhile; the daemon invalidates the mapping before answering
 * every request it serves for the first `invalidations` requests (Infinity:
 * a livelock under every schedule).
 */
function livelockScenario(seed: number, invalidations: number): { r: RunResult; reader: Task; attempts: number } {
  const sim = new Sim({ seed, maxSteps: 2_000, livenessBoundNs: 1_000_000 });
  const reqWq = new WaitQueue(sim, 'fuse_req');
  const ansWq = new WaitQueue(sim, 'fuse_answer');
  let mappingSeq = 0;
  let requests = 0;
  let answered = 0;
  let attempts = 0;
  const reader = sim.spawn('reader', function* (t) {
    sim.opBegin(t, 'mem_read');
    t.enter('filemap_fault');
    for (;;) {
      attempts++;
      const seq = mappingSeq;
      const want = ++requests;
      reqWq.wakeUp();
      yield* ansWq.waitEvent(() => answered >= want);
      yield;
      if (mappingSeq === seq) break; // else: retry the fault
    }
    sim.opEnd(t, 0);
  });
  sim.spawn(
    'fused',
    function* (t) {
      t.enter('fuse_dev_do_read');
      for (;;) {
        yield* reqWq.waitEvent(() => requests > answered);
        yield;
        if (answered < invalidations) mappingSeq++; // invalidate_inode_pages2
        yield;
        answered++;
        ansWq.wakeUpAll();
      }
    },
    { daemon: true },
  );
  const r = sim.run();
  return { r, reader, attempts };
}

test('starvation: a fault that retries forever while a daemon keeps invalidating it is reported in the liveness phase', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const { r, attempts } = livelockScenario(seed, Infinity);
    assert.equal(r.reports.length, 1, titles(r).join('; '));
    const rep = r.reports[0]!;
    assert.equal(rep.kind, 'hang');
    assert.match(rep.title, /^INFO: task (starved|blocked forever) in filemap_fault$/, `seed ${seed}`);
    assert.ok(r.livenessSteps > 0, 'reported by the liveness phase');
    assert.ok(r.steps > 2_000);
    assert.match(rep.details, /reader\/0 has not finished mem_read within 1ms of virtual time under fair scheduling/);
    assert.ok(attempts > 100, `the fault kept retrying (${attempts} attempts)`);
  }
});

test('starvation: the same program whose retry loop terminates is not reported', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const { r, attempts } = livelockScenario(seed, 3);
    assertClean(r, `seed ${seed}`);
    assert.equal(attempts, 4);
    assert.equal(r.livenessSteps, 0, 'finished in the adversarial phase');
  }
});

test('starvation: a task spawned late in the liveness phase has not had half of it, and is not reported', () => {
  // A parent that keeps spawning a short-lived child to the end of the
  // liveness budget (a hammered fork): the last child exists for only a few
  // steps when the budget is spent. It is not starving: it was not there.
  for (const seed of SEEDS.slice(0, 10)) {
    const sim = new Sim({ seed, maxSteps: 200, livenessMaxSteps: 2_000 });
    let children = 0;
    sim.spawn('parent', function* (t) {
      for (;;) {
        sim.opBegin(t, 'fork');
        sim.spawn(`child${children++}`, function* () {
          yield;
          yield;
          yield;
        });
        yield;
        sim.opEnd(t, 0);
        yield;
      }
    });
    const r = sim.run();
    assert.ok(children > 100, `seed ${seed}: ${children} children`);
    assert.equal(r.outcome, 'budget', `seed ${seed}: ${titles(r).join('; ')}`);
    assert.deepEqual(titles(r), [], `seed ${seed}`);
  }
});

/**
 * An exit that flushes file after file, each flush sixty steps of its own
 * work and a round trip to a server whose reply takes 30 us (about 300
 * steps of the others), while a hammer runs one short call after another:
 * thirty round trips outlast the liveness budget. `cpuBound`: the exit
 * never waits and never finishes.
 */
function exitBehindServer(seed: number, cpuBound: boolean): RunResult {
  const sim = new Sim({ seed, maxSteps: 200, livenessMaxSteps: 2_000 });
  const request = new WaitQueue(sim, 'fuse request');
  const server = new WaitQueue(sim, 'server');
  let asked = 0;
  let replied = 0;
  sim.spawn('hammer', function* (t) {
    for (;;) {
      sim.opBegin(t, 'mem_read');
      yield;
      sim.opEnd(t, 0);
      yield;
    }
  });
  sim.spawn('server', function* () {
    for (;;) {
      yield* server.waitEvent(() => asked > replied);
      yield* sim.sleepNs(30_000);
      replied++;
      request.wakeUpAll();
    }
  }, { daemon: true });
  sim.spawn('exiting', function* (t) {
    sim.opBegin(t, 'exit');
    const d = t.enter('do_exit');
    for (let i = 0; i < 30 || cpuBound; i++) {
      for (let j = 0; j < 60; j++) yield; // the flush's own work
      if (cpuBound) continue;
      asked++;
      server.wakeUpAll();
      yield* request.waitEvent(() => replied >= asked);
    }
    t.leave(d);
    sim.opEnd(t, 0);
  });
  return sim.run();
}

test('starvation: an operation that mostly waits on a server while another task loops is long, not starved; one that keeps running is', () => {
  // Judged by fair steps alone, the exit looks starved when it happens to
  // be runnable as the budget ends (every one of these seeds, before the
  // rule): its round trips cost steps because the hammer runs meanwhile.
  // It slept through most of the second half of the phase: it is waiting,
  // not starving.
  for (const seed of SEEDS.slice(0, 10)) {
    const waits = exitBehindServer(seed, false);
    assert.equal(waits.outcome, 'budget', `seed ${seed}: ${titles(waits).join('; ')}`);
    assert.deepEqual(titles(waits), [], `seed ${seed}`);
    const runs = exitBehindServer(seed, true);
    assert.deepEqual(titles(runs), ['hang: INFO: task starved in do_exit'], `seed ${seed}`);
  }
});

test('starvation: no lockstep in the liveness phase -- a retry that loses to a looping task only on a strict rotation completes', () => {
  // A looping "punch" takes the page out on each of its turns; the "fault"
  // puts it back, yields once and checks it is still there. Round robin
  // alternates the two forever, so every check comes right after a punch
  // and the fault never completes. A fair schedule that is not a rotation
  // runs the fault twice in a row half the time: it completes in a few
  // tries, and neither task starves.
  for (const seed of SEEDS.slice(0, 10)) {
    const sim = new Sim({ seed, maxSteps: 1, livenessMaxSteps: 2_000 });
    let present = false;
    let tries = 0;
    let done = false;
    sim.spawn('punch', function* (t) {
      for (;;) {
        sim.opBegin(t, 'fallocate');
        t.enter('shmem_fallocate');
        present = false;
        yield;
        sim.opEnd(t, 0);
      }
    });
    sim.spawn('fault', function* (t) {
      sim.opBegin(t, 'mem_read');
      t.enter('filemap_fault');
      for (;;) {
        tries++;
        present = true;
        yield;
        if (present) break;
      }
      done = true;
      sim.opEnd(t, 0);
    });
    const r = sim.run();
    assert.deepEqual(titles(r), [], `seed ${seed}`);
    assert.ok(done, `seed ${seed}: the fault completed`);
    assert.ok(tries < 50, `seed ${seed}: ${tries} tries`);
    assert.ok(r.livenessSteps > 0, 'the liveness phase ran');
  }
});

/**
 * A client asleep on a server's answer while a hog keeps a CPU busy. The
 * server sleeps `latencyNs` on a timer, then works `work` steps before it
 * answers (never, if `latencyNs` is Infinity). Steps cost 100 ns; the
 * liveness phase runs from step 200 to 2200.
 */
function slowServer(seed: number, latencyNs: number, work: number): RunResult {
  const sim = new Sim({ seed, maxSteps: 200, livenessMaxSteps: 2_000 });
  const answer = new WaitQueue(sim, 'server_answer');
  let answered = false;
  sim.spawn('client', function* (t) {
    sim.opBegin(t, 'request');
    t.enter('request_wait_answer');
    yield* answer.waitEvent(() => answered, TaskState.Interruptible);
    sim.opEnd(t, 0);
  });
  sim.spawn('hog', function* (t) {
    for (;;) {
      sim.opBegin(t, 'spin');
      yield;
      sim.opEnd(t, 0);
    }
  });
  sim.spawn('server', function* () {
    if (latencyNs === Infinity) {
      yield* answer.waitEvent(() => false, TaskState.Interruptible);
      return;
    }
    yield* sim.sleepNs(latencyNs);
    yield* pause(work);
    answered = true;
    answer.wakeUpAll();
  }, { daemon: true });
  return sim.run();
}

test('blocked forever: not reported for a sleeper whose server\'s timer fired late in the liveness phase', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    // The timer fires at ~215 us (step ~2150, past the middle of the phase);
    // the server then needs ~100 of its own steps, more than are left.
    const r = slowServer(seed, 215_000, 100);
    assert.equal(r.outcome, 'budget', `seed ${seed}`);
    assert.deepEqual(titles(r), [], `seed ${seed}`);
  }
});

test('blocked forever: reported at the budget for a sleeper that nothing will wake', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const r = slowServer(seed, Infinity, 0);
    assert.deepEqual(titles(r), ['hang: INFO: task blocked forever in request_wait_answer'], `seed ${seed}`);
  }
});

test('blocked forever: a killable wait with no waker is reported once nothing can run', () => {
  const sim = new Sim({ seed: 1, livenessBoundNs: 1_000_000 });
  const wq = new WaitQueue(sim, 'fuse_answer');
  sim.spawn('reader', function* (t) {
    sim.opBegin(t, 'read');
    t.enter('request_wait_answer');
    yield* wq.waitEvent(() => false, TaskState.Killable);
    sim.opEnd(t, 0);
  });
  const r = sim.run();
  assert.deepEqual(titles(r), ['hang: INFO: task blocked forever in request_wait_answer']);
  assert.match(r.reports[0]!.details, /state D\(killable\)/);
  assert.match(r.reports[0]!.details, /waiting on: fuse_answer/);
  assert.ok(r.virtualNs <= 1_100_000);
});

test('blocked forever: not reported when a waker answers, or when the waiter is killed', () => {
  for (const mode of ['answer', 'kill'] as const) {
    const sim = new Sim({ seed: 1, livenessBoundNs: 1_000_000 });
    const wq = new WaitQueue(sim, 'fuse_answer');
    let done = false;
    let res: number | null = null;
    const R = sim.spawn('reader', function* (t) {
      sim.opBegin(t, 'read');
      t.enter('request_wait_answer');
      res = yield* wq.waitEvent(() => done, TaskState.Killable);
      sim.opEnd(t, res);
    });
    sim.spawn('other', function* () {
      yield* sim.sleepNs(500_000);
      if (mode === 'kill') sim.kill(R);
      else {
        done = true;
        wq.wakeUp();
      }
    });
    assertClean(sim.run(), mode);
    assert.equal(res, mode === 'kill' ? WAIT_INTERRUPTED : 0);
  }
});

// ------------------------------------------------------------ simulator errors

test('an exception thrown by the model inside a task becomes a simulator-error report', () => {
  const sim = new Sim({ seed: 1 });
  const m = new Mutex(sim, 'M');
  sim.spawn('buggy', function* (t) {
    t.enter('shmem_getpage');
    yield* m.lock();
    yield;
    throw new Error('page refcount underflow');
  });
  sim.spawn('other', function* () {
    yield* pause(100);
  });
  let r!: RunResult;
  assert.doesNotThrow(() => {
    r = sim.run();
  });
  assert.deepEqual(titles(r), ['simulator-error: simulator-error: page refcount underflow in shmem_getpage']);
  assert.equal(r.outcome, 'report');
  assert.match(r.reports[0]!.details, /Error: page refcount underflow/);
});

test('a SimAssertionError from a primitive becomes a simulator-error report', () => {
  const sim = new Sim({ seed: 1 });
  const page = new BitLock();
  sim.spawn('t', function* (t) {
    t.enter('end_page_writeback');
    yield;
    page.unlock(sim); // not locked
  });
  const r = sim.run();
  assert.deepEqual(titles(r), ['simulator-error: simulator-error: unlock of an unlocked bit lock in end_page_writeback']);
  assert.match(r.reports[0]!.details, /SimAssertionError/);
  assert.ok(new SimAssertionError('x') instanceof Error);
});

test('livenessMaxSteps 0: no liveness phase -- the run ends with the adversarial budget and judges no starvation', () => {
  const spin = (livenessMaxSteps: number): RunResult => {
    const sim = new Sim({ seed: 1, maxSteps: 500, livenessMaxSteps });
    sim.spawn('punch', function* (t) {
      sim.opBegin(t, 'fallocate');
      t.enter('shmem_fallocate');
      for (;;) yield; // never ends
    });
    return sim.run();
  };
  const without = spin(0);
  assert.equal(without.outcome, 'budget');
  assert.deepEqual(titles(without), []);
  assert.equal(without.steps, 500);
  assert.equal(without.livenessSteps, 0);
  // With a liveness phase the same loop is starved.
  assert.deepEqual(titles(spin(1000)), ['hang: INFO: task starved in shmem_fallocate']);
});
