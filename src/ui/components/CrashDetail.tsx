// One finding: title, kind, counts and reproducer facts on top, then one
// pane (details, reproducer, trace) scrolled to fit, then replay and
// minimization results.

import { Box, Text } from 'ink';
import { cell, dateTime } from '../format.js';
import { minimizeLine, replayLine, scrollStart, type DetailBody, type DetailPane, type Job } from '../detail.js';
import type { CrashDetailData, MinimizeOutcome, ReplayOutcome } from '../types.js';

export interface CrashDetailProps {
  detail: CrashDetailData;
  panes: readonly DetailPane[];
  pane: DetailPane;
  body: DetailBody;
  scroll: number | 'end';
  width: number;
  /** Rows for the scrolled body. */
  height: number;
  replay: Job<ReplayOutcome>;
  minimize: Job<MinimizeOutcome>;
}

const KIND_COLOR: Record<string, string> = { deadlock: 'red', hang: 'red', lockdep: 'magenta', invariant: 'yellow', 'simulator-error': 'red' };

export function CrashDetail({ detail: d, panes, pane, body, scroll, width, height, replay, minimize }: CrashDetailProps) {
  const start = scrollStart(scroll, body.lines.length, height);
  const shown = body.lines.slice(start, start + height);
  const r = d.repro;
  const seen = `seen ${d.count}× · first ${dateTime(d.firstSeen)} · last ${dateTime(d.lastSeen)}`;
  const repro = r
    ? `reproducer #${r.id}: ${r.calls} calls · trace ${r.traceHash} · ${r.minimized ? `minimized ${r.sizeBefore ?? '?'} -> ${r.sizeAfter ?? '?'} calls` : 'not minimized'} · ${r.verifiedReplays} verified replays`
    : 'no reproducer stored';
  const rl = replayLine(replay);
  const ml = minimizeLine(minimize);
  const more = body.lines.length > height ? ` lines ${start + 1}-${start + shown.length} of ${body.lines.length}` : '';
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold>{`#${d.id} `}</Text>
        <Text bold color={KIND_COLOR[d.kind] ?? 'yellow'}>{`[${d.kind}] `}</Text>
        <Text bold>{d.title}</Text>
      </Text>
      <Text dimColor wrap="truncate">{seen}</Text>
      <Text dimColor wrap="truncate">{repro}</Text>
      {rl ? <Text color={replay.status === 'done' && replay.value.reproduced ? 'green' : replay.status === 'running' ? 'yellow' : 'red'} wrap="truncate">{rl}</Text> : null}
      {ml ? <Text color="cyan" wrap="truncate">{ml}</Text> : null}
      <Text>
        {panes.map((p, i) => (
          <Text key={p}>
            {i > 0 ? ' │ ' : ''}
            <Text inverse={p === pane} bold={p === pane}>{` ${i + 1} ${p} `}</Text>
          </Text>
        ))}
        <Text dimColor>{more}</Text>
      </Text>
      <Box flexDirection="column" borderStyle="single" borderColor="gray" paddingX={1}>
        {body.header !== null ? <Text bold wrap="truncate">{body.header}</Text> : null}
        {shown.map((l, i) => (
          <Text key={start + i} color={l.isReport ? 'red' : undefined} bold={l.isReport} wrap="truncate">
            {cell(l.text, Math.max(1, width - 4)).trimEnd() || ' '}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
