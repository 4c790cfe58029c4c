// The SQLite store: schema creation and versioned migrations, crash dedup
// and reproducer retention, durability (a second connection sees a crash as
// soon as recordCrash returns; a process killed mid-run leaves a consistent
// database), corpus and coverage bookkeeping.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  openStore,
  SCHEMA_VERSION,
  SchemaVersionError,
  type ReproInput,
} from '../../src/store/index.js';

function tmpDb(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'faultline.db');
}

function repro(calls: number, over: Partial<ReproInput> = {}): ReproInput {
  return {
    program: Array.from({ length: calls }, (_, i) => `r${i} = mmap(0x0, 0x1000, PROT_READ, MAP_SHARED, -1, 0)`).join('\n'),
    profile: 'seed-001-mmap-lock',
    seed: 42,
    strategy: 'pct:3',
    schedule: 'AAECAw==',
    traceHash: `hash-${calls}`,
    calls,
    faultlineVersion: '0.1.0',
    ...over,
  };
}

function tableNames(db: Database.Database): string[] {
  return (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[]
  ).filter((n) => !n.startsWith('sqlite_'));
}

function columnNames(db: Database.Database, table: string): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]);
}

// A frozen copy of schema version 1 as it shipped: the migration test must
// not follow later edits of src/store/schema.ts.
const V1_SQL = `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER,
    options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    profile TEXT NOT NULL, seed TEXT NOT NULL, strategy TEXT NOT NULL, workers INTEGER NOT NULL,
    execs INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0,
    virtual_ns INTEGER NOT NULL DEFAULT 0, findings INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE crashes (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1,
    details TEXT NOT NULL);
  CREATE INDEX crashes_by_last_seen ON crashes (last_seen DESC, id);
  CREATE TABLE reproducers (
    id INTEGER PRIMARY KEY, crash_id INTEGER NOT NULL REFERENCES crashes (id) ON DELETE CASCADE,
    program TEXT NOT NULL, profile TEXT NOT NULL, seed TEXT NOT NULL, strategy TEXT NOT NULL,
    schedule TEXT, trace_hash TEXT NOT NULL, calls INTEGER NOT NULL,
    minimized INTEGER NOT NULL DEFAULT 0 CHECK (minimized IN (0, 1)),
    source_repro_id INTEGER REFERENCES reproducers (id) ON DELETE SET NULL,
    size_before INTEGER, size_after INTEGER, faultline_version TEXT NOT NULL,
    created_at INTEGER NOT NULL);
  CREATE INDEX reproducers_by_crash ON reproducers (crash_id, calls);
  CREATE INDEX reproducers_by_source ON reproducers (source_repro_id);
  CREATE TABLE corpus (
    id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, program TEXT NOT NULL,
    calls INTEGER NOT NULL, signal TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(signal)),
    added_at INTEGER NOT NULL);
`;

function makeV1Db(file: string, extraSql = ''): void {
  const db = new Database(file);
  db.exec(V1_SQL);
  db.exec(extraSql);
  db.exec(`
    INSERT INTO runs (id, started_at, ended_at, options, profile, seed, strategy, workers, execs, calls, virtual_ns, findings)
      VALUES (1, 1000, 2000, '{"duration":60}', 'seed-002', '7', 'random', 4, 100, 900, 123456, 1);
    INSERT INTO crashes (id, title, kind, first_seen, last_seen, count, details)
      VALUES (1, 'INFO: task hung in shmem_fallocate', 'hang', 1500, 1600, 3, 'stack...');
    INSERT INTO reproducers (id, crash_id, program, profile, seed, strategy, schedule, trace_hash, calls,
        minimized, source_repro_id, size_before, size_after, faultline_version, created_at)
      VALUES (1, 1, 'r0 = open(...)', 'seed-002', '7', 'random', NULL, 'abc', 4, 0, NULL, NULL, NULL, '0.0.9', 1500);
    INSERT INTO corpus (id, hash, program, calls, signal, added_at)
      VALUES (1, 'h1', 'r0 = open(...)', 1, '[1,2,3]', 1400);
    PRAGMA user_version = 1;
  `);
  db.close();
}

test('a fresh database gets the current schema version, all tables, WAL', (t) => {
  const file = tmpDb(t);
  const store = openStore(file);
  assert.equal(store.migratedFrom, 0);
  assert.equal(store.schemaVersion, SCHEMA_VERSION);
  assert.ok(SCHEMA_VERSION >= 2);

  const raw = new Database(file, { readonly: true });
  try {
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.deepEqual(tableNames(raw), ['corpus', 'coverage', 'crashes', 'reproducers', 'runs']);
    assert.ok(columnNames(raw, 'reproducers').includes('verified_replays'));
    assert.deepEqual(columnNames(raw, 'coverage'), ['site', 'first_run_id', 'hits']);
  } finally {
    raw.close();
  }
  store.close();
  store.close(); // idempotent
  assert.equal(fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0, 0, 'close checkpoints the WAL');

  const again = openStore(file);
  assert.equal(again.migratedFrom, SCHEMA_VERSION, 'reopening a current database migrates nothing');
  again.close();
});

test('a version 1 database is migrated in place and its rows survive', (t) => {
  const file = tmpDb(t);
  makeV1Db(file);

  const store = openStore(file);
  t.after(() => store.close());
  assert.equal(store.migratedFrom, 1);
  assert.equal(store.schemaVersion, SCHEMA_VERSION);

  const runs = store.runs();
  assert.equal(runs.length, 1);
  assert.deepEqual(runs[0], {
    id: 1, startedAt: 1000, endedAt: 2000, options: { duration: 60 }, profile: 'seed-002', seed: '7',
    strategy: 'random', workers: 4, execs: 100, calls: 900, virtualNs: 123456, findings: 1,
  });
  const crashes = store.listCrashes();
  assert.equal(crashes.length, 1);
  assert.equal(crashes[0]!.title, 'INFO: task hung in shmem_fallocate');
  assert.equal(crashes[0]!.count, 3);
  const rep = store.getReproducer(1);
  assert.ok(rep);
  assert.equal(rep.verifiedReplays, 0, 'the new column gets its default');
  assert.equal(rep.minimized, false);
  assert.equal(rep.faultlineVersion, '0.0.9');
  assert.deepEqual(store.corpus().map((c) => [c.hash, c.signal]), [['h1', [1, 2, 3]]]);

  // The new parts of the schema work against the old rows.
  assert.equal(store.addCoverage(['mm/filemap.c:filemap_fault'], 1), 1);
  store.markVerified(1, 5);
  assert.equal(store.getReproducer(1)!.verifiedReplays, 5);
  const again = store.recordCrash({
    title: 'INFO: task hung in shmem_fallocate', kind: 'hang', details: 'new', now: 1700, repro: repro(9),
  });
  assert.deepEqual(again, { crashId: 1, isNew: false, reproId: null });
  assert.equal(store.getCrash(1)!.count, 4);
});

test('a failing migration rolls back every step, user_version included', (t) => {
  const file = tmpDb(t);
  // A v1 file that (wrongly) already has the column migration 3 adds: 2
  // succeeds, 3 fails, and the whole upgrade must be undone.
  makeV1Db(file, `ALTER TABLE reproducers ADD COLUMN verified_replays INTEGER;`);
  assert.throws(() => openStore(file), /migration to schema version 3/);

  const raw = new Database(file, { readonly: true });
  try {
    assert.equal(raw.pragma('user_version', { simple: true }), 1);
    assert.ok(!tableNames(raw).includes('coverage'), 'migration 2 was rolled back too');
    assert.equal(raw.prepare('SELECT COUNT(*) FROM crashes').pluck().get(), 1);
  } finally {
    raw.close();
  }
});

test('a database from a newer faultline is refused and left untouched', (t) => {
  const file = tmpDb(t);
  const db = new Database(file);
  db.exec(`CREATE TABLE something_new (x); PRAGMA user_version = ${SCHEMA_VERSION + 1};`);
  db.close();
  const before = fs.readFileSync(file);

  assert.throws(
    () => openStore(file),
    (e: unknown) =>
      e instanceof SchemaVersionError &&
      e.found === SCHEMA_VERSION + 1 &&
      e.known === SCHEMA_VERSION &&
      /newer than this faultline supports/.test(e.message),
  );
  assert.deepEqual(fs.readFileSync(file), before, 'not even switched to WAL');
  assert.equal(fs.existsSync(`${file}-wal`), false);
});

test('crashes dedup by title; a reproducer is kept only when it is smaller', (t) => {
  const file = tmpDb(t);
  const store = openStore(file);
  t.after(() => store.close());
  const A = 'deadlock: page lock held by fuse_fill_write_pages, waited on in filemap_fault';
  const B = 'possible circular locking dependency: &mapping->i_mmap_rwsem, fs_reclaim';

  const a1 = store.recordCrash({ title: A, kind: 'deadlock', details: 'first report', now: 100, repro: repro(5) });
  assert.equal(a1.isNew, true);
  assert.ok(a1.reproId !== null);

  const a2 = store.recordCrash({ title: A, kind: 'deadlock', details: 'second report', now: 200, repro: repro(7) });
  assert.deepEqual(a2, { crashId: a1.crashId, isNew: false, reproId: null }, 'bigger: not kept');
  const a3 = store.recordCrash({ title: A, kind: 'deadlock', details: 'third', now: 300, repro: repro(5) });
  assert.equal(a3.reproId, null, 'same size: not kept');
  const a4 = store.recordCrash({ title: A, kind: 'deadlock', details: 'fourth', now: 400, repro: repro(3, { seed: 'abc' }) });
  assert.equal(a4.isNew, false);
  assert.ok(a4.reproId !== null, 'smaller: kept');

  const b1 = store.recordCrash({ title: B, kind: 'lockdep', details: 'chain', now: 350, repro: repro(10, { schedule: null }) });
  assert.equal(b1.isNew, true);
  assert.notEqual(b1.crashId, a1.crashId);

  const a = store.getCrash(a1.crashId)!;
  assert.equal(a.count, 4);
  assert.equal(a.firstSeen, 100);
  assert.equal(a.lastSeen, 400);
  assert.equal(a.details, 'first report', 'details of the first report');
  assert.equal(a.kind, 'deadlock');
  assert.equal(a.reproducers, 2);
  assert.equal(a.minCalls, 3);
  assert.equal(store.getCrash(9999), null);

  // An out-of-order (older) timestamp does not move last_seen back.
  store.recordCrash({ title: A, kind: 'deadlock', details: 'late', now: 50, repro: repro(8) });
  assert.equal(store.getCrash(a1.crashId)!.lastSeen, 400);
  assert.equal(store.getCrash(a1.crashId)!.firstSeen, 100);

  assert.deepEqual(store.listCrashes().map((c) => c.title), [A, B], 'last_seen desc');

  const reps = store.reproducers(a1.crashId);
  assert.deepEqual(reps.map((r) => r.calls), [3, 5], 'smallest first');
  assert.deepEqual(reps.map((r) => r.id), [a4.reproId, a1.reproId]);
  assert.equal(reps[0]!.seed, 'abc');
  assert.equal(reps[1]!.seed, '42', 'seeds come back as text');
  assert.equal(reps[1]!.createdAt, 100);
  assert.equal(store.getReproducer(b1.reproId!)!.schedule, null);
  assert.equal(store.getReproducer(12345), null);

  // Minimization and verification.
  const m = store.addMinimized(a1.crashId, a4.reproId!, repro(2, { traceHash: 'min' }), 3, 2, 500);
  const mr = store.getReproducer(m)!;
  assert.equal(mr.minimized, true);
  assert.equal(mr.sourceReproId, a4.reproId);
  assert.equal(mr.sizeBefore, 3);
  assert.equal(mr.sizeAfter, 2);
  assert.equal(mr.createdAt, 500);
  assert.equal(store.reproducers(a1.crashId)[0]!.id, m);
  assert.equal(store.getReproducer(a1.reproId!)!.minimized, false);
  assert.equal(store.getReproducer(a1.reproId!)!.sourceReproId, null);
  assert.throws(() => store.addMinimized(b1.crashId, a4.reproId!, repro(1), 3, 1, 600), /belongs to crash/);
  assert.throws(() => store.addMinimized(a1.crashId, 9999, repro(1), 3, 1, 600), /no reproducer 9999/);
  const a5 = store.recordCrash({ title: A, kind: 'deadlock', details: 'x', now: 700, repro: repro(2) });
  assert.equal(a5.reproId, null, 'not smaller than the minimized one');

  store.markVerified(m, 10);
  assert.equal(store.getReproducer(m)!.verifiedReplays, 10);
  assert.throws(() => store.markVerified(9999, 1), /no reproducer/);
});

test('a crash is committed when recordCrash returns: a second connection sees it', (t) => {
  const file = tmpDb(t);
  const store = openStore(file);
  t.after(() => store.close());
  const run = store.beginRun({ startedAt: 1, options: { workers: 2 }, profile: 'p', seed: 1, strategy: 'random', workers: 2 });
  const r = store.recordCrash({
    title: 'BUG: stale page mapped after truncate in filemap_map_pages',
    kind: 'invariant', details: 'd', now: 10, repro: repro(4),
  });

  // The store stays open (no close, no checkpoint): the row is in the WAL.
  const other = new Database(file, { readonly: true });
  try {
    const crash = other.prepare('SELECT title, count FROM crashes WHERE id = ?').get(r.crashId);
    assert.deepEqual(crash, { title: 'BUG: stale page mapped after truncate in filemap_map_pages', count: 1 });
    assert.equal(other.prepare('SELECT crash_id FROM reproducers WHERE id = ?').pluck().get(r.reproId), r.crashId);
    assert.equal(other.prepare('SELECT ended_at FROM runs WHERE id = ?').pluck().get(run), null);

    store.recordCrash({
      title: 'BUG: stale page mapped after truncate in filemap_map_pages',
      kind: 'invariant', details: 'd', now: 20, repro: repro(6),
    });
    assert.equal(other.prepare('SELECT count FROM crashes WHERE id = ?').pluck().get(r.crashId), 2);
  } finally {
    other.close();
  }
});

test('a process killed mid-run leaves a consistent database', async (t) => {
  const file = tmpDb(t);
  const storeJs = fileURLToPath(new URL('../../src/store/index.js', import.meta.url));
  assert.ok(fs.existsSync(storeJs), `compiled store at ${storeJs}`);
  const script = path.join(path.dirname(file), 'child.mjs');
  fs.writeFileSync(
    script,
    `
import { openStore } from ${JSON.stringify(new URL(`file://${storeJs}`).href)};
const store = openStore(process.argv[2]);
const run = store.beginRun({ startedAt: 1, options: {}, profile: 'p', seed: 's', strategy: 'pct:3', workers: 1 });
for (let i = 0; ; i++) {
  const calls = 1 + ((i * 7919) % 60);
  store.recordCrash({
    title: 'title ' + (i % 150), kind: 'hang', details: 'x'.repeat(2000), now: 1000 + i,
    repro: { program: 'p'.repeat(50 * calls), profile: 'p', seed: i, strategy: 'pct:3', schedule: 'AAAA',
             traceHash: 'h' + i, calls, faultlineVersion: '0.1.0' },
  });
  store.addCorpus('hash' + i, 'prog ' + i, calls, [i, i + 1, i + 2], 1000 + i);
  store.addCoverage(['site' + i, 'site' + (i >> 1)], run);
  if (i === 20) process.stdout.write('ready\\n');
}
`,
  );

  const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('child never got going')), 20000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(guard);
        resolve();
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(guard);
      reject(new Error(`child exited (${code}) before it was killed: ${stderr}`));
    });
  });
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGKILL');
  const { signal } = await exited;
  assert.equal(signal, 'SIGKILL', stderr);

  // The WAL is still there, uncheckpointed; any connection recovers it.
  const raw = new Database(file);
  try {
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(raw.pragma('foreign_key_check'), []);
    const crashes = raw.prepare('SELECT COUNT(*) FROM crashes').pluck().get() as number;
    assert.ok(crashes > 20, `child recorded ${crashes} crashes before the kill`);
    assert.equal(
      raw.prepare('SELECT COUNT(*) FROM crashes c WHERE NOT EXISTS (SELECT 1 FROM reproducers r WHERE r.crash_id = c.id)').pluck().get(),
      0,
      'every crash has its reproducer',
    );
    assert.equal(
      raw.prepare('SELECT COUNT(*) FROM crashes c WHERE c.count < (SELECT COUNT(*) FROM reproducers r WHERE r.crash_id = c.id)').pluck().get(),
      0,
      'every stored reproducer was counted',
    );
  } finally {
    raw.close();
  }

  const store = openStore(file);
  t.after(() => store.close());
  const runs = store.runs();
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.endedAt, null, 'the killed run never ended');
  for (const c of store.listCrashes()) {
    const reps = store.reproducers(c.id);
    assert.ok(reps.length >= 1);
    assert.equal(reps[0]!.calls, c.minCalls);
    // Each new reproducer was smaller than all before it.
    const byAge = [...reps].sort((x, y) => x.id - y.id).map((r) => r.calls);
    for (let i = 1; i < byAge.length; i++) assert.ok(byAge[i]! < byAge[i - 1]!);
  }
  assert.ok(store.corpus().length > 20);
});

test('corpus: add, dedup by hash, replace in one transaction', (t) => {
  const file = tmpDb(t);
  const store = openStore(file);
  t.after(() => store.close());

  assert.equal(store.addCorpus('h1', 'prog one', 1, [1, 2], 10), true);
  assert.equal(store.addCorpus('h2', 'prog two', 2, [3], 20), true);
  assert.equal(store.addCorpus('h3', 'prog three', 3, [], 30), true);
  assert.equal(store.addCorpus('h1', 'something else', 9, [9], 40), false, 'known hash');
  const rows = store.corpus();
  assert.deepEqual(
    rows.map((r) => [r.hash, r.program, r.calls, r.signal, r.addedAt]),
    [
      ['h1', 'prog one', 1, [1, 2], 10],
      ['h2', 'prog two', 2, [3], 20],
      ['h3', 'prog three', 3, [], 30],
    ],
  );
  const h2id = rows[1]!.id;
  assert.throws(() => store.addCorpus('h4', 'p', 1, [1.5], 50), /integers/);

  store.replaceCorpus(
    [
      { hash: 'h2', program: 'prog two', calls: 2, signal: [3, 4] },
      { hash: 'h5', program: 'prog five', calls: 5, signal: [5] },
    ],
    100,
  );
  const after = store.corpus();
  assert.deepEqual(
    after.map((r) => [r.hash, r.signal, r.addedAt]),
    [
      ['h2', [3, 4], 20],
      ['h5', [5], 100],
    ],
  );
  assert.equal(after[0]!.id, h2id, 'a kept program keeps its id');

  // A bad row aborts the whole replacement.
  assert.throws(() =>
    store.replaceCorpus(
      [
        { hash: 'h6', program: 'p', calls: 1, signal: [] },
        { hash: 'h7', program: 'p', calls: -1, signal: [] },
      ],
      200,
    ),
  );
  assert.deepEqual(store.corpus().map((r) => r.hash), ['h2', 'h5']);

  store.replaceCorpus([], 300);
  assert.deepEqual(store.corpus(), []);
});

test('coverage counts new sites and remembers the run that found them', (t) => {
  const file = tmpDb(t);
  const store = openStore(file);
  t.after(() => store.close());
  const r1 = store.beginRun({ startedAt: 1, options: {}, profile: 'p', seed: 1, strategy: 'random', workers: 1 });
  const r2 = store.beginRun({ startedAt: 2, options: {}, profile: 'p', seed: 2, strategy: 'random', workers: 1 });

  assert.equal(store.addCoverage(['mm/filemap.c:1', 'mm/memory.c:2'], r1), 2);
  assert.equal(store.addCoverage(['mm/memory.c:2', 'fs/fuse/file.c:3', 'fs/fuse/file.c:3'], r2), 1, 'duplicates count once');
  assert.equal(store.addCoverage(['mm/filemap.c:1'], r2), 0);
  assert.equal(store.addCoverage([], r2), 0);
  assert.throws(() => store.addCoverage(['x'], 9999), /FOREIGN KEY/);

  const raw = new Database(file, { readonly: true });
  try {
    assert.deepEqual(raw.prepare('SELECT site, first_run_id AS run, hits FROM coverage ORDER BY site').all(), [
      { site: 'fs/fuse/file.c:3', run: r2, hits: 2 },
      { site: 'mm/filemap.c:1', run: r1, hits: 2 },
      { site: 'mm/memory.c:2', run: r1, hits: 2 },
    ]);
  } finally {
    raw.close();
  }
});

test('runs: begin, end, list newest first', (t) => {
  const file = tmpDb(t);
  const store = openStore(file);
  t.after(() => store.close());
  const a = store.beginRun({ startedAt: 1000, options: { duration: 5, profiles: ['x'] }, profile: 'default', seed: 'abc', strategy: 'pct:3', workers: 8 });
  const b = store.beginRun({ startedAt: 2000, options: {}, profile: 'seed-000', seed: 12, strategy: 'random', workers: 1 });
  store.endRun(a, { endedAt: 1500, execs: 10, calls: 200, virtualNs: 5e9, findings: 2 });
  assert.throws(() => store.endRun(9999, { endedAt: 1, execs: 0, calls: 0, virtualNs: 0, findings: 0 }), /no run/);

  const runs = store.runs();
  assert.deepEqual(runs.map((r) => r.id), [b, a]);
  assert.deepEqual(runs[1], {
    id: a, startedAt: 1000, endedAt: 1500, options: { duration: 5, profiles: ['x'] }, profile: 'default',
    seed: 'abc', strategy: 'pct:3', workers: 8, execs: 10, calls: 200, virtualNs: 5e9, findings: 2,
  });
  assert.equal(runs[0]!.endedAt, null);
  assert.equal(runs[0]!.seed, '12');
  assert.equal(runs[0]!.execs, 0);
});
