// The live run's first line: whether it runs and for how long (first, so a
// narrow terminal keeps them), then what runs under which seed.

import { Box, Text } from 'ink';
import { elapsed } from '../format.js';
import type { RunInfo } from '../types.js';

export type RunState = 'running' | 'paused' | 'stopping' | 'stopped';

const STATE_COLOR: Record<RunState, string> = { running: 'green', paused: 'yellow', stopping: 'red', stopped: 'gray' };

export function Header({ info, wallMs, state }: { info: RunInfo; wallMs: number; state: RunState }) {
  return (
    <Box borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text wrap="truncate">
        <Text bold color="cyan">faultline fuzz</Text>
        {'  '}<Text bold color={STATE_COLOR[state]}>{state === 'stopping' ? 'stopping…' : state}</Text>
        {'  '}elapsed <Text bold>{elapsed(wallMs)}</Text>
        {'  '}profile <Text bold>{info.profile}</Text>
        {'  '}seed <Text bold>{info.seed}</Text>
        {'  '}strategy {info.strategy}
        {'  '}workers {info.workers}
      </Text>
    </Box>
  );
}
