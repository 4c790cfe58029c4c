// Behaviour of the simulation engine's primitives: one behaviour per test.
// Orders are forced with `until` (spin with `yield` until a condition holds),
// so every seed must give the same recorded order; most tests run many seeds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sim,
  Task,
  TaskState,
  WAIT_INTERRUPTED,
  Mutex,
  RwSemaphore,
  BitLock,
  WaitQueue,
  Completion,
  Seqcount,
  Spinlock,
  Rcu,
  type TimerTarget,
} from '../../src/sim/index.js';
import { assertClean, pause, until } from './helpers.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);




// ------------------------------------------------------------------ mutex

test('mutex: never more than one holder inside the critical section', () => {
  let contended = 0;
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const m = new Mutex(sim, 'test_mutex');
    let inside = 0;
    let maxInside = 0;
    let entries = 0;
    for (let i = 0; i < 4; i++) {
      sim.spawn(`t${i}`, function* (t) {
        for (let k = 0; k < 5; k++) {
          if (m.isLocked()) contended++;
          yield* m.lock();
          assert.equal(m.owner, t);
          inside++;
          entries++;
          maxInside = Math.max(maxInside, inside);
          yield;
          yield;
          inside--;
          m.unlock(t);
          yield;
        }
      });
    }
    const r = sim.run();
    assertClean(r);
    assert.equal(maxInside, 1, `seed ${seed}`);
    assert.equal(entries, 20);
    assert.equal(m.owner, null);
  }
  assert.ok(contended > 0, 'the schedules must actually contend for the mutex');
});

test('mutex: unlock hands the lock to waiters in FIFO order, with no stealing by the releaser', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const m = new Mutex(sim, 'test_mutex');
    const log: string[] = [];
    let B!: Task;
    let C!: Task;
    const A = sim.spawn('A', function* (t) {
      yield* m.lock();
      log.push('A got');
      yield* until(() => B.state === TaskState.Uninterruptible && C.state === TaskState.Uninterruptible);
      m.unlock(t);
      log.push('A unlocked');
      // Direct handoff: B owns it at once, before it even runs.
      assert.equal(m.owner, B);
      assert.equal(B.state, TaskState.Runnable);
      assert.equal(m.trylock(t), false, 'the releaser cannot steal the lock back');
      yield* m.lock();
      log.push('A got again');
      m.unlock(t);
    });
    B = sim.spawn('B', function* (t) {
      yield* until(() => m.owner === A);
      yield* m.lock();
      log.push('B got');
      yield;
      m.unlock(t);
    });
    C = sim.spawn('C', function* (t) {
      yield* until(() => B.state === TaskState.Uninterruptible);
      yield* m.lock();
      log.push('C got');
      yield;
      m.unlock(t);
    });
    const r = sim.run();
    assertClean(r);
    assert.deepEqual(log, ['A got', 'A unlocked', 'B got', 'C got', 'A got again'], `seed ${seed}`);
    assert.equal(m.owner, null);
  }
});

test('mutex_lock_killable returns WAIT_INTERRUPTED when killed while waiting; the lock passes to the next waiter', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const m = new Mutex(sim, 'test_mutex');
    const log: string[] = [];
    let bResult: number | null = null;
    let B!: Task;
    let C!: Task;
    const A = sim.spawn('A', function* (t) {
      yield* m.lock();
      yield* until(() => bResult !== null);
      m.unlock(t);
      log.push(`A unlocked, owner ${m.owner?.name ?? 'none'}`);
    });
    B = sim.spawn('B', function* (t) {
      yield* until(() => m.owner === A);
      bResult = yield* m.lockKillable();
      log.push(`B returned ${bResult}`);
      assert.equal(t.held.length, 0, 'lockdep must forget the interrupted acquisition');
      assert.notEqual(m.owner, t);
    });
    C = sim.spawn('C', function* (t) {
      yield* until(() => B.state === TaskState.Killable);
      yield* m.lock();
      log.push('C got');
      m.unlock(t);
    });
    sim.spawn('killer', function* () {
      yield* until(() => B.state === TaskState.Killable && C.state === TaskState.Uninterruptible);
      sim.kill(B);
      log.push('killed B');
      assert.equal(B.state, TaskState.Runnable);
    });
    const r = sim.run();
    assertClean(r);
    assert.deepEqual(log, ['killed B', `B returned ${WAIT_INTERRUPTED}`, 'A unlocked, owner C', 'C got'], `seed ${seed}`);
    assert.equal(m.owner, null);
    assert.equal(m.isLocked(), false);
  }
});

test('mutex_lock_killable with a fatal signal already pending does not sleep and does not take a contended lock', () => {
  const sim = new Sim({ seed: 3 });
  const m = new Mutex(sim, 'test_mutex');
  let result: number | null = null;
  const A = sim.spawn('A', function* (t) {
    yield* m.lock();
    yield* until(() => result !== null);
    m.unlock(t);
    assert.equal(m.owner, null, 'the interrupted task must not be left queued');
  });
  sim.spawn('B', function* (t) {
    yield* until(() => m.owner === A);
    sim.kill(t);
    result = yield* m.lockKillable();
  });
  assertClean(sim.run());
  assert.equal(result, WAIT_INTERRUPTED);
});

// ------------------------------------------------------------------ rwsem

test('lock acquisition: a task reuses its acquisition iterator, and two started at once each get their own', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const a = new Mutex(sim, 'lock_a');
    const b = new RwSemaphore(sim, 'lock_b');
    const steps: string[] = [];
    sim.spawn('t', function* (t) {
      // One after the other: the same iterator, a preemption point each, as a generator had.
      const first = a.lock();
      yield* first;
      a.unlock(t);
      const second = b.downWrite();
      assert.equal(second, first, 'a finished acquisition is reused');
      yield* second;
      b.upWrite(t);
      // Two made before either runs: distinct, and both take their lock.
      const x = a.lock();
      const y = b.downRead();
      assert.notEqual(x, y);
      assert.equal(yield* x, 0);
      assert.equal(yield* y, 0);
      assert.equal(a.owner, t);
      assert.ok(b.holdsRead(t));
      b.upRead(t);
      a.unlock(t);
      steps.push('done');
    });
    // A second task contending for `a` keeps the handoff path in play.
    sim.spawn('u', function* (u) {
      for (let i = 0; i < 3; i++) {
        yield* a.lock();
        yield;
        a.unlock(u);
      }
    });
    const r = sim.run();
    assertClean(r);
    assert.deepEqual(steps, ['done'], `seed ${seed}`);
  }
});

test('rwsem: several readers hold it at the same time', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const rw = new RwSemaphore(sim, 'test_rwsem');
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      sim.spawn(`R${i}`, function* (t) {
        yield* rw.downRead();
        yield* until(() => rw.readers.length === 3);
        seen.push(rw.readers.length);
        assert.equal(rw.holdsRead(t), true);
        yield* until(() => seen.length === 3);
        rw.upRead(t);
      });
    }
    assertClean(sim.run());
    assert.deepEqual(seen, [3, 3, 3]);
    assert.equal(rw.isLocked(), false);
  }
});

test('rwsem: a queued writer blocks later readers until it has had the lock', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const rw = new RwSemaphore(sim, 'test_rwsem');
    const log: string[] = [];
    let W!: Task;
    let R2!: Task;
    sim.spawn('R1', function* (t) {
      yield* rw.downRead();
      log.push('R1 read');
      yield* until(() => rw.queued === 2 && R2.state === TaskState.Uninterruptible);
      // R2 sleeps although only a reader holds the lock.
      log.push(`R2 blocked, readers ${rw.readers.length}, writer ${rw.writer?.name ?? 'none'}`);
      rw.upRead(t);
      log.push(`R1 up, writer ${rw.writer?.name ?? 'none'}, R2 ${R2.state === TaskState.Runnable ? 'runnable' : 'asleep'}`);
    });
    W = sim.spawn('W', function* (t) {
      yield* until(() => log.includes('R1 read'));
      yield* rw.downWrite();
      log.push(`W write, readers ${rw.readers.length}`);
      yield;
      yield;
      log.push(`W up`);
      rw.upWrite(t);
    });
    R2 = sim.spawn('R2', function* (t) {
      yield* until(() => W.state === TaskState.Uninterruptible && rw.queued === 1);
      yield* rw.downRead();
      log.push(`R2 read, writer ${rw.writer?.name ?? 'none'}`);
      rw.upRead(t);
    });
    assertClean(sim.run());
    assert.deepEqual(
      log,
      [
        'R1 read',
        'R2 blocked, readers 1, writer none',
        'R1 up, writer W, R2 asleep',
        'W write, readers 0',
        'W up',
        'R2 read, writer none',
      ],
      `seed ${seed}`,
    );
    assert.equal(rw.isLocked(), false);
  }
});

test('down_write_killable is interrupted by a kill, and readers queued behind the writer then get in', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const rw = new RwSemaphore(sim, 'test_rwsem');
    const log: string[] = [];
    let W!: Task;
    let R2!: Task;
    sim.spawn('R1', function* (t) {
      yield* rw.downRead();
      log.push('R1 read');
      yield* until(() => log.includes('R2 read'));
      rw.upRead(t);
    });
    W = sim.spawn('W', function* (t) {
      yield* until(() => log.includes('R1 read'));
      const r = yield* rw.downWriteKillable();
      log.push(`W returned ${r}`);
      assert.equal(rw.writer, null);
      assert.equal(t.held.length, 0);
    });
    R2 = sim.spawn('R2', function* (t) {
      yield* until(() => W.state === TaskState.Killable);
      yield* rw.downRead();
      log.push('R2 read');
      assert.deepEqual(rw.readers.map((x) => x.name).sort(), ['R1', 'R2']);
      rw.upRead(t);
    });
    sim.spawn('killer', function* () {
      yield* until(() => W.state === TaskState.Killable && R2.state === TaskState.Uninterruptible);
      sim.kill(W);
      log.push(`killed W, R2 ${R2.state === TaskState.Runnable ? 'runnable' : 'asleep'}, queued ${rw.queued}`);
    });
    assertClean(sim.run());
    assert.deepEqual(log.slice(0, 2), ['R1 read', 'killed W, R2 runnable, queued 0'], `seed ${seed}`);
    assert.deepEqual([...log.slice(2)].sort(), [`W returned ${WAIT_INTERRUPTED}`, 'R2 read'].sort());
    assert.equal(rw.isLocked(), false);
  }
});

test('down_read_killable is interrupted by a kill while a writer holds the lock', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const rw = new RwSemaphore(sim, 'test_rwsem');
    const log: string[] = [];
    let R!: Task;
    const W = sim.spawn('W', function* (t) {
      yield* rw.downWrite();
      yield* until(() => log.length === 2);
      rw.upWrite(t);
      log.push(`W up, locked ${rw.isLocked()}`);
    });
    R = sim.spawn('R', function* (t) {
      yield* until(() => rw.writer === W);
      const r = yield* rw.downReadKillable();
      log.push(`R returned ${r}, reader ${rw.holdsRead(t)}`);
    });
    sim.spawn('killer', function* () {
      yield* until(() => R.state === TaskState.Killable);
      sim.kill(R);
      log.push(`killed R, queued ${rw.queued}`);
    });
    assertClean(sim.run());
    assert.deepEqual(
      log,
      ['killed R, queued 0', `R returned ${WAIT_INTERRUPTED}, reader false`, 'W up, locked false'],
      `seed ${seed}`,
    );
  }
});

test('rwsem tryDownRead and tryDownWrite succeed only when the lock could be taken without waiting', () => {
  const sim = new Sim({ seed: 7 });
  const rw = new RwSemaphore(sim, 'test_rwsem');
  const log: string[] = [];
  let phase = 0;
  let W!: Task;
  sim.spawn('A', function* (t) {
    log.push(`A tryRead ${rw.tryDownRead(t)}`); // free: yes
    phase = 1;
    yield* until(() => phase === 2);
    yield* until(() => W.state === TaskState.Uninterruptible);
    phase = 3;
    yield* until(() => phase === 4);
    rw.upRead(t);
  });
  sim.spawn('B', function* (t) {
    yield* until(() => phase === 1);
    log.push(`B tryRead ${rw.tryDownRead(t)}`); // shared with A: yes
    log.push(`B tryWrite ${rw.tryDownWrite(t)}`); // readers hold it: no
    rw.upRead(t);
    phase = 2;
  });
  W = sim.spawn('W', function* (t) {
    yield* until(() => phase === 2);
    yield* rw.downWrite();
    log.push('W write');
    yield* until(() => phase === 5);
    rw.upWrite(t);
    phase = 6;
  });
  sim.spawn('C', function* (t) {
    yield* until(() => phase === 3);
    log.push(`C tryRead ${rw.tryDownRead(t)}`); // a writer is queued: no
    phase = 4;
    yield* until(() => log.includes('W write'));
    log.push(`C tryRead ${rw.tryDownRead(t)}`); // a writer holds it: no
    log.push(`C tryWrite ${rw.tryDownWrite(t)}`); // a writer holds it: no
    phase = 5;
    yield* until(() => phase === 6);
    log.push(`C tryWrite ${rw.tryDownWrite(t)}`); // free again: yes
    rw.upWrite(t);
  });
  assertClean(sim.run());
  assert.deepEqual(log, [
    'A tryRead true',
    'B tryRead true',
    'B tryWrite false',
    'C tryRead false',
    'W write',
    'C tryRead false',
    'C tryWrite false',
    'C tryWrite true',
  ]);
  assert.equal(rw.isLocked(), false);
});

// ------------------------------------------------------------- page lock

test('page BitLock: unlock hands the lock directly to the waiting locker', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const page = new BitLock();
    const log: string[] = [];
    let B!: Task;
    const A = sim.spawn('A', function* () {
      log.push(`A lock ${yield* page.lock(sim)}`);
      yield* until(() => B.state === TaskState.Uninterruptible);
      page.unlock(sim);
      log.push(`A unlocked: locked ${page.locked}, owner ${page.owner?.name}, B ${B.state === TaskState.Runnable ? 'runnable' : 'asleep'}`);
    });
    B = sim.spawn('B', function* (t) {
      yield* until(() => page.owner === A);
      log.push(`B lock ${yield* page.lock(sim)}`);
      assert.equal(page.owner, t);
      page.unlock(sim);
    });
    assertClean(sim.run());
    assert.deepEqual(log, ['A lock 0', 'A unlocked: locked true, owner B, B runnable', 'B lock 0'], `seed ${seed}`);
    assert.equal(page.locked, false);
    assert.equal(page.owner, null);
    assert.equal(page.waiters, 0);
  }
});

test('page BitLock: trylock fails while locked and succeeds once unlocked', () => {
  const sim = new Sim({ seed: 5 });
  const page = new BitLock();
  const log: string[] = [];
  let phase = 0;
  sim.spawn('A', function* (t) {
    log.push(`A trylock ${page.trylock(sim, t)}`);
    phase = 1;
    yield* until(() => phase === 2);
    page.unlock(sim);
    phase = 3;
  });
  sim.spawn('B', function* (t) {
    yield* until(() => phase === 1);
    log.push(`B trylock ${page.trylock(sim, t)}, owner ${page.owner?.name}`);
    phase = 2;
    yield* until(() => phase === 3);
    log.push(`B trylock ${page.trylock(sim, t)}, owner ${page.owner?.name}`);
    page.unlock(sim);
  });
  assertClean(sim.run());
  assert.deepEqual(log, ['A trylock true', 'B trylock false, owner A', 'B trylock true, owner B']);
  assert.equal(page.locked, false);
});

test('page BitLock: unlock wakes every waitUnlocked waiter and hands the lock to the first exclusive waiter only', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const page = new BitLock();
    const log: string[] = [];
    const tasks: Record<string, Task> = {};
    const asleep = (n: string) => tasks[n]!.state === TaskState.Uninterruptible;
    tasks.A = sim.spawn('A', function* () {
      yield* page.lock(sim);
      yield* until(() => page.waiters === 4);
      page.unlock(sim);
      const states = ['N1', 'N2', 'E1', 'E2'].map((n) => `${n}:${asleep(n) ? 'asleep' : 'runnable'}`);
      log.push(`A unlocked: owner ${page.owner?.name}, waiters ${page.waiters}, ${states.join(' ')}`);
    });
    tasks.N1 = sim.spawn('N1', function* () {
      yield* until(() => page.owner === tasks.A);
      const r = yield* page.waitUnlocked(sim);
      log.push(`N1 returned ${r}, owner ${page.owner?.name}`);
    });
    tasks.N2 = sim.spawn('N2', function* () {
      yield* until(() => asleep('N1'));
      const r = yield* page.waitUnlocked(sim);
      log.push(`N2 returned ${r}, owner ${page.owner?.name}`);
    });
    tasks.E1 = sim.spawn('E1', function* () {
      yield* until(() => asleep('N2'));
      const r = yield* page.lock(sim);
      log.push(`E1 lock ${r}`);
      yield* until(() => log.length === 4);
      page.unlock(sim);
    });
    tasks.E2 = sim.spawn('E2', function* () {
      yield* until(() => asleep('E1'));
      const r = yield* page.lock(sim);
      log.push(`E2 lock ${r}`);
      page.unlock(sim);
    });
    assertClean(sim.run());
    assert.equal(log[0], 'A unlocked: owner E1, waiters 1, N1:runnable N2:runnable E1:runnable E2:asleep', `seed ${seed}`);
    // N1, N2 return while E1 holds the page (they only waited for the unlock).
    assert.deepEqual(log.slice(1, 4).sort(), ['E1 lock 0', 'N1 returned 0, owner E1', 'N2 returned 0, owner E1']);
    assert.equal(log[4], 'E2 lock 0');
    assert.equal(page.locked, false);
  }
});

test('page BitLock: a killable lock is woken by a kill and returns WAIT_INTERRUPTED', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const page = new BitLock();
    const log: string[] = [];
    let B!: Task;
    const A = sim.spawn('A', function* () {
      yield* page.lock(sim);
      yield* until(() => log.length === 2);
      page.unlock(sim);
      log.push(`A unlocked, locked ${page.locked}`);
    });
    B = sim.spawn('B', function* (t) {
      yield* until(() => page.owner === A);
      const r = yield* page.lock(sim, true);
      log.push(`B returned ${r}, owner ${page.owner?.name}, stack [${t.stack.join(',')}]`);
    });
    sim.spawn('killer', function* () {
      yield* until(() => B.state === TaskState.Killable);
      sim.kill(B);
      log.push(`killed B, waiters ${page.waiters}`);
    });
    assertClean(sim.run());
    assert.deepEqual(
      log,
      ['killed B, waiters 0', `B returned ${WAIT_INTERRUPTED}, owner A, stack []`, 'A unlocked, locked false'],
      `seed ${seed}`,
    );
  }
});

test('page BitLock: an uninterruptible lock is not woken by a kill and gets the lock on unlock', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const page = new BitLock();
    const log: string[] = [];
    let B!: Task;
    const A = sim.spawn('A', function* () {
      yield* page.lock(sim);
      yield* until(() => log.length === 1);
      page.unlock(sim);
      log.push(`A unlocked, owner ${page.owner?.name}`);
    });
    B = sim.spawn('B', function* (t) {
      yield* until(() => page.owner === A);
      const r = yield* page.lock(sim, false);
      log.push(`B returned ${r}, owner ${page.owner?.name}, fatal pending ${t.fatalPending}`);
      page.unlock(sim);
    });
    sim.spawn('killer', function* () {
      yield* until(() => B.state === TaskState.Uninterruptible);
      sim.kill(B);
      yield* pause(30);
      log.push(`after kill B ${B.state === TaskState.Uninterruptible ? 'still in D' : 'woken'}`);
    });
    assertClean(sim.run());
    assert.deepEqual(
      log,
      ['after kill B still in D', 'A unlocked, owner B', 'B returned 0, owner B, fatal pending true'],
      `seed ${seed}`,
    );
  }
});

// -------------------------------------------------------------- wait queue

test('WaitQueue: wakeUp(1) wakes every non-exclusive waiter and one exclusive waiter; wakeUpAll wakes the rest', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const wq = new WaitQueue(sim, 'test_wq');
    const log: string[] = [];
    let go = false;
    const names = ['N1', 'N2', 'E1', 'E2', 'E3'];
    const tasks: Task[] = [];
    const stateText = () =>
      tasks.map((t) => `${t.name}:${t.state === TaskState.Runnable ? 'R' : t.state === TaskState.Exited ? 'X' : 'D'}`).join(' ');
    names.forEach((n, i) => {
      tasks.push(
        sim.spawn(n, function* () {
          // Queue one at a time, in name order.
          yield* until(() => wq.length === i);
          yield* wq.waitEvent(() => go, TaskState.Uninterruptible, n.startsWith('E'));
          log.push(`${n} woke`);
        }),
      );
    });
    sim.spawn('waker', function* () {
      yield* until(() => wq.length === 5);
      go = true;
      const n1 = wq.wakeUp(1);
      log.push(`wakeUp(1) = ${n1}: ${stateText()}`);
      yield* until(() => log.length === 4);
      const n2 = wq.wakeUpAll();
      log.push(`wakeUpAll = ${n2}: ${stateText()}`);
    });
    assertClean(sim.run());
    assert.equal(log[0], 'wakeUp(1) = 3: N1:R N2:R E1:R E2:D E3:D', `seed ${seed}`);
    assert.deepEqual(log.slice(1, 4).sort(), ['E1 woke', 'N1 woke', 'N2 woke']);
    assert.equal(log[4], 'wakeUpAll = 2: N1:X N2:X E1:X E2:R E3:R');
    assert.deepEqual(log.slice(5).sort(), ['E2 woke', 'E3 woke']);
    assert.equal(wq.length, 0);
  }
});

test('WaitQueue: a woken waiter whose condition is still false goes back to sleep', () => {
  const sim = new Sim({ seed: 11 });
  const wq = new WaitQueue(sim, 'test_wq');
  const log: string[] = [];
  let value = 0;
  const W = sim.spawn('W', function* () {
    yield* wq.waitEvent(() => value >= 2);
    log.push(`W done at ${value}`);
  });
  sim.spawn('waker', function* () {
    for (let i = 1; i <= 2; i++) {
      yield* until(() => W.state === TaskState.Uninterruptible && wq.length === 1);
      value = i;
      wq.wakeUpAll();
      log.push(`woke at ${value}`);
    }
  });
  assertClean(sim.run());
  assert.deepEqual(log, ['woke at 1', 'woke at 2', 'W done at 2']);
});

// -------------------------------------------------------------- completion

test('Completion: complete() lets exactly one waiter through, in FIFO order', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const c = new Completion(sim, 'test_done');
    const log: string[] = [];
    const tasks: Task[] = [];
    for (let i = 0; i < 3; i++) {
      tasks.push(
        sim.spawn(`W${i}`, function* () {
          yield* until(() => tasks.slice(0, i).every((x) => x.state === TaskState.Uninterruptible));
          const r = yield* c.wait();
          log.push(`W${i} through ${r}`);
        }),
      );
    }
    sim.spawn('completer', function* () {
      yield* until(() => tasks.every((x) => x.state === TaskState.Uninterruptible));
      c.complete();
      yield* until(() => log.length === 1);
      yield* pause(20);
      log.push(`asleep: ${tasks.filter((x) => x.state === TaskState.Uninterruptible).map((x) => x.name).join(',')}`);
      c.complete();
      c.complete();
    });
    assertClean(sim.run());
    assert.deepEqual(log.slice(0, 2), ['W0 through 0', 'asleep: W1,W2'], `seed ${seed}`);
    assert.deepEqual(log.slice(2).sort(), ['W1 through 0', 'W2 through 0']);
    assert.equal(c.completed, false, 'each complete() was consumed by one waiter');
  }
});

test('Completion: completeAll() lets every waiter through, and later waiters pass without sleeping', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed });
    const c = new Completion(sim, 'test_done');
    const log: string[] = [];
    const tasks: Task[] = [];
    for (let i = 0; i < 3; i++) {
      tasks.push(
        sim.spawn(`W${i}`, function* () {
          const r = yield* c.wait();
          log.push(`W${i} through ${r}`);
        }),
      );
    }
    sim.spawn('completer', function* () {
      yield* until(() => tasks.every((x) => x.state === TaskState.Uninterruptible));
      c.completeAll();
      log.push(`completeAll: ${tasks.filter((x) => x.state === TaskState.Runnable).length} runnable`);
      yield* until(() => log.length === 4);
      const start = sim.step;
      const r = yield* c.wait();
      log.push(`late waiter ${r}, slept ${t2s(sim.step - start)}`);
    });
    assertClean(sim.run());
    assert.equal(log[0], 'completeAll: 3 runnable', `seed ${seed}`);
    assert.deepEqual(log.slice(1, 4).sort(), ['W0 through 0', 'W1 through 0', 'W2 through 0']);
    assert.equal(log[4], 'late waiter 0, slept no');
    assert.equal(c.completed, true);
  }
  function t2s(steps: number): string {
    // wait() yields once (might_sleep) and returns in the next step when it does not sleep.
    return steps === 1 ? 'no' : `yes (${steps} steps)`;
  }
});

// --------------------------------------------------------------- seqcount

test('Seqcount: the count is odd while writing and readRetry detects a concurrent write', () => {
  for (const seed of SEEDS.slice(0, 5)) {
    const sim = new Sim({ seed });
    const sc = new Seqcount(sim, 'test_seq');
    const log: string[] = [];
    let phase = 0;
    sim.spawn('reader', function* (t) {
      const s = sc.readBegin(t);
      log.push(`begin ${s}, retry ${sc.readRetry(s)}`);
      phase = 1;
      yield* until(() => phase === 2);
      log.push(`during write: seq ${sc.seq}, writing ${sc.writing}, retry ${sc.readRetry(s)}`);
      const during = sc.rawReadBegin();
      log.push(`begin during write ${during}, retry ${sc.readRetry(during)}`);
      phase = 3;
      yield* until(() => phase === 4);
      log.push(`after write: seq ${sc.seq}, writing ${sc.writing}, retry ${sc.readRetry(s)}, retry-during ${sc.readRetry(during)}`);
      const s2 = sc.readBegin(t);
      yield;
      log.push(`fresh ${s2}, retry ${sc.readRetry(s2)}`);
    });
    sim.spawn('writer', function* (t) {
      yield* until(() => phase === 1);
      sc.writeBegin(t);
      phase = 2;
      yield* until(() => phase === 3);
      sc.writeEnd(t);
      phase = 4;
    });
    assertClean(sim.run());
    assert.deepEqual(log, [
      'begin 0, retry false',
      'during write: seq 1, writing true, retry true',
      'begin during write 1, retry true',
      'after write: seq 2, writing false, retry true, retry-during true',
      'fresh 2, retry false',
    ]);
  }
});

// ---------------------------------------------- atomic context: spin, rcu

test('sleeping on a contended mutex while holding a spinlock is reported in the innermost non-generic frame', () => {
  const sim = new Sim({ seed: 1 });
  const sl = new Spinlock(sim, 'test_spin');
  const m = new Mutex(sim, 'test_mutex');
  const A = sim.spawn('A', function* (t) {
    yield* m.lock();
    yield* until(() => false, 1000);
    m.unlock(t);
  });
  sim.spawn('B', function* (t) {
    yield* until(() => m.owner === A);
    t.enter('outer_syscall');
    t.enter('inner_fn');
    sl.lock(t);
    yield* m.lock(); // enters the generic mutex_lock frame, then sleeps
    sl.unlock(t);
  });
  const r = sim.run();
  assert.equal(r.outcome, 'report');
  assert.equal(r.reports.length, 1);
  const rep = r.reports[0]!;
  assert.equal(rep.kind, 'warning');
  assert.ok(rep.title.startsWith('BUG: sleeping function called from invalid context in '));
  assert.equal(rep.title, 'BUG: sleeping function called from invalid context in inner_fn');
  assert.equal(rep.task, 'B/1');
  assert.match(rep.details, /in_atomic\(\): 1, rcu_read_lock nesting: 0/);
  assert.match(rep.details, /Call trace: mutex_lock <- inner_fn <- outer_syscall/);
});

test('a timed sleep while holding a spinlock is reported, naming the frame below generic ones', () => {
  const sim = new Sim({ seed: 2 });
  const sl = new Spinlock(sim, 'test_spin');
  sim.spawn('S', function* (t) {
    t.enter('do_work');
    sl.lock(t);
    t.enter('msleep');
    yield* sim.sleepNs(1000);
    sl.unlock(t);
  });
  const r = sim.run();
  assert.equal(r.outcome, 'report');
  assert.deepEqual(
    r.reports.map((x) => [x.kind, x.title]),
    [['warning', 'BUG: sleeping function called from invalid context in do_work']],
  );
});

test('sleeping inside an RCU read-side section is reported', () => {
  const sim = new Sim({ seed: 4 });
  const rcu = new Rcu(sim);
  sim.spawn('R', function* (t) {
    t.enter('rcu_reader_fn');
    rcu.readLock(t);
    yield* sim.sleepNs(1000);
    rcu.readUnlock(t);
  });
  const r = sim.run();
  assert.equal(r.outcome, 'report');
  assert.equal(r.reports.length, 1);
  assert.equal(r.reports[0]!.kind, 'warning');
  assert.equal(r.reports[0]!.title, 'BUG: sleeping function called from invalid context in rcu_reader_fn');
  assert.match(r.reports[0]!.details, /in_atomic\(\): 0, rcu_read_lock nesting: 1/);
});

test('sleeping after leaving the RCU section and releasing the spinlock is not reported', () => {
  const sim = new Sim({ seed: 4 });
  const rcu = new Rcu(sim);
  const sl = new Spinlock(sim, 'test_spin');
  sim.spawn('R', function* (t) {
    t.enter('fine_fn');
    rcu.readLock(t);
    sl.lock(t);
    yield;
    sl.unlock(t);
    rcu.readUnlock(t);
    yield* sim.sleepNs(1000);
  });
  assertClean(sim.run());
});

test('a spinlock holder is never preempted: no other task runs inside its critical section', () => {
  let interleavedOutside = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const sim = new Sim({ seed });
    const sl = new Spinlock(sim, 'test_spin');
    const log: string[] = [];
    for (let i = 0; i < 3; i++) {
      sim.spawn(`L${i}`, function* (t) {
        for (let k = 0; k < 4; k++) {
          log.push(`L${i}`);
          yield;
          log.push(`L${i}`);
          sl.lock(t);
          log.push(`L${i} in`);
          for (let j = 0; j < 3; j++) {
            yield;
            log.push(`L${i} in`);
          }
          log.push(`L${i} out`);
          sl.unlock(t);
          yield;
        }
      });
    }
    sim.spawn('other', function* () {
      for (let k = 0; k < 30; k++) {
        log.push('other');
        yield;
      }
    });
    assertClean(sim.run());
    // Every entry between "Li in" ... "Li out" must come from Li's steps.
    let holder: string | null = null;
    let prev = '';
    for (const e of log) {
      if (holder !== null) {
        assert.ok(e === `${holder} in` || e === `${holder} out`, `seed ${seed}: '${e}' ran inside ${holder}'s critical section`);
        if (e === `${holder} out`) holder = null;
      } else if (e.endsWith(' in')) {
        holder = e.slice(0, -3);
      }
      if (holder === null && prev !== '' && prev !== e && !e.endsWith(' out')) interleavedOutside++;
      prev = e;
    }
    assert.equal(holder, null);
    assert.equal(log.filter((e) => e.endsWith(' out')).length, 12);
  }
  assert.ok(interleavedOutside > 0, 'tasks must interleave outside critical sections');
});

// ------------------------------------------------------------------ timers

test('sim.sleepNs advances virtual time by exactly the requested amount', () => {
  const sim = new Sim({ seed: 1, stepCostNs: 0 });
  const times: number[] = [];
  sim.spawn('S', function* () {
    times.push(sim.nowNs);
    const r = yield* sim.sleepNs(5000);
    times.push(sim.nowNs, r);
    yield* sim.sleepNs(123_456);
    times.push(sim.nowNs);
  });
  const r = sim.run();
  assertClean(r);
  assert.deepEqual(times, [0, 5000, 0, 128_456]);
  assert.equal(r.virtualNs, 128_456);

  // With a step cost, the task resumes one step after its deadline.
  const sim2 = new Sim({ seed: 1, stepCostNs: 100 });
  const t2: number[] = [];
  sim2.spawn('S', function* () {
    t2.push(sim2.nowNs);
    yield* sim2.sleepNs(5000);
    t2.push(sim2.nowNs);
  });
  const r2 = sim2.run();
  assertClean(r2);
  assert.deepEqual(t2, [100, 5200]);
  assert.equal(r2.virtualNs, 5200);
  assert.equal(r2.steps, 2);
});

test('timers fire in deadline order, ties in creation order, each at its exact deadline', () => {
  const sim = new Sim({ seed: 9, stepCostNs: 100 });
  const fired: [number, number][] = [];
  const target: TimerTarget = { onTimer: (arg) => fired.push([arg, sim.nowNs]) };
  // A fixed pseudo-random set of deadlines with many ties.
  const deadlines: number[] = [];
  let x = 12345;
  for (let i = 0; i < 60; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    deadlines.push(1000 + (x % 7) * 1000);
  }
  deadlines.push(5000, 3000, 3000, 9000, 3000, 1000);
  sim.spawn('T', function* () {
    deadlines.forEach((d, i) => sim.addTimer(d, target, i));
    yield* sim.sleepNs(20_000);
  });
  const r = sim.run();
  assertClean(r);
  const expected = deadlines
    .map((d, i) => [i, d] as [number, number])
    .sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  assert.deepEqual(fired, expected);
  assert.deepEqual(r.steps, 2, 'waiting for timers costs no scheduling steps');
  assert.equal(r.virtualNs, 100 + 20_000 + 100);
});

test('cancelled timers do not fire', () => {
  const sim = new Sim({ seed: 3, stepCostNs: 0 });
  const fired: number[] = [];
  const target: TimerTarget = { onTimer: (arg) => fired.push(arg) };
  sim.spawn('T', function* () {
    const a = sim.addTimer(500, target, 1);
    sim.addTimer(500, target, 2);
    const c = sim.addTimer(400, target, 3);
    sim.addTimer(600, target, 4);
    sim.cancelTimer(a);
    sim.cancelTimer(c);
    yield* sim.sleepNs(1000);
  });
  assertClean(sim.run());
  assert.deepEqual(fired, [2, 4]);
});

test('when nothing is runnable, virtual time jumps straight to the next timer', () => {
  const sim = new Sim({ seed: 1, stepCostNs: 100 });
  const times: number[] = [];
  sim.spawn('S', function* () {
    yield* sim.sleepNs(1e9);
    times.push(sim.nowNs);
    yield* sim.sleepNs(2e9);
    times.push(sim.nowNs);
  });
  const r = sim.run();
  assertClean(r);
  assert.deepEqual(times, [1e9 + 200, 3e9 + 300]);
  assert.equal(r.steps, 3, 'no steps are spent while waiting');
  assert.equal(r.virtualNs, 3e9 + 300);
});

test('while another task is runnable, a sleeper wakes at the first step at or after its deadline', () => {
  for (const seed of SEEDS) {
    const sim = new Sim({ seed, stepCostNs: 100 });
    let start = -1;
    let woke = -1;
    sim.spawn('S', function* () {
      start = sim.nowNs;
      yield* sim.sleepNs(1000);
      woke = sim.nowNs;
    });
    sim.spawn('busy', function* () {
      for (let i = 0; i < 200; i++) yield;
    });
    assertClean(sim.run());
    assert.ok(woke >= start + 1000 + 100, `seed ${seed}: woke at ${woke}, slept at ${start}`);
    assert.equal((woke - start) % 100, 0);
  }
});
