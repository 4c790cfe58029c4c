// Reproducer and corpus minimization: a recorded run written down as a
// preemption list replays exactly; minimization keeps the title and never
// grows a program; a catalog reproducer buried in irrelevant calls and
// processes shrinks back to its hand-written size; the minimized schedule
// reproduces on every replay; corpus minimization keeps the signal exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, ScriptedStrategy, parsePreemptions, formatPreemptions } from '../../src/sim/index.js';
import { PROFILES } from '../../src/kernel/profiles/index.js';
import { Fuzzer, DEFAULT_FUZZ_CONFIG, type Finding } from '../../src/fuzz/fuzzer.js';
import { ChoiceTable, generate, DEFAULT_VICTIMS } from '../../src/fuzz/generate.js';
import { execute } from '../../src/fuzz/execute.js';
import { formatProgram, parseProgram } from '../../src/fuzz/format.js';
import { callCount, int, str, res, validate, type Call, type Program } from '../../src/fuzz/program.js';
import { explicitSchedule, minimize } from '../../src/fuzz/minimize.js';
import { coverItems, minimizeCorpus, programSignal } from '../../src/fuzz/corpus-min.js';
import { SYSCALL_DESCS } from '../../syscalls/index.js';

const CORPUS = fileURLToPath(new URL('../../../corpus/', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/faultline', import.meta.url));

const title0 = (p: Program): string | undefined => execute(p, { replay: true }).reports[0]?.title;

/** The hand-written reproducer of each buggy profile: the smallest corpus/*.prog naming it. */
function catalogReproducers(): { profile: string; file: string; program: Program }[] {
  const out: { profile: string; file: string; program: Program }[] = [];
  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.prog'));
  for (const prof of PROFILES) {
    if (prof.name === 'default') continue;
    const mine = files
      .map((f) => ({ file: f, program: parseProgram(readFileSync(CORPUS + f, 'utf8'), f) }))
      .filter((x) => x.program.header.profile.split('+')[0] === prof.name)
      .sort((a, b) => callCount(a.program) - callCount(b.program));
    if (mine[0]) out.push({ profile: prof.name, ...mine[0] });
  }
  return out;
}

/** The bench's cap (bench/main.ts, minimize): an entry not found within it is reported as such there. */
const FIRST_FIND_EXECS = 50_000;

function firstFinding(profile: string, seed: string): Finding {
  let found: Finding | null = null;
  const f = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, seed, profile }, (x) => {
    found ??= x;
  });
  while (found === null && f.stats.execs < FIRST_FIND_EXECS) f.step();
  assert.ok(found !== null, `${profile}/${seed}: no finding in ${f.stats.execs} execs`);
  return found as Finding;
}

test('the preemption list text round-trips and rejects malformed entries', () => {
  for (const spec of ['preempt', 'preempt:p0.t0@3>p1.t0', 'preempt:start>p1.t1,p0.t0@20>p1.t0,kswapd0@7>p0.t1']) {
    assert.equal(formatPreemptions(parsePreemptions(spec)), spec);
    assert.equal(ScriptedStrategy.parse(spec).name, spec);
  }
  assert.equal(formatPreemptions(parsePreemptions('preempt:')), 'preempt');
  for (const bad of ['preempt:p0.t0>p1.t0', 'preempt:p0.t0@0>p1.t0', 'preempt:p0.t0@x>p1', 'preempt:,', 'preemptive']) {
    assert.throws(() => parsePreemptions(bad), Error, bad);
  }
});

test('any recorded run written down as a preemption list replays to the same trace hash', () => {
  const enabled = new Set(SYSCALL_DESCS.map((d) => d.name));
  const cfg = { procs: 2, threads: 2, calls: 10, victims: DEFAULT_VICTIMS, enabled };
  const rng = new Rng('explicit-schedule');
  const ct = new ChoiceTable(enabled);
  for (let i = 0; i < 60; i++) {
    const profile = i % 2 ? 'lockless-map-pages' : 'default';
    const p = generate(rng, cfg, ct, { profile, seed: `x${i}`, strategy: i % 3 ? 'random' : 'pct:3', options: {} });
    const a = execute(p);
    const recorded = { ...p, header: { ...p.header, schedule: a.schedule! } };
    const s = explicitSchedule(recorded);
    assert.ok(s !== null, `program ${i}`);
    assert.match(s.header.strategy, /^preempt(:|$)/);
    assert.equal(s.header.schedule, undefined);
    const again = parseProgram(formatProgram(s));
    assert.equal(execute(again).traceHash, a.traceHash, `program ${i}: ${s.header.strategy}`);
  }
});

test('minimization keeps the title and never grows a program', () => {
  for (const seed of ['min-a', 'min-b']) {
    const f = firstFinding('lockless-map-pages', seed);
    const m = minimize(f.program, f.report.title);
    assert.equal(m.reproduced, true);
    assert.equal(title0(m.program), f.report.title, `${seed}: minimized program keeps the title`);
    assert.ok(m.after <= m.before && m.after === callCount(m.program), `${seed}: ${m.before} -> ${m.after}`);
    assert.ok(m.program.procs.length <= f.program.procs.length);
    assert.ok(m.after < m.before, `${seed}: a fuzzer program of ${m.before} calls shrinks`);
    assert.deepEqual(validate(m.program), []);
    assert.ok(m.verifiedReplays >= 3);
  }
  // A title the program does not produce: nothing is done.
  const f = firstFinding('lockless-map-pages', 'min-a');
  const none = minimize(f.program, 'BUG: no such title');
  assert.equal(none.reproduced, false);
  assert.equal(none.program, f.program);
  assert.equal(none.after, none.before);
});

test('a report that fires early caps the minimizer\'s runs; what it returns replays the same without the cap', () => {
  // shmem-take1's first finding of seed "bench": a hammered pwrite64 whose
  // buffer faults into a punch; lockdep fires within a few hundred steps,
  // and every candidate that loses it loops to the end of its budget.
  const f = firstFinding('shmem-take1', 'bench');
  const m = minimize(f.program, f.report.title, { timeLimitMs: 30_000 });
  assert.equal(m.reproduced, true);
  assert.ok(m.after <= 7, `${m.before} -> ${m.after}`);
  // (How long it takes is the bench's to say: `npm run bench -- minimize`.)
  const text = formatProgram(m.program);
  for (let i = 0; i < 3; i++) {
    const r = execute(parseProgram(text), { replay: true });
    assert.equal(r.reports[0]?.title, f.report.title);
    assert.equal(r.traceHash, m.traceHash, 'the same run as the capped one');
  }
});

/** Irrelevant calls (on a file nothing else touches) before and after every thread's calls, an extra thread and an extra process. */
function pad(p: Program): Program {
  let next = 100;
  // Under a memory budget, pages are not irrelevant (they make the pressure
  // a reclaim bug needs): there the padding allocates nothing.
  const lean = p.header.options.memoryPages !== undefined;
  const junk = (): Call[] => {
    const fd = next++;
    const map = next++;
    return [
      { name: 'open', args: [str(`/tmp/pad${fd}`), int(0o102)], ret: fd, props: {} },
      lean
        ? { name: 'lseek', args: [res(fd), int(0x2000), int(0)], ret: null, props: {} }
        : { name: 'write', args: [res(fd), int(0x20000000), int(0x2000)], ret: null, props: {} },
      { name: 'mmap', args: [int(0), int(0x2000), int(1), int(2), res(fd), int(0)], ret: map, props: {} },
      lean
        ? { name: 'mprotect', args: [res(map), int(0x2000), int(1)], ret: null, props: {} }
        : { name: 'mem_read', args: [res(map), int(0x2000)], ret: null, props: {} },
      { name: 'lseek', args: [res(fd), int(0x1000), int(0)], ret: null, props: {} },
    ];
  };
  return {
    header: p.header,
    procs: [
      ...p.procs.map((pr) => ({ threads: [...pr.threads.map((t) => ({ calls: [...junk(), ...t.calls, ...junk()] })), { calls: junk() }] })),
      { threads: [{ calls: junk() }, { calls: junk() }] },
    ],
  };
}

/** A header under which `p` reproduces `title`: its own, or a random/PCT seed. */
function reproducingHeader(p: Program, title: string): Program | null {
  if (title0(p) === title) return p;
  for (let i = 0; i < 1500; i++) {
    const q = { ...p, header: { ...p.header, seed: `pad${i}`, strategy: i % 2 ? 'pct:3' : 'random' } };
    if (title0(q) === title) return q;
  }
  return null;
}

test('a catalog reproducer padded with irrelevant calls and processes shrinks back to the hand-written size', () => {
  const catalog = catalogReproducers();
  assert.ok(catalog.some((c) => c.profile === 'lockless-map-pages'), 'E1 has a hand-written reproducer in corpus/');
  for (const c of catalog) {
    const title = title0(c.program);
    assert.ok(title !== undefined, `${c.file} reproduces`);
    const padded = reproducingHeader(pad(c.program), title);
    assert.ok(padded !== null, `${c.file}: the padded program reproduces under some schedule`);
    assert.ok(callCount(padded) >= callCount(c.program) + 20);
    const m = minimize(padded, title, { timeLimitMs: 30_000 });
    assert.equal(title0(m.program), title);
    assert.ok(m.after <= callCount(c.program), `${c.file}: padded ${m.before} calls -> ${m.after}, hand-written ${callCount(c.program)}\n${formatProgram(m.program)}`);
  }
});

test('a result closed and whose number the next open takes is folded into that open\'s', () => {
  // E1's hand-written reproducer, but process 0 first opens and closes
  // another file, and every later call names the closed fd: the next open
  // gets its number, so they reach /tmp/e1 through it. Dropping the first
  // open alone turns those uses into -1; only folding r9 into r0 lets both
  // extra calls go.
  const e1 = readFileSync(CORPUS + 'e1-lockless-map-pages.prog', 'utf8');
  const text = e1
    .replace('    r0 = open("/tmp/e1"', '    r9 = open("/tmp/other", O_RDWR|O_CREAT)\n    close(r9)\n    r0 = open("/tmp/e1"')
    .replace(/\(r0, 0x20000000/, '(r9, 0x20000000')
    .replace(/MAP_SHARED, r0,/, 'MAP_SHARED, r9,');
  const p = parseProgram(text, 'e1-reopened');
  assert.equal(callCount(p), 8);
  const title = title0(parseProgram(e1, 'e1'))!;
  const q = reproducingHeader(p, title);
  assert.ok(q !== null, 'the reopened variant reproduces under some schedule');
  const m = minimize(q, title, { timeLimitMs: 30_000 });
  assert.equal(title0(m.program), title);
  assert.equal(m.after, 6, formatProgram(m.program));
  assert.ok(!formatProgram(m.program).includes('close('), formatProgram(m.program));
});

/**
 * What a reader must reproduce: the calls plus the environment options set in
 * the header. The fuzzer may reach an entry by another path than the
 * hand-written reproducer (B's held mmap_lock through a FUSE read instead of a
 * throttled block device): one more call in place of an option is no bigger.
 */
const reproducerSize = (p: Program): number => callCount(p) + Object.keys(p.header.options).length;

/**
 * Entries where the goal is not met yet (issue 8 stays open for them); the
 * bench (`npm run bench -- minimize`) prints their sizes. shmem-take2: the
 * punch starves only with about a thousand mappings of the file (trinity's
 * forks), and the generator never repeats a call that creates a resource
 * that often. lockless-map-pages was here until seed "bench" met E1 first
 * through virtiofs (7 calls against the hand-written 6: only a FUSE open of
 * its own held the second thread back until the first thread's mapping
 * existed); it met it after 174 execs as a tmpfs hole punch against a
 * populating mmap, which minimized to 4 calls and 4 preemptions. Since
 * short races, seed "bench" meets shmem-take1 after 3597 execs in one (a
 * write retargeted to another tmpfs file, under maxSteps=2500 and
 * livenessSteps=0): 9 calls that minimize to 6, the budgets dropped as
 * the report comes long before them; and E1 after 342 as "page mapped
 * beyond EOF", 40 calls to 5.
 *
 * The fuzzer's seed is the bench's ("bench"), so this test asserts what the
 * bench prints. Which route a seed finds first moves with any change to the
 * generator or the fuzzer. Since the tmpfs victims exist at boot, seed
 * "bench" finds shmem-take1 after 757 execs (6 calls against 7; before,
 * not within 20000) and no-invalidate-lock as "stale data after punch
 * hole" (3 calls against 5; before, "stale data after truncate", 5 calls
 * plus blockThrottleNs). shmem-3.15 is found after about 7500 execs, a
 * sliced race of 8 calls that minimizes to 6 plus its two step budgets, as
 * the hand-written one. When races first stretched their punch
 * (conflicts.ts), seed "bench" first met E1 as "COW page mapped beyond EOF
 * after truncate in handle_mm_fault" (a private mapping's write fault
 * copies a page that lockless map-ahead left mapped beyond the new EOF):
 * 40 calls that minimized to 5 and a schedule of 3 preemptions -- but only
 * once a short candidate got more fresh schedules (with three, the race
 * between the truncate and the write fault was lost and 12 calls stayed).
 * Since races run under half the budget and twice as often, seed "bench"
 * meets no-invalidate-lock as a read() into a shared mapping of the file
 * being punched, which minimizes to 5 calls with up to forty fresh
 * schedules per candidate (6 with sixteen), and shmem-take1 only after
 * about 25000 execs (the bench's cap is 50000). Before results were
 * folded into others of their kind, a first reproducer that closed its
 * first fd and reopened another file under the same number kept 8.
 */
const FIRST_FIND_MISSES = new Set(['shmem-take2']);

test('the fuzzer\'s first reproducer of each catalog entry minimizes to no more than the hand-written one', (t) => {
  for (const c of catalogReproducers()) {
    if (FIRST_FIND_MISSES.has(c.profile)) {
      t.diagnostic(`${c.profile}: known miss, see FIRST_FIND_MISSES`);
      continue;
    }
    const f = firstFinding(c.profile, 'bench');
    const m = minimize(f.program, f.report.title, { timeLimitMs: 30_000 });
    assert.ok(reproducerSize(m.program) <= reproducerSize(c.program), `${c.profile}: fuzzer ${m.before} calls -> ${m.after} (+${Object.keys(m.program.header.options).length} options) in ${Math.round(m.ms)} ms, hand-written ${callCount(c.program)} (+${Object.keys(c.program.header.options).length} options)\n${formatProgram(m.program)}`);
  }
});

test('a starvation found under the default step budgets minimizes to one that states a tenth of them', () => {
  // D's reproducer without its budget lines: each run is 400000 steps.
  const text = readFileSync(CORPUS + 'd-shmem-3.15-punch-starves.prog', 'utf8').replace(/^option: (maxSteps|livenessSteps)=.*\n/gm, '');
  const p = parseProgram(text, 'd-nobudget');
  assert.equal(p.header.options.maxSteps, undefined);
  const title = 'INFO: task starved in shmem_fallocate';
  assert.equal(title0(p), title);
  const m = minimize(p, title, { timeLimitMs: 3000 });
  assert.equal(m.reproduced, true);
  assert.equal(m.verifiedReplays, 3);
  assert.ok(Number(m.program.header.options.maxSteps) <= 20000, `maxSteps ${m.program.header.options.maxSteps}`);
  assert.ok(Number(m.program.header.options.livenessSteps) <= 20000, `livenessSteps ${m.program.header.options.livenessSteps}`);
  assert.equal(title0(m.program), title);
});

test('the minimized schedule is explicit and short, and reproduces on every replay', () => {
  // A race (the E1 truncate window), found under a random schedule.
  const hand = catalogReproducers().find((c) => c.profile === 'lockless-map-pages')!.program;
  const title = title0(hand)!;
  const raced = reproducingHeader({ ...hand, header: { ...hand.header, strategy: 'random', seed: 'race' } }, title)!;
  assert.ok(raced !== null && raced.header.strategy !== hand.header.strategy);
  const m = minimize(raced, title);
  assert.match(m.program.header.strategy, /^preempt(:|$)/);
  assert.equal(m.program.header.schedule, undefined, 'no opaque decision log');
  assert.ok(m.preemptionsAfter >= 1, 'a race needs at least one preemption');
  assert.ok(m.preemptionsAfter <= m.preemptionsBefore, `${m.preemptionsBefore} -> ${m.preemptionsAfter}`);
  // A handful: the truncate's unmap walk has a preemption point per VMA.
  assert.ok(m.preemptionsAfter <= 4, m.program.header.strategy);
  const text = formatProgram(m.program);
  const first = execute(parseProgram(text));
  for (let i = 0; i < 20; i++) {
    const r = execute(parseProgram(text), { replay: true });
    assert.equal(r.reports[0]?.title, title, `replay ${i}`);
    assert.equal(r.traceHash, first.traceHash, `replay ${i}`);
  }
  // Without its preemptions the minimized program does not hit the race: the schedule is what makes it reproduce.
  assert.notEqual(title0({ ...m.program, header: { ...m.program.header, strategy: 'preempt' } }), title);
});

test('corpus minimization keeps the union of signal exactly and prefers short programs', () => {
  const corpus: Program[] = [];
  const f = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, seed: 'cmin' }, () => {}, (p) => corpus.push(p));
  for (let i = 0; i < 400; i++) f.step();
  assert.ok(corpus.length > 10, `corpus of ${corpus.length}`);
  const entries = [...corpus, ...corpus.slice(0, 5)].map((p) => ({ program: p, text: formatProgram(p), recorded: [] }));
  const items = coverItems(entries);
  const res2 = minimizeCorpus(items);
  const union = (idx: number[]): Set<number> => new Set(idx.flatMap((i) => [...(items[i]!.signal ?? [])]));
  const all = union(items.map((_, i) => i));
  const kept = union(res2.keep);
  assert.equal(res2.before.signal, all.size);
  assert.equal(res2.after.signal, all.size);
  assert.deepEqual([...kept].sort(), [...all].sort());
  assert.ok(res2.after.programs < res2.before.programs, `${res2.before.programs} -> ${res2.after.programs}`);
  // The kept programs' signal, recomputed from scratch, is still everything.
  const again = new Set(res2.keep.flatMap((i) => programSignal(entries[i]!.program)!));
  assert.deepEqual([...again].sort(), [...all].sort());

  // Greedy set cover by signal per call: three one-call programs beat one ten-call program with the same signal.
  const small = minimizeCorpus([
    { signal: [1, 2, 3], calls: 10, bytes: 300 },
    { signal: [1], calls: 1, bytes: 30 },
    { signal: [2], calls: 1, bytes: 30 },
    { signal: [3], calls: 1, bytes: 30 },
    { signal: [1, 2], calls: 5, bytes: 100 },
  ]);
  assert.deepEqual(small.keep, [1, 2, 3]);
  // A short program with everything wins alone; unknown signal is never dropped.
  assert.deepEqual(minimizeCorpus([{ signal: [1], calls: 1, bytes: 1 }, { signal: [1, 2, 3], calls: 2, bytes: 9 }, { signal: null, calls: 0, bytes: 5 }]).keep, [1, 2]);
});

test('the CLI minimizes a reproducer file and a stored corpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-min-'));
  try {
    const hand = catalogReproducers().find((c) => c.profile === 'lockless-map-pages')!;
    const padded = pad(hand.program);
    const file = join(dir, 'padded.prog');
    writeFileSync(file, formatProgram(reproducingHeader(padded, title0(hand.program)!)!));
    const out = join(dir, 'min.prog');
    const r = spawnSync(process.execPath, [BIN, 'minimize', file, '--out', out, '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { before: number; after: number; reproduced: boolean; program: string };
    assert.equal(j.reproduced, true);
    assert.ok(j.after <= callCount(hand.program), `${j.before} -> ${j.after}`);
    assert.equal(readFileSync(out, 'utf8'), j.program);

    const db = join(dir, 'c.db');
    const imp = spawnSync(process.execPath, [BIN, 'corpus', 'import', join(CORPUS, 'examples'), '--db', db], { encoding: 'utf8' });
    assert.equal(imp.status, 0, imp.stderr);
    const cm = spawnSync(process.execPath, [BIN, 'corpus', 'minimize', '--json', '--db', db], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(cm.status, 0, cm.stderr);
    const c = JSON.parse(cm.stdout) as { before: { programs: number; signal: number }; after: { programs: number; signal: number } };
    assert.equal(c.after.signal, c.before.signal);
    assert.ok(c.after.programs <= c.before.programs && c.after.programs >= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
