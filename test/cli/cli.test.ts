// The CLI end to end, through the real executable: usage errors exit 2 with
// a message, a clean fuzz run on the default profile reports nothing (also
// with two workers under the V8 flags npm start passes), a finding on a
// buggy profile lands in the database and replays, a malformed program is
// rejected with file, line and column.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/faultline', import.meta.url));

function run(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'faultline-cli-'));
}

test('usage errors exit 2 with a message', () => {
  for (const args of [['fuzz', '--workers', '0'], ['fuzz', '--strategy', 'bogus'], ['fuzz', '--profile', 'nope'], ['fuzz', '-c', 'no_such_call'], ['frobnicate'], ['fuzz', '--duration', 'soon']]) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, /error|faultline:/i, args.join(' '));
  }
});

test('--help and --version work', () => {
  assert.equal(run(['--help']).code, 0);
  assert.match(run(['--version']).out, /^\d+\.\d+\.\d+/);
  assert.match(run(['fuzz', '--help']).out, /--stop-on-first/);
});

test('fuzz --execs N --json on the default profile reports zero findings and prints JSON only', () => {
  const dir = tmp();
  try {
    const r = run(['fuzz', '--execs', '300', '--seed', '11', '--json', '--db', join(dir, 'f.db')]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { execs: number; findings: unknown[]; calls: number };
    assert.equal(j.execs >= 300, true);
    assert.deepEqual(j.findings, []);
    assert.ok(j.calls > 1000);
    assert.doesNotMatch(r.out, /\x1b\[/, 'no escape codes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm start and npm run bench run Node with the same V8 flags, and two workers fuzz under them', () => {
  // package.json is where they can go: Node accepts none of them in NODE_OPTIONS.
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { scripts: Record<string, string> };
  const start = /^node ((?:--\S+ )+)bin\/faultline fuzz$/.exec(pkg.scripts.start!);
  assert.ok(start, pkg.scripts.start);
  const flags = start[1]!.trim().split(' ');
  assert.deepEqual(flags, ['--single-threaded-gc', '--max-semi-space-size=32', '--no-concurrent-recompilation']);
  assert.equal(pkg.scripts.bench, `node ${flags.join(' ')} dist/bench/main.js`);
  const dir = tmp();
  try {
    const r = spawnSync(process.execPath, [...flags, BIN, 'fuzz', '--workers', '2', '--execs', '200', '--seed', '12', '--json', '--db', join(dir, 'f.db')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { execs: number; findings: unknown[] };
    assert.ok(j.execs >= 200);
    assert.deepEqual(j.findings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a finding on a buggy profile is stored, listed, shown and replays', () => {
  const dir = tmp();
  const db = join(dir, 'f.db');
  try {
    const r = run(['fuzz', '--profile', 'lockless-map-pages', '--stop-on-first', '--seed', '3', '--db', db]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /new finding #1: \[invariant\] BUG: (stale page mapped after truncate|page mapped beyond EOF) in filemap_map_pages/);
    // Minimized in the background; the session waits for it before the database closes.
    const m = /minimized finding #1: (\d+) -> (\d+) calls.*stored as reproducer #(\d+)/.exec(r.out);
    assert.ok(m, r.out);
    assert.ok(Number(m[2]) < Number(m[1]));
    const list = JSON.parse(run(['crashes', '--json', '--db', db]).out) as { id: number; title: string; minCalls: number }[];
    assert.equal(list.length, 1);
    assert.equal(list[0]!.minCalls, Number(m[2]));
    const show = run(['show', '1', '--db', db]);
    assert.match(show.out, /profile: lockless-map-pages/);
    const rep = run(['replay', '1', '--json', '--db', db]);
    assert.equal(rep.code, 0, rep.out);
    assert.equal((JSON.parse(rep.out) as { reproduced: boolean }).reproduced, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run rejects a malformed program with file, line and column', () => {
  const dir = tmp();
  try {
    const f = join(dir, 'bad.prog');
    writeFileSync(f, 'profile: default\nseed: 1\nstrategy: random\n\nproc 0:\n  thread 0:\n    r0 = open("/tmp/x", O_BOGUS)\n');
    const r = run(['run', f]);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:\\d+: `));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run executes a program file and prints per-call results', () => {
  const dir = tmp();
  try {
    const f = join(dir, 'ok.prog');
    writeFileSync(f, 'profile: default\nseed: 1\nstrategy: random\n\nproc 0:\n  thread 0:\n    r0 = open("/tmp/x", O_RDWR|O_CREAT)\n    ftruncate(r0, 0x2000)\n    close(0x63)\n');
    const r = run(['run', f]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /#0 open = 0\n/); // executor processes start without fds 0-2
    assert.match(r.out, /#1 ftruncate = 0\n/);
    assert.match(r.out, /#2 close = -EBADF\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
