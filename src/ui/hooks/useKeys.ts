// useInput with a handler that always sees the latest render. ink swaps its
// input listener in an effect, after the frame is on screen; a key typed in
// between would otherwise reach the previous render's handler (a detail
// view's key handled as if the list were still showing).

import { useInput, type Key } from 'ink';
import { useRef } from 'react';

export function useKeys(handler: (input: string, key: Key) => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useInput((input, key) => latest.current(input, key));
}
