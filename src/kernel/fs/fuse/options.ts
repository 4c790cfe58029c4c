// The virtiofs daemon's behaviour as the user configures it: a latency model
// per request, stalls (windows of virtual time in which the server answers
// nothing), a per-request failure rate and the cache mode. Values arrive as
// text (program header options, CLI flags) and are validated here, with
// messages that say what was expected; nothing here touches the simulator.
//
//   fuseLatency=fixed:2ms | uniform:1ms-5ms | exp:2ms   (units ns, us, ms, s)
//   fuseStall=30s@every:5s    a 30 s stall after every 5 s of service:
//                             stalled in [5s, 35s), [40s, 70s), ...
//   fuseStall=30s@once:1s     one 30 s stall beginning at 1 s: [1s, 31s)
//   fuseStall=A,B             several stall rules at once
//   fuseErrorRate=0.01        each request fails with EIO with this probability
//   fuseWritebackCache=1      writeback cache (default 0: write-through)

export class FuseOptionError extends Error {}

/** What the kernel is given; text values are parsed by the mount. */
export interface FuseOptions {
  /** Latency model (default `fixed:50us`). */
  latency?: string;
  /** Stall rules, comma separated (default none). */
  stall?: string;
  /** Probability in [0, 1] that a request fails with EIO (default 0). */
  errorRate?: number;
  /** FUSE_WRITEBACK_CACHE negotiated (default false: write-through). */
  writebackCache?: boolean;
}

export const FUSE_LATENCY_DEFAULT = 'fixed:50us';

export type FuseLatency =
  | { readonly kind: 'fixed'; readonly ns: number }
  | { readonly kind: 'uniform'; readonly loNs: number; readonly hiNs: number }
  | { readonly kind: 'exp'; readonly meanNs: number };

export interface FuseStall {
  readonly durationNs: number;
  /** every: a stall after each `atNs` of service; once: a single stall starting at `atNs`. */
  readonly kind: 'every' | 'once';
  readonly atNs: number;
}

/** Longest duration we accept anywhere (a day of virtual time): every spec is bounded. */
const DURATION_NS_MAX = 86_400e9;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };

/** "2ms", "1.5s", "500us", "100ns" -> integer nanoseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)$/.exec(text);
  if (!m) throw new FuseOptionError(`'${text}' is not a duration (a number with a unit: ns, us, ms or s, e.g. 2ms)`);
  const ns = Math.round(Number(m[1]) * UNIT_NS[m[2]!]!);
  if (!Number.isFinite(ns) || ns > DURATION_NS_MAX) throw new FuseOptionError(`duration '${text}' is longer than a day`);
  return ns;
}

export function parseFuseLatency(text: string): FuseLatency {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const arg = colon < 0 ? '' : text.slice(colon + 1);
  const usage = `latency '${text}' must be fixed:D, uniform:D1-D2 or exp:MEAN (e.g. fixed:2ms, uniform:1ms-5ms, exp:2ms)`;
  try {
    switch (kind) {
      case 'fixed':
        return { kind, ns: parseDuration(arg) };
      case 'uniform': {
        const dash = arg.indexOf('-');
        if (dash < 0) throw new FuseOptionError(usage);
        const loNs = parseDuration(arg.slice(0, dash));
        const hiNs = parseDuration(arg.slice(dash + 1));
        if (hiNs < loNs) throw new FuseOptionError(`latency '${text}': the upper bound is below the lower one`);
        return { kind, loNs, hiNs };
      }
      case 'exp': {
        const meanNs = parseDuration(arg);
        if (meanNs <= 0) throw new FuseOptionError(`latency '${text}': the mean must be positive`);
        return { kind, meanNs };
      }
      default:
        throw new FuseOptionError(usage);
    }
  } catch (e) {
    if (e instanceof FuseOptionError && e.message.startsWith('latency')) throw e;
    throw new FuseOptionError(`${usage}: ${(e as Error).message}`);
  }
}

/** One or more stall rules, comma separated: `D@every:P` or `D@once:T`. */
export function parseFuseStall(text: string): FuseStall[] {
  const usage = `stall '${text}' must be D@every:P or D@once:T (e.g. 30s@every:5s, 30s@once:1s), comma separated`;
  if (text === '' || text === 'none') return [];
  const out: FuseStall[] = [];
  for (const rule of text.split(',')) {
    const m = /^([^@]+)@(every|once):(.+)$/.exec(rule);
    if (!m) throw new FuseOptionError(usage);
    let durationNs: number, atNs: number;
    try {
      durationNs = parseDuration(m[1]!);
      atNs = parseDuration(m[3]!);
    } catch (e) {
      throw new FuseOptionError(`${usage}: ${(e as Error).message}`);
    }
    if (durationNs <= 0) throw new FuseOptionError(`stall '${rule}': the stall must last more than 0`);
    if (m[2] === 'every' && atNs <= 0) throw new FuseOptionError(`stall '${rule}': the period must be positive`);
    out.push({ durationNs, kind: m[2] as 'every' | 'once', atNs });
  }
  if (out.length > 16) throw new FuseOptionError(`stall '${text}': at most 16 rules`);
  return out;
}

export function parseFuseErrorRate(text: string): number {
  const v = /^\d+(\.\d+)?(e-?\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(v >= 0 && v <= 1)) throw new FuseOptionError(`error rate '${text}' must be a probability between 0 and 1 (e.g. 0.01)`);
  return v;
}

export function parseFlag(text: string, what: string): boolean {
  if (/^(1|on|true|yes)$/.test(text)) return true;
  if (/^(0|off|false|no)$/.test(text)) return false;
  throw new FuseOptionError(`${what} '${text}' must be 1 or 0 (on/off, true/false)`);
}

/** The program-header option names of the FUSE daemon. */
export const FUSE_OPTION_KEYS = ['fuseLatency', 'fuseStall', 'fuseErrorRate', 'fuseWritebackCache'] as const;

/**
 * The FUSE options among a program header's options, validated: a bad value
 * throws FuseOptionError naming the option. Keys that are not FUSE options
 * are ignored.
 */
export function fuseOptionsFromHeader(options: Readonly<Record<string, string>>): FuseOptions {
  const out: FuseOptions = {};
  const lat = options.fuseLatency;
  const stall = options.fuseStall;
  const rate = options.fuseErrorRate;
  const wb = options.fuseWritebackCache;
  // Texts already validated (the fuzzer draws from a few): no parse, no closures.
  if ((lat === undefined || VALID_LATENCIES.has(lat)) && (stall === undefined || VALID_STALLS.has(stall))) {
    const r = rate === undefined ? undefined : VALID_RATES.get(rate);
    const w = wb === undefined ? undefined : VALID_FLAGS.get(wb);
    if ((rate === undefined) === (r === undefined) && (wb === undefined) === (w === undefined)) {
      if (lat !== undefined) out.latency = lat;
      if (stall !== undefined) out.stall = stall;
      if (r !== undefined) out.errorRate = r;
      if (w !== undefined) out.writebackCache = w;
      return out;
    }
  }
  return fuseOptionsParsed(options, out);
}

/** fuseOptionsFromHeader's memory of good texts (bounded; a text that fails to parse is never kept). */
const VALID_LATENCIES = new Set<string>();
const VALID_STALLS = new Set<string>();
const VALID_RATES = new Map<string, number>();
const VALID_FLAGS = new Map<string, boolean>();
const VALID_MAX = 256;

function fuseOptionsParsed(options: Readonly<Record<string, string>>, out: FuseOptions): FuseOptions {
  const at = (key: string, f: () => void): void => {
    try {
      f();
    } catch (e) {
      if (e instanceof FuseOptionError) throw new FuseOptionError(`option ${key}=${options[key]}: ${e.message}`);
      throw e;
    }
  };
  const lat = options.fuseLatency;
  if (lat !== undefined) at('fuseLatency', () => parseFuseLatency((out.latency = lat)));
  const stall = options.fuseStall;
  if (stall !== undefined) at('fuseStall', () => parseFuseStall((out.stall = stall)));
  const rate = options.fuseErrorRate;
  if (rate !== undefined) at('fuseErrorRate', () => (out.errorRate = parseFuseErrorRate(rate)));
  const wb = options.fuseWritebackCache;
  if (wb !== undefined) at('fuseWritebackCache', () => (out.writebackCache = parseFlag(wb, 'writeback cache')));
  // Every option parsed: remember the texts.
  if (VALID_LATENCIES.size < VALID_MAX && lat !== undefined) VALID_LATENCIES.add(lat);
  if (VALID_STALLS.size < VALID_MAX && stall !== undefined) VALID_STALLS.add(stall);
  if (VALID_RATES.size < VALID_MAX && rate !== undefined) VALID_RATES.set(rate, out.errorRate!);
  if (VALID_FLAGS.size < VALID_MAX && wb !== undefined) VALID_FLAGS.set(wb, out.writebackCache!);
  return out;
}

/** Where a time falls in the stall windows: the end of the window containing `nowNs`, or `nowNs` if none does. */
export function stallEndNs(stalls: readonly FuseStall[], nowNs: number): number {
  let t = nowNs;
  // Windows may touch or overlap: follow them until a time in none of them (bounded: each step moves forward).
  for (let guard = 0; guard < 64; guard++) {
    let moved = false;
    for (const s of stalls) {
      let start: number;
      if (s.kind === 'once') start = s.atNs;
      else {
        // every: service for atNs, then a stall of durationNs, repeating.
        const cycle = s.atNs + s.durationNs;
        start = Math.floor(t / cycle) * cycle + s.atNs;
      }
      if (t >= start && t < start + s.durationNs) {
        t = start + s.durationNs;
        moved = true;
      }
    }
    if (!moved) return t;
  }
  return t;
}
