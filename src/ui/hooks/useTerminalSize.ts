// The terminal's size, following resizes. Streams without a size (pipes,
// the test renderer) get a 100x40 default.

import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  columns: number;
  rows: number;
}

const DEFAULT_SIZE: TerminalSize = { columns: 100, rows: 40 };

export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState<TerminalSize>(() => read(stdout));
  useEffect(() => {
    const onResize = (): void => setSize(read(stdout));
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

function read(s: NodeJS.WriteStream): TerminalSize {
  return { columns: s.columns || DEFAULT_SIZE.columns, rows: s.rows || DEFAULT_SIZE.rows };
}
