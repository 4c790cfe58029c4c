// Which pane of a finding's detail is shown and where it is scrolled to.

import { useCallback, useState } from 'react';
import { defaultScroll, scrollStart, type DetailPane } from '../detail.js';

export interface DetailNav {
  pane: DetailPane;
  scroll: number | 'end';
  /** Show pane i (wraps around). */
  show(i: number): void;
  next(): void;
  prev(): void;
  /** Scroll by `delta` lines over a body of `lines` shown `height` at a time. */
  scrollBy(delta: number, lines: number, height: number): void;
  reset(): void;
}

export function useDetailNav(panes: readonly DetailPane[]): DetailNav {
  const [index, setIndex] = useState(0);
  const [scroll, setScroll] = useState<number | 'end'>(defaultScroll(panes[0]!));
  const show = useCallback(
    (i: number) => {
      const n = ((i % panes.length) + panes.length) % panes.length;
      setIndex(n);
      setScroll(defaultScroll(panes[n]!));
    },
    [panes],
  );
  const scrollBy = useCallback((delta: number, lines: number, height: number) => {
    setScroll((s) => scrollStart(scrollStart(s, lines, height) + delta, lines, height));
  }, []);
  return {
    pane: panes[index]!,
    scroll,
    show,
    next: () => show(index + 1),
    prev: () => show(index - 1),
    scrollBy,
    reset: () => show(0),
  };
}
