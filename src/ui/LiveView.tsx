// `faultline fuzz` on a terminal: header, rates with a sparkline, corpus,
// kernel gauges, per-syscall table, findings (also logged once above, in
// <Static>), workers. q stops the run cleanly, p pauses, ↑/↓ and enter open
// a finding.

import { Box } from 'ink';
import { useMemo, useState } from 'react';
import { CorpusPanel } from './components/CorpusPanel.js';
import { CrashDetail } from './components/CrashDetail.js';
import { FindingLog } from './components/FindingLog.js';
import { FindingsPanel } from './components/FindingsPanel.js';
import { Header, type RunState } from './components/Header.js';
import { KernelPanel } from './components/KernelPanel.js';
import { KeyHelp } from './components/KeyHelp.js';
import { RatesPanel } from './components/RatesPanel.js';
import { StatsLine } from './components/StatsLine.js';
import { SyscallTable } from './components/SyscallTable.js';
import { WorkersPanel } from './components/WorkersPanel.js';
import { IDLE, detailBody, type DetailPane } from './detail.js';
import { advance } from './sampler.js';
import { useDetailNav } from './hooks/useDetailNav.js';
import { useListCursor } from './hooks/useListCursor.js';
import { useSampledStats } from './hooks/useSampledStats.js';
import { useKeys } from './hooks/useKeys.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import type { CrashDetailData, FindingView, LiveControl, LiveStats, RunInfo } from './types.js';

export const LIVE_PANES: readonly DetailPane[] = ['details', 'reproducer'];

const HEADER_ROWS = 3;
const TOP_ROW_ROWS = 8;
/** Below this many rows the top panels fold into two lines. */
const PANELS_MIN_ROWS = 34;
const STATS_LINE_ROWS = 2;
const KEY_ROWS = 1;
const FINDING_ROWS_MAX = 6;
const WORKER_ROWS_MAX = 4;
const SYSCALL_ROWS_MAX = 12;
const DETAIL_CHROME_ROWS = HEADER_ROWS + 10;

const KEYS = [['q', 'quit'], ['p', 'pause/resume'], ['↑/↓', 'select finding'], ['enter', 'open']] as const;
const DETAIL_KEYS = [['esc', 'back'], ['tab/1-2', 'pane'], ['↑/↓', 'scroll'], ['p', 'pause/resume'], ['q', 'quit']] as const;

export interface LiveViewProps {
  info: RunInfo;
  control: LiveControl;
  /** Sampling period; tests use a short one. */
  everyMs?: number;
  /** The run has ended with these numbers: show them, stopped, and take no more keys. */
  final?: LiveStats;
}

/** What enter shows for a finding the database cannot (yet) describe. */
function unstored(f: FindingView): CrashDetailData {
  return { id: 0, kind: f.kind, title: f.title, count: f.count, firstSeen: Date.now(), lastSeen: Date.now(), details: '(not in the database yet)', repro: null };
}

export function LiveView({ info, control, everyMs, final }: LiveViewProps) {
  const sampled = useSampledStats(control.sample, everyMs);
  const s = useMemo(() => (final ? advance(sampled, final) : sampled), [final, sampled]);
  const [live, setState] = useState<RunState>('running');
  const state: RunState = final ? 'stopped' : live;
  const findings = s.stats.findings;
  const cursor = useListCursor(findings.length);
  const [open, setOpen] = useState<CrashDetailData | null>(null);
  const nav = useDetailNav(LIVE_PANES);
  const { columns, rows } = useTerminalSize();
  const inner = columns - 4;
  const detailHeight = Math.max(4, rows - DETAIL_CHROME_ROWS);
  const body = useMemo(() => (open ? detailBody(open, nav.pane, IDLE, inner) : null), [open, nav.pane, inner]);

  useKeys((input, key) => {
    if (state === 'stopped') return;
    // A second q while stopping reaches quit() again: the CLI then exits at once.
    if (input === 'q' || (key.ctrl && input === 'c')) {
      setState('stopping');
      control.quit();
      return;
    }
    if (state === 'stopping') return;
    if (input === 'p') {
      if (state === 'paused') control.resume();
      else control.pause();
      setState(state === 'paused' ? 'running' : 'paused');
      return;
    }
    if (open) {
      const n = body?.lines.length ?? 0;
      if (key.escape || key.backspace || key.delete) setOpen(null);
      else if (key.tab) nav.next();
      else if (input >= '1' && input <= String(LIVE_PANES.length)) nav.show(Number(input) - 1);
      else if (key.upArrow) nav.scrollBy(-1, n, detailHeight);
      else if (key.downArrow) nav.scrollBy(1, n, detailHeight);
      else if (key.pageUp) nav.scrollBy(-detailHeight, n, detailHeight);
      else if (key.pageDown) nav.scrollBy(detailHeight, n, detailHeight);
      return;
    }
    if (key.upArrow) cursor.up();
    else if (key.downArrow) cursor.down();
    else if (key.return) {
      const f = findings[cursor.index];
      if (!f) return;
      nav.reset();
      setOpen(control.openFinding?.(f.title) ?? unstored(f));
    }
  });

  const panels = rows >= PANELS_MIN_ROWS;
  const findingRows = Math.min(panels ? FINDING_ROWS_MAX : 2, Math.max(1, findings.length));
  const findingsBlock = findingRows + 2 + 2 + (findings.length > findingRows ? 1 : 0);
  const workerRows = Math.min(panels ? WORKER_ROWS_MAX : 2, Math.max(1, s.stats.workers.length));
  const workersBlock = workerRows + 1 + 2 + (s.stats.workers.length > workerRows ? 1 : 0);
  const budget = rows - 1 - HEADER_ROWS - (panels ? TOP_ROW_ROWS : STATS_LINE_ROWS) - KEY_ROWS;
  const syscallRows = Math.max(2, Math.min(SYSCALL_ROWS_MAX, budget - findingsBlock - workersBlock - 4));

  return (
    <>
      <FindingLog entries={s.log} />
      <Box flexDirection="column" width={columns}>
        <Header info={info} wallMs={s.stats.wallMs} state={state} />
        {open && body ? (
          <CrashDetail detail={open} panes={LIVE_PANES} pane={nav.pane} body={body} scroll={nav.scroll} width={columns} height={detailHeight} replay={IDLE} minimize={IDLE} />
        ) : (
          <>
            {panels ? (
              <Box>
                <RatesPanel rates={s.rates} history={s.history} sparkWidth={columns >= 110 ? 24 : 16} />
                <CorpusPanel stats={s.stats} />
                <KernelPanel kernel={s.stats.kernel} />
              </Box>
            ) : (
              <StatsLine stats={s.stats} rates={s.rates} history={s.history} />
            )}
            <SyscallTable perSyscall={s.stats.perSyscall} width={inner} maxRows={syscallRows} />
            <FindingsPanel findings={findings} newest={s.newest} selected={cursor.index} width={inner} maxRows={findingRows} />
            <WorkersPanel workers={s.stats.workers} execsPerSec={s.rates.workerExecsPerSec} state={state} maxRows={workerRows} />
          </>
        )}
        <KeyHelp keys={open ? DETAIL_KEYS : KEYS} />
      </Box>
    </>
  );
}
