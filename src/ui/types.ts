// The plain data the terminal UI renders. Components see only these shapes
// (and callbacks); the CLI adapts a Session and a Store to them, and tests
// feed recorded values. Nothing here reaches into the simulator.

/** One worker's counters, as the pool reports them. */
export interface WorkerView {
  execs: number;
  calls: number;
  virtualNs: number;
  corpus: number;
  signal: number;
  findings: number;
}

export interface FindingView {
  kind: string;
  title: string;
  count: number;
  /** First time this database saw the title. */
  isNew: boolean;
  /** A minimized reproducer is stored; undefined when unknown. */
  minimized?: boolean;
}

/**
 * Kernel gauges. Every field is optional: a gauge the stats do not carry
 * renders as "n/a".
 */
export interface KernelGauges {
  /** Page-cache pages at the end of the workers' latest executions. */
  pagesInCache?: number;
  /** Pages reclaimed (pgsteal, direct and kswapd) over the run. */
  reclaimEvents?: number;
  /** The deepest the FUSE input queue got in the workers' latest executions. */
  fuseQueueDepth?: number;
  /** Mean FUSE request latency, queueing to reply, in virtual ns. */
  fuseLatencyNs?: number;
}

/** A snapshot of a live run; SessionStats fits it as is. */
export interface LiveStats {
  execs: number;
  calls: number;
  virtualNs: number;
  corpus: number;
  signal: number;
  wallMs: number;
  findings: readonly FindingView[];
  perSyscall: ReadonlyMap<string, { count: number; errors: number }>;
  workers: readonly WorkerView[];
  kernel?: KernelGauges;
}

/** What the header says about the run; fixed for its whole life. */
export interface RunInfo {
  profile: string;
  seed: string;
  strategy: string;
  workers: number;
  db: string;
}

/** The live view's handles on the run. */
export interface LiveControl {
  /** Latest snapshot; called a few times a second. */
  sample(): LiveStats;
  /** 'q' (and Ctrl-C): stop the run; a second call may quit at once. */
  quit(): void;
  pause(): void;
  resume(): void;
  /** enter on a finding: its stored details, or null if not stored (yet). */
  openFinding?(title: string): CrashDetailData | null;
}

// ---- crash browser -----------------------------------------------------------

export interface CrashListItem {
  id: number;
  kind: string;
  title: string;
  count: number;
  lastSeen: number;
  reproducers: number;
  /** Calls in the smallest reproducer, null without one. */
  minCalls: number | null;
  minimized: boolean;
}

export interface ReproView {
  id: number;
  program: string;
  calls: number;
  traceHash: string;
  minimized: boolean;
  sizeBefore: number | null;
  sizeAfter: number | null;
  verifiedReplays: number;
}

export interface CrashDetailData {
  id: number;
  kind: string;
  title: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** The detector's text: lockdep chain, wait-for cycle, invariant, stacks. */
  details: string;
  /** The smallest stored reproducer. */
  repro: ReproView | null;
}

/** One trace event, ready to place in its task's lane. */
export interface TraceRow {
  step: number;
  timeNs: number;
  /** Index into TraceView.taskNames, or -1 for no task. */
  task: number;
  /** "acquire i_mmap_rwsem", "report", ... */
  label: string;
  isReport: boolean;
}

export interface TraceView {
  rows: readonly TraceRow[];
  taskNames: readonly string[];
  /** More events happened than were kept. */
  truncated: boolean;
  /** Where the events not kept were: `count` of them before rows[at] (a long run keeps its beginning and its end). */
  gap?: { at: number; count: number };
}

export interface ReplayOutcome {
  reproduced: boolean;
  title: string | null;
  expectTitle: string;
  traceHash: string;
  expectHash: string;
  divergence: string | null;
  steps: number;
  virtualNs: number;
  trace: TraceView;
}

export type MinimizeOutcome =
  | { available: false; message: string }
  | { available: true; before: number; after: number; reproduced: boolean; message: string };

/** The crash browser's data source (a Store plus the executor, in the CLI). */
export interface CrashSource {
  /** Label for the header (the database path). */
  readonly name: string;
  list(): CrashListItem[];
  detail(id: number): CrashDetailData | null;
  /** Replay the smallest reproducer with its recorded schedule. */
  replay(id: number): ReplayOutcome | null;
  minimize(id: number): Promise<MinimizeOutcome>;
}
