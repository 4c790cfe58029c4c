// The store: the only code that talks SQL. Synchronous (better-sqlite3),
// owned by the main thread; workers send their results to it.
//
// Durability: the database runs in WAL mode with synchronous = NORMAL, which
// is what corpus and coverage writes need (a kill loses nothing that was
// committed; a power cut may lose the last few). A crash record is the one
// thing a fuzzer must never lose, so recordCrash/addMinimized commit with
// synchronous = FULL: when they return, the row is committed and on disk,
// and any other connection sees it.

import Database from 'better-sqlite3';
import { SCHEMA_VERSION, checkNotNewer, migrate, userVersion } from './schema.js';
import type {
  CorpusInput,
  CorpusRow,
  CrashInput,
  CrashRow,
  RecordCrashResult,
  ReproInput,
  ReproRow,
  RunRow,
  RunStart,
  RunStats,
} from './types.js';

/** Where the CLI keeps its database unless --db says otherwise. */
export const DEFAULT_DB_PATH = './faultline.db';

/** How long a connection waits for another one's write lock. */
const BUSY_TIMEOUT_MS = 5000;

type Stmt = Database.Statement<unknown[], unknown>;

const RUN_COLUMNS = `
  id, started_at AS startedAt, ended_at AS endedAt, options, profile, seed, strategy,
  workers, execs, calls, virtual_ns AS virtualNs, findings`;

const CRASH_COLUMNS = `
  c.id, c.title, c.kind, c.first_seen AS firstSeen, c.last_seen AS lastSeen, c.count, c.details,
  (SELECT COUNT(*) FROM reproducers r WHERE r.crash_id = c.id) AS reproducers,
  (SELECT MIN(r.calls) FROM reproducers r WHERE r.crash_id = c.id) AS minCalls`;

const REPRO_COLUMNS = `
  id, crash_id AS crashId, program, profile, seed, strategy, schedule, trace_hash AS traceHash,
  calls, minimized, source_repro_id AS sourceReproId, size_before AS sizeBefore,
  size_after AS sizeAfter, verified_replays AS verifiedReplays,
  faultline_version AS faultlineVersion, created_at AS createdAt`;

const CORPUS_COLUMNS = `id, hash, program, calls, signal, added_at AS addedAt`;

type RawRun = Omit<RunRow, 'options'> & { options: string };
type RawRepro = Omit<ReproRow, 'minimized'> & { minimized: number };
type RawCorpus = Omit<CorpusRow, 'signal'> & { signal: string };

function toRun(r: RawRun): RunRow {
  return { ...r, options: JSON.parse(r.options) as Record<string, unknown> };
}

function toRepro(r: RawRepro): ReproRow {
  return { ...r, minimized: r.minimized !== 0 };
}

function toCorpus(r: RawCorpus): CorpusRow {
  return { ...r, signal: JSON.parse(r.signal) as number[] };
}

function checkTime(what: string, t: number): number {
  if (!Number.isFinite(t)) throw new TypeError(`store: ${what} must be a timestamp in ms, got ${String(t)}`);
  return t;
}

function checkCount(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`store: ${what} must be a non-negative integer, got ${String(n)}`);
  return n;
}

function signalJson(signal: number[]): string {
  for (const s of signal) {
    if (!Number.isSafeInteger(s)) throw new TypeError(`store: corpus signal must be integers, got ${String(s)}`);
  }
  return JSON.stringify(signal);
}

export class Store {
  /** The schema version the file had before this open (0 = new file). */
  readonly migratedFrom: number;

  private readonly s: {
    insertRun: Stmt;
    endRun: Stmt;
    runs: Stmt;
    crashIdByTitle: Stmt;
    insertCrash: Stmt;
    bumpCrash: Stmt;
    minReproCalls: Stmt;
    insertRepro: Stmt;
    reproCrashId: Stmt;
    markVerified: Stmt;
    listCrashes: Stmt;
    getCrash: Stmt;
    reproducers: Stmt;
    getReproducer: Stmt;
    addCorpus: Stmt;
    corpus: Stmt;
    corpusHashes: Stmt;
    deleteCorpus: Stmt;
    upsertCorpus: Stmt;
    addCoverage: Stmt;
  };

  private readonly recordCrashTx: Database.Transaction<(c: CrashInput) => RecordCrashResult>;
  private readonly addMinimizedTx: Database.Transaction<
    (crashId: number, sourceReproId: number, repro: ReproInput, sizeBefore: number, sizeAfter: number, now: number) => number
  >;
  private readonly replaceCorpusTx: Database.Transaction<(rows: CorpusInput[], now: number) => void>;
  private readonly addCoverageTx: Database.Transaction<(sites: string[], runId: number | null) => number>;

  /** Use openStore(). */
  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    migratedFrom: number,
  ) {
    this.migratedFrom = migratedFrom;
    const p = (sql: string): Stmt => db.prepare(sql);
    this.s = {
      insertRun: p(
        `INSERT INTO runs (started_at, options, profile, seed, strategy, workers) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      endRun: p(`UPDATE runs SET ended_at = ?, execs = ?, calls = ?, virtual_ns = ?, findings = ? WHERE id = ?`),
      runs: p(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY started_at DESC, id DESC`),
      crashIdByTitle: p(`SELECT id FROM crashes WHERE title = ?`).pluck(),
      insertCrash: p(
        `INSERT INTO crashes (title, kind, first_seen, last_seen, count, details) VALUES (?, ?, ?, ?, 1, ?)`,
      ),
      bumpCrash: p(`UPDATE crashes SET count = count + 1, last_seen = MAX(last_seen, ?) WHERE id = ?`),
      minReproCalls: p(`SELECT MIN(calls) FROM reproducers WHERE crash_id = ?`).pluck(),
      insertRepro: p(
        `INSERT INTO reproducers (crash_id, program, profile, seed, strategy, schedule, trace_hash, calls,
           minimized, source_repro_id, size_before, size_after, faultline_version, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      reproCrashId: p(`SELECT crash_id FROM reproducers WHERE id = ?`).pluck(),
      markVerified: p(`UPDATE reproducers SET verified_replays = ? WHERE id = ?`),
      listCrashes: p(`SELECT ${CRASH_COLUMNS} FROM crashes c ORDER BY c.last_seen DESC, c.id`),
      getCrash: p(`SELECT ${CRASH_COLUMNS} FROM crashes c WHERE c.id = ?`),
      reproducers: p(
        `SELECT ${REPRO_COLUMNS} FROM reproducers WHERE crash_id = ? ORDER BY calls, length(program), id`,
      ),
      getReproducer: p(`SELECT ${REPRO_COLUMNS} FROM reproducers WHERE id = ?`),
      addCorpus: p(
        `INSERT INTO corpus (hash, program, calls, signal, added_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (hash) DO NOTHING`,
      ),
      corpus: p(`SELECT ${CORPUS_COLUMNS} FROM corpus ORDER BY id`),
      corpusHashes: p(`SELECT hash FROM corpus`).pluck(),
      deleteCorpus: p(`DELETE FROM corpus WHERE hash = ?`),
      upsertCorpus: p(
        `INSERT INTO corpus (hash, program, calls, signal, added_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (hash) DO UPDATE SET program = excluded.program, calls = excluded.calls, signal = excluded.signal`,
      ),
      addCoverage: p(
        `INSERT INTO coverage (site, first_run_id, hits) VALUES (?, ?, 1)
         ON CONFLICT (site) DO UPDATE SET hits = hits + 1
         RETURNING hits`,
      ).pluck(),
    };

    this.recordCrashTx = db.transaction((c: CrashInput): RecordCrashResult => {
      const existing = this.s.crashIdByTitle.get(c.title) as number | undefined;
      if (existing === undefined) {
        const crashId = Number(this.s.insertCrash.run(c.title, c.kind, c.now, c.now, c.details).lastInsertRowid);
        const reproId = this.insertRepro(crashId, c.repro, null, null, null, c.now);
        return { crashId, isNew: true, reproId };
      }
      this.s.bumpCrash.run(c.now, existing);
      const min = this.s.minReproCalls.get(existing) as number | null;
      const reproId = min === null || c.repro.calls < min ? this.insertRepro(existing, c.repro, null, null, null, c.now) : null;
      return { crashId: existing, isNew: false, reproId };
    });

    this.addMinimizedTx = db.transaction(
      (crashId: number, sourceReproId: number, repro: ReproInput, sizeBefore: number, sizeAfter: number, now: number) => {
        const owner = this.s.reproCrashId.get(sourceReproId) as number | undefined;
        if (owner === undefined) throw new Error(`store: no reproducer ${sourceReproId}`);
        if (owner !== crashId) {
          throw new Error(`store: reproducer ${sourceReproId} belongs to crash ${owner}, not ${crashId}`);
        }
        return this.insertRepro(crashId, repro, sourceReproId, sizeBefore, sizeAfter, now);
      },
    );

    this.replaceCorpusTx = db.transaction((rows: CorpusInput[], now: number) => {
      const keep = new Set<string>();
      for (const r of rows) keep.add(r.hash);
      for (const h of this.s.corpusHashes.all() as string[]) {
        if (!keep.has(h)) this.s.deleteCorpus.run(h);
      }
      // Programs that stay keep their id and added_at.
      for (const r of rows) {
        this.s.upsertCorpus.run(r.hash, r.program, checkCount('calls', r.calls), signalJson(r.signal), now);
      }
    });

    this.addCoverageTx = db.transaction((sites: string[], runId: number | null) => {
      let fresh = 0;
      for (const site of sites) {
        if ((this.s.addCoverage.get(site, runId) as number) === 1) fresh++;
      }
      return fresh;
    });
  }

  /** The schema version of the open database (always SCHEMA_VERSION). */
  get schemaVersion(): number {
    return userVersion(this.db);
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  // ---- runs ----------------------------------------------------------------

  beginRun(r: RunStart): number {
    const info = this.s.insertRun.run(
      checkTime('startedAt', r.startedAt),
      JSON.stringify(r.options),
      r.profile,
      String(r.seed),
      r.strategy,
      checkCount('workers', r.workers),
    );
    return Number(info.lastInsertRowid);
  }

  endRun(id: number, stats: RunStats): void {
    const info = this.s.endRun.run(
      checkTime('endedAt', stats.endedAt),
      stats.execs,
      stats.calls,
      stats.virtualNs,
      stats.findings,
      id,
    );
    if (info.changes !== 1) throw new Error(`store: no run ${id}`);
  }

  /** Newest first. */
  runs(): RunRow[] {
    return (this.s.runs.all() as RawRun[]).map(toRun);
  }

  // ---- crashes and reproducers ---------------------------------------------

  /**
   * Dedup by title; commits (durably) before returning. A reproducer is
   * stored for a new crash, or when it has fewer calls than every reproducer
   * already stored for that crash.
   */
  recordCrash(c: CrashInput): RecordCrashResult {
    checkTime('now', c.now);
    checkCount('repro.calls', c.repro.calls);
    return this.durably(() => this.recordCrashTx.immediate(c));
  }

  /** Store a minimized reproducer derived from sourceReproId; returns its id. */
  addMinimized(
    crashId: number,
    sourceReproId: number,
    repro: ReproInput,
    sizeBefore: number,
    sizeAfter: number,
    now: number,
  ): number {
    checkTime('now', now);
    checkCount('repro.calls', repro.calls);
    checkCount('sizeBefore', sizeBefore);
    checkCount('sizeAfter', sizeAfter);
    return this.durably(() =>
      this.addMinimizedTx.immediate(crashId, sourceReproId, repro, sizeBefore, sizeAfter, now),
    );
  }

  /** Record that the reproducer replayed identically `replays` times. */
  markVerified(reproId: number, replays: number): void {
    const info = this.s.markVerified.run(checkCount('replays', replays), reproId);
    if (info.changes !== 1) throw new Error(`store: no reproducer ${reproId}`);
  }

  /** Most recently seen first (ties by id). */
  listCrashes(): CrashRow[] {
    return this.s.listCrashes.all() as CrashRow[];
  }

  getCrash(id: number): CrashRow | null {
    return (this.s.getCrash.get(id) as CrashRow | undefined) ?? null;
  }

  /** Smallest first: fewest calls, then shortest program text, then oldest. */
  reproducers(crashId: number): ReproRow[] {
    return (this.s.reproducers.all(crashId) as RawRepro[]).map(toRepro);
  }

  getReproducer(id: number): ReproRow | null {
    const r = this.s.getReproducer.get(id) as RawRepro | undefined;
    return r === undefined ? null : toRepro(r);
  }

  // ---- corpus ----------------------------------------------------------------

  /** Returns false (and changes nothing) if the hash is already in the corpus. */
  addCorpus(hash: string, program: string, calls: number, signal: number[], now: number): boolean {
    const info = this.s.addCorpus.run(hash, program, checkCount('calls', calls), signalJson(signal), checkTime('now', now));
    return info.changes === 1;
  }

  /** In insertion order. */
  corpus(): CorpusRow[] {
    return (this.s.corpus.all() as RawCorpus[]).map(toCorpus);
  }

  /**
   * Make the corpus exactly `rows` (corpus minimization), in one transaction.
   * Programs already present keep their id and added_at; new ones get `now`.
   */
  replaceCorpus(rows: CorpusInput[], now: number): void {
    this.replaceCorpusTx.immediate(rows, checkTime('now', now));
  }

  // ---- coverage --------------------------------------------------------------

  /**
   * Count a hit on each site (one per occurrence in `sites`); a site seen for
   * the first time remembers runId. Returns how many sites were new.
   */
  addCoverage(sites: string[], runId: number | null): number {
    if (sites.length === 0) return 0;
    return this.addCoverageTx.immediate(sites, runId);
  }

  // ---- lifecycle -------------------------------------------------------------

  /** Checkpoint the WAL into the main file and close. Idempotent. */
  close(): void {
    if (!this.db.open) return;
    try {
      if (!this.db.memory) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  private insertRepro(
    crashId: number,
    r: ReproInput,
    sourceReproId: number | null,
    sizeBefore: number | null,
    sizeAfter: number | null,
    now: number,
  ): number {
    const info = this.s.insertRepro.run(
      crashId,
      r.program,
      r.profile,
      String(r.seed),
      r.strategy,
      r.schedule,
      r.traceHash,
      r.calls,
      sourceReproId === null ? 0 : 1,
      sourceReproId,
      sizeBefore,
      sizeAfter,
      r.faultlineVersion,
      now,
    );
    return Number(info.lastInsertRowid);
  }

  /** Run a write with synchronous = FULL: its commit is fsynced before we return. */
  private durably<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }
}

/**
 * Open (creating if needed) the database at `path` and bring its schema up
 * to date. Throws SchemaVersionError if the file is from a newer faultline;
 * in that case the file is left untouched.
 */
export function openStore(path: string = DEFAULT_DB_PATH): Store {
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Before anything that writes (journal_mode = WAL does): refuse newer files.
    let from = checkNotNewer(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if (from < SCHEMA_VERSION) from = migrate(db);
    return new Store(db, path, from);
  } catch (e) {
    db.close();
    throw e;
  }
}
