// Shapes that cross the store's boundary. Timestamps are milliseconds since
// the epoch, always supplied by the caller (the store never reads a clock).
// Seeds are stored as text: the simulation treats every seed as a string.

export interface RunStart {
  startedAt: number;
  /** The run's full option set, stored as JSON. */
  options: object;
  profile: string;
  seed: string | number;
  strategy: string;
  workers: number;
}

export interface RunStats {
  endedAt: number;
  execs: number;
  calls: number;
  virtualNs: number;
  findings: number;
}

export interface RunRow {
  id: number;
  startedAt: number;
  /** null while the run is going, or if it was killed. */
  endedAt: number | null;
  options: Record<string, unknown>;
  profile: string;
  seed: string;
  strategy: string;
  workers: number;
  execs: number;
  calls: number;
  virtualNs: number;
  findings: number;
}

/** Everything needed to replay a finding bit for bit. */
export interface ReproInput {
  /** The program in the text format. */
  program: string;
  profile: string;
  seed: string | number;
  strategy: string;
  /** The recorded decision log, base64 (sim/decisionlog encodeLog), or null. */
  schedule: string | null;
  traceHash: string;
  /** Number of calls in the program: "smaller" means fewer calls. */
  calls: number;
  faultlineVersion: string;
}

export interface CrashInput {
  title: string;
  kind: string;
  /** The report body; only the first report's details are kept. */
  details: string;
  now: number;
  repro: ReproInput;
}

export interface RecordCrashResult {
  crashId: number;
  /** true if this title had never been seen in this database. */
  isNew: boolean;
  /** The stored reproducer's id, or null if a smaller one was already stored. */
  reproId: number | null;
}

export interface CrashRow {
  id: number;
  title: string;
  kind: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
  details: string;
  /** How many reproducers are stored for it. */
  reproducers: number;
  /** Calls in its smallest reproducer, null if it has none. */
  minCalls: number | null;
}

export interface ReproRow {
  id: number;
  crashId: number;
  program: string;
  profile: string;
  seed: string;
  strategy: string;
  schedule: string | null;
  traceHash: string;
  calls: number;
  minimized: boolean;
  /** For a minimized reproducer: the one it was minimized from. */
  sourceReproId: number | null;
  sizeBefore: number | null;
  sizeAfter: number | null;
  verifiedReplays: number;
  faultlineVersion: string;
  createdAt: number;
}

export interface CorpusInput {
  hash: string;
  program: string;
  calls: number;
  /** Coverage signal: integers. */
  signal: number[];
}

export interface CorpusRow extends CorpusInput {
  id: number;
  addedAt: number;
}
