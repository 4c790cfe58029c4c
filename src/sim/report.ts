// Reports: what a detector found, in the kernel's own style. The title is the
// dedup key, stable across runs and schedules.

export type ReportKind =
  | 'hang'
  | 'deadlock'
  | 'lockdep'
  | 'lost-wakeup'
  | 'invariant'
  | 'leak'
  | 'warning'
  | 'simulator-error';

export const REPORT_KINDS: readonly ReportKind[] = [
  'hang', 'deadlock', 'lockdep', 'lost-wakeup', 'invariant', 'leak', 'warning', 'simulator-error',
];

export interface Report {
  kind: ReportKind;
  title: string;
  /** The detector's full text: lockdep chain, wait-for cycle, stacks. */
  details: string;
  /** The task in whose context it was detected, if any. */
  task: string | null;
  step: number;
  timeNs: number;
}

/** An assertion inside the model failed: becomes a simulator-error report. */
export class SimAssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimAssertionError';
  }
}

export function simAssert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new SimAssertionError(message);
}

/** Virtual nanoseconds as a short human string ("1.5s", "20ms", "300ns"). */
export function formatNs(ns: number): string {
  if (ns >= 1e9) return `${+(ns / 1e9).toFixed(3)}s`;
  if (ns >= 1e6) return `${+(ns / 1e6).toFixed(3)}ms`;
  if (ns >= 1e3) return `${+(ns / 1e3).toFixed(3)}us`;
  return `${ns}ns`;
}
