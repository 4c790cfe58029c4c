// The fuzz loop of one worker: generate or mutate a program, run it under a
// fresh seed and schedule, keep programs that add signal (kernel coverage
// plus interleaving signal) to the corpus, and hand every report to the
// caller, deduplicated by title. New signal counts only if it shows up again
// under another schedule, or else the corpus entry records the one schedule
// (seed and decision log) that produced it.
//
// Swarm testing (TigerBeetle's simulator, FoundationDB's BUGGIFY): unless
// pinned, each run draws its environment from the fuzzer's stream -- memory
// budget, hung-task timeout scale, fault-around -- and records it in the
// program header, so a reproducer carries it.

import { RandomStrategy, Rng, type Report } from '../sim/index.js';
import { SYSCALL_DESCS } from '../../syscalls/index.js';
import { execute, type ExecResult } from './execute.js';
import { RaceTable } from './conflicts.js';
import { drawIndex, pushSum } from './weighted.js';
import { ChoiceTable, generate, hammers, DEFAULT_VICTIMS, HAMMER_BUDGET, type GenConfig } from './generate.js';
import { LockOrderGraph } from './lockorder.js';
import { mutate } from './mutate.js';
import { SignalTable } from './signal.js';
import { callCount, type Header, type Program } from './program.js';

export interface FuzzConfig {
  profile: string;
  seed: string;
  /** 'random', 'pct', 'pct:D', or 'mixed' (alternate). */
  strategy: string;
  procs: number;
  threads: number;
  calls: number;
  victims: readonly string[];
  enabled: readonly string[];
  /** Options pinned by the user; the rest is drawn per run (swarm). */
  pinned: Readonly<Record<string, string>>;
  /** Re-runs under other schedules to confirm new signal. */
  confirmRuns: number;
  /** Only generate fresh programs: no corpus, no mutation (a baseline without feedback). */
  generateOnly?: boolean;
  /**
   * The share of executions that hammer a conflicting pair of the corpus
   * (race-directed hammering, conflicts.ts). A race runs under half a
   * hammering program's budget (RACE_BUDGET), some fifteen plain runs long:
   * at the default of one in a hundred, races take about a seventh of the
   * fuzzer's time, as one in two hundred at the full budget did (at one in
   * fifty of those, half: the other catalog entries took twice as long).
   */
  raceChance: number;
  /**
   * The share of executions that are short races: a drawn pair as above,
   * under a quarter of the adversarial budget and no liveness phase
   * (livenessSteps=0), so an eighth of a race's steps. They look for what
   * fires as it happens -- lockdep, a BUG, a broken invariant, a hang --
   * not for starvation, which needs the liveness phase; and they feed
   * nothing back to the corpus (their budgets would follow their mutants).
   */
  shortRaceChance: number;
}

export const DEFAULT_FUZZ_CONFIG: FuzzConfig = {
  profile: 'default',
  seed: '1',
  strategy: 'mixed',
  procs: 2,
  threads: 2,
  calls: 10,
  victims: DEFAULT_VICTIMS,
  enabled: SYSCALL_DESCS.map((d) => d.name),
  pinned: {},
  confirmRuns: 2,
  raceChance: 0.01,
  shortRaceChance: 0.03,
};

export interface Finding {
  report: Report;
  /** The program with the header that reproduces it (seed, strategy, schedule). */
  program: Program;
  result: ExecResult;
  /** First time this fuzzer saw the title. */
  isNew: boolean;
}

export interface CorpusEntry {
  program: Program;
  signal: number[];
}

export interface SyscallStat {
  count: number;
  errors: number;
}

/** The counters every level reports: a worker's fuzzer, the pool, the session. */
export interface RunCounters {
  execs: number;
  calls: number;
  virtualNs: number;
  corpus: number;
  signal: number;
}

export interface FuzzStats extends RunCounters {
  findings: number;
  perSyscall: Map<string, SyscallStat>;
  /** Page-cache pages at the end of the latest execution. */
  pagesInCache: number;
  /** Kernel gauges summed over executions: pages reclaimed, FUSE replies and their latency; the deepest FUSE queue of the latest one. */
  pgsteal: number;
  fuseReplies: number;
  fuseLatencyNs: number;
  fuseQueued: number;
  /** Of `calls`, those made by programs that hammer a call (rerun >= HAMMER_RERUN): many, cheap, a few runs. */
  hammerCalls: number;
}

const MAX_CORPUS = 5000;
/**
 * Step budget (each phase) of a race (raceHammer): half a hammering
 * program's, so two races cost what one did. The two calls meet within a
 * few hundred steps or not at all, and a punch its user keeps refilling has
 * had 5000 fair steps -- it needs a few hundred -- when the starvation check
 * looks. A quarter was too tight: a virtiofs request queued behind a
 * hammered reader's READs took longer than 2500 fair steps on the fixed
 * kernel (3 false reports in 12 seeds of 15000 executions).
 */
export const RACE_BUDGET = HAMMER_BUDGET / 2;
/** Runs of a program composed to close a lock-order cycle. */
const COMPOSE_TRIES = 4;
/** Per run, older run lengths weigh this much less in PCT's estimate of k. */
const STEPS_EMA_DECAY = 0.95;

/**
 * Generation or mutation: each is chosen in proportion to how often its
 * recent programs brought new signal (decayed counts, one success and one
 * failure of prior each), between 10% and 90%. A young corpus mutates
 * well; once mutants of it stop finding anything, fresh programs -- the
 * biased generator's combinations -- get the executions back, as
 * syzkaller generates more when its signal is weak.
 */
export class SourceYield {
  private readonly tries = [2, 2];
  private readonly hits = [1, 1];

  generateChance(): number {
    const g = this.hits[0]! / this.tries[0]!;
    const m = this.hits[1]! / this.tries[1]!;
    return Math.min(0.9, Math.max(0.1, g / (g + m)));
  }

  record(generated: boolean, fresh: boolean): void {
    const i = generated ? 0 : 1;
    this.tries[i] = this.tries[i]! * YIELD_DECAY + 1;
    this.hits[i] = this.hits[i]! * YIELD_DECAY + (fresh ? 1 : 0);
  }
}

/** Per execution of a source: its older results weigh this much less (a memory of a few hundred runs). */
const YIELD_DECAY = 0.995;

export class Fuzzer {
  readonly rng: Rng;
  readonly corpus: CorpusEntry[] = [];
  /** The corpus's programs, in corpus order (what mutation splices from), kept alongside rather than mapped per step. */
  private readonly corpusPrograms: Program[] = [];
  /** What the corpus's programs did to file pages when they were kept: race-directed hammering draws from it. */
  private readonly races: RaceTable;
  /** Running sums of the corpus entries' weights for mutation. */
  private readonly corpusSums: number[] = [];
  readonly stats: FuzzStats = { execs: 0, calls: 0, virtualNs: 0, corpus: 0, signal: 0, findings: 0, perSyscall: new Map(), pagesInCache: 0, pgsteal: 0, fuseReplies: 0, fuseLatencyNs: 0, fuseQueued: 0, hammerCalls: 0 };
  readonly titles = new Map<string, number>();
  /** The session's signal (maxSignal, in syzkaller's words). */
  private readonly signal = new SignalTable();
  private readonly gen: GenConfig;
  private ct: ChoiceTable;
  /** Recent mean length of a run in steps (hammering programs left out): PCT's k. */
  private stepsEma = 500;
  private readonly random = new RandomStrategy();
  private runSeq = 0;
  private readonly lockGraph = new LockOrderGraph();
  private readonly sources = new SourceYield();
  /** Programs composed from the processes that recorded a lock-order cycle (see lockorder.ts). */
  composedRuns = 0;

  constructor(
    readonly cfg: FuzzConfig,
    private readonly onFinding: (f: Finding) => void,
    /** A program joined the corpus (not called for seeds). */
    private readonly onCorpus: (p: Program, signal: number[]) => void = () => {},
  ) {
    this.rng = new Rng(`fuzzer:${cfg.seed}`);
    const enabled = new Set(cfg.enabled);
    this.gen = { procs: cfg.procs, threads: cfg.threads, calls: cfg.calls, victims: cfg.victims, enabled };
    // A race's retargeted user may open a victim (only if open is fuzzed) and be a pwrite64 (only if that is).
    this.races = new RaceTable(enabled.has('open') ? cfg.victims : [], enabled.has('pwrite64'));
    this.ct = new ChoiceTable(enabled);
  }

  /** Seed the corpus with existing programs (their signal is recomputed). */
  addSeeds(programs: readonly Program[]): void {
    for (const p of programs) {
      const r = this.run(p);
      this.addToCorpus(p, this.newSignal(r), r, false);
    }
    this.ct = new ChoiceTable(this.gen.enabled, this.corpusPrograms);
  }

  /** One fuzzing iteration. */
  step(): ExecResult {
    let prog: Program;
    const racing = !this.cfg.generateOnly && this.races.killerCount > 0;
    const long = racing && this.rng.chance(this.cfg.raceChance);
    const short = racing && !long && this.rng.chance(this.cfg.shortRaceChance);
    const race = long || short ? this.raceHammer(short) : null;
    const generating = race === null && (this.cfg.generateOnly || this.corpus.length === 0 || this.rng.chance(this.sources.generateChance()));
    if (race !== null) prog = race;
    else if (generating) prog = generate(this.rng, this.gen, this.ct, this.drawHeader());
    else {
      // A mutant runs in its parent's environment most of the time: the
      // memory budget or daemon stalls may be what gave the parent its signal.
      const base = this.corpus[drawIndex(this.rng, this.corpusSums)]!.program;
      prog = mutate(this.rng, { ...base, header: this.drawHeader(base.header) }, this.gen, this.ct, this.corpusPrograms);
    }
    prog = this.hammerBudget(prog);
    const r = this.run(prog);
    if (this.cfg.generateOnly || (short && race !== null)) return r;
    const fresh = this.consider(prog, r);
    if (race === null) this.sources.record(generating, fresh);
    // Lock-order feedback: a dependency that closes a cycle with other
    // programs' dependencies gets their processes composed into one program.
    // The edges came from different runs, under other schedules: a few tries.
    for (const c of this.lockGraph.add(prog, r.lockOrder)) {
      for (let i = 0; i < COMPOSE_TRIES; i++) {
        const composed = this.hammerBudget({ ...c, header: { ...this.drawHeader(), options: { ...c.header.options, ...this.cfg.pinned } } });
        this.composedRuns++;
        const rc = this.run(composed);
        this.consider(composed, rc);
        if (rc.reports.length > 0) {
          this.lockGraph.reported(c);
          break;
        }
      }
    }
    return r;
  }

  /**
   * Race-directed hammering (conflicts.ts): a conflicting pair of the
   * corpus, its user hammered and its killer rerun, in a redrawn
   * environment. Under the random strategy unless the user chose one: PCT
   * runs the highest-priority task until it blocks, so a killer that never
   * sleeps ran all its reruns before the loop began or after it, and none
   * met it (of 17 races of a wide store against a tmpfs punch on
   * shmem-3.15, the 8 under random all starved the punch, the 9 under PCT
   * none).
   */
  private raceHammer(short = false): Program | null {
    const p = this.races.draw(this.rng);
    if (p === null) return null;
    const header = this.drawHeader(p.header);
    // No memory budget: a hammered access over more pages than a small
    // budget holds thrashes, and another task starving in direct reclaim
    // says nothing about the race (unless the user pinned one).
    const { memoryPages: _budget, ...drawn } = header.options;
    const budgets = short ? { maxSteps: String(RACE_BUDGET / 4), livenessSteps: '0' } : { maxSteps: String(RACE_BUDGET), livenessSteps: String(RACE_BUDGET) };
    // A short race's budgets win over ones its source program carried.
    const options = short ? { ...drawn, ...budgets, ...this.cfg.pinned } : { ...budgets, ...drawn, ...this.cfg.pinned };
    return { ...p, header: { ...header, options, strategy: this.cfg.strategy === 'mixed' ? 'random' : header.strategy } };
  }

  /** Keep a program that added signal: confirm it under other schedules, or record the schedule it needs. Returns whether it was new. */
  private consider(prog: Program, r: ExecResult): boolean {
    const fresh = this.newSignal(r);
    if (fresh.length === 0 || r.reports.length > 0) return false;
    let stable = fresh;
    for (let i = 0; i < this.cfg.confirmRuns && stable.length > 0; i++) {
      // A redrawn environment drops the parent's options, step budgets included: a hammering program gets its short ones back.
      const again = this.run(this.hammerBudget({ ...prog, header: this.drawHeader(prog.header) }));
      const got = new Set(this.signal.of(again));
      const kept = stable.filter((s) => got.has(s));
      if (kept.length === 0) break;
      stable = kept;
    }
    const keep = stable.length > 0 ? prog : { ...prog, header: { ...prog.header, schedule: r.schedule ?? undefined } };
    this.addToCorpus(keep, fresh, r);
    if (this.corpus.length % 32 === 0) this.ct = new ChoiceTable(this.gen.enabled, this.corpusPrograms);
    return true;
  }

  /**
   * A program that hammers a call (rerun >= HAMMER_RERUN) runs under short
   * step budgets: the liveness phase's starvation check then needs a
   * tenth of the default steps, and hammering stays affordable. Recorded in
   * the header, so the reproducer replays under the same budgets.
   */
  private hammerBudget(p: Program): Program {
    const o = p.header.options;
    if (!hammers(p) || o.maxSteps !== undefined || o.livenessSteps !== undefined) return p;
    // PCT's change points belong in the adversarial phase: k is its budget (unless the user set k).
    const strategy = /^pct:\d+:\d+$/.test(this.cfg.strategy) ? p.header.strategy : p.header.strategy.replace(/^(pct:\d+):\d+$/, `$1:${HAMMER_BUDGET}`);
    return { ...p, header: { ...p.header, strategy, options: { ...o, maxSteps: String(HAMMER_BUDGET), livenessSteps: String(HAMMER_BUDGET) } } };
  }

  /**
   * PCT needs k, the number of steps its change points are drawn over: the
   * run's length. The longest run of the session (what one strategy object
   * living across runs would use) is a hammered program's 20000 steps, past
   * the end of a typical 300-step program, whose runs then never preempt.
   * A pct strategy without an explicit K gets twice the recent mean length
   * (the adversarial budget for a hammering program), written into the
   * header so the run replays from it alone.
   */
  private pctSteps(strategy: string, k: number): string {
    return /^pct(:\d+)?$/.test(strategy) ? `${strategy === 'pct' ? 'pct:3' : strategy}:${Math.max(1, k)}` : strategy;
  }

  private drawHeader(base?: Header): Header {
    const seq = this.runSeq++;
    const strategy = this.pctSteps(this.cfg.strategy === 'mixed' ? (seq % 2 === 0 ? 'random' : 'pct:3') : this.cfg.strategy, Math.round(2 * this.stepsEma));
    const options: Record<string, string> = {};
    if (base === undefined || this.rng.chance(0.2)) {
      // Swarm: draw the environment unless pinned.
      // A budget small enough that direct reclaim runs some of the time.
      if (this.rng.chance(0.3)) options.memoryPages = String([24, 32, 48, 64, 256, 1024][this.rng.int(6)]);
      if (this.rng.chance(0.2)) options.faultAroundPages = String([1, 4, 16][this.rng.int(3)]);
      const hungNs = this.rng.chance(0.2) ? [10e9, 30e9, 120e9][this.rng.int(3)]! : 120e9;
      if (hungNs !== 120e9) options.hungTaskTimeoutNs = String(hungNs);
      // A slow or throttled block device (cgroup io.latency), always well
      // under the hung-task timeout: a working kernel must not hang on it.
      // Throttling delays each bio's submission one after another, and a
      // read without readahead waits for one page at a time: at most 1e-3
      // of the timeout per bio keeps even a thousand-page fsync within the
      // liveness bound (twice the timeout).
      if (this.rng.chance(0.15)) options.blockLatencyNs = String(Math.round(hungNs * [1e-5, 1e-4, 1e-3][this.rng.int(3)]!));
      if (this.rng.chance(0.1)) options.blockThrottleNs = String(Math.round(hungNs * [1e-5, 1e-4, 1e-3][this.rng.int(3)]!));
      if (this.rng.chance(0.05)) options.blockReadErrorRate = String([0.01, 0.2][this.rng.int(2)]);
      // The virtiofs daemon: slow, stalling now and then, failing requests, or
      // with the writeback cache. A stall lasts 1-5% of the hung-task timeout
      // and comes at most once per ten stall lengths of service, so a working
      // kernel never hangs on one.
      const us = (ns: number): string => `${Math.max(1, Math.round(ns / 1e3))}us`;
      if (this.rng.chance(0.15)) {
        options.fuseLatency = [`fixed:${us(hungNs * 2e-6)}`, `uniform:${us(hungNs * 1e-6)}-${us(hungNs * 5e-5)}`, `exp:${us(hungNs * 2e-5)}`][this.rng.int(3)]!;
      }
      if (this.rng.chance(0.05)) {
        const stall = Math.round(hungNs * [0.01, 0.05][this.rng.int(2)]! / 1e6);
        options.fuseStall = this.rng.chance(0.5) ? `${stall}ms@every:${10 * stall}ms` : `${stall}ms@once:${stall}ms`;
      }
      if (this.rng.chance(0.05)) options.fuseErrorRate = String([0.01, 0.2][this.rng.int(2)]);
      if (this.rng.chance(0.2)) options.fuseWritebackCache = '1';
      // Under memory pressure every page a writer dirties waits for writeback
      // to free a page, one I/O after another: keep the device fast enough
      // that a working kernel still never hangs (a millisecond at most per
      // request at the default timeout).
      if (options.memoryPages !== undefined) {
        for (const key of ['blockLatencyNs', 'blockThrottleNs']) {
          if (options[key] !== undefined && Number(options[key]) > hungNs / 1e5) options[key] = String(Math.round(hungNs / 1e5));
        }
      }
      // Kernel threads, each on or off: kswapd0, the writeback flusher, khugepaged.
      if (this.rng.chance(0.4)) options.kswapd = '1';
      if (this.rng.chance(0.3)) options.flusher = '1';
      if (this.rng.chance(0.15)) options.khugepaged = '1';
    } else Object.assign(options, base.options);
    Object.assign(options, this.cfg.pinned);
    return { profile: this.cfg.profile, seed: `${this.cfg.seed}.${seq}`, strategy, options };
  }

  private run(p: Program): ExecResult {
    // PCT runs build their strategy from the header (pct:D:K): nothing of it outlives the run.
    const r = execute(p, { strategy: p.header.strategy === 'random' ? this.random : undefined });
    const hammering = hammers(p);
    if (!hammering) this.stepsEma = STEPS_EMA_DECAY * this.stepsEma + (1 - STEPS_EMA_DECAY) * r.steps;
    const s = this.stats;
    s.execs++;
    s.calls += r.calls;
    if (hammering) s.hammerCalls += r.calls;
    s.virtualNs += r.virtualNs;
    s.pagesInCache = r.pagesInCache;
    s.pgsteal += r.gauges.pgsteal;
    s.fuseReplies += r.gauges.fuseReplies;
    s.fuseLatencyNs += r.gauges.fuseLatencyNs;
    s.fuseQueued = r.gauges.fuseMaxQueued;
    for (const c of r.results) {
      let st = s.perSyscall.get(c.name);
      if (st === undefined) s.perSyscall.set(c.name, (st = { count: 0, errors: 0 }));
      st.count++;
      if (c.ret !== null && c.ret < 0) st.errors++;
    }
    // Built only when there is a report to hand out (most runs have none).
    const withSchedule: Program | null = r.reports.length > 0 ? { ...p, header: { ...p.header, schedule: r.schedule ?? undefined } } : null;
    for (const rep of r.reports) {
      const seen = this.titles.get(rep.title) ?? 0;
      this.titles.set(rep.title, seen + 1);
      if (seen === 0) s.findings++;
      this.onFinding({ report: rep, program: withSchedule!, result: r, isNew: seen === 0 });
    }
    return r;
  }

  private newSignal(r: ExecResult): number[] {
    return this.signal.of(r, true);
  }

  private addToCorpus(p: Program, fresh: number[], r: ExecResult, notify = true): void {
    this.signal.add(fresh);
    if (this.corpus.length < MAX_CORPUS) {
      this.corpus.push({ program: p, signal: fresh });
      this.corpusPrograms.push(p);
      // AFL's performance score, for hammering programs only: one whose run
      // is longer than twice the recent mean is mutated less, in proportion,
      // so it gets about the time of a plain one instead of taking over the
      // session (its mutants hammer too). Plain programs keep equal weight:
      // the long ones among them (FUSE latency, reclaim) are where entries
      // A and B live.
      pushSum(this.corpusSums, hammers(p) ? Math.min(1, (2 * this.stepsEma) / Math.max(1, r.steps)) : 1);
      // A program that already hammers has had its race.
      if (!hammers(p)) this.races.add(p, r.results);
      if (notify) this.onCorpus(p, fresh);
    }
    this.stats.corpus = this.corpus.length;
    this.stats.signal = this.signal.size;
  }

  static programSize(p: Program): number {
    return callCount(p);
  }
}
