// The simulation engine's public surface. It knows nothing of Linux's MM or
// VFS: tasks, scheduling, time, locks, lockdep and the detectors.

export { Task, TaskState, WAIT_INTERRUPTED, isGenericFrame, type Gen, type MaybeGen } from './task.js';
export type { Waitable } from './waitable.js';
export { Sim, Phase, type SimOptions, type RunResult, type RunOutcome } from './sim.js';
export { RandomStrategy, PctStrategy, strategyFromName, type Strategy } from './strategy.js';
export { ScriptedStrategy, PreemptionRecorder, parsePreemptions, formatPreemptions, nonPreemptivePick, type Preemption } from './scripted.js';
export { Rng, Stream, deriveRng } from './rng.js';
export { DecisionLogReader, DecisionLogWriter, ReplayDivergence, encodeLog, decodeLog } from './decisionlog.js';
export { Trace, Ev, EV_NAMES, type TraceEvent } from './trace.js';
export type { TimerTarget } from './timers.js';
export { Lockdep, LockClass, heldLocksText, type HeldLock, type ReadMode } from './lockdep.js';
export { Spinlock, Mutex, RwSemaphore } from './locks.js';
export { BitLock } from './bitlock.js';
export { removeAt, insertAt, clear, ascending } from './arrays.js';
export { WaitQueue, Completion } from './waitqueue.js';
export { Seqcount, Rcu } from './seqcount.js';
export { REPORT_KINDS, SimAssertionError, simAssert, formatNs, type Report, type ReportKind } from './report.js';
