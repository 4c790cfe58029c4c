// The crash browser, rendered with ink-testing-library over a test
// database: the list, a finding's panes, replay and minimize from there,
// back and quit.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, render } from 'ink-testing-library';
import { CrashBrowser } from '../../src/ui/CrashBrowser.js';
import { storeCrashSource, type Minimizer } from '../../src/ui/data/crashSource.js';
import { DEFAULT_FUZZ_CONFIG, Fuzzer, type Finding } from '../../src/fuzz/fuzzer.js';
import { formatProgram, parseProgram } from '../../src/fuzz/format.js';
import { callCount } from '../../src/fuzz/program.js';
import { openStore, type Store } from '../../src/store/index.js';
import { HUNG_DETAILS, LOCKDEP_DETAILS, PROGRAM } from './fixtures.js';
import { KEY, settle, waitForFrame, waitForText } from './frames.js';

const VERSION = '0.0.0-test';
const LOCKDEP_TITLE = 'possible deadlock in shmem_fault';
const HANG_TITLE = 'INFO: task hung in shmem_fallocate';

let dir: string;
let store: Store;

/** A database holding a lockdep report (seen twice) and a hung task (seen last). */
function fixtureStore(name: string): Store {
  const s = openStore(join(dir, name));
  record(s, LOCKDEP_TITLE, 'lockdep', LOCKDEP_DETAILS, 1000);
  record(s, LOCKDEP_TITLE, 'lockdep', LOCKDEP_DETAILS, 2000);
  record(s, HANG_TITLE, 'hang', HUNG_DETAILS, 3000);
  return s;
}

function record(s: Store, title: string, kind: string, details: string, now: number, traceHash = 'deadbeefdeadbeef'): number {
  return s.recordCrash({
    title, kind, details, now,
    repro: { program: PROGRAM, profile: 'shmem-take1', seed: '7', strategy: 'random', schedule: null, traceHash, calls: 2, faultlineVersion: VERSION },
  }).crashId;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'faultline-ui-'));
  store = fixtureStore('browser.db');
});

after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => cleanup());

function browser(loadMinimizer: () => Promise<Minimizer | null> = async () => null, onQuit?: () => void, s: Store = store) {
  return render(<CrashBrowser source={storeCrashSource(s, { faultlineVersion: VERSION, loadMinimizer })} onQuit={onQuit} />);
}

async function openSecond(r: ReturnType<typeof browser>): Promise<string> {
  await waitForText(r, LOCKDEP_TITLE);
  await settle();
  r.stdin.write(KEY.down);
  await waitForFrame(r, (f) => /› #1 /.test(f), 'the cursor on #1');
  await settle();
  r.stdin.write(KEY.enter);
  return waitForText(r, 'dependency chain');
}

test('the list shows every finding with kind, count and reproducer size, newest first', async () => {
  const r = browser();
  const f = await waitForText(r, LOCKDEP_TITLE);
  assert.match(f, /2 findings/);
  const lines = f.split('\n');
  const hang = lines.findIndex((l) => l.includes(HANG_TITLE));
  const dead = lines.findIndex((l) => l.includes(LOCKDEP_TITLE));
  assert.ok(hang >= 0 && hang < dead, 'most recently seen first');
  assert.match(lines[hang]!, /› #2 +hang +x1 +2c /);
  assert.match(lines[dead]!, /#1 +lockdep +x2 +2c /);
});

test('enter opens the finding under the cursor: title, kind, count, the detector text', async () => {
  const r = browser();
  const f = await openSecond(r);
  assert.match(f, /#1 \[lockdep\] possible deadlock in shmem_fault/);
  assert.match(f, /seen 2×/);
  assert.match(f, /reproducer #1: 2 calls · trace deadbeefdeadbeef · not minimized/);
  assert.match(f, /WARNING: possible circular locking dependency detected/);
  assert.match(f, /-> #0 \(&sb->s_type->i_mutex_key\)/);
});

test('tab shows the reproducer text, and 1 the details again', async () => {
  const r = browser();
  await openSecond(r);
  r.stdin.write(KEY.tab);
  const f = await waitForText(r, 'FALLOC_FL_PUNCH_HOLE');
  assert.match(f, /r0 = open\("\/dev\/shm\/victim", O_RDWR\|O_CREAT\)/);
  assert.doesNotMatch(f, /dependency chain/);
  r.stdin.write('1');
  await waitForText(r, 'dependency chain');
});

test('the trace pane replays the reproducer and lays its trace out in task lanes', async () => {
  const r = browser();
  await openSecond(r);
  r.stdin.write('3');
  const f = await waitForFrame(r, (x) => /replay: NOT reproduced/.test(x), 'the replay verdict', 10_000);
  // The stored trace hash is made up, so the replay cannot match it.
  assert.match(f, /expected "possible deadlock in shmem_fault" \/ deadbeefdeadbeef/);
  assert.match(f, /step +time +│p0\.t0/);
  assert.match(f, /│begin open/);
});

test('m says minimization is not available when there is no minimizer', async () => {
  const r = browser();
  await openSecond(r);
  r.stdin.write('m');
  await waitForText(r, 'minimization: not available yet');
});

test('m runs the minimizer, stores the smaller reproducer and shows the sizes', async () => {
  const seen: string[] = [];
  const fake: Minimizer = (program, title) => {
    seen.push(title);
    const one = { ...program, procs: [{ threads: [{ calls: program.procs[0]!.threads[0]!.calls.slice(0, 1) }] }] };
    return { program: one, reproduced: true, before: callCount(program), after: callCount(one), traceHash: 'feedfacefeedface', verifiedReplays: 3, timedOut: false };
  };
  const own = fixtureStore('minimize.db');
  try {
    const r = browser(async () => fake, undefined, own);
    await openSecond(r);
    r.stdin.write('m');
    const f = await waitForText(r, 'minimization: 2 -> 1 calls, stored as reproducer #3');
    assert.deepEqual(seen, [LOCKDEP_TITLE]);
    assert.match(f, /reproducer #3: 1 calls · trace feedfacefeedface · minimized 2 -> 1 calls · 3 verified replays/);
    assert.equal(own.reproducers(1)[0]!.sourceReproId, 1);
    r.stdin.write(KEY.escape);
    const list = await waitForText(r, 'enter open');
    assert.match(list, /#1 +lockdep +x2 +1c min /);
    r.unmount();
  } finally {
    own.close();
  }
});

test('esc goes back to the list and q quits', async () => {
  let quits = 0;
  const r = browser(undefined, () => quits++);
  await openSecond(r);
  r.stdin.write(KEY.escape);
  await waitForFrame(r, (f) => f.includes(HANG_TITLE) && !f.includes('dependency chain'), 'the list');
  await settle();
  r.stdin.write('q');
  await settle(50);
  assert.equal(quits, 1);
});

test('a real finding replays, reproduces and minimizes', async () => {
  // A real reproducer with its recorded schedule: fuzz a buggy profile to its first finding.
  const s = openStore(join(dir, 'real.db'));
  try {
    let found: Finding | null = null;
    const fz = new Fuzzer({ ...DEFAULT_FUZZ_CONFIG, profile: 'lockless-map-pages', seed: '3' }, (x) => (found ??= x));
    for (let i = 0; i < 5000 && !found; i++) fz.step();
    assert.ok(found, 'lockless-map-pages seed 3 finds its bug');
    const { report, program, result } = found as Finding;
    const text = formatProgram(program);
    parseProgram(text); // the stored text is what the browser will replay
    s.recordCrash({
      title: report.title, kind: report.kind, details: report.details, now: 1,
      repro: { program: text, profile: program.header.profile, seed: program.header.seed, strategy: program.header.strategy, schedule: program.header.schedule ?? null, traceHash: result.traceHash, calls: callCount(program), faultlineVersion: VERSION },
    });
    const source = storeCrashSource(s, { faultlineVersion: VERSION });
    const r = render(<CrashBrowser source={source} />);
    await waitForText(r, '1 finding');
    await settle();
    r.stdin.write(KEY.enter);
    await waitForText(r, '1 details');
    r.stdin.write('r');
    const f = await waitForText(r, 'replay: reproduced', 20_000);
    assert.ok(f.includes(`same title, trace ${result.traceHash}`), f);
    r.stdin.write('3');
    await waitForFrame(r, (x) => /step +time +│\S/.test(x), 'the lanes');
    // The lanes hold the report event (the view opens on the trace's end).
    const again = source.replay(1)!;
    assert.ok(again.trace.rows.some((x) => x.isReport && x.label.includes(report.title)));
    assert.equal(s.reproducers(1)[0]!.verifiedReplays, 2, 'each reproduced replay is counted (r, then this one)');
    // And src/fuzz/minimize.ts shrinks it from there.
    r.stdin.write('m');
    const m = await waitForFrame(r, (x) => /minimization: \d+ -> \d+ calls, stored as reproducer #2/.test(x), 'a stored minimized reproducer', 60_000);
    assert.match(m, /reproducer #2: \d+ calls · trace [0-9a-f]+ · minimized \d+ -> \d+ calls/);
    assert.ok(s.reproducers(1)[0]!.calls < callCount(program));
    r.unmount();
  } finally {
    s.close();
  }
});
