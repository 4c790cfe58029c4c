// End to end on a real terminal: the faultline binary runs in a tmux pane;
// the live view shows a finding, p pauses it, q stops it cleanly (summary
// printed, run ended in a consistent database); then the crash browser
// opens the finding and replays it. Set $FAULTLINE_CAPTURE_DIR to keep the
// screens as text (capture-pane).
// Skipped where tmux is not installed (.ci/run installs it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/index.js';

const BIN = fileURLToPath(new URL('../../../bin/faultline', import.meta.url));
const HAVE_TMUX = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const SKIP = HAVE_TMUX ? false : 'tmux is not installed: install it (apt-get install tmux) to run the terminal end-to-end test';
// A tmux server of our own per test, its socket in a temp dir of its own
// (a server being killed can still hold its socket while the next starts).
let socket = '';
function newServer(): void {
  socket = join(mkdtempSync(join(tmpdir(), 'fl-tmux-')), 'sock');
}

function killServer(): void {
  spawnSync('tmux', ['-S', socket, 'kill-server']);
  rmSync(dirname(socket), { recursive: true, force: true });
}

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Run faultline in a new 120x40 session; ink renders frames only outside CI, so CI is unset for it. */
function start(session: string, args: string[]): void {
  const cmd = `env -u CI -u CONTINUOUS_INTEGRATION TERM=xterm-256color ${sh(process.execPath)} ${sh(BIN)} ${args.map(sh).join(' ')}; echo "EXIT=$?"; sleep 120`;
  tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', session, cmd);
}

const screen = (session: string): string => tmux('capture-pane', '-p', '-t', session);

async function waitFor(session: string, pred: (s: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = screen(session);
    if (pred(s)) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
    await sleep(100);
  }
}

const waitText = (session: string, text: string, timeoutMs?: number): Promise<string> => waitFor(session, (s) => s.includes(text), JSON.stringify(text), timeoutMs);

function keys(session: string, ...k: string[]): void {
  tmux('send-keys', '-t', session, ...k);
}

const WORKER_LINE = /w0 +\w+ +execs +(\d+)/;

function workerExecs(s: string): number {
  const m = WORKER_LINE.exec(s);
  assert.ok(m, `a worker line in:\n${s}`);
  return Number(m[1]);
}

/** The worker's executions, from a whole frame (a capture taken mid-redraw on a loaded machine lacks the lower panels). */
async function heldExecs(session: string): Promise<number> {
  return workerExecs(await waitFor(session, (s) => WORKER_LINE.test(s), 'the worker line'));
}

test('the live view and the crash browser on a real terminal', { skip: SKIP, timeout: 180_000 }, async (t) => {
  newServer();
  const dir = mkdtempSync(join(tmpdir(), 'faultline-e2e-'));
  const captures = process.env.FAULTLINE_CAPTURE_DIR ?? dir;
  mkdirSync(captures, { recursive: true });
  const db = join(dir, 'e2e.db');
  try {
    // ---- live run
    start('fuzz', ['fuzz', '--profile', 'lockless-map-pages', '--seed', '3', '--db', db]);
    await waitText('fuzz', 'execs/s');
    const found = await waitText('fuzz', 'new finding [invariant]', 90_000);
    assert.match(found, /findings \([1-9]\d*\)/);
    assert.match(found, /profile lockless-map-pages {2}seed 3 {2}strategy mixed {2}workers 1/);
    assert.match(found, /pages in cache +\d+/);

    keys('fuzz', 'p');
    await waitFor('fuzz', (s) => /w0 +paused/.test(s), 'the paused worker');
    await sleep(700);
    const held = await heldExecs('fuzz');
    await sleep(700);
    assert.equal(await heldExecs('fuzz'), held, 'no executions while paused');
    keys('fuzz', 'p');
    await waitFor('fuzz', (s) => WORKER_LINE.test(s) && workerExecs(s) > held, 'executions after resume');

    const live = screen('fuzz');
    writeFileSync(join(captures, 'live-view.txt'), live);

    keys('fuzz', 'q');
    const end = await waitText('fuzz', 'EXIT=', 60_000);
    assert.match(end, /EXIT=1/, 'a finding makes the exit code 1');
    assert.match(end, /summary: .*execs \d+/);
    assert.match(end, /finding: \[invariant\] BUG: .* in filemap_map_pages \(x\d+\) new/);
    writeFileSync(join(captures, 'live-view-after-q.txt'), end);

    // The database: the run ended with the summary's numbers, the finding is stored, the file is sound.
    // (The run goes on after its first finding, so it may have found another before q.)
    const execs = Number(/summary: .*execs (\d+)/.exec(end)![1]);
    const titles = [...end.matchAll(/^finding: \[[\w-]+\] (.*) \(x\d+\)/gm)].map((m) => m[1]!).sort();
    const store = openStore(db);
    try {
      const [run] = store.runs();
      assert.ok(run && run.endedAt !== null, 'the run was ended');
      assert.equal(run.execs, execs);
      assert.equal(run.findings, titles.length);
      const crashes = store.listCrashes();
      assert.deepEqual(crashes.map((c) => c.title).sort(), titles);
      for (const c of crashes) assert.ok(store.reproducers(c.id).length >= 1, `a reproducer for ${c.title}`);
    } finally {
      store.close();
    }
    const raw = new Database(db, { readonly: true });
    try {
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      raw.close();
    }

    // ---- crash browser
    start('crashes', ['crashes', '--db', db]);
    await waitText('crashes', 'enter open');
    keys('crashes', 'Enter');
    await waitText('crashes', '1 details');
    keys('crashes', '3');
    const replayed = await waitText('crashes', 'replay: reproduced', 60_000);
    assert.match(replayed, /step +time +│/);
    writeFileSync(join(captures, 'crash-browser-trace.txt'), replayed);
    keys('crashes', '1');
    writeFileSync(join(captures, 'crash-browser-details.txt'), await waitFor('crashes', (s) => !s.includes('step       time'), 'the details pane'));
    keys('crashes', 'q');
    const closed = await waitText('crashes', 'EXIT=');
    assert.match(closed, /EXIT=0/);
    if (process.env.FAULTLINE_CAPTURE_DIR) t.diagnostic(`screens saved in ${captures}`);
  } finally {
    killServer();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--no-tui on a terminal prints plain progress lines and the summary', { skip: SKIP, timeout: 60_000 }, async () => {
  newServer();
  const dir = mkdtempSync(join(tmpdir(), 'faultline-e2e-'));
  try {
    start('plain', ['fuzz', '--no-tui', '--execs', '50', '--seed', '5', '--db', join(dir, 'p.db')]);
    const s = await waitText('plain', 'EXIT=', 50_000);
    assert.match(s, /faultline fuzz: profile default, seed 5/);
    assert.match(s, /summary: /);
    assert.doesNotMatch(s, /[╭│╰]/, 'no panels');
  } finally {
    killServer();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('through a pipe, fuzz prints plain lines without escape codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-e2e-'));
  try {
    const r = spawnSync(process.execPath, [BIN, 'fuzz', '--execs', '50', '--seed', '5', '--db', join(dir, 'p.db')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /summary: /);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    const c = spawnSync(process.execPath, [BIN, 'crashes', '--db', join(dir, 'p.db')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(c.stdout, 'no findings\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
