// Background minimization: a job minimized in the minimizer's thread gives
// exactly what `minimize` gives in the calling thread; jobs finish in the
// order they were submitted; a job the minimizer fails on is reported as
// failed and the jobs after it still run; drain waits for all of them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BackgroundMinimizer, type MinimizeJob, type MinimizeOutcome } from '../../src/fuzz/bgminimize.js';
import { minimize } from '../../src/fuzz/minimize.js';
import { formatProgram, parseProgram } from '../../src/fuzz/format.js';
import type { Program } from '../../src/fuzz/program.js';

const CORPUS = fileURLToPath(new URL('../../../corpus/', import.meta.url));

function load(file: string): { program: Program; title: string } {
  const text = readFileSync(CORPUS + file, 'utf8');
  const title = /^# expect: (.*)$/m.exec(text)?.[1];
  assert.ok(title, `${file} names the title it expects`);
  return { program: parseProgram(text, file), title };
}

/** A catalog reproducer with an irrelevant process and calls around it, so there is something to shrink. */
function padded(file: string): MinimizeJob {
  const { program, title } = load(file);
  const noise = parseProgram([
    'profile: default', 'seed: 1', 'strategy: random', '',
    'proc 0:', '  thread 0:',
    '    r100 = open("/tmp/noise", O_RDWR|O_CREAT)',
    '    pwrite64(r100, 0x20000000, 0x1000, 0x0)',
    '    lseek(r100, 0x0, SEEK_SET)',
    '    close(r100)',
  ].join('\n'), 'noise');
  return { program: { ...program, procs: [...program.procs, ...noise.procs] }, title };
}

test('a job minimized in the background thread matches minimize() in this thread', async () => {
  const job = padded('e1-lockless-map-pages.prog');
  const here = minimize(job.program, job.title);
  assert.equal(here.reproduced, true, 'the padded reproducer reproduces');
  assert.ok(here.after < here.before, `it shrinks: ${here.before} -> ${here.after}`);
  const got: MinimizeOutcome[] = [];
  const bg = new BackgroundMinimizer<MinimizeJob>((_j, out) => got.push(out));
  try {
    bg.submit(job);
    assert.equal(bg.pending, 1);
    await bg.drain();
    assert.equal(bg.pending, 0);
    assert.equal(got.length, 1);
    const there = got[0]!.result;
    assert.ok(there, `no error: ${got[0]!.error}`);
    assert.equal(formatProgram(there.program), formatProgram(here.program));
    assert.equal(there.traceHash, here.traceHash);
    assert.deepEqual([there.before, there.after, there.verifiedReplays], [here.before, here.after, here.verifiedReplays]);
  } finally {
    await bg.close();
  }
});

test('jobs finish in submission order; a failing job is reported and the next one still runs', async () => {
  const ok = padded('e1-lockless-map-pages.prog');
  // No program at all: the minimizer throws inside its thread.
  const bad: MinimizeJob & { tag: string } = { ...ok, program: null as unknown as Program, tag: 'bad' };
  const order: string[] = [];
  const outcomes = new Map<string, MinimizeOutcome>();
  const bg = new BackgroundMinimizer<MinimizeJob & { tag: string }>((j, out) => {
    order.push(j.tag);
    outcomes.set(j.tag, out);
  });
  try {
    bg.submit({ ...ok, tag: 'first' });
    bg.submit(bad);
    bg.submit({ ...ok, tag: 'last' });
    assert.equal(bg.pending, 3);
    await bg.drain();
    assert.deepEqual(order, ['first', 'bad', 'last']);
    assert.match(outcomes.get('bad')!.error ?? '', /null|undefined/);
    assert.equal(outcomes.get('bad')!.result, undefined);
    assert.equal(outcomes.get('first')!.result?.reproduced, true);
    assert.equal(outcomes.get('last')!.result?.after, outcomes.get('first')!.result?.after);
  } finally {
    await bg.close();
  }
});

test('drain with nothing submitted resolves at once; close drops queued jobs', async () => {
  const bg = new BackgroundMinimizer<MinimizeJob>(() => assert.fail('no job should finish'));
  await bg.drain();
  const job = padded('e1-lockless-map-pages.prog');
  bg.submit(job);
  bg.submit(job);
  await bg.close();
  assert.equal(bg.pending, 0);
  await bg.drain();
  assert.throws(() => bg.submit(job), /closed/);
});
