// The crash browser's list: one finding per row, the cursor on one.

import { Box, Text } from 'ink';
import { cell, dateTime } from '../format.js';
import type { CrashListItem } from '../types.js';

const ID_W = 5;
const KIND_W = 15;
const COUNT_W = 7;
const REPRO_W = 9;
const SEEN_W = 16;

export function CrashList({ items, selected, width, maxRows }: { items: readonly CrashListItem[]; selected: number; width: number; maxRows: number }) {
  if (items.length === 0) return <Text dimColor>no findings in this database</Text>;
  const titleW = Math.max(10, width - 2 - ID_W - KIND_W - COUNT_W - REPRO_W - SEEN_W - 5);
  const rows = Math.max(1, maxRows);
  const first = Math.max(0, Math.min(selected - rows + 1, items.length - rows));
  return (
    <Box flexDirection="column">
      <Text dimColor>{`  ${cell('id', ID_W)} ${cell('kind', KIND_W)} ${cell('count', COUNT_W, 'right')} ${cell('repro', REPRO_W, 'right')} ${cell('last seen', SEEN_W)} title`}</Text>
      {items.slice(first, first + rows).map((c, i) => {
        const isSel = first + i === selected;
        const repro = c.minCalls === null ? '-' : `${c.minCalls}c${c.minimized ? ' min' : ''}`;
        return (
          <Text key={c.id} inverse={isSel} wrap="truncate">
            {`${isSel ? '›' : ' '} ${cell(`#${c.id}`, ID_W)} ${cell(c.kind, KIND_W)} ${cell(`x${c.count}`, COUNT_W, 'right')} ${cell(repro, REPRO_W, 'right')} ${cell(dateTime(c.lastSeen), SEEN_W)} ${cell(c.title, titleW)}`}
          </Text>
        );
      })}
      {items.length > rows ? <Text dimColor>{`  ${items.length} findings; ↑/↓ to scroll`}</Text> : null}
    </Box>
  );
}
