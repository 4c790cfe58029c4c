// Per-syscall counts and errors, in as many side-by-side column groups as
// the width allows, sorted by name so rows do not jump between samples.

import { Box, Text } from 'ink';
import { cell, compact } from '../format.js';
import { Panel } from './Panel.js';

const NAME_W = 10;
const NUM_W = 6;
const PCT_W = 4;
const GROUP_W = NAME_W + 1 + NUM_W + 1 + NUM_W + 1 + PCT_W;
const GAP = 2;

export interface SyscallTableProps {
  perSyscall: ReadonlyMap<string, { count: number; errors: number }>;
  /** Inner width available (columns inside the border). */
  width: number;
  /** Data rows available per column group. */
  maxRows: number;
}

function groupHeader(): string {
  return `${cell('syscall', NAME_W)} ${cell('count', NUM_W, 'right')} ${cell('errors', NUM_W, 'right')} ${cell('err%', PCT_W, 'right')}`;
}

function groupRow(name: string, count: number, errors: number): string {
  const pct = count > 0 ? `${Math.round((errors / count) * 100)}%` : '-';
  return `${cell(name, NAME_W)} ${cell(compact(count), NUM_W, 'right')} ${cell(compact(errors), NUM_W, 'right')} ${cell(pct, PCT_W, 'right')}`;
}

export function SyscallTable({ perSyscall, width, maxRows }: SyscallTableProps) {
  const entries = [...perSyscall].sort(([a], [b]) => a.localeCompare(b));
  const groups = Math.max(1, Math.floor((width + GAP) / (GROUP_W + GAP)));
  const rowsCap = Math.max(1, maxRows);
  const fits = entries.length <= groups * rowsCap;
  const shown = fits ? entries : entries.slice(0, groups * rowsCap - 1);
  const rows = Math.max(1, Math.min(rowsCap, Math.ceil(shown.length / groups)));
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const parts: string[] = [];
    for (let g = 0; g < groups; g++) {
      const e = shown[g * rows + r];
      if (e) parts.push(groupRow(e[0], e[1].count, e[1].errors));
      else if (!fits && g * rows + r === groups * rows - 1) parts.push(cell(`+${entries.length - shown.length} more`, GROUP_W));
    }
    lines.push(parts.join(' '.repeat(GAP)));
  }
  const usedGroups = Math.max(1, Math.min(groups, Math.ceil(Math.max(1, entries.length) / rows)));
  return (
    <Panel title="syscalls">
      <Box flexDirection="column">
        <Text dimColor>{Array.from({ length: usedGroups }, groupHeader).join(' '.repeat(GAP))}</Text>
        {entries.length === 0 ? <Text dimColor>no syscalls yet</Text> : lines.map((l, i) => <Text key={i}>{l}</Text>)}
      </Box>
    </Panel>
  );
}
