// Waiting on ink-testing-library frames: renders and input handling are
// asynchronous, so tests poll the last frame for what they expect.

export interface Rendered {
  lastFrame(): string | undefined;
}

export async function waitForFrame(r: Rendered, pred: (frame: string) => boolean, what: string, timeoutMs = 3000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const f = r.lastFrame() ?? '';
    if (pred(f)) return f;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; last frame:\n${f}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

export const waitForText = (r: Rendered, text: string, timeoutMs?: number): Promise<string> =>
  waitForFrame(r, (f) => f.includes(text), JSON.stringify(text), timeoutMs);

export const KEY = { up: '\u001B[A', down: '\u001B[B', enter: '\r', escape: '\u001B', tab: '\t' } as const;

/** Let ink attach its input listener (an effect) before typing. */
export const settle = (ms = 30): Promise<void> => new Promise((res) => setTimeout(res, ms));
