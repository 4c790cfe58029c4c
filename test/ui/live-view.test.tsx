// The live view, rendered with ink-testing-library from a recorded stream
// of snapshots: panels show what the stats say, findings arrive in the
// log and the table, and keys pause, open a finding and quit.

import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { LiveView } from '../../src/ui/LiveView.js';
import type { CrashDetailData, LiveControl, LiveStats, RunInfo } from '../../src/ui/types.js';
import { HUNG_DETAILS, STREAM } from './fixtures.js';
import { KEY, settle, waitForFrame, waitForText } from './frames.js';

const INFO: RunInfo = { profile: 'shmem-take1', seed: '7', strategy: 'mixed', workers: 2, db: 'test.db' };

/** Replays STREAM one snapshot per sample, then holds the last; records what the view asked for. */
function fakeRun(stream: readonly LiveStats[] = STREAM) {
  let i = 0;
  const calls: string[] = [];
  const control: LiveControl = {
    sample: () => stream[Math.min(i++, stream.length - 1)]!,
    quit: () => calls.push('quit'),
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    openFinding: (title: string): CrashDetailData => {
      calls.push(`open ${title}`);
      return { id: 3, kind: 'hang', title, count: 4, firstSeen: 0, lastSeen: 0, details: HUNG_DETAILS, repro: null };
    },
  };
  return { control, calls };
}

afterEach(() => cleanup());

test('the header says the run is running, for how long, and names the profile, seed, strategy and workers', async () => {
  const r = render(<LiveView info={INFO} control={fakeRun().control} everyMs={10} />);
  const f = await waitForText(r, 'elapsed 0:02');
  assert.match(f, /faultline fuzz {2}running {2}elapsed 0:02 {2}profile shmem-take1 {2}seed 7 {2}strategy mixed {2}workers 2/);
});

test('a finished run shows its final numbers, stopped, and ignores keys', async () => {
  const run = fakeRun();
  const r = render(<LiveView info={INFO} control={run.control} everyMs={10} />);
  await waitForText(r, 'running');
  r.rerender(<LiveView info={INFO} control={run.control} everyMs={10} final={{ ...STREAM[STREAM.length - 1]!, execs: 4321, wallMs: 61_000 }} />);
  const f = await waitForText(r, 'execs    4321');
  assert.match(f, /stopped {2}elapsed 1:01/);
  assert.match(f, /w0 +stopped/);
  await settle();
  r.stdin.write('q');
  r.stdin.write('p');
  await settle(50);
  assert.deepEqual(run.calls, []);
});

test('panels show the latest counts, rates, syscalls and workers', async () => {
  const r = render(<LiveView info={INFO} control={fakeRun().control} everyMs={10} />);
  const f = await waitForText(r, 'corpus   26');
  assert.match(f, /execs\/s +800\b/, 'execs per second over the last second');
  assert.match(f, /execs +1600\b/);
  assert.match(f, /signal +72\b/);
  assert.match(f, /open +4800 +1600 +33%/);
  assert.match(f, /fallocate +1600 +0 +0%/);
  assert.match(f, /w0 +running +execs +800/);
  assert.match(f, /w1 +running +execs +800/);
});

test('kernel gauges the stats do not carry read n/a, the others their value', async () => {
  const r = render(<LiveView info={INFO} control={fakeRun().control} everyMs={10} />);
  const early = await waitForText(r, 'pages in cache');
  assert.match(early, /pages in cache +n\/a/);
  const late = await waitForText(r, '1234');
  assert.match(late, /pages in cache +1234/);
  assert.match(late, /pages reclaimed +n\/a/);
  assert.match(late, /FUSE queue +n\/a/);
  assert.match(late, /FUSE latency +n\/a/);
});

test('findings appear with kind, count and minimized?, the newest marked', async () => {
  const r = render(<LiveView info={INFO} control={fakeRun().control} everyMs={10} />);
  const f = await waitForText(r, 'x3');
  const hang = f.split('\n').find((l) => l.includes('INFO: task hung in shmem_fallocate') && l.includes('x'))!;
  const dead = f.split('\n').find((l) => l.includes('possible deadlock in shmem_fault') && l.includes('x'))!;
  assert.match(hang, /hang .* x4 +\? /);
  assert.match(dead, /● lockdep .* x3 +yes /);
  assert.doesNotMatch(hang, /●/);
  assert.match(f, /findings \(2\)/);
});

test('each finding is logged once, above the panels', async () => {
  const r = render(<LiveView info={INFO} control={fakeRun().control} everyMs={10} />);
  const f = await waitForText(r, 'x3');
  assert.equal(f.split('new finding [hang] INFO: task hung in shmem_fallocate').length, 2);
  assert.equal(f.split('new finding [lockdep] possible deadlock in shmem_fault').length, 2);
  assert.ok(f.indexOf('new finding [hang]') < f.indexOf('faultline fuzz'));
});

test('p pauses and resumes the run', async () => {
  const run = fakeRun();
  const r = render(<LiveView info={INFO} control={run.control} everyMs={10} />);
  await waitForText(r, 'running');
  await settle();
  r.stdin.write('p');
  const paused = await waitForText(r, 'paused');
  assert.match(paused, /w0 +paused/);
  r.stdin.write('p');
  await waitForFrame(r, (f) => !f.includes('paused'), 'running again');
  assert.deepEqual(run.calls, ['pause', 'resume']);
});

test('↓ and enter open the finding under the cursor; esc goes back', async () => {
  const run = fakeRun();
  const r = render(<LiveView info={INFO} control={run.control} everyMs={10} />);
  await waitForText(r, 'x3');
  await settle();
  r.stdin.write(KEY.down);
  await waitForFrame(r, (f) => f.includes('›● lockdep'), 'the cursor on the second finding');
  await settle();
  r.stdin.write(KEY.enter);
  const f = await waitForText(r, 'rwsem_down_write_slowpath');
  assert.deepEqual(run.calls, ['open possible deadlock in shmem_fault']);
  assert.match(f, /#3 \[hang\] possible deadlock in shmem_fault/);
  assert.match(f, /1 details/);
  r.stdin.write(KEY.escape);
  await waitForText(r, 'findings (2)');
});

test('q asks the run to stop and shows it stopping', async () => {
  const run = fakeRun();
  const r = render(<LiveView info={INFO} control={run.control} everyMs={10} />);
  await waitForText(r, 'running');
  await settle();
  r.stdin.write('q');
  await waitForText(r, 'stopping…');
  assert.deepEqual(run.calls, ['quit']);
  r.stdin.write('p');
  await settle(50);
  assert.deepEqual(run.calls, ['quit'], 'no pausing once stopping');
});

test('a short terminal folds the top panels into two lines', async () => {
  const r = render(<LiveView info={INFO} control={fakeRun().control} everyMs={10} />);
  await waitForText(r, 'x3');
  Object.assign(r.stdout, { rows: 24 });
  r.stdout.emit('resize');
  const f = await waitForText(r, 'kernel: pages in cache 1234 · reclaimed n/a');
  assert.match(f, /execs\/s \d+ .* corpus 26 {2}signal 72/);
  assert.doesNotMatch(f, /╭─+╮╭/, 'no side-by-side panels');
});

test('kernel gauges the stats carry show their values: pages reclaimed, FUSE queue depth, mean FUSE latency', async () => {
  const { KernelPanel } = await import('../../src/ui/components/KernelPanel.js');
  const r = render(<KernelPanel kernel={{ pagesInCache: 1234, reclaimEvents: 57, fuseQueueDepth: 3, fuseLatencyNs: 2_500_000 }} />);
  const f = r.lastFrame() ?? '';
  assert.match(f, /pages reclaimed +57/);
  assert.match(f, /FUSE queue +3/);
  assert.match(f, /FUSE latency +2\.5 ?ms/);
});
