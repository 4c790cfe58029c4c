// Conflicting call pairs (src/fuzz/conflicts.ts): what each call reaches of
// a file's pages, which pairs of tasks race on them, and race-directed
// hammering in the fuzz loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RACE_KILLER_RERUN, RaceTable, conflicts, footprints, hammerPair, killerWeight, sliceOf } from '../../src/fuzz/conflicts.js';
import { execute } from '../../src/fuzz/execute.js';
import { formatProgram, parseProgram } from '../../src/fuzz/format.js';
import { DEFAULT_FUZZ_CONFIG, Fuzzer, RACE_BUDGET } from '../../src/fuzz/fuzzer.js';
import { HAMMER_BUDGET, HAMMER_RERUN, hammers } from '../../src/fuzz/generate.js';
import { validate, type Program } from '../../src/fuzz/program.js';
import { Rng } from '../../src/sim/index.js';

const program = (body: string, profile = 'default'): Program => parseProgram(`profile: ${profile}\nseed: 1\nstrategy: random\n\n${body}`);

const SHAPES = program(`proc 0:
  thread 0:
    r0 = open("/dev/shm/d", O_RDWR|O_CREAT)
    ftruncate(r0, 0x10000)
    r1 = mmap(0x0, 0x8000, PROT_READ|PROT_WRITE, MAP_SHARED, r0, 0x4000)
    mem_write(r1+0x1000, 0x2000, 0x41)
    r2 = dup(r0)
    pread64(r2, 0x20000000, 0x1001, 0x3000)
    pwritev(r0, [{r1, 0x10}, {0x20000000, 0x1000}], 0x0)
    r3 = mmap(0x0, 0x4000, PROT_READ, MAP_SHARED|MAP_ANONYMOUS, r0, 0x0)
    mem_read(r3, 0x4000)
  thread 1:
    fallocate(r0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x5000, 0x3000)
    fallocate(r0, FALLOC_FL_KEEP_SIZE, 0x0, 0x1000)
    madvise(r1, 0x2000, MADV_REMOVE)
proc 1:
  thread 0:
    truncate("/dev/shm/d", 0x2000)
`);

test('footprints: what each call reaches of a file\'s pages, killers marked', () => {
  const got = footprints(SHAPES).map((f) => `${f.proc}.${f.thread}.${f.index} ${f.path} [${f.first},${f.end}) ${f.killer ? 'killer' : 'user'}`);
  assert.deepEqual(got, [
    // ftruncate to 16 pages: what lies past page 16 goes.
    '0.0.1 /dev/shm/d [16,Infinity) killer',
    // Pages 1-2 of a mapping that starts at file page 4.
    '0.0.3 /dev/shm/d [5,7) user',
    // A dup'd fd names the same file; 0x1001 bytes from 0x3000 touch pages 3 and 4.
    '0.0.5 /dev/shm/d [3,5) user',
    // (pwritev: its file range is written under i_rwsem, as every killer
    // holds it; its source buffer, a mapping of the same file, is copied
    // under that lock too)
    // (the MAP_ANONYMOUS mapping reaches no file)
    '0.1.0 /dev/shm/d [5,8) killer',
    // (fallocate without PUNCH_HOLE or ZERO_RANGE allocates under i_rwsem)
    // MADV_REMOVE on a shared mapping frees the file's pages.
    '0.1.2 /dev/shm/d [4,6) killer',
    '1.0.0 /dev/shm/d [2,Infinity) killer',
  ]);
});

test('conflicts: a user and a killer of other tasks that can meet on a file\'s pages, weighted by the pages both reach', () => {
  const got = conflicts(SHAPES).map((c) => `${c.user.proc}.${c.user.thread}.${c.user.index}-${c.killer.proc}.${c.killer.thread}.${c.killer.index} ${c.weight}`);
  assert.deepEqual(got, [
    // mem_write [5,7), a store into a mapping of file pages [4,12): the
    // punch [5,8) (thread 1) is stretched over the whole mapping and the
    // store widened to it, eight pages; against MADV_REMOVE [4,6), which
    // cannot move off its mapping, the store is widened to both pages;
    // against the truncate [2,...) (proc 1), whose reach depends on the
    // file's size, it stays [5,7).
    '0.0.3-0.1.0 8',
    '0.0.3-0.1.2 2',
    '0.0.3-1.0.0 2',
    // pread64 [3,5): the punch, stretched back to page 3, takes both of
    // its pages; MADV_REMOVE meets it on page 4, the truncate on both.
    '0.0.5-0.1.0 2',
    '0.0.5-0.1.2 1',
    '0.0.5-1.0.0 2',
  ]);
  // The ftruncate of thread 0 is a killer past page 16: nothing reaches there.
  assert.ok(!got.some((c) => c.startsWith('0.0.1') || c.includes('-0.0.1')));
  // Widened: the store's address moves to the mapping's first page, its length to all eight.
  assert.deepEqual(conflicts(SHAPES).map((c) => c.widen), [{ add: 0, len: 0x8000 }, { add: 0, len: 0x2000 }, null, null, null, null]);
  // Stretched: the punch covers file pages [4,12) for the store, [3,8) for the read; the others cannot move.
  assert.deepEqual(conflicts(SHAPES).map((c) => c.stretch), [{ off: 0x4000, len: 0x8000 }, null, null, { off: 0x3000, len: 0x5000 }, null, null]);
});

test('conflicts: a punch anywhere in a file meets a store into a mapping of it; the race takes the wider range for both', () => {
  // The corpus's punches are mostly a page or two at some offset, its
  // stores a page of a small mapping of the same file. As they are, they
  // rarely meet, and never widely; D needs a wide punch that a store as
  // wide keeps refilling.
  const text = `proc 0:
  thread 0:
    r0 = open("/dev/shm/d", O_RDWR|O_CREAT)
    r1 = mmap(0x0, 0x4000, PROT_READ|PROT_WRITE, MAP_SHARED, r0, 0x0)
    mem_write(r1+0x3000, 0x1000, 0x41)
proc 1:
  thread 0:
    r2 = open("/dev/shm/d", O_RDWR)
    fallocate(r2, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0xc000, 0x1000)
    fallocate(r2, FALLOC_FL_KEEP_SIZE|FALLOC_FL_ZERO_RANGE, 0x100000, 0x1000)
    fallocate(r2, FALLOC_FL_KEEP_SIZE, 0x0, 0x10000)
`;
  const p = program(text);
  const cs = conflicts(p);
  // Both killers (the allocation is none). The punch of page 12 stretches
  // back over the four mapped pages, the mapping is lengthened to its end
  // (13 pages) and the store widened to all of them; the zero range, 256
  // pages away, takes the mapping to its cap of 16 pages.
  assert.deepEqual(cs.map((c) => [c.killer.index, c.weight, c.stretch, c.extend, c.widen]), [
    [1, 13, { off: 0, len: 0xd000 }, 0xd000, { add: 0, len: 0xd000 }],
    [2, 16, { off: 0, len: 0x101000 }, 0x10000, { add: 0, len: 0x10000 }],
  ]);
  const h = hammerPair(p, cs[0]!);
  const [map, alloc, store] = h.procs[0]!.threads[0]!.calls.slice(1);
  assert.deepEqual(map!.args[1], { kind: 'int', value: 0xd000 });
  // The thirteen pages both meet on are allocated before the store starts: the file is empty.
  assert.deepEqual([alloc!.name, alloc!.args], ['fallocate', [{ kind: 'res', ref: 0, add: 0 }, { kind: 'int', value: 0 }, { kind: 'int', value: 0 }, { kind: 'int', value: 0xd000 }]]);
  assert.deepEqual(store!.args.slice(0, 2), [{ kind: 'res', ref: 1, add: 0 }, { kind: 'int', value: 0xd000 }]);
  const punch = h.procs[1]!.threads[0]!.calls[1]!;
  assert.deepEqual(punch.args.slice(2), [{ kind: 'int', value: 0 }, { kind: 'int', value: 0xd000 }]);
  assert.equal(punch.props.rerun, RACE_KILLER_RERUN);
  // Killers of another file meet nothing.
  assert.deepEqual(conflicts(program(text.replace('open("/dev/shm/d", O_RDWR)', 'open("/dev/shm/e", O_RDWR|O_CREAT)'))), []);
});

test('conflicts: a punch that reaches the user\'s pages only in part is stretched to take them whole', () => {
  // 0x11..0x1012 reaches pages 0 and 1, and removes neither: it zeroes
  // their parts (an empty [start, next) for shmem_falloc, nothing unmapped).
  const text = `proc 0:
  thread 0:
    r0 = open("/dev/shm/d", O_RDWR|O_CREAT)
    r1 = mmap(0x0, 0x2000, PROT_READ|PROT_WRITE, MAP_SHARED, r0, 0x0)
    mem_write(r1, 0x2000, 0x41)
proc 1:
  thread 0:
    r2 = open("/dev/shm/d", O_RDWR)
    fallocate(r2, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, OFF, LEN)
`;
  const [c] = conflicts(program(text.replace('OFF', '0x11').replace('LEN', '0x1001')));
  assert.deepEqual([c?.weight, c?.stretch], [2, { off: 0, len: 0x2000 }]);
  // Aligned over the same pages: nothing to stretch.
  const [a] = conflicts(program(text.replace('OFF', '0x0').replace('LEN', '0x2000')));
  assert.deepEqual([a?.weight, a?.stretch], [2, null]);
});

/**
 * BUGS.md D's shape without its loops: a store through a shared mapping of
 * a tmpfs file in one process, a punch of the whole file in another, both
 * `bytes` long; `sized` first makes the file that long (else the store
 * gets SIGBUS). Run once, nothing happens; the bug needs both to go on.
 */
const storeAndPunch = (bytes: number, sized = true): string => {
  const n = `0x${bytes.toString(16)}`;
  return `proc 0:
  thread 0:
    r0 = open("/dev/shm/d", O_RDWR|O_CREAT)
${sized ? `    ftruncate(r0, ${n})\n` : ''}    r1 = mmap(0x0, ${n}, PROT_READ|PROT_WRITE, MAP_SHARED, r0, 0x0)
    mem_write(r1, ${n}, 0x41)
proc 1:
  thread 0:
    r2 = open("/dev/shm/d", O_RDWR|O_CREAT)
    fallocate(r2, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, ${n})
`;
};

test('conflicts: a write\'s buffer in a mapping of a file being punched is a user, moved and widened like a store (D1)', () => {
  // BUGS.md D1's shape: write() to one tmpfs file copies its buffer from a
  // mapping of another while that one is punched; the copy faults into the
  // punch with the first file's i_rwsem held. The write's own file range
  // is serialized by i_rwsem and reaches nothing here.
  const p = program(`proc 0:
  thread 0:
    r0 = open("/dev/shm/a", O_RDWR|O_CREAT)
    r1 = open("/dev/shm/b", O_RDWR|O_CREAT)
    ftruncate(r1, 0x8000)
    r2 = mmap(0x0, 0x8000, PROT_READ|PROT_WRITE, MAP_SHARED, r1, 0x0)
    write(r0, r2+0x2000, 0x1000)
proc 1:
  thread 0:
    r3 = open("/dev/shm/b", O_RDWR)
    fallocate(r3, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x1000)
`);
  const users = footprints(p).filter((f) => !f.killer).map((f) => `${f.index} ${f.path} [${f.first},${f.end}) ${JSON.stringify(f.window)}`);
  assert.deepEqual(users, ['4 /dev/shm/b [2,3) {"first":0,"end":8}']);
  const cs = conflicts(p);
  assert.deepEqual(cs.map((c) => [c.weight, c.stretch, c.widen]), [[8, { off: 0, len: 0x8000 }, { add: 0, len: 0x8000 }]]);
  const h = hammerPair(p, cs[0]!);
  // The pages the buffer and the punch meet on are allocated in b, through the fd its mapping was made from.
  assert.deepEqual(h.procs[0]!.threads[0]!.calls[4]!.args, [{ kind: 'res', ref: 1, add: 0 }, { kind: 'int', value: 0 }, { kind: 'int', value: 0 }, { kind: 'int', value: 0x8000 }]);
  const w = h.procs[0]!.threads[0]!.calls[5]!;
  // write(fd, buf, count): the buffer and the count are rewritten, the fd kept.
  assert.deepEqual(w.args, [{ kind: 'res', ref: 0, add: 0 }, { kind: 'res', ref: 2, add: 0 }, { kind: 'int', value: 0x8000 }]);
  assert.equal(w.props.rerun, HAMMER_RERUN);
  assert.deepEqual(h.procs[1]!.threads[0]!.calls[1]!.args.slice(2), [{ kind: 'int', value: 0 }, { kind: 'int', value: 0x8000 }]);
  // Written into the file it maps, the write holds that file's i_rwsem while it copies: the punch waits for it.
  const self = parseProgram(formatProgram(p).replace('write(r0, r2+0x2000', 'write(r1, r2+0x2000'));
  assert.deepEqual(footprints(self).filter((f) => !f.killer), []);
});

test('a race allocates the pages both sides meet on, through an fd of the file the race is on', () => {
  // A read from /tmp/a into a mapping of /dev/shm/b, and a read of b itself,
  // each against a punch of b: the allocation goes to b, through the fd its
  // mapping was made from or through the read's own fd -- never to a.
  const p = program(`proc 0:
  thread 0:
    r0 = open("/tmp/a", O_RDWR|O_CREAT)
    r1 = open("/dev/shm/b", O_RDWR|O_CREAT)
    r2 = mmap(0x0, 0x4000, PROT_READ|PROT_WRITE, MAP_SHARED, r1, 0x0)
    read(r0, r2, 0x1000)
    pread64(r1, 0x20000000, 0x2000, 0x0)
proc 1:
  thread 0:
    r3 = open("/dev/shm/b", O_RDWR|O_CREAT)
    fallocate(r3, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x4000)
`);
  const cs = conflicts(p).filter((c) => c.path === '/dev/shm/b');
  assert.deepEqual(cs.map((c) => c.user.index), [3, 4]);
  for (const c of cs) {
    const calls = hammerPair(p, c).procs[0]!.threads[0]!.calls;
    const alloc = calls[c.user.index]!;
    assert.equal(alloc.name, 'fallocate');
    assert.deepEqual(alloc.args.slice(0, 2), [{ kind: 'res', ref: 1, add: 0 }, { kind: 'int', value: 0 }]);
    assert.deepEqual(alloc.args.slice(2), [{ kind: 'int', value: c.meet.off }, { kind: 'int', value: c.meet.len }]);
    assert.equal(calls[c.user.index + 1]!.props.rerun, HAMMER_RERUN);
  }
});

test('conflicts: with a run\'s results, a call that failed reaches nothing', () => {
  const p = program(storeAndPunch(0x4000, false));
  assert.equal(conflicts(p).length, 1, 'statically, the store and the punch overlap');
  // The file is empty: the store gets SIGBUS on its first page.
  const r = execute(p);
  assert.ok(!r.results.some((c) => c.name === 'mem_write' && c.ret !== null && c.ret >= 0), JSON.stringify(r.results));
  assert.deepEqual(conflicts(p, r.results), []);
  const sized = program(storeAndPunch(0x4000));
  const rs = execute(sized);
  assert.deepEqual(conflicts(sized, rs.results).map((c) => c.weight), [4]);
});

test('footprints: a read reaches no more than it returned', () => {
  const p = program(`proc 0:
  thread 0:
    r0 = open("/dev/shm/d", O_RDWR|O_CREAT)
    ftruncate(r0, 0x2000)
    pread64(r0, 0x20000000, 0x10000, 0x0)
`);
  const r = execute(p);
  assert.equal(r.results.find((c) => c.name === 'pread64')?.ret, 0x2000);
  const reads = (fps: ReturnType<typeof footprints>): string[] => fps.filter((f) => !f.killer).map((f) => `[${f.first},${f.end})`);
  assert.deepEqual(reads(footprints(p)), ['[0,16)'], 'statically, the 16 pages asked for');
  assert.deepEqual(reads(footprints(p, r.results)), ['[0,2)'], 'after the run, the 2 pages read');
});

test('hammerPair hammers the user and reruns the killer; killerWeight counts a range to EOF as one page', () => {
  const [c] = conflicts(SHAPES);
  const h = hammerPair(SHAPES, c!);
  const reruns: string[] = [];
  h.procs.forEach((pr, pi) => pr.threads.forEach((t, ti) => t.calls.forEach((call, ci) => {
    if (call.props.rerun !== undefined) reruns.push(`${pi}.${ti}.${ci} ${call.name} ${call.props.rerun}`);
  })));
  assert.deepEqual(reruns, [`0.0.4 mem_write ${HAMMER_RERUN}`, `0.1.0 fallocate ${RACE_KILLER_RERUN}`]);
  // Before it, the pages it will meet the punch on, allocated through r1's fd: file pages [4,12).
  assert.deepEqual(h.procs[0]!.threads[0]!.calls[3]!.args, [{ kind: 'res', ref: 0, add: 0 }, { kind: 'int', value: 0 }, { kind: 'int', value: 0x4000 }, { kind: 'int', value: 0x8000 }]);
  // The store, widened to the (stretched) punch's pages of its mapping: all eight from r1.
  const store = h.procs[0]!.threads[0]!.calls[4]!;
  assert.deepEqual(store.args.slice(0, 2), [{ kind: 'res', ref: 1, add: 0 }, { kind: 'int', value: 0x8000 }]);
  // The punch, stretched over them: file pages [4,12).
  assert.deepEqual(h.procs[0]!.threads[1]!.calls[0]!.args.slice(2), [{ kind: 'int', value: 0x4000 }, { kind: 'int', value: 0x8000 }]);
  const plain = hammerPair(SHAPES, { ...c!, widen: null, stretch: null, meet: null });
  assert.deepEqual(plain.procs[0]!.threads[0]!.calls[3]!.args, SHAPES.procs[0]!.threads[0]!.calls[3]!.args);
  assert.deepEqual(plain.procs[0]!.threads[1]!.calls[0]!.args, SHAPES.procs[0]!.threads[1]!.calls[0]!.args);
  assert.ok(hammers(h) && !hammers(SHAPES));
  const fps = footprints(SHAPES);
  assert.deepEqual(fps.filter((f) => f.killer).map(killerWeight), [1, 3, 2, 1]);
});

test('RaceTable: a pair inside one program, or a killer and a user of two programs composed into one', () => {
  const killer = program(`proc 0:
  thread 0:
    r0 = open("/dev/shm/d", O_RDWR|O_CREAT)
    fallocate(r0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x8000)
`);
  const user = program(`proc 0:
  thread 0:
    r0 = open("/tmp/other", O_RDWR|O_CREAT)
proc 1:
  thread 0:
    r1 = open("/dev/shm/d", O_RDWR|O_CREAT)
    ftruncate(r1, 0x8000)
    r2 = mmap(0x0, 0x8000, PROT_READ, MAP_SHARED, r1, 0x0)
    mem_read(r2, 0x8000)
`);
  const t = new RaceTable();
  assert.equal(t.draw(new Rng('x')), null, 'empty');
  t.add(killer, execute(killer).results);
  t.add(user, execute(user).results);
  assert.equal(t.killerCount, 2, 'the punch, and the ftruncate (past page 8: it meets nothing)');
  const rng = new Rng('draws');
  const shapes = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const p = t.draw(rng);
    if (p === null) continue;
    const hammered = p.procs.map((pr) => pr.threads.map((th) => th.calls.filter((c) => c.props.rerun !== undefined).map((c) => `${c.name}*${c.props.rerun}`).join('+')).join('|'));
    const key = `${p.procs.length} procs: ${hammered.join(' / ')}`;
    shapes.set(key, (shapes.get(key) ?? 0) + 1);
  }
  // Neither program has a pair of its own: every draw composes the punch's
  // process with the process of the store that overlaps it (not proc 0 of
  // the user program, which has nothing to do with it).
  const composed = `2 procs: fallocate*${RACE_KILLER_RERUN} / mem_read*${HAMMER_RERUN}`;
  assert.deepEqual([...shapes.keys()], [composed]);
  assert.ok(shapes.get(composed)! > 100, JSON.stringify([...shapes]));
});

test('race-directed hammering: from D\'s shape in the corpus, the fuzzer hammers the store against the punch and finds D; without it, not', () => {
  const seed = program(storeAndPunch(0x10000), 'shmem-3.15');
  assert.deepEqual(execute(seed).reports, [], 'unhammered, the program is harmless');
  // From an otherwise empty corpus: most fuzzer seeds find it in a few
  // hundred executions when one execution in fifty is a race (10/10 within
  // 600 when this was written; about three in four since -- each change to
  // how races are drawn moves single seeds, so the test takes sixteen and
  // asks for more than half). The default spends less time on them. Short
  // races (no liveness phase) cannot see a starvation: none here.
  const EXECS = 600;
  const RACE_CHANCE = 0.02;
  const found = (raceChance: number, s: number): boolean => {
    let hit = false;
    const f = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, profile: 'shmem-3.15', seed: `race${s}`, raceChance, shortRaceChance: 0 }, (x) => {
      if (x.report.title === 'INFO: task starved in shmem_fallocate') hit = true;
    });
    f.addSeeds([seed]);
    while (!hit && f.stats.execs < EXECS) f.step();
    return hit;
  };
  const seeds = Array.from({ length: 16 }, (_, i) => i);
  const hits = seeds.filter((s) => found(RACE_CHANCE, s)).length;
  assert.ok(hits >= 9, `found by ${hits}/16 seeds within ${EXECS} executions`);
  assert.equal(seeds.slice(0, 3).filter((s) => found(0, s)).length, 0, 'not found without race-directed hammering');
});

test('a race of a killer and a user from two corpus programs allocates the pages they meet on too', () => {
  // No program holds both sides, so every draw pairs them across programs
  // (sliced or whole): the allocation goes in before the hammered store.
  const killer = program(`proc 0:
  thread 0:
    r0 = open("/tmp/victim1", O_RDWR)
    fallocate(r0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x10000)
`);
  const user = program(`proc 0:
  thread 0:
    r0 = open("/tmp/victim1", O_RDWR)
    r1 = mmap(0x0, 0x10000, PROT_READ|PROT_WRITE, MAP_SHARED, r0, 0x0)
    mem_write(r1, 0x1000, 0x41)
`);
  const t = new RaceTable();
  t.add(killer, execute(killer).results);
  t.add(user, execute(user).results);
  const rng = new Rng('cross');
  for (let i = 0; i < 6; i++) {
    const p = t.draw(rng)!;
    const calls = p.procs.flatMap((pr) => pr.threads.flatMap((th) => th.calls));
    const at = calls.findIndex((c) => c.props.rerun === HAMMER_RERUN);
    assert.equal(calls[at]!.name, 'mem_write');
    const alloc = calls[at - 1]!;
    assert.deepEqual([alloc.name, alloc.args.slice(1)], ['fallocate', [{ kind: 'int', value: 0 }, { kind: 'int', value: 0 }, { kind: 'int', value: 0x10000 }]], formatProgram(p));
  }
});

test('a race widens a one-page store to the punched pages of its mapping, and that is what starves the punch (D)', () => {
  // The corpus program stores to one page of a sixteen-page mapping; the
  // other process punches all sixteen. Hammered as it is, the store refills
  // one page and the punch always ends; widened to the sixteen pages, it
  // keeps refilling behind the punch's cursor on shmem-3.15.
  const narrow = program(storeAndPunch(0x10000).replace('mem_write(r1, 0x10000, 0x41)', 'mem_write(r1, 0x1000, 0x41)'), 'shmem-3.15');
  const t = new RaceTable();
  t.add(narrow, execute(narrow).results);
  const rng = new Rng('widen');
  const starved = (p: Program): boolean => execute(p).reports.some((r) => r.title === 'INFO: task starved in shmem_fallocate');
  let widenedHits = 0;
  let plainHits = 0;
  for (let i = 0; i < 4; i++) {
    const p = t.draw(rng)!;
    const store = p.procs.flatMap((pr) => pr.threads.flatMap((th) => th.calls)).find((c) => c.name === 'mem_write')!;
    assert.deepEqual(store.args[1], { kind: 'int', value: 0x10000 }, 'widened to the sixteen punched pages');
    const seeded = { ...p, header: { ...p.header, seed: `widen${i}`, options: { ...p.header.options, maxSteps: '20000', livenessSteps: '20000' } } };
    if (starved(seeded)) widenedHits++;
    const plain = { ...seeded, procs: seeded.procs.map((pr) => ({ threads: pr.threads.map((th) => ({ calls: th.calls.map((c) => (c.name === 'mem_write' ? { ...c, args: [c.args[0]!, { kind: 'int' as const, value: 0x1000 }, c.args[2]!] } : c)) })) })) };
    if (starved(plain)) plainHits++;
  }
  assert.ok(widenedHits >= 2, `widened: ${widenedHits}/4 runs starve the punch`);
  assert.equal(plainHits, 0, 'one page refilled never starves it');
});

test('sliceOf: a race side keeps the call, what made what it uses, and what sized its file, as one thread', () => {
  const p = program(`proc 0:
  thread 0:
    r0 = open("/tmp/f", O_RDWR|O_CREAT)
    r1 = open("/data/file0", O_RDWR)
    pwrite64(r1, 0x20000000, 0x10000, 0x0)
    ftruncate(r0, 0x8000)
    r2 = mmap(0x0, 0x8000, PROT_READ|PROT_WRITE, MAP_SHARED, r0, 0x0)
    fallocate(r0, FALLOC_FL_KEEP_SIZE, 0x0, 0x10000)
  thread 1:
    munmap(r2, 0x1000)
    r3 = mmap(r2+0x2000, 0x2000, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, r0, 0x2000)
    mem_write(r3, 0x2000, 0x41)
    read(r1, r3, 0x1000)
`);
  const slice = sliceOf(p, { proc: 0, thread: 1, index: 2 }, '/tmp/f');
  assert.equal(slice.threads.length, 1);
  // The open and the two mmaps it depends on (r3 was placed by r2), the
  // ftruncate that sized /tmp/f; not the write to another file, the
  // allocation that keeps the size, the munmap of another thread, or
  // anything after the store.
  assert.deepEqual(slice.threads[0]!.calls.map((c) => c.name), ['open', 'ftruncate', 'mmap', 'mmap', 'mem_write']);
  const t = new RaceTable();
  const killer = program(`proc 0:
  thread 0:
    r0 = open("/tmp/f", O_RDWR|O_CREAT)
    pread64(r0, 0x20000000, 0x1000, 0x0)
    fallocate(r0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x8000)
    close(r0)
`);
  // Statically: under this seed the store runs before the ftruncate and gets SIGBUS.
  t.add(p);
  t.add(killer, execute(killer).results);
  const seen = new Set<string>();
  const rng = new Rng('slices');
  for (let i = 0; i < 100; i++) {
    const d = t.draw(rng);
    if (d !== null) seen.add(d.procs.map((pr) => pr.threads.map((th) => th.calls.map((c) => c.name).join(',')).join('|')).join(' / '));
  }
  // Half the races run the two slices, the rest the two whole processes;
  // either way the pages the two meet on are allocated before the store.
  assert.ok(seen.has('open,fallocate / open,ftruncate,mmap,mmap,fallocate,mem_write'), [...seen].join('\n'));
  assert.ok([...seen].some((x) => x.includes('munmap')), [...seen].join('\n'));
});

test('races run under the random strategy when the fuzzer mixes strategies, under the one the user chose otherwise', () => {
  // PCT runs the highest-priority task until it blocks: a punch that never
  // sleeps would finish all its reruns before the hammered loop began.
  const seed = program(storeAndPunch(0x10000), 'shmem-3.15');
  const strategiesOf = (strategy: string): Set<string> => {
    const f = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, profile: 'shmem-3.15', seed: 'strategies', strategy }, () => {});
    f.addSeeds([seed]);
    const races = f as unknown as { raceHammer(): Program | null };
    const got = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const p = races.raceHammer();
      if (p !== null) got.add(p.header.strategy);
    }
    return got;
  };
  assert.deepEqual([...strategiesOf('mixed')], ['random']);
  assert.ok([...strategiesOf('pct:3')].every((s) => s.startsWith('pct:3')));
});

test('a race runs under half a hammering program\'s step budget and no memory budget, unless the user pinned one', () => {
  const seed = program(storeAndPunch(0x10000), 'shmem-3.15');
  const headers = (pinned: Record<string, string>): Program['header'][] => {
    const f = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, profile: 'shmem-3.15', seed: 'budgets', pinned }, () => {});
    f.addSeeds([seed]);
    const races = f as unknown as { raceHammer(): Program | null };
    return Array.from({ length: 40 }, () => races.raceHammer()).flatMap((p) => (p === null ? [] : [p.header]));
  };
  for (const h of headers({})) {
    assert.equal(h.options.maxSteps, String(RACE_BUDGET));
    assert.equal(h.options.livenessSteps, String(RACE_BUDGET));
    assert.equal(h.options.memoryPages, undefined, 'a hammered access larger than a small budget would thrash');
  }
  assert.equal(RACE_BUDGET, HAMMER_BUDGET / 2);
  assert.ok(headers({ memoryPages: '48' }).every((h) => h.options.memoryPages === '48'));
});

test('a race may write to another file its thread opened: the buffer\'s fault then happens under that file\'s i_rwsem (D1 from a write to the block fs)', () => {
  // The write targets a block-fs file: its i_rwsem is another lock class
  // than the tmpfs file whose punch the buffer's fault meets, and lockdep
  // has nothing to say. Its thread also opened a tmpfs file.
  const p = program(`proc 0:
  thread 0:
    r0 = open("/data/file0", O_RDWR|O_CREAT)
    r1 = open("/tmp/victim1", O_RDWR|O_CREAT)
    r2 = open("/dev/shm/b", O_RDWR|O_CREAT)
    r3 = mmap(0x0, 0x10000, PROT_READ|PROT_WRITE, MAP_SHARED, r2, 0x0)
    write(r0, r3, 0x1000)
proc 1:
  thread 0:
    r4 = open("/dev/shm/b", O_RDWR|O_CREAT)
    fallocate(r4, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x1000)
`, 'shmem-take1');
  const [c] = conflicts(p);
  assert.ok(c !== undefined && c.user.index === 4, 'the write\'s buffer is a user of /dev/shm/b');
  const d1 = (h: Program): number => ['a', 'b', 'c'].filter((seed) => execute({ ...h, header: { ...h.header, seed, options: { maxSteps: String(RACE_BUDGET), livenessSteps: String(RACE_BUDGET) } } }).reports.some((r) => /i_mutex_key/.test(r.title))).length;
  assert.equal(d1(hammerPair(p, { ...c!, path: '/dev/shm/b' })), 0, 'to the block fs: no report');
  const retargeted = hammerPair(p, { ...c!, path: '/dev/shm/b', retarget: 0 });
  const write = retargeted.procs[0]!.threads[0]!.calls.find((x) => x.name === 'write')!;
  // The other files the thread opened before the write: /tmp/victim1 only (r2 is the buffer's file, r0 the target).
  assert.deepEqual(write.args[0], { kind: 'res', ref: 1, add: 0 });
  assert.deepEqual(hammerPair(p, { ...c!, path: '/dev/shm/b', retarget: 7 }).procs[0]!.threads[0]!.calls.find((x) => x.name === 'write')!.args[0], write.args[0]);
  assert.equal(d1(retargeted), 3, 'to another tmpfs file: possible recursive locking, on every seed');
  // A memory access is the same fault as a write's copy of its bytes:
  // retargeted, it becomes that write (widened, as the store would be, to
  // the mapping's pages the stretched punch takes), at offset 0: a hammered
  // write at the file position would grow the file by its length every run.
  const store = program(`proc 0:
  thread 0:
    r0 = open("/tmp/victim1", O_RDWR|O_CREAT)
    r1 = open("/dev/shm/b", O_RDWR|O_CREAT)
    r2 = mmap(0x0, 0x10000, PROT_READ|PROT_WRITE, MAP_SHARED, r1, 0x0)
    mem_write(r2, 0x1000, 0x41)
proc 1:
  thread 0:
    r3 = open("/dev/shm/b", O_RDWR|O_CREAT)
    fallocate(r3, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x0, 0x1000)
`, 'shmem-take1');
  const [s] = conflicts(store);
  assert.equal(d1(hammerPair(store, { ...s!, path: '/dev/shm/b' })), 0, 'a store takes its fault with no lock held');
  const wrapped = hammerPair(store, { ...s!, path: '/dev/shm/b', retarget: 0 });
  const calls = wrapped.procs[0]!.threads[0]!.calls;
  assert.equal(calls.some((x) => x.name === 'mem_write'), false);
  const w = calls.find((x) => x.name === 'pwrite64')!;
  assert.deepEqual(w.args, [{ kind: 'res', ref: 0, add: 0 }, { kind: 'res', ref: 2, add: 0 }, { kind: 'int', value: 0x10000 }, { kind: 'int', value: 0 }]);
  assert.equal(w.props.rerun, HAMMER_RERUN);
  assert.equal(d1(wrapped), 3, 'its fault now under /tmp/victim1\'s i_rwsem: possible recursive locking, on every seed');
  // With no other file opened before it in its thread, it stays a store;
  // or it opens one of the victims first, other than the buffer's file.
  const alone = parseProgram(formatProgram(store).replace('    r0 = open("/tmp/victim1", O_RDWR|O_CREAT)\n', ''));
  const [sa] = conflicts(alone);
  assert.ok(hammerPair(alone, { ...sa!, path: '/dev/shm/b', retarget: 0 }).procs[0]!.threads[0]!.calls.some((x) => x.name === 'mem_write'));
  const opened = hammerPair(alone, { ...sa!, path: '/dev/shm/b', retarget: 1, victims: ['/dev/shm/b', '/data/file0', '/tmp/victim0'] });
  assert.deepEqual(validate(opened), []);
  const [open, pw] = opened.procs[0]!.threads[0]!.calls.slice(-2);
  assert.deepEqual([open!.name, open!.args, open!.ret], ['open', [{ kind: 'str', value: '/tmp/victim0' }, { kind: 'int', value: 0o102 }], 4]);
  assert.deepEqual([pw!.name, pw!.args[0]], ['pwrite64', { kind: 'res', ref: 4, add: 0 }]);
  assert.equal(d1(opened), 3);
});

test('short races: a quarter of the adversarial budget, no liveness phase, nothing fed back to the corpus', () => {
  const seed = program(storeAndPunch(0x10000), 'shmem-3.15');
  const f = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, profile: 'shmem-3.15', seed: 'short' }, () => {});
  f.addSeeds([seed]);
  const races = f as unknown as { raceHammer(short?: boolean): Program | null };
  let n = 0;
  for (let i = 0; i < 20; i++) {
    const h = races.raceHammer(true);
    if (h === null) continue;
    n++;
    assert.equal(h.header.options.maxSteps, String(RACE_BUDGET / 4));
    assert.equal(h.header.options.livenessSteps, '0');
    assert.ok(hammers(h));
  }
  assert.ok(n > 10, `${n} short races drawn`);
  // A fuzzer that only runs short races keeps its corpus as the seeds left it.
  const only = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, profile: 'default', seed: 'short-only', raceChance: 0, shortRaceChance: 1 }, () => {});
  only.addSeeds([program(storeAndPunch(0x10000))]);
  const before = only.corpus.length;
  for (let i = 0; i < 10; i++) only.step();
  assert.equal(only.corpus.length, before);
  assert.equal(only.stats.execs >= 10, true);
});
