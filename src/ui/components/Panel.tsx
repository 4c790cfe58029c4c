// A bordered panel with a title line: the frame every live-view panel uses.

import type { ReactNode } from 'react';
import { Box, Text } from 'ink';

export function Panel({ title, width, flexGrow, children }: { title: string; width?: number; flexGrow?: number; children: ReactNode }) {
  return (
    <Box borderStyle="round" borderColor="gray" flexDirection="column" paddingX={1} width={width} flexGrow={flexGrow}>
      <Text bold color="cyan">{title}</Text>
      {children}
    </Box>
  );
}
