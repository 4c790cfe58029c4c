// The deterministic simulator: tasks are generators, every `yield` is a
// preemption point, and one seed decides everything.
//
// A run has two phases, as TigerBeetle's VOPR: an adversarial phase under the
// chosen strategy (random, PCT, or a recorded decision log) with fault
// injection on, bounded by a step budget; then, if user tasks remain, a
// liveness phase that schedules fairly with no new faults. Hang and starvation
// reports come only from what cannot finish when no scheduling choice could
// have helped: while nothing is runnable (time jumps to the next timer), or
// under the fair liveness schedule. An unfair schedule alone never produces a
// false hang.

import { Task, TaskState, TASK_STATE_LETTER, WAIT_INTERRUPTED, type Gen } from './task.js';
import type { Waitable } from './waitable.js';
import { Lockdep, heldLocksText, type LockdepSink } from './lockdep.js';
import { Trace, Ev } from './trace.js';
import { TimerHeap, type TimerTarget } from './timers.js';
import { Rng, Stream, deriveRng } from './rng.js';
import { RandomStrategy, type Strategy } from './strategy.js';
import { DecisionLogReader, DecisionLogWriter, ReplayDivergence } from './decisionlog.js';
import { formatNs, type Report, type ReportKind } from './report.js';
import { clear } from './arrays.js';

export interface SimOptions {
  seed: string | number;
  strategy?: Strategy;
  /** Virtual time each scheduling step costs (kernel code may charge more). */
  stepCostNs?: number;
  /** Step budget of the adversarial phase. */
  maxSteps?: number;
  /**
   * Step budget of the liveness phase. 0: no liveness phase -- the run ends
   * with the adversarial budget, judged by the detectors that fire as they
   * go (lockdep, hung tasks, deadlocks, invariants), with no starvation
   * check at its end.
   */
  livenessMaxSteps?: number;
  /** Every pending operation must finish within this much virtual time once no scheduling choice can help. */
  livenessBoundNs?: number;
  /** khungtaskd's hung_task_timeout_secs, in virtual nanoseconds. */
  hungTaskTimeoutNs?: number;
  /** End the run at the first report (the fuzzer's panic_on_warn). */
  stopOnReport?: boolean;
  /** Record the decision log (scheduling choices and random draws). */
  record?: boolean;
  /** Replay a recorded decision log instead of consulting the strategy. */
  replay?: Uint8Array | null;
  /** How many trace events to keep for display (the hash covers all). */
  traceLimit?: number;
  /** Past traceLimit, keep the latest events rather than only the first (Trace). */
  traceTail?: boolean;
}

export type RunOutcome = 'completed' | 'report' | 'budget' | 'diverged';

export interface RunResult {
  outcome: RunOutcome;
  reports: Report[];
  steps: number;
  livenessSteps: number;
  virtualNs: number;
  traceHash: string;
  events: number;
  /** The decision log, when recorded. */
  decisions: Uint8Array | null;
  divergence: string | null;
}

export enum Phase {
  Adversarial = 0,
  Liveness = 1,
}

const DEFAULTS = {
  stepCostNs: 100,
  maxSteps: 2_000_000,
  livenessMaxSteps: 2_000_000,
  hungTaskTimeoutNs: 120e9,
};

function mixId(id: number): number {
  return Math.imul(id + 1, 0x9e3779b1);
}

export class Sim implements LockdepSink, TimerTarget {
  readonly seed: string;
  readonly lockdep: Lockdep;
  readonly trace: Trace;
  readonly stepCostNs: number;
  readonly hungTaskTimeoutNs: number;
  readonly livenessBoundNs: number;
  readonly stopOnReport: boolean;

  nowNs = 0;
  step = 0;
  phase: Phase = Phase.Adversarial;
  /** Fault injection is allowed (off in the liveness phase). */
  faultsEnabled = true;
  current: Task | null = null;
  readonly tasks: Task[] = [];
  readonly reports: Report[] = [];
  stopped = false;

  private strategy: Strategy;
  /**
   * The liveness phase's fair schedule: a uniform choice among the runnable
   * tasks at every preemption point, from the run seed's own stream. Every
   * runnable task keeps getting turns, so an operation still pending after
   * thousands of them is one no luck gets through, as the 3.15 punch while
   * faulters refill its range. Round robin, which this replaced, is fair
   * too but in lockstep: two looping tasks meet at the same point of their
   * loops on every turn, so a fault could find its page truncated by a
   * looping punch every single time -- an interleaving no machine's timing
   * keeps up, which made the fuzzer report a FUSE punch "livelock" on the
   * fixed kernel (test/fuzz/programs/fuse-punch-lockstep.prog).
   */
  private readonly fair = new RandomStrategy();
  private readonly runnable: Task[] = [];
  private nRunnable = 0;
  private runnableSig = 0;
  private liveUser = 0;
  private stepLimit: number;
  private readonly livenessMaxSteps: number;
  private livenessStartNs = 0;
  private livenessStartStep = 0;
  private readonly timers = new TimerHeap();
  private nextDeadlineNs = -1;
  /** The fixed streams, each derived from the seed when first drawn from (seeding one costs more than most runs draw). */
  private readonly streams: (Rng | null)[] = [null, null, null, null];
  private readonly taskRngs: (Rng | undefined)[] = [];
  private readonly writer: DecisionLogWriter | null;
  private readonly reader: DecisionLogReader | null;
  private divergence: string | null = null;
  private markGen = 0;
  private readonly hungReported = new Set<number>();

  constructor(opts: SimOptions) {
    this.seed = String(opts.seed);
    this.stepCostNs = opts.stepCostNs ?? DEFAULTS.stepCostNs;
    this.stepLimit = opts.maxSteps ?? DEFAULTS.maxSteps;
    this.livenessMaxSteps = opts.livenessMaxSteps ?? DEFAULTS.livenessMaxSteps;
    this.hungTaskTimeoutNs = opts.hungTaskTimeoutNs ?? DEFAULTS.hungTaskTimeoutNs;
    // Past the hung-task timeout, so a task stuck in D is reported by khungtaskd
    // first, as Linux would, and the liveness monitor catches what it skips.
    this.livenessBoundNs = opts.livenessBoundNs ?? 2 * this.hungTaskTimeoutNs;
    this.stopOnReport = opts.stopOnReport ?? true;
    this.lockdep = new Lockdep(this);
    this.trace = new Trace(opts.traceLimit ?? 0, opts.traceTail ?? false);
    const sched = deriveRng(this.seed, Stream.Scheduler);
    this.streams[Stream.Scheduler] = sched;
    this.strategy = opts.strategy ?? new RandomStrategy();
    this.strategy.begin(sched);
    this.reader = opts.replay ? new DecisionLogReader(opts.replay) : null;
    this.writer = opts.record === false || this.reader !== null ? null : new DecisionLogWriter();
  }

  // ---------------------------------------------------------------- tasks

  spawn(name: string, body: (t: Task) => Gen<unknown>, opts?: { daemon?: boolean }): Task {
    const t = new Task(this.tasks.length, name, opts?.daemon ?? false, this.nowNs);
    // Until its first operation the task is on the way to it since now, not
    // since step 0: a task spawned late in the liveness phase has not had
    // half of it (the starvation check) just because it exists.
    t.opStartStep = this.step;
    this.tasks.push(t);
    this.strategy.onSpawn(t);
    t.gen = body(t);
    if (!t.daemon) this.liveUser++;
    this.makeRunnable(t);
    this.trace.add(this.step, this.nowNs, Ev.Spawn, t.id, this.trace.intern(name), t.daemon ? 1 : 0);
    return t;
  }

  get userTasksAlive(): number {
    return this.liveUser;
  }

  private makeRunnable(t: Task): void {
    t.runIdx = this.nRunnable;
    this.runnable[this.nRunnable++] = t;
    this.runnableSig = (this.runnableSig + mixId(t.id)) | 0;
  }

  private removeRunnable(t: Task): void {
    const i = t.runIdx;
    const last = this.runnable[--this.nRunnable]!;
    this.runnable[i] = last;
    last.runIdx = i;
    this.runnable[this.nRunnable] = undefined as unknown as Task;
    t.runIdx = -1;
    this.runnableSig = (this.runnableSig - mixId(t.id)) | 0;
  }

  // ------------------------------------------------------ sleeping, waking

  /**
   * Put the current task to sleep on `on` (null: a timer or nothing known).
   * The caller must `yield` right after, then read `t.waitResult`. Checks the
   * sleeping-in-atomic rule and the wait-for graph at once.
   */
  block(t: Task, state: TaskState, on: Waitable | null, cond: (() => boolean) | null = null): void {
    if (t.atomicDepth > 0 || t.rcuDepth > 0) {
      this.report(
        'warning',
        `BUG: sleeping function called from invalid context in ${t.where()}`,
        [
          `BUG: sleeping function called from invalid context`,
          `in_atomic(): ${t.atomicDepth > 0 ? 1 : 0}, rcu_read_lock nesting: ${t.rcuDepth}, pid: ${t.id}, name: ${t.name}`,
          heldLocksText(t),
          `Call trace: ${stackText(t)}`,
        ].join('\n'),
        t,
      );
    }
    t.state = state;
    t.waitingOn = on;
    t.wakeCond = cond;
    t.waitResult = 0;
    t.sleepSinceNs = this.nowNs;
    t.sleepSinceStep = this.step;
    this.removeRunnable(t);
    this.trace.add(this.step, this.nowNs, Ev.Sleep, t.id, on ? this.trace.intern(on.waitName) : -1, state);
    if (t.fatalPending && (state === TaskState.Killable || state === TaskState.Interruptible || state === TaskState.TimedSleep)) {
      // signal_pending_state(): a killable sleep with a fatal signal pending does not sleep.
      if (on) on.cancelWait(t);
      this.wake(t, WAIT_INTERRUPTED);
      return;
    }
    if (on !== null) this.checkWaitForCycle(t);
  }

  /** Wake a sleeping task with `result`; false if it was not sleeping. */
  wake(t: Task, result = 0): boolean {
    if (!t.sleeping) return false;
    if (t.timerSeq >= 0) {
      this.timers.cancel(t.timerSeq);
      t.timerSeq = -1;
    }
    const from = Math.max(t.sleepSinceStep, this.starvationCutoffStep);
    if (this.step > from) t.sleptAfterCutoff += this.step - from;
    t.state = TaskState.Runnable;
    t.waitingOn = null;
    t.wakeCond = null;
    t.waitResult = result;
    this.makeRunnable(t);
    this.trace.add(this.step, this.nowNs, Ev.Wake, t.id, -1, this.current ? this.current.id : -1);
    return true;
  }

  /** Deliver a fatal signal (SIGKILL): killable and interruptible sleeps end with WAIT_INTERRUPTED. */
  kill(t: Task): void {
    if (t.state === TaskState.Exited) return;
    t.fatalPending = true;
    if (t.state === TaskState.Killable || t.state === TaskState.Interruptible || t.state === TaskState.TimedSleep) {
      if (t.waitingOn) t.waitingOn.cancelWait(t);
      this.wake(t, WAIT_INTERRUPTED);
    }
  }

  /** Sleep for `ns` of virtual time (schedule_timeout in `state`, TimedSleep by default). */
  *sleepNs(ns: number, state: TaskState = TaskState.TimedSleep): Gen<number> {
    const t = this.current!;
    t.timerSeq = this.addTimer(this.nowNs + Math.max(0, ns), this, t.id);
    this.block(t, state, null);
    yield;
    return t.waitResult;
  }

  /** Timer expiry of a sleeping task (TimerTarget). */
  onTimer(taskId: number): void {
    const t = this.tasks[taskId]!;
    t.timerSeq = -1;
    this.trace.add(this.step, this.nowNs, Ev.TimerFire, t.id, -1, 0);
    if (t.waitingOn) t.waitingOn.cancelWait(t);
    this.wake(t, 0);
  }

  addTimer(deadlineNs: number, target: TimerTarget, arg: number): number {
    const seq = this.timers.add(deadlineNs, target, arg);
    if (this.nextDeadlineNs < 0 || deadlineNs < this.nextDeadlineNs) this.nextDeadlineNs = deadlineNs;
    return seq;
  }

  cancelTimer(seq: number): void {
    this.timers.cancel(seq);
  }

  /** Charge extra virtual time for expensive work (a page copy, a long walk). */
  chargeNs(ns: number): void {
    this.nowNs += ns;
  }

  // ------------------------------------------------------ operations, traces

  /** An operation (a syscall) begins: liveness bounds apply to it. */
  opBegin(t: Task, name: string): void {
    t.opName = name;
    t.opStartNs = this.nowNs;
    t.opStartStep = this.step;
    const id = this.trace.intern(name);
    t.opNameId = id;
    t.opNameIdOf = name;
    this.trace.add(this.step, this.nowNs, Ev.OpBegin, t.id, id, 0);
  }

  opEnd(t: Task, result: number): void {
    // The name interned at opBegin, unless the operation was renamed since.
    const id = t.opNameId >= 0 && t.opNameIdOf === t.opName ? t.opNameId : this.trace.intern(t.opName);
    this.trace.add(this.step, this.nowNs, Ev.OpEnd, t.id, id, result);
    t.opNameId = -1;
    t.opName = t.name;
    t.opStartNs = this.nowNs;
    t.opStartStep = this.step;
  }

  /** A kernel-defined trace event (fault, FUSE request, I/O...). */
  event(t: Task | null, label: string, arg = 0): void {
    this.trace.add(this.step, this.nowNs, Ev.Kernel, t ? t.id : -1, this.trace.intern(label), arg);
  }

  traceLock(kind: Ev.Acquire | Ev.Contend | Ev.Release, t: Task, name: string): void {
    this.trace.add(this.step, this.nowNs, kind, t.id, this.trace.intern(name), 0);
  }

  /** traceLock with the name already interned (a lock caches its id: see Mutex.traceId). */
  traceLockId(kind: Ev.Acquire | Ev.Contend | Ev.Release, t: Task, nameId: number): void {
    this.trace.add(this.step, this.nowNs, kind, t.id, nameId, 0);
  }

  /**
   * Interleaving signal: which lock was contended, by which waiter call site,
   * against which holder call site (the fuzzer's feedback besides coverage).
   * Only on the contended slow path.
   */
  readonly contention = new Set<string>();
  /** The triples already in `contention`, by lock, waiter site and holder site: a repeat builds no string. */
  private readonly contentionSeen = new Map<string, Map<string, Set<string>>>();

  noteContention(lock: string, waiter: Task, holderWhere: string): void {
    const waiterWhere = waiter.where();
    let byWaiter = this.contentionSeen.get(lock);
    if (byWaiter === undefined) this.contentionSeen.set(lock, (byWaiter = new Map()));
    let holders = byWaiter.get(waiterWhere);
    if (holders === undefined) byWaiter.set(waiterWhere, (holders = new Set()));
    if (holders.has(holderWhere)) return;
    holders.add(holderWhere);
    this.contention.add(`${lock}|${waiterWhere}|${holderWhere}`);
  }

  // ------------------------------------------------------------ randomness

  /** Uniform integer in [0, n) from a stream; recorded, and replayed from the log. */
  randInt(stream: Stream, n: number): number {
    if (this.reader !== null) return this.reader.draw(this.step, n);
    const v = (this.streams[stream] ?? this.openStream(stream)).int(n);
    if (this.writer !== null) this.writer.draw(v);
    return v;
  }

  /** True with probability p (resolution 1e-6). */
  chance(stream: Stream, p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.randInt(stream, 1_000_000) < p * 1_000_000;
  }

  /** Uniform integer in [0, n) from the task's own stream. */
  taskRandInt(t: Task, n: number): number {
    if (this.reader !== null) return this.reader.draw(this.step, n);
    let r = this.taskRngs[t.id];
    if (r === undefined) this.taskRngs[t.id] = r = deriveRng(this.seed, `task:${t.id}`);
    const v = r.int(n);
    if (this.writer !== null) this.writer.draw(v);
    return v;
  }

  /** A stream's generator depends only on the seed and the stream's name, so deriving it late changes no draw. */
  private openStream(stream: Stream): Rng {
    const r = deriveRng(this.seed, stream);
    this.streams[stream] = r;
    return r;
  }

  // -------------------------------------------------------------- reports

  report(kind: ReportKind, title: string, details: string, t: Task | null = this.current): void {
    this.reports.push({ kind, title, details, task: t ? t.toString() : null, step: this.step, timeNs: this.nowNs });
    this.trace.add(this.step, this.nowNs, Ev.Report, t ? t.id : -1, this.trace.intern(title), 0);
    if (this.stopOnReport) this.stopped = true;
  }

  lockdepReport(title: string, details: string): void {
    this.report('lockdep', title, details);
  }

  // ------------------------------------------------------------ main loop

  run(): RunResult {
    let outcome: RunOutcome = 'completed';
    try {
      outcome = this.loop();
      if (this.reader !== null && !this.reader.exhausted) {
        throw new ReplayDivergence(this.step, 'the run ended before the recorded schedule did');
      }
    } catch (e) {
      if (!(e instanceof ReplayDivergence)) throw e;
      this.divergence = e.message;
      outcome = 'diverged';
    }
    this.strategy.end(this.phase === Phase.Adversarial ? this.step : this.livenessStartStep);
    return {
      outcome,
      reports: this.reports,
      steps: this.step,
      livenessSteps: this.phase === Phase.Liveness ? this.step - this.livenessStartStep : 0,
      virtualNs: this.nowNs,
      traceHash: this.trace.hash(),
      events: this.trace.count,
      decisions: this.writer ? this.writer.finish() : null,
      divergence: this.divergence,
    };
  }

  private loop(): RunOutcome {
    for (;;) {
      if (this.stopped) return this.reports.length > 0 ? 'report' : 'completed';
      if (this.liveUser === 0) return 'completed';
      if (this.step >= this.stepLimit) {
        if (this.phase === Phase.Liveness) return this.checkStarvedAtBudget() ? 'report' : 'budget';
        if (this.livenessMaxSteps === 0) return 'budget';
        this.enterLiveness();
        continue;
      }
      if (this.nRunnable === 0) {
        if (!this.idle()) return this.reports.length > 0 ? 'report' : 'completed';
        continue;
      }
      const cur = this.current;
      // A task in an atomic section (spinlock held) is not preempted.
      const t = cur !== null && cur.atomicDepth > 0 && cur.runIdx >= 0 ? cur : this.choose(cur);
      this.step++;
      this.nowNs += this.stepCostNs;
      if (t !== cur) {
        t.switches++;
        this.trace.add(this.step, this.nowNs, Ev.Switch, t.id, -1, 0);
      }
      t.lastRunStep = this.step;
      this.current = t;
      let r: IteratorResult<undefined, unknown>;
      try {
        r = t.gen!.next();
      } catch (e) {
        // A replay draw that does not fit the log is a divergence, not a model bug.
        if (e instanceof ReplayDivergence) throw e;
        this.simulatorError(t, e);
        continue;
      }
      if (r.done) this.exitTask(t, r.value);
      if (this.nextDeadlineNs >= 0 && this.nextDeadlineNs <= this.nowNs) this.fireDueTimers();
      if (this.phase === Phase.Liveness && (this.step & 1023) === 0) this.checkPending(this.nowNs);
    }
  }

  private choose(last: Task | null): Task {
    const n = this.nRunnable;
    // The log holds adversarial picks only; the liveness phase is fair and replays by itself.
    if (this.reader !== null && this.phase === Phase.Adversarial) {
      const id = this.reader.pick(this.step, this.runnableSig ^ n);
      const t = this.tasks[id];
      if (t === undefined || t.runIdx < 0) {
        throw new ReplayDivergence(this.step, `recorded task ${id} is not runnable`);
      }
      return t;
    }
    const strat = this.phase === Phase.Adversarial ? this.strategy : this.fair;
    const t = this.runnable[n === 1 ? 0 : strat.pick(this.runnable, n, last, this.step)]!;
    if (this.writer !== null && this.phase === Phase.Adversarial) this.writer.pick(t.id, this.runnableSig ^ n);
    return t;
  }

  private fireDueTimers(): void {
    while (this.timers.fireDue(this.nowNs)) {
      /* each fire may wake a task */
      this.lastTimerFireStep = this.step;
    }
    this.nextDeadlineNs = this.timers.peekDeadline();
  }

  /** The step at which a timer last fired (an I/O completion, a server's latency): the world outside the CPUs still moving. */
  private lastTimerFireStep = -1;

  /** The liveness phase's cutoff step (checkStarvedAtBudget); none before the phase. */
  private starvationCutoffStep = Infinity;

  private enterLiveness(): void {
    this.phase = Phase.Liveness;
    this.starvationCutoffStep = this.step + this.livenessMaxSteps / 2;
    this.faultsEnabled = false;
    this.livenessStartNs = this.nowNs;
    this.livenessStartStep = this.step;
    this.stepLimit = this.step + this.livenessMaxSteps;
    this.fair.begin(deriveRng(this.seed, Stream.Liveness));
    this.trace.add(this.step, this.nowNs, Ev.Phase, -1, -1, Phase.Liveness);
  }

  /**
   * Nothing is runnable. Jump to the next timer, reporting on the way any task
   * that khungtaskd or the liveness bound would catch before then. With no
   * timer left, the system is stuck for good. Returns false to end the run.
   */
  private idle(): boolean {
    const next = this.timers.peekDeadline();
    if (next < 0) return this.stuckForGood();
    if (this.checkPending(next)) return !this.stopped;
    if (next > this.nowNs) this.nowNs = next;
    this.fireDueTimers();
    return true;
  }

  private stuckForGood(): boolean {
    const before = this.reports.length;
    this.checkLostWakeups();
    if (this.reports.length === before) this.checkPending(Infinity);
    if (this.reports.length === before) {
      // Only killable/interruptible sleepers with no waker and no cycle remain.
      const t = this.tasks.find((x) => !x.daemon && x.sleeping);
      if (t !== undefined) this.reportBlocked(t, this.nowNs + this.livenessBoundNs);
    }
    return false;
  }

  /**
   * Hung-task and liveness checks up to virtual time `untilNs`: khungtaskd
   * reports a task in `D` longer than the timeout (killable sleeps skipped,
   * as Linux does); the liveness monitor reports an operation pending longer
   * than the bound. The earliest deadline wins; the clock moves to it.
   * Returns true if something was reported.
   */
  private checkPending(untilNs: number): boolean {
    let hung: Task | null = null;
    let hungAt = Infinity;
    let late: Task | null = null;
    let lateAt = Infinity;
    for (const t of this.tasks) {
      if (t.state === TaskState.Exited || t.daemon) continue;
      if (t.state === TaskState.Uninterruptible && !this.hungReported.has(t.id)) {
        const at = t.sleepSinceNs + this.hungTaskTimeoutNs;
        if (at < hungAt) {
          hungAt = at;
          hung = t;
        }
      }
      // A task asleep on its own timer is not stuck: its wake-up is coming.
      if (t.state === TaskState.TimedSleep && t.timerSeq >= 0) continue;
      const since = this.phase === Phase.Liveness ? Math.max(t.opStartNs, this.livenessStartNs) : t.opStartNs;
      const at = since + this.livenessBoundNs;
      if (at < lateAt) {
        lateAt = at;
        late = t;
      }
    }
    if (hung !== null && hungAt <= untilNs && hungAt <= lateAt) {
      if (hungAt > this.nowNs) this.nowNs = hungAt;
      this.hungReported.add(hung.id);
      this.reportHung(hung);
      return true;
    }
    if (late !== null && lateAt <= untilNs) {
      if (lateAt > this.nowNs) this.nowNs = lateAt;
      this.reportBlocked(late, lateAt);
      return true;
    }
    return false;
  }

  /**
   * The liveness phase's fair steps are spent. An operation that has had at
   * least half of them (it began before the phase, or early in it) and is
   * still pending cannot finish under fair scheduling: starvation (runnable)
   * or a wait that nothing ends (sleeping). Virtual time alone cannot decide
   * this: a livelock may burn steps without moving the clock far.
   */
  private checkStarvedAtBudget(): boolean {
    const cutoff = this.starvationCutoffStep;
    // A sleeper may be waiting for a pending timer (I/O completion, a FUSE
    // reply, a throttle): an external dependency, not a livelock. Steps say
    // nothing about it while other tasks keep running; the virtual-time
    // detectors (khungtaskd, the liveness bound) and the wait-for graph
    // judge sleepers. With no timer left, a sleeper is stuck for good.
    // A timer that fired in the second half of the phase may have started
    // the chain that wakes a sleeper (a server woken by its latency timer in
    // the last step has not replied yet): only a sleeper with no timer
    // pending or fired since the cutoff is stuck for good.
    const timersMoving = this.timers.peekDeadline() >= 0 || this.lastTimerFireStep > cutoff;
    // A runnable task that slept through most of the second half waited
    // for others (a daemon's replies, I/O, a lock) more than it ran: its
    // operation is long, not starved -- fifteen FUSE round trips while a
    // hammer runs take as many fair steps as a livelock. A starved one was
    // runnable (or running) for most of it.
    const since = this.step - cutoff;
    const stuck = this.tasks.filter((t) => !t.daemon && t.state !== TaskState.Exited && t.opStartStep <= cutoff &&
      (t.state === TaskState.Runnable ? 2 * t.sleptAfterCutoff < since : !timersMoving));
    if (stuck.length === 0) return false;
    stuck.sort((a, b) => a.opStartStep - b.opStartStep || a.id - b.id);
    const t = stuck[0]!;
    this.reportBlocked(t, this.nowNs, `${t} has not finished ${t.opName} after ${this.step - Math.max(t.opStartStep, this.livenessStartStep)} fair scheduling steps of the liveness phase (budget ${this.livenessMaxSteps}); state ${TASK_STATE_LETTER[t.state]}.`);
    return true;
  }

  private checkLostWakeups(): void {
    for (const t of this.tasks) {
      if (t.sleeping && t.wakeCond !== null && t.wakeCond()) {
        this.report(
          'lost-wakeup',
          `lost wake-up: task waiting in ${t.where()}`,
          [
            `${t} sleeps in ${TASK_STATE_LETTER[t.state]} on ${t.waitingOn?.waitName ?? 'a wait queue'} although the condition it waits for holds,`,
            `and nothing runnable or pending can wake it.`,
            `Call trace: ${stackText(t)}`,
          ].join('\n'),
          t,
        );
        return;
      }
    }
  }

  private reportHung(t: Task): void {
    const lines = [
      `INFO: task ${t}:${t.id} blocked for more than ${formatNs(this.hungTaskTimeoutNs)}.`,
      `"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.`,
      `task:${t.name} state:D pid:${t.id}`,
      `Call trace: ${stackText(t)}`,
      waitText(t),
      heldLocksText(t),
    ];
    this.report('hang', `INFO: task hung in ${t.where()}`, lines.join('\n'), t);
  }

  private reportBlocked(t: Task, atNs: number, reason?: string): void {
    const runnable = t.state === TaskState.Runnable;
    const what = runnable ? 'starved' : 'blocked forever';
    const where = runnable ? t.outerWhere() : t.where();
    const lines = [
      reason ??
        `${t} has not finished ${t.opName} within ${formatNs(this.livenessBoundNs)} of virtual time ` +
          (this.phase === Phase.Liveness ? 'under fair scheduling' : 'while nothing else could run') +
          ` (at ${formatNs(atNs)}); state ${TASK_STATE_LETTER[t.state]}.`,
      `Call trace: ${stackText(t)}`,
      waitText(t),
      heldLocksText(t),
    ];
    this.report('hang', `INFO: task ${what} in ${where}`, lines.join('\n'), t);
  }

  private exitTask(t: Task, value: unknown): void {
    t.exitValue = value;
    if (t.held.length > 0 && this.lockdep.enabled) {
      this.lockdep.enabled = false;
      this.report('lockdep', `lock held at task exit: ${t.held[t.held.length - 1]!.cls.name}`, heldLocksText(t), t);
    }
    t.state = TaskState.Exited;
    if (t.runIdx >= 0) this.removeRunnable(t);
    if (!t.daemon) this.liveUser--;
    t.gen = null;
    this.trace.add(this.step, this.nowNs, Ev.Exit, t.id, -1, 0);
  }

  private simulatorError(t: Task, e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    const msg = err.message.split('\n')[0]!;
    this.report(
      'simulator-error',
      `simulator-error: ${msg} in ${t.where()}`,
      [`${err.name}: ${err.message}`, `task ${t}, kernel stack: ${stackText(t)}`, `${err.stack ?? ''}`].join('\n'),
      t,
    );
    // The generator is finished; the task cannot continue.
    t.stack.length = 0;
    t.held.length = 0;
    t.atomicDepth = 0;
    t.rcuDepth = 0;
    if (t.state === TaskState.Runnable) this.exitTask(t, undefined);
    else {
      t.state = TaskState.Exited;
      if (!t.daemon) this.liveUser--;
    }
    this.stopped = true;
  }

  // ------------------------------------------------------ wait-for graph

  /**
   * A task just went to sleep on something with known owners: walk the
   * wait-for graph (owners of what it waits on, what they wait on, ...). A
   * path back to the task is a deadlock, reported at once even while other
   * tasks keep running. Owners of page locks are recorded by the simulator
   * (Linux does not record them).
   */
  private checkWaitForCycle(t: Task): void {
    const gen = ++this.markGen;
    // The walk runs at every sleep on a lock: scratch arrays, copied only for a report.
    const path = this.wfPath;
    let cycle: Task[] | null = null;
    try {
      path.push(t);
      if (this.dfs(t, t, gen, path)) cycle = path.slice();
    } finally {
      clear(path);
      clear(this.wfOwners);
    }
    if (cycle !== null) this.reportDeadlock(cycle);
  }

  /** Scratch of the wait-for walk: the current path, and each level's owners appended in turn. */
  private readonly wfPath: Task[] = [];
  private readonly wfOwners: Task[] = [];

  private dfs(start: Task, at: Task, gen: number, path: Task[]): boolean {
    at.mark = gen;
    const on = at.waitingOn;
    if (on === null) return false;
    // This level's owners are wfOwners[from, to); deeper levels append past `to`.
    const owners = this.wfOwners;
    const from = owners.length;
    on.waitOwners(at, owners);
    const to = owners.length;
    for (let i = from; i < to; i++) {
      const o = owners[i]!;
      if (o === start) return true;
      if (o.mark === gen || o.waitingOn === null) continue;
      path.push(o);
      if (this.dfs(start, o, gen, path)) return true;
      path.pop();
    }
    return false;
  }

  private reportDeadlock(cycle: Task[]): void {
    const edges: string[] = [];
    const lines = ['============================================', 'deadlock: wait-for cycle detected', '--------------------------------------------'];
    for (let i = 0; i < cycle.length; i++) {
      const w = cycle[i]!;
      const owner = cycle[(i + 1) % cycle.length]!;
      const on = w.waitingOn!;
      edges.push(`${on.waitName} held by ${on.heldWhere(owner)}, waited on in ${w.where()}`);
      lines.push(
        `${w} (${TASK_STATE_LETTER[w.state]}) waits for ${on.waitName} in ${w.where()}, held by ${owner} (taken in ${on.heldWhere(owner)})`,
        `    ${stackText(w)}`,
      );
    }
    if (cycle.length === 1) lines.push('', 'The task waits on a lock it holds itself.');
    edges.sort();
    this.report('deadlock', `deadlock: ${edges[0]}`, lines.join('\n'), cycle[0]!);
  }
}

function stackText(t: Task): string {
  return t.stack.length === 0 ? '(user space)' : [...t.stack].reverse().join(' <- ');
}

function waitText(t: Task): string {
  if (t.state === TaskState.Runnable) return 'runnable, not waiting';
  return t.waitingOn ? `waiting on: ${t.waitingOn.waitName}` : 'waiting on: (timer or nothing known)';
}
