// Mounting the views on the real terminal. The CLI decides when (a TTY, no
// --no-tui, no --json); these only render.

import { render } from 'ink';
import { CrashBrowser } from './CrashBrowser.js';
import { LiveView } from './LiveView.js';
import type { CrashSource, LiveControl, LiveStats, RunInfo } from './types.js';

export interface LiveViewHandle {
  /** Show the run's final numbers as stopped, then unmount (the terminal keeps that frame). */
  finish(final: LiveStats): Promise<void>;
}

/** Mount the live view; the caller finishes it when the run has ended. */
export function startLiveView(info: RunInfo, control: LiveControl): LiveViewHandle {
  const view = (final?: LiveStats) => <LiveView info={info} control={control} final={final} />;
  // q and Ctrl-C go through control.quit(): stop the workers, then exit.
  const app = render(view(), { exitOnCtrlC: false });
  return {
    async finish(final: LiveStats): Promise<void> {
      const exited = app.waitUntilExit();
      app.rerender(view(final));
      app.unmount();
      await exited;
    },
  };
}

/** Browse until the user quits. */
export async function runCrashBrowser(source: CrashSource): Promise<void> {
  const app = render(<CrashBrowser source={source} />, { exitOnCtrlC: false });
  await app.waitUntilExit();
}
