// The store: SQLite persistence for runs, crashes, reproducers, corpus and
// coverage. The only module that talks SQL; see db.ts.

export { Store, openStore, DEFAULT_DB_PATH } from './db.js';
export { SCHEMA_VERSION, MIGRATIONS, SchemaVersionError, type Migration } from './schema.js';
export type {
  RunStart,
  RunStats,
  RunRow,
  ReproInput,
  CrashInput,
  RecordCrashResult,
  CrashRow,
  ReproRow,
  CorpusInput,
  CorpusRow,
} from './types.js';
