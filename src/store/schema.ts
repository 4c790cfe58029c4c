// The SQLite schema as an ordered list of migrations. The database's schema
// version is PRAGMA user_version: 0 for an empty file, N once migrations
// 1..N have been applied. Opening an older database applies the missing
// migrations in ONE transaction (all or nothing, user_version included);
// a database newer than this build knows is refused with SchemaVersionError.
//
// Rules for editing this file: never change a migration that has shipped;
// append a new one. Each migration is plain SQL that runs inside the
// migration transaction, so it must not contain BEGIN/COMMIT or
// PRAGMAs that cannot run in a transaction (journal_mode, foreign_keys).

import type Database from 'better-sqlite3';

export interface Migration {
  /** The user_version the database has after this migration. */
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'base schema: runs, crashes, reproducers, corpus',
    sql: `
      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER,
        options     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
        profile     TEXT    NOT NULL,
        seed        TEXT    NOT NULL,
        strategy    TEXT    NOT NULL,
        workers     INTEGER NOT NULL,
        execs       INTEGER NOT NULL DEFAULT 0,
        calls       INTEGER NOT NULL DEFAULT 0,
        virtual_ns  INTEGER NOT NULL DEFAULT 0,
        findings    INTEGER NOT NULL DEFAULT 0
      );

      CREATE TABLE crashes (
        id          INTEGER PRIMARY KEY,
        title       TEXT    NOT NULL UNIQUE,
        kind        TEXT    NOT NULL,
        first_seen  INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL,
        count       INTEGER NOT NULL DEFAULT 1,
        details     TEXT    NOT NULL
      );
      CREATE INDEX crashes_by_last_seen ON crashes (last_seen DESC, id);

      CREATE TABLE reproducers (
        id                 INTEGER PRIMARY KEY,
        crash_id           INTEGER NOT NULL REFERENCES crashes (id) ON DELETE CASCADE,
        program            TEXT    NOT NULL,
        profile            TEXT    NOT NULL,
        seed               TEXT    NOT NULL,
        strategy           TEXT    NOT NULL,
        schedule           TEXT,
        trace_hash         TEXT    NOT NULL,
        calls              INTEGER NOT NULL,
        minimized          INTEGER NOT NULL DEFAULT 0 CHECK (minimized IN (0, 1)),
        source_repro_id    INTEGER REFERENCES reproducers (id) ON DELETE SET NULL,
        size_before        INTEGER,
        size_after         INTEGER,
        faultline_version  TEXT    NOT NULL,
        created_at         INTEGER NOT NULL
      );
      CREATE INDEX reproducers_by_crash ON reproducers (crash_id, calls);
      CREATE INDEX reproducers_by_source ON reproducers (source_repro_id);

      CREATE TABLE corpus (
        id        INTEGER PRIMARY KEY,
        hash      TEXT    NOT NULL UNIQUE,
        program   TEXT    NOT NULL,
        calls     INTEGER NOT NULL,
        signal    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(signal)),
        added_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'coverage: every site ever reached, with the run that reached it first',
    sql: `
      CREATE TABLE coverage (
        site          TEXT    PRIMARY KEY,
        first_run_id  INTEGER REFERENCES runs (id) ON DELETE SET NULL,
        hits          INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX coverage_by_first_run ON coverage (first_run_id);
    `,
  },
  {
    version: 3,
    description: 'reproducers.verified_replays: how many replays confirmed the reproducer',
    sql: `
      ALTER TABLE reproducers ADD COLUMN verified_replays INTEGER NOT NULL DEFAULT 0;
    `,
  },
];

/** The schema version this build creates and understands. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;

// The list must be 1, 2, ..., N: a gap or a reordering is a bug in this file.
MIGRATIONS.forEach((m, i) => {
  if (m.version !== i + 1) {
    throw new Error(`store/schema: migration #${i} has version ${m.version}, expected ${i + 1}`);
  }
});

/** The database was written by a newer faultline than this one. */
export class SchemaVersionError extends Error {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `${path}: database schema version ${found} is newer than this faultline supports ` +
        `(version ${known}); upgrade faultline or use another --db`,
    );
    this.name = 'SchemaVersionError';
  }
}

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Throws SchemaVersionError if the database is newer than SCHEMA_VERSION. */
export function checkNotNewer(db: Database.Database): number {
  const v = userVersion(db);
  if (v > SCHEMA_VERSION) throw new SchemaVersionError(db.name, v, SCHEMA_VERSION);
  return v;
}

/**
 * Bring the database to SCHEMA_VERSION. All pending migrations and the new
 * user_version are applied in a single IMMEDIATE transaction, so a failure
 * (or a kill) leaves the database at its old version, untouched; two
 * processes opening the same old file at once migrate it exactly once.
 * Returns the version the database had before.
 */
export function migrate(db: Database.Database): number {
  const run = db.transaction((): number => {
    // Re-read inside the write lock: another process may have migrated.
    const from = checkNotNewer(db);
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      try {
        db.exec(m.sql);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        throw new Error(`${db.name}: migration to schema version ${m.version} (${m.description}) failed: ${msg}`, {
          cause: e,
        });
      }
    }
    if (from < SCHEMA_VERSION) {
      const bad = db.pragma('foreign_key_check') as unknown[];
      if (bad.length > 0) {
        throw new Error(`${db.name}: foreign key violations after migration: ${JSON.stringify(bad.slice(0, 5))}`);
      }
      // PRAGMA user_version is part of the transaction: it commits with the schema.
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    return from;
  });
  return run.immediate();
}
