// A cursor over a list that may grow or shrink under it: ↑/↓ move it, and
// it is clamped to the list whenever the list changes.

import { useCallback, useState } from 'react';

export interface ListCursor {
  index: number;
  up(): void;
  down(): void;
}

export function useListCursor(length: number): ListCursor {
  const [raw, setRaw] = useState(0);
  const index = length === 0 ? 0 : Math.min(raw, length - 1);
  const up = useCallback(() => setRaw((i) => Math.max(0, Math.min(i, length - 1) - 1)), [length]);
  const down = useCallback(() => setRaw((i) => Math.min(Math.max(0, length - 1), i + 1)), [length]);
  return { index, up, down };
}
