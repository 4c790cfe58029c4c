// The crash browser's data source as state: the list, the open finding, and
// the replay and minimization jobs started from it.

import { useCallback, useState } from 'react';
import { IDLE, type Job } from '../detail.js';
import type { CrashDetailData, CrashListItem, CrashSource, MinimizeOutcome, ReplayOutcome } from '../types.js';
import { useListCursor, type ListCursor } from './useListCursor.js';

/** Let the "running…" frame reach the screen before a synchronous replay blocks the loop. */
const PAINT_FIRST_MS = 40;

export interface CrashBrowserState {
  items: CrashListItem[];
  cursor: ListCursor;
  detail: CrashDetailData | null;
  replay: Job<ReplayOutcome>;
  minimize: Job<MinimizeOutcome>;
  open(): void;
  back(): void;
  startReplay(): void;
  startMinimize(): void;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function useCrashBrowser(source: CrashSource): CrashBrowserState {
  const [items, setItems] = useState<CrashListItem[]>(() => source.list());
  const cursor = useListCursor(items.length);
  const [detail, setDetail] = useState<CrashDetailData | null>(null);
  const [replay, setReplay] = useState<Job<ReplayOutcome>>(IDLE);
  const [minimize, setMinimize] = useState<Job<MinimizeOutcome>>(IDLE);

  const open = useCallback(() => {
    const it = items[cursor.index];
    if (!it) return;
    setDetail(source.detail(it.id));
    setReplay(IDLE);
    setMinimize(IDLE);
  }, [items, cursor.index, source]);

  const back = useCallback(() => {
    setDetail(null);
    setItems(source.list());
  }, [source]);

  const startReplay = useCallback(() => {
    if (!detail || replay.status === 'running') return;
    const id = detail.id;
    setReplay({ status: 'running' });
    setTimeout(() => {
      try {
        const v = source.replay(id);
        setReplay(v ? { status: 'done', value: v } : { status: 'error', message: 'no reproducer stored' });
      } catch (e) {
        setReplay({ status: 'error', message: message(e) });
      }
    }, PAINT_FIRST_MS);
  }, [detail, replay.status, source]);

  const startMinimize = useCallback(() => {
    if (!detail || minimize.status === 'running') return;
    const id = detail.id;
    setMinimize({ status: 'running' });
    setTimeout(() => {
      source.minimize(id).then(
        (v) => {
          setMinimize({ status: 'done', value: v });
          // A minimized reproducer may now be the smallest one.
          if (v.available) setDetail(source.detail(id));
        },
        (e: unknown) => setMinimize({ status: 'error', message: message(e) }),
      );
    }, PAINT_FIRST_MS);
  }, [detail, minimize.status, source]);

  return { items, cursor, detail, replay, minimize, open, back, startReplay, startMinimize };
}
