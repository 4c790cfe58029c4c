// The live run as a data source: sample a stats snapshot a few times a
// second (never per execution) and fold it into rates, history and the
// findings log.

import { useEffect, useState } from 'react';
import { advance, type SamplerState } from '../sampler.js';
import type { LiveStats } from '../types.js';

/** Four samples a second: smooth enough for rates, cheap for the fuzzer. */
export const SAMPLE_EVERY_MS = 250;

export function useSampledStats(sample: () => LiveStats, everyMs: number = SAMPLE_EVERY_MS): SamplerState {
  const [state, setState] = useState<SamplerState>(() => advance(null, sample()));
  useEffect(() => {
    const timer = setInterval(() => {
      const s = sample();
      setState((prev) => advance(prev, s));
    }, everyMs);
    return () => clearInterval(timer);
  }, [sample, everyMs]);
  return state;
}
