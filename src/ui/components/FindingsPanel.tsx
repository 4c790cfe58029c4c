// Findings so far, one row each: kind, title, count, minimized?. The newest
// is highlighted (and marked ●, for terminals without colour); ↑/↓ move the
// cursor and enter opens the one under it.

import { Box, Text } from 'ink';
import { cell } from '../format.js';
import type { FindingView } from '../types.js';
import { Panel } from './Panel.js';

export interface FindingsPanelProps {
  findings: readonly FindingView[];
  newest: string | null;
  selected: number;
  /** Inner width available. */
  width: number;
  maxRows: number;
}

const KIND_W = 15;
const COUNT_W = 7;
const MIN_W = 5;

function minimizedText(m: boolean | undefined): string {
  return m === undefined ? '?' : m ? 'yes' : 'no';
}

export function FindingsPanel({ findings, newest, selected, width, maxRows }: FindingsPanelProps) {
  const titleW = Math.max(10, width - 3 - KIND_W - COUNT_W - MIN_W - 3);
  // Keep the cursor in view.
  const rows = Math.max(1, maxRows);
  const first = Math.max(0, Math.min(selected - rows + 1, findings.length - rows));
  const shown = findings.slice(first, first + rows);
  return (
    <Panel title={`findings (${findings.length})`}>
      <Box flexDirection="column">
        {findings.length === 0 ? (
          <Text dimColor>no findings yet</Text>
        ) : (
          <>
            <Text dimColor>{`   ${cell('kind', KIND_W)} ${cell('title', titleW)} ${cell('count', COUNT_W, 'right')} ${cell('min?', MIN_W, 'right')}`}</Text>
            {shown.map((f, i) => {
              const idx = first + i;
              const isSel = idx === selected;
              const isNewest = f.title === newest;
              return (
                <Text key={f.title} inverse={isSel} color={isNewest ? 'yellow' : undefined} bold={isNewest}>
                  {`${isSel ? '›' : ' '}${isNewest ? '●' : ' '} ${cell(f.kind, KIND_W)} ${cell(f.title, titleW)} ${cell(`x${f.count}`, COUNT_W, 'right')} ${cell(minimizedText(f.minimized), MIN_W, 'right')}`}
                </Text>
              );
            })}
            {findings.length > rows ? <Text dimColor>{`  ${findings.length - rows} more (↑/↓)`}</Text> : null}
          </>
        )}
      </Box>
    </Panel>
  );
}
