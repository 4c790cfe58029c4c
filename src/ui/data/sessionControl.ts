// The live view's handles on a running Session: snapshots (with the
// minimized? flag and stored details looked up in the Store), quit, pause.

import type { Session } from '../../fuzz/session.js';
import type { Store } from '../../store/index.js';
import type { CrashDetailData, LiveControl, LiveStats } from '../types.js';
import { storeCrashSource } from './crashSource.js';

export interface SessionControlOptions {
  /** Crash id by title, filled in by the CLI's finding sink. */
  crashIds: ReadonlyMap<string, number>;
  faultlineVersion: string;
  /** What q does (the CLI's stop-then-quit-at-once handler). */
  quit(): void;
}

export function sessionControl(session: Session, store: Store, o: SessionControlOptions): LiveControl {
  const crashes = storeCrashSource(store, { faultlineVersion: o.faultlineVersion });
  // Once a finding has a minimized reproducer it keeps it: remember, stop asking.
  const minimized = new Set<string>();
  const isMinimized = (title: string): boolean | undefined => {
    if (minimized.has(title)) return true;
    const id = o.crashIds.get(title);
    if (id === undefined || !store.isOpen) return undefined;
    if (!store.reproducers(id).some((r) => r.minimized)) return false;
    minimized.add(title);
    return true;
  };
  return {
    sample(): LiveStats {
      const s = session.stats();
      return { ...s, findings: s.findings.map((f) => ({ ...f, minimized: isMinimized(f.title) })) };
    },
    quit: o.quit,
    pause: () => session.pause(),
    resume: () => session.resume(),
    openFinding(title: string): CrashDetailData | null {
      const id = o.crashIds.get(title);
      return id === undefined || !store.isOpen ? null : crashes.detail(id);
    },
  };
}
