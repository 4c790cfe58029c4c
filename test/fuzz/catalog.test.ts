// The bug catalog end to end (BUGS.md), through the executor the fuzzer
// uses: every hand-written reproducer in corpus/ names the title it must
// produce (`# expect: ...`). On its buggy profile it must give that title for
// most of a fixed set of seeds (under its own strategy); on the default
// profile it must give no report at all, for many seeds and both the random
// and the PCT scheduler.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProgram } from '../../src/fuzz/format.js';
import { execute } from '../../src/fuzz/execute.js';
import type { Program } from '../../src/fuzz/program.js';

const DIR = fileURLToPath(new URL('../../../corpus/', import.meta.url));
/** Seeds tried on the buggy profile; "most" means at least 70% of them. */
const BUGGY_SEEDS = 10;
/** Fixed-profile runs stop at this many seeds or once this many steps ran, whichever comes first (at least 5 seeds). */
const FIXED_SEEDS = 300;
const FIXED_STEPS = 2_000_000;

interface Entry {
  file: string;
  program: Program;
  expect: string;
  /** Fixed profiles besides default (`# fixed: NAME` lines), e.g. a fixed variant of a feature default leaves off. */
  fixed: string[];
}

function entries(): Entry[] {
  const out: Entry[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.prog')).sort()) {
    const text = readFileSync(DIR + file, 'utf8');
    const m = /^# expect: (.+)$/m.exec(text);
    assert.ok(m, `${file}: a catalog reproducer names its expected title in a "# expect:" comment`);
    const fixed = ['default', ...[...text.matchAll(/^# fixed: (\S+)$/gm)].map((x) => x[1]!)];
    out.push({ file, program: parseProgram(text, file), expect: m[1]!.trim(), fixed });
  }
  return out;
}

function withHeader(p: Program, seed: string, profile?: string, strategy?: string): Program {
  return { ...p, header: { ...p.header, seed, profile: profile ?? p.header.profile, strategy: strategy ?? p.header.strategy, schedule: undefined } };
}

const ALL = entries();

test('every catalog reproducer in corpus/ names a buggy profile and its expected title', () => {
  assert.ok(ALL.length >= 6, `${ALL.length} reproducers`);
  for (const e of ALL) {
    assert.notEqual(e.program.header.profile.split('+')[0], 'default', `${e.file}: a reproducer runs on the buggy profile`);
  }
});

for (const e of ALL) {
  test(`${e.file}: the buggy profile (${e.program.header.profile}) reports "${e.expect}" for most seeds`, () => {
    let hits = 0;
    const other = new Set<string>();
    for (let s = 1; s <= BUGGY_SEEDS; s++) {
      const r = execute(withHeader(e.program, String(s)), { record: false });
      assert.equal(r.reports.filter((x) => x.kind === 'simulator-error').length, 0, `seed ${s}: ${r.reports.map((x) => x.details).join('\n')}`);
      if (r.reports.some((x) => x.title === e.expect)) hits++;
      else for (const x of r.reports) other.add(x.title);
    }
    assert.ok(hits >= Math.ceil(0.7 * BUGGY_SEEDS), `${hits}/${BUGGY_SEEDS} seeds gave the title; other reports: ${[...other].join('; ') || 'none'}`);
  });

  test(`${e.file}: the fixed profiles (${e.fixed.join(', ')}) report nothing, random and PCT schedules`, () => {
    for (const [profile, strategy] of e.fixed.flatMap((f) => [[f, 'random'], [f, 'pct:3']] as const)) {
      let steps = 0;
      let s = 1;
      for (; s <= FIXED_SEEDS && (s <= 5 || steps < FIXED_STEPS); s++) {
        const r = execute(withHeader(e.program, `fixed-${s}`, profile, strategy), { record: false });
        assert.deepEqual(r.reports.map((x) => x.title), [], `${profile} ${strategy} seed fixed-${s}`);
        assert.notEqual(r.outcome, 'diverged');
        steps += r.steps;
      }
    }
  });
}

test('D1 needs one filesystem type on both sides: a write to a block-fs file whose buffer faults into a tmpfs punch nests two i_rwsem classes', () => {
  // Linux keys i_rwsem per filesystem type (sb->s_type->i_mutex_key): take
  // 1's fault takes the tmpfs file's i_rwsem inside write()'s hold of the
  // target's. For a tmpfs target that is one class taken twice (Sasha
  // Levin's report); for an ext4 target it is two classes in one order,
  // which nothing reverses here, and no deadlock.
  const d1 = ALL.find((e) => e.program.header.profile === 'shmem-take1')!;
  const text = readFileSync(DIR + d1.file, 'utf8');
  assert.match(text, /open\("\/tmp\/a"/);
  const blockTarget = parseProgram(text.replace('open("/tmp/a"', 'open("/data/file0"'), d1.file);
  const titles = new Set<string>();
  let faulted = 0;
  for (let s = 1; s <= BUGGY_SEEDS; s++) {
    const r = execute(withHeader(blockTarget, String(s)), { record: false });
    for (const x of r.reports) titles.add(x.title);
    if (r.coverage.includes('shmem:fault-in-punch-take1')) faulted++;
  }
  assert.deepEqual([...titles], []);
  assert.ok(faulted > 0, 'the copy faulted into the punch on some seed');
});
