// lockdep, the lock-dependency validator: what it must report (inversions seen
// in runs that never deadlock, recursion, unbalanced unlocks, locks held on
// return to user space) and what it must not (consistent orders, recursive
// readers, nesting with distinct subclasses, raw seqcount writers).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sim,
  Mutex,
  RwSemaphore,
  Seqcount,
  Rcu,
  type RunResult,
} from '../../src/sim/index.js';
import { assertClean, pause, titles, until } from './helpers.js';

const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);





// ------------------------------------------------------ circular dependencies

test('AB/BA inversion is reported the first time the closing edge is seen, in a run that never deadlocks', () => {
  for (const seed of SEEDS) {
    // Keep running after the report: the program itself must finish.
    const sim = new Sim({ seed, stopOnReport: false });
    const A = new Mutex(sim, 'A');
    const B = new Mutex(sim, 'B');
    let t1Done = false;
    let t2TookA = false;
    sim.spawn('t1', function* (t) {
      t.enter('path_one');
      yield* A.lock();
      yield* B.lock();
      yield;
      B.unlock(t);
      A.unlock(t);
      t1Done = true;
    });
    sim.spawn('t2', function* (t) {
      yield* sim.sleepNs(1_000_000); // t1 is long done by then
      assert.equal(t1Done, true);
      t.enter('path_two');
      yield* B.lock();
      yield* A.lock();
      t2TookA = true;
      A.unlock(t);
      B.unlock(t);
    });
    const r = sim.run();
    assert.deepEqual(titles(r), ['lockdep: possible circular locking dependency: A, B'], `seed ${seed}`);
    assert.equal(r.outcome, 'completed', 'the run itself never deadlocks');
    assert.equal(t2TookA, true);
    const rep = r.reports[0]!;
    assert.equal(rep.task, 't2/1', 'reported in the context of the task closing the cycle');
    assert.match(rep.details, /WARNING: possible circular locking dependency detected/);
    assert.match(rep.details, /t2\/1 is trying to acquire lock:\n \(A\), at: path_two/);
    assert.match(rep.details, /but task is already holding lock:\n \(B\), at: path_two/);
    assert.match(rep.details, /first taken after A by t1\/0 at: path_one/);
    assert.ok(rep.timeNs >= 1_000_000, 'reported at the closing edge, after t1 finished');
  }
});

test('the same inversion with stopOnReport ends the run at the closing acquisition', () => {
  const sim = new Sim({ seed: 7 });
  const A = new Mutex(sim, 'A');
  const B = new Mutex(sim, 'B');
  let after = false;
  sim.spawn('t1', function* (t) {
    yield* A.lock();
    yield* B.lock();
    B.unlock(t);
    A.unlock(t);
  });
  sim.spawn('t2', function* (t) {
    yield* sim.sleepNs(1_000_000);
    yield* B.lock();
    yield* A.lock();
    yield; // the run ends at the step of the report, never reaching past this
    after = true;
    A.unlock(t);
    B.unlock(t);
  });
  const r = sim.run();
  assert.equal(r.outcome, 'report');
  assert.deepEqual(titles(r), ['lockdep: possible circular locking dependency: A, B']);
  assert.equal(r.reports[0]!.step, r.steps, 'no step runs after the report');
  assert.equal(after, false, 'the run stopped at the report');
});

test('a three-class cycle through three tasks (rwsem read, seqcount writer, fs_reclaim pseudo-lock) gives the sorted title and the chain', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const sim = new Sim({ seed, stopOnReport: false });
    const iMmap = new RwSemaphore(sim, '&mapping->i_mmap_rwsem');
    const vmSeq = new Seqcount(sim, '&vma->vm_sequence');
    const fsReclaim = sim.lockdep.classFor('fs_reclaim');
    const FS_RECLAIM = { name: 'fs_reclaim map' };
    sim.spawn('mmap', function* (t) {
      t.enter('vma_adjust');
      yield* iMmap.downRead();
      vmSeq.writeBegin(t);
      yield;
      vmSeq.writeEnd(t);
      iMmap.upRead(t);
    });
    sim.spawn('fault', function* (t) {
      yield* sim.sleepNs(1_000_000);
      t.enter('handle_mm_fault');
      vmSeq.writeBegin(t);
      t.enter('__alloc_pages');
      sim.lockdep.acquire(t, fsReclaim, 0, 0, false, FS_RECLAIM); // fs_reclaim_acquire
      yield;
      sim.lockdep.release(t, FS_RECLAIM, fsReclaim);
      vmSeq.writeEnd(t);
    });
    sim.spawn('reclaim', function* (t) {
      yield* sim.sleepNs(2_000_000);
      t.enter('shrink_page_list');
      sim.lockdep.acquire(t, fsReclaim, 0, 0, false, FS_RECLAIM);
      t.enter('rmap_walk_file');
      yield* iMmap.downRead();
      iMmap.upRead(t);
      sim.lockdep.release(t, FS_RECLAIM, fsReclaim);
    });
    const r = sim.run();
    assert.deepEqual(
      titles(r),
      ['lockdep: possible circular locking dependency: &mapping->i_mmap_rwsem, &vma->vm_sequence, fs_reclaim'],
      `seed ${seed}`,
    );
    assert.equal(r.outcome, 'completed');
    const d = r.reports[0]!.details;
    assert.equal(r.reports[0]!.task, 'reclaim/2');
    // The chain, newest dependency first, each with who first took it and where.
    const i2 = d.indexOf('-> #2 (fs_reclaim)');
    const i1 = d.indexOf('-> #1 (&vma->vm_sequence)');
    const i0 = d.indexOf('-> #0 (&mapping->i_mmap_rwsem)');
    assert.ok(i2 >= 0 && i1 > i2 && i0 > i1, `chain in order:\n${d}`);
    assert.match(d, /first taken after &vma->vm_sequence by fault\/1 at: __alloc_pages/);
    assert.match(d, /first taken after &mapping->i_mmap_rwsem by mmap\/0 at: vma_adjust/);
    assert.match(d, /reclaim\/2 is trying to acquire lock:\n \(&mapping->i_mmap_rwsem\), at: rmap_walk_file/);
    assert.match(d, /but task is already holding lock:\n \(fs_reclaim\), at: shrink_page_list/);
  }
});

test('consistent lock orders are never reported, over many seeds and interleavings', () => {
  let contended = 0;
  for (const seed of Array.from({ length: 100 }, (_, i) => i + 1)) {
    const sim = new Sim({ seed });
    const A = new Mutex(sim, 'A');
    const B = new Mutex(sim, 'B');
    const rw = new RwSemaphore(sim, 'R');
    const seq = new Seqcount(sim, 'S');
    for (let i = 0; i < 4; i++) {
      sim.spawn(`t${i}`, function* (t) {
        for (let k = 0; k < 3; k++) {
          if (i % 2 === 0) yield* rw.downRead();
          else yield* rw.downWrite();
          if (A.isLocked()) contended++;
          yield* A.lock();
          yield;
          yield* B.lock();
          seq.writeBegin(t);
          yield;
          seq.writeEnd(t);
          B.unlock(t);
          A.unlock(t);
          if (i % 2 === 0) rw.upRead(t);
          else rw.upWrite(t);
          // A alone, B alone: no new order.
          yield* B.lock();
          B.unlock(t);
        }
      });
    }
    assertClean(sim.run(), `seed ${seed}`);
    assert.deepEqual(sim.lockdep.dependencies().sort(), ['A -> B', 'B -> S', 'R -> A']);
  }
  assert.ok(contended > 0, 'the schedules must actually interleave');
});

// ------------------------------------------------------ readers, recursion

test('recursive readers (read mode 2) may nest: no recursion report', () => {
  const sim = new Sim({ seed: 1 });
  const cls = sim.lockdep.classFor('tasklist_lock');
  const L1 = {};
  const L2 = {};
  sim.spawn('reader', function* (t) {
    sim.lockdep.acquire(t, cls, 0, 2, false, L1);
    yield;
    sim.lockdep.acquire(t, cls, 0, 2, false, L2);
    yield;
    sim.lockdep.release(t, L2, cls);
    sim.lockdep.release(t, L1, cls);
    assert.equal(t.held.length, 0);
  });
  assertClean(sim.run());
});

test('nested rcu_read_lock is not recursion', () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const sim = new Sim({ seed });
    const rcu = new Rcu(sim);
    const m = new Mutex(sim, 'M');
    for (let i = 0; i < 2; i++) {
      sim.spawn(`t${i}`, function* (t) {
        rcu.readLock(t);
        yield;
        rcu.readLock(t);
        yield;
        rcu.readUnlock(t);
        rcu.readUnlock(t);
        yield* m.lock();
        m.unlock(t);
        assert.equal(t.rcuDepth, 0);
      });
    }
    assertClean(sim.run(), `seed ${seed}`);
  }
});

test('a recursive reader inverted against a mutex is not a cycle; a non-recursive (rwsem) reader is', () => {
  // R recursive-read then M, and M then R recursive-read: the second reader
  // cannot block on the first, so no deadlock is possible (-(SN)-> then -(ER)->).
  {
    const sim = new Sim({ seed: 1 });
    const cls = sim.lockdep.classFor('R');
    const R = {};
    const M = new Mutex(sim, 'M');
    sim.spawn('t1', function* (t) {
      sim.lockdep.acquire(t, cls, 0, 2, false, R);
      yield* M.lock();
      M.unlock(t);
      sim.lockdep.release(t, R, cls);
    });
    sim.spawn('t2', function* (t) {
      yield* sim.sleepNs(1_000_000);
      yield* M.lock();
      sim.lockdep.acquire(t, cls, 0, 2, false, R);
      sim.lockdep.release(t, R, cls);
      M.unlock(t);
    });
    assertClean(sim.run());
    assert.deepEqual(sim.lockdep.dependencies().sort(), ['M -> R', 'R -> M']);
  }
  // The same with down_read: a writer queued between the two readers deadlocks it.
  {
    const sim = new Sim({ seed: 1 });
    const R = new RwSemaphore(sim, 'R');
    const M = new Mutex(sim, 'M');
    sim.spawn('t1', function* (t) {
      yield* R.downRead();
      yield* M.lock();
      M.unlock(t);
      R.upRead(t);
    });
    sim.spawn('t2', function* (t) {
      yield* sim.sleepNs(1_000_000);
      yield* M.lock();
      yield* R.downRead();
      R.upRead(t);
      M.unlock(t);
    });
    assert.deepEqual(titles(sim.run()), ['lockdep: possible circular locking dependency: M, R']);
  }
});

test('double down_read of one rwsem class is reported as recursive locking', () => {
  // The same rwsem twice.
  {
    const sim = new Sim({ seed: 1 });
    const rw = new RwSemaphore(sim, '&mm->mmap_lock');
    sim.spawn('t', function* (t) {
      t.enter('do_page_fault');
      yield* rw.downRead();
      t.enter('get_user_pages');
      yield* rw.downRead();
      rw.upRead(t);
      rw.upRead(t);
    });
    const r = sim.run();
    assert.deepEqual(titles(r), ['lockdep: possible recursive locking detected: &mm->mmap_lock']);
    assert.match(r.reports[0]!.details, /\(&mm->mmap_lock\)\{read\}, at: get_user_pages/);
    assert.match(r.reports[0]!.details, /already holding lock:\n \(&mm->mmap_lock\)\{read\}, at: do_page_fault/);
  }
  // Two rwsems of one class.
  {
    const sim = new Sim({ seed: 1 });
    const a = new RwSemaphore(sim, '&mm->mmap_lock');
    const b = new RwSemaphore(sim, '&mm->mmap_lock');
    sim.spawn('t', function* (t) {
      yield* a.downRead();
      yield* b.downRead();
      b.upRead(t);
      a.upRead(t);
    });
    assert.deepEqual(titles(sim.run()), ['lockdep: possible recursive locking detected: &mm->mmap_lock']);
  }
});

test('one class nested under different subclasses is not recursion; under the same subclass it is', () => {
  for (const seed of SEEDS.slice(0, 20)) {
    const sim = new Sim({ seed });
    const m1 = new Mutex(sim, '&sb->s_type->i_mutex_key');
    const m2 = new Mutex(sim, '&sb->s_type->i_mutex_key');
    for (let i = 0; i < 2; i++) {
      sim.spawn(`rename${i}`, function* (t) {
        yield* m1.lock(0);
        yield;
        yield* m2.lock(1); // mutex_lock_nested(..., I_MUTEX_CHILD)
        yield;
        m2.unlock(t);
        m1.unlock(t);
      });
    }
    assertClean(sim.run(), `seed ${seed}`);
    assert.deepEqual(sim.lockdep.dependencies(), ['&sb->s_type->i_mutex_key -> &sb->s_type->i_mutex_key/1']);
  }
  const sim = new Sim({ seed: 1 });
  const m1 = new Mutex(sim, '&sb->s_type->i_mutex_key');
  const m2 = new Mutex(sim, '&sb->s_type->i_mutex_key');
  sim.spawn('rename', function* (t) {
    yield* m1.lock();
    yield* m2.lock();
    m2.unlock(t);
    m1.unlock(t);
  });
  assert.deepEqual(titles(sim.run()), ['lockdep: possible recursive locking detected: &sb->s_type->i_mutex_key']);
});

test('locks of one name under different keys are different classes, printed name#2 as Linux prints name_version', () => {
  // Each filesystem type keys its inodes' i_rwsem apart (lockdep_set_class
  // with sb->s_type->i_mutex_key): a write to one type's file whose copy
  // takes another type's i_rwsem nests two classes, not one.
  const sim = new Sim({ seed: 1 });
  const tmpfs = new RwSemaphore(sim, '&sb->s_type->i_mutex_key', 'i_mutex_key:tmpfs');
  const blockfs = new RwSemaphore(sim, '&sb->s_type->i_mutex_key', 'i_mutex_key:blockfs');
  const tmpfs2 = new RwSemaphore(sim, '&sb->s_type->i_mutex_key', 'i_mutex_key:tmpfs');
  assert.equal(tmpfs.cls, tmpfs2.cls, 'one key, one class');
  assert.notEqual(tmpfs.cls, blockfs.cls);
  assert.deepEqual([tmpfs.cls.name, blockfs.cls.name], ['&sb->s_type->i_mutex_key', '&sb->s_type->i_mutex_key#2']);
  sim.spawn('write', function* (t) {
    yield* blockfs.downWrite();
    yield* tmpfs.downWrite();
    tmpfs.upWrite(t);
    blockfs.upWrite(t);
  });
  assertClean(sim.run(), 'two classes nested');
  assert.deepEqual(sim.lockdep.dependencies(), ['&sb->s_type->i_mutex_key#2 -> &sb->s_type->i_mutex_key']);
  // The same key nested is recursion, as before.
  const again = new Sim({ seed: 1 });
  const a = new RwSemaphore(again, '&sb->s_type->i_mutex_key', 'i_mutex_key:tmpfs');
  const b = new RwSemaphore(again, '&sb->s_type->i_mutex_key', 'i_mutex_key:tmpfs');
  again.spawn('write', function* (t) {
    yield* a.downWrite();
    yield* b.downWrite();
    b.upWrite(t);
    a.upWrite(t);
  });
  assert.deepEqual(titles(again.run()), ['lockdep: possible recursive locking detected: &sb->s_type->i_mutex_key']);
});

// ------------------------------------------------------ seqcount

test('Seqcount rawWriteBegin adds no dependency where writeBegin does', () => {
  function deps(raw: boolean): string[] {
    const sim = new Sim({ seed: 1 });
    const m = new Mutex(sim, 'M');
    const seq = new Seqcount(sim, 'S');
    sim.spawn('w', function* (t) {
      yield* m.lock();
      if (raw) seq.rawWriteBegin();
      else seq.writeBegin(t);
      yield;
      assert.equal(seq.writing, true);
      if (raw) seq.rawWriteEnd();
      else seq.writeEnd(t);
      m.unlock(t);
    });
    assertClean(sim.run());
    assert.equal(seq.writing, false);
    return sim.lockdep.dependencies();
  }
  assert.deepEqual(deps(true), []);
  assert.deepEqual(deps(false), ['M -> S']);
});

test('an inversion through a raw seqcount writer is invisible to lockdep; through an annotated one it is reported', () => {
  function run(raw: boolean): RunResult {
    const sim = new Sim({ seed: 3 });
    const m = new Mutex(sim, 'M');
    const seq = new Seqcount(sim, 'S');
    sim.spawn('t1', function* (t) {
      yield* m.lock();
      if (raw) seq.rawWriteBegin();
      else seq.writeBegin(t);
      if (raw) seq.rawWriteEnd();
      else seq.writeEnd(t);
      m.unlock(t);
    });
    sim.spawn('t2', function* (t) {
      yield* sim.sleepNs(1_000_000);
      seq.writeBegin(t);
      yield* m.lock();
      m.unlock(t);
      seq.writeEnd(t);
    });
    return sim.run();
  }
  assertClean(run(true));
  assert.deepEqual(titles(run(false)), ['lockdep: possible circular locking dependency: M, S']);
});

// ------------------------------------------------------ unlock balance, user return

test('releasing a mutex that is not held: bad unlock balance', () => {
  const sim = new Sim({ seed: 1 });
  const m = new Mutex(sim, '&inode->i_rwsem');
  sim.spawn('t', function* (t) {
    t.enter('bad_release');
    yield;
    m.unlock(t);
  });
  const r = sim.run();
  assert.deepEqual(titles(r), ['lockdep: bad unlock balance detected: &inode->i_rwsem']);
  assert.match(r.reports[0]!.details, /t\/0 is trying to release lock \(&inode->i_rwsem\) at: bad_release/);
});

test('releasing a mutex held by another task: bad unlock balance, and the owner keeps it', () => {
  const sim = new Sim({ seed: 1, stopOnReport: false });
  const m = new Mutex(sim, 'M');
  let ownerAfter: string | null = null;
  const A = sim.spawn('A', function* (t) {
    yield* m.lock();
    yield* until(() => ownerAfter !== null);
    m.unlock(t);
  });
  sim.spawn('B', function* (t) {
    yield* until(() => m.owner === A);
    m.unlock(t);
    ownerAfter = m.owner?.name ?? 'none';
  });
  const r = sim.run();
  assert.deepEqual(titles(r), ['lockdep: bad unlock balance detected: M']);
  assert.equal(r.reports[0]!.task, 'B/1');
  assert.equal(ownerAfter, 'A');
});

test('up_read / up_write of an rwsem not held: bad unlock balance', () => {
  for (const write of [false, true]) {
    const sim = new Sim({ seed: 1 });
    const rw = new RwSemaphore(sim, '&mm->mmap_lock');
    sim.spawn('t', function* (t) {
      yield;
      if (write) rw.upWrite(t);
      else rw.upRead(t);
    });
    assert.deepEqual(titles(sim.run()), ['lockdep: bad unlock balance detected: &mm->mmap_lock'], `write=${write}`);
  }
});

test('checkUserReturn: a lock held when returning to user space is reported; none when released', () => {
  for (const leak of [true, false]) {
    const sim = new Sim({ seed: 1 });
    const m = new Mutex(sim, '&pipe->mutex');
    const rw = new RwSemaphore(sim, '&mm->mmap_lock');
    sim.spawn('t', function* (t) {
      sim.opBegin(t, 'write');
      t.enter('pipe_write');
      yield* rw.downRead();
      yield* m.lock();
      rw.upRead(t);
      if (!leak) m.unlock(t);
      t.leave(0);
      sim.opEnd(t, 0);
      sim.lockdep.checkUserReturn(t);
      yield;
      if (leak) m.unlock(t);
    });
    const r = sim.run();
    if (leak) {
      assert.deepEqual(titles(r), ['lockdep: lock held when returning to user space: &pipe->mutex']);
      assert.match(r.reports[0]!.details, /1 lock held by t\/0:\n #0: \(&pipe->mutex\)\{write\}, at: pipe_write/);
    } else {
      assertClean(r);
    }
  }
});

test('lockdep reports once, then turns itself off (debug_locks)', () => {
  const sim = new Sim({ seed: 1, stopOnReport: false });
  const A = new Mutex(sim, 'A');
  const B = new Mutex(sim, 'B');
  sim.spawn('t', function* (t) {
    A.unlock(t); // first report
    B.unlock(t); // would be a second one
    yield* pause(2);
  });
  assert.deepEqual(titles(sim.run()), ['lockdep: bad unlock balance detected: A']);
  assert.equal(sim.lockdep.enabled, false);
});
