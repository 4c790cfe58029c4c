// A run's signal as the fuzzer counts it: FNV-1a 32 ids of "c:site",
// "x:site@context", "i:lock|waiter|holder" and "l:A -> B". The ids are
// stable across processes and sessions (the store keeps them with each
// corpus program, and corpus minimization merges them with new runs').

import { coverPairName, coverSiteName } from '../kernel/coverage.js';
import type { ExecResult } from './execute.js';

/**
 * Interleavings and lock dependencies whose slots are remembered, per kind
 * (past it, their ids are hashed at every run). Sites and (site, context)
 * pairs need no bound: the kernel's registries bound them (code constants,
 * at most CONTEXTS_MAX contexts).
 */
const MAX_SLOTS = 1 << 16;

/** The id of a signal name: FNV-1a 32 of its UTF-16 code units. */
export function signalId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The signal of runs, and what of it a session has. Each name is hashed
 * once, into a slot that keeps its id and whether the session has that
 * id. A run hands its cover points over as ids of this process's kernel
 * registries (an array index for a site, a number key for a site in its
 * context), so most of a run's hundred-odd names cost an array read and a
 * byte, not a string hash lookup in a table of thousands: after a run's
 * simulation those lookups missed the caches, several per name.
 */
export class SignalTable {
  /** The session's signal. */
  private readonly session = new Set<number>();
  /** Per slot: the name's id, and 1 once the session is known to have it. */
  private readonly ids: number[] = [];
  private inSession = new Uint8Array(1024);
  /** Slots by kernel site id (-1: none yet), by pair id, by interleaving and by lock dependency. */
  private readonly siteSlots: number[] = [];
  private readonly pairSlots = new Map<number, number>();
  private readonly interleavingSlots = new Map<string, number>();
  private readonly lockOrderSlots = new Map<string, number>();

  /** Ids in the session's signal. */
  get size(): number {
    return this.session.size;
  }

  /** Adds ids to the session's signal. */
  add(ids: readonly number[]): void {
    for (let i = 0; i < ids.length; i++) this.session.add(ids[i]!);
  }

  /** The run's signal ids; with `unseen`, only those not in the session's signal. */
  of(r: ExecResult, unseen = false): number[] {
    const out: number[] = [];
    const sites = r.coverIds;
    for (let i = 0; i < sites.length; i++) this.put(out, unseen, this.siteSlot(sites[i]!));
    const pairs = r.coverPairIds;
    for (let i = 0; i < pairs.length; i++) this.put(out, unseen, this.pairSlot(pairs[i]!));
    this.named(out, unseen, this.interleavingSlots, 'i:', r.interleavings);
    this.named(out, unseen, this.lockOrderSlots, 'l:', r.lockOrder);
    return out;
  }

  private siteSlot(site: number): number {
    const slots = this.siteSlots;
    while (slots.length <= site) slots.push(-1);
    let s = slots[site]!;
    if (s < 0) slots[site] = s = this.newSlot(`c:${coverSiteName(site)}`);
    return s;
  }

  private pairSlot(pair: number): number {
    let s = this.pairSlots.get(pair);
    if (s === undefined) this.pairSlots.set(pair, (s = this.newSlot(`x:${coverPairName(pair)}`)));
    return s;
  }

  private named(out: number[], unseen: boolean, slots: Map<string, number>, prefix: string, names: readonly string[]): void {
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      let s = slots.get(name);
      if (s === undefined) {
        if (slots.size >= MAX_SLOTS) {
          this.putId(out, unseen, signalId(prefix + name));
          continue;
        }
        slots.set(name, (s = this.newSlot(prefix + name)));
      }
      this.put(out, unseen, s);
    }
  }

  /** Appends the slot's id (with `unseen`, unless the session has it). */
  private put(out: number[], unseen: boolean, s: number): void {
    if (unseen) {
      if (this.inSession[s] === 1) return;
      // The session only grows: once it has an id, it keeps it.
      if (this.session.has(this.ids[s]!)) {
        this.inSession[s] = 1;
        return;
      }
    }
    out.push(this.ids[s]!);
  }

  /** Appends an id that has no slot (with `unseen`, unless the session has it). */
  private putId(out: number[], unseen: boolean, id: number): void {
    if (!unseen || !this.session.has(id)) out.push(id);
  }

  private newSlot(name: string): number {
    const s = this.ids.length;
    this.ids.push(signalId(name));
    if (s >= this.inSession.length) {
      const grown = new Uint8Array(this.inSession.length * 2);
      grown.set(this.inSession);
      this.inSession = grown;
    }
    return s;
  }
}
