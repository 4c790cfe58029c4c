// `faultline crashes` on a terminal: the list of findings; enter opens one
// (details, reproducer, replay trace as task lanes); r replays it, m
// minimizes it, esc goes back, q quits.

import { Box, Text, useApp } from 'ink';
import { useEffect, useMemo } from 'react';
import { CrashDetail } from './components/CrashDetail.js';
import { CrashList } from './components/CrashList.js';
import { KeyHelp } from './components/KeyHelp.js';
import { detailBody, type DetailPane } from './detail.js';
import { useCrashBrowser } from './hooks/useCrashBrowser.js';
import { useDetailNav } from './hooks/useDetailNav.js';
import { useKeys } from './hooks/useKeys.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import type { CrashSource } from './types.js';

export const BROWSER_PANES: readonly DetailPane[] = ['details', 'reproducer', 'trace'];

/** Lines around a detail's scrolled body: titles, facts, job lines, tabs, border, lane names, keys. */
const DETAIL_CHROME_ROWS = 13;
const LIST_CHROME_ROWS = 5;

const LIST_KEYS = [['↑/↓', 'select'], ['enter', 'open'], ['q', 'quit']] as const;
const DETAIL_KEYS = [['tab/1-3', 'pane'], ['↑/↓ pgup/pgdn', 'scroll'], ['r', 'replay'], ['m', 'minimize'], ['esc', 'back'], ['q', 'quit']] as const;

export function CrashBrowser({ source, onQuit }: { source: CrashSource; onQuit?: () => void }) {
  const { exit } = useApp();
  const b = useCrashBrowser(source);
  const nav = useDetailNav(BROWSER_PANES);
  const { columns, rows } = useTerminalSize();
  const bodyHeight = Math.max(4, rows - DETAIL_CHROME_ROWS);
  const body = useMemo(() => (b.detail ? detailBody(b.detail, nav.pane, b.replay, columns - 4) : null), [b.detail, nav.pane, b.replay, columns]);

  // The trace pane shows a replay: start one the first time it is opened.
  const { detail, replay, startReplay } = b;
  useEffect(() => {
    if (detail?.repro && nav.pane === 'trace' && replay.status === 'idle') startReplay();
  }, [detail, nav.pane, replay.status, startReplay]);

  useKeys((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) {
      if (onQuit) onQuit();
      else exit();
      return;
    }
    if (!b.detail) {
      if (key.upArrow) b.cursor.up();
      else if (key.downArrow) b.cursor.down();
      else if (key.return) {
        nav.reset();
        b.open();
      }
      return;
    }
    const n = body?.lines.length ?? 0;
    if (key.escape || key.backspace || key.delete) b.back();
    else if (key.tab) {
      if (key.shift) nav.prev();
      else nav.next();
    } else if (input >= '1' && input <= String(BROWSER_PANES.length)) nav.show(Number(input) - 1);
    else if (key.upArrow) nav.scrollBy(-1, n, bodyHeight);
    else if (key.downArrow) nav.scrollBy(1, n, bodyHeight);
    else if (key.pageUp) nav.scrollBy(-bodyHeight, n, bodyHeight);
    else if (key.pageDown) nav.scrollBy(bodyHeight, n, bodyHeight);
    else if (input === 'r') b.startReplay();
    else if (input === 'm') b.startMinimize();
  });

  return (
    <Box flexDirection="column" width={columns}>
      <Text wrap="truncate">
        <Text bold color="cyan">faultline crashes</Text>
        {`  ${source.name}  ${b.items.length} finding${b.items.length === 1 ? '' : 's'}`}
      </Text>
      {b.detail && body ? (
        <CrashDetail detail={b.detail} panes={BROWSER_PANES} pane={nav.pane} body={body} scroll={nav.scroll} width={columns} height={bodyHeight} replay={b.replay} minimize={b.minimize} />
      ) : (
        <CrashList items={b.items} selected={b.cursor.index} width={columns} maxRows={Math.max(3, rows - LIST_CHROME_ROWS)} />
      )}
      <KeyHelp keys={b.detail ? DETAIL_KEYS : LIST_KEYS} />
    </Box>
  );
}
