// Flag sets, with the values Linux uses on x86-64.

import type { FlagSet } from './types.js';

const set = (name: string, bitmask: boolean, values: [string, number][]): FlagSet => ({ name, bitmask, values });

export const OPEN_FLAGS = set('open_flags', true, [
  ['O_RDONLY', 0], ['O_WRONLY', 1], ['O_RDWR', 2], ['O_CREAT', 0o100], ['O_EXCL', 0o200], ['O_TRUNC', 0o1000],
  ['O_APPEND', 0o2000], ['O_NONBLOCK', 0o4000], ['O_DIRECTORY', 0o200000], ['O_CLOEXEC', 0o2000000],
]);
export const PROT = set('prot', true, [['PROT_NONE', 0], ['PROT_READ', 1], ['PROT_WRITE', 2], ['PROT_EXEC', 4]]);
export const MAP_FLAGS = set('map_flags', true, [
  ['MAP_SHARED_VALIDATE', 3], ['MAP_SHARED', 1], ['MAP_PRIVATE', 2], ['MAP_FIXED', 0x10], ['MAP_ANONYMOUS', 0x20],
  ['MAP_NORESERVE', 0x4000], ['MAP_POPULATE', 0x8000], ['MAP_FIXED_NOREPLACE', 0x100000],
]);
export const MREMAP_FLAGS = set('mremap_flags', true, [['MREMAP_MAYMOVE', 1], ['MREMAP_FIXED', 2], ['MREMAP_DONTUNMAP', 4]]);
export const MADV = set('madvise_advice', false, [
  ['MADV_NORMAL', 0], ['MADV_RANDOM', 1], ['MADV_SEQUENTIAL', 2], ['MADV_WILLNEED', 3], ['MADV_DONTNEED', 4],
  ['MADV_FREE', 8], ['MADV_REMOVE', 9],
]);
export const MSYNC_FLAGS = set('msync_flags', true, [['MS_ASYNC', 1], ['MS_INVALIDATE', 2], ['MS_SYNC', 4]]);
export const FALLOC_FLAGS = set('falloc_flags', true, [
  ['FALLOC_FL_KEEP_SIZE', 1], ['FALLOC_FL_PUNCH_HOLE', 2], ['FALLOC_FL_NO_HIDE_STALE', 4], ['FALLOC_FL_COLLAPSE_RANGE', 8],
  ['FALLOC_FL_ZERO_RANGE', 0x10], ['FALLOC_FL_INSERT_RANGE', 0x20], ['FALLOC_FL_UNSHARE_RANGE', 0x40],
]);
export const SEEK_WHENCE = set('seek_whence', false, [['SEEK_SET', 0], ['SEEK_CUR', 1], ['SEEK_END', 2], ['SEEK_DATA', 3], ['SEEK_HOLE', 4]]);

export const FLAG_SETS: readonly FlagSet[] = [OPEN_FLAGS, PROT, MAP_FLAGS, MREMAP_FLAGS, MADV, MSYNC_FLAGS, FALLOC_FLAGS, SEEK_WHENCE];

/**
 * Render a value symbolically: an enum's name, or an OR of flag names
 * (multi-bit values first) with any leftover bits in hex. Zero-valued names
 * are used only for a zero (or for the zero part of a field, O_RDONLY).
 */
export function formatFlags(set: FlagSet, v: number): string {
  if (!set.bitmask) {
    const hit = set.values.find(([, x]) => x === v);
    return hit ? hit[0] : `0x${v.toString(16)}`;
  }
  if (v === 0) {
    const zero = set.values.find(([, x]) => x === 0);
    return zero ? zero[0] : '0x0';
  }
  const parts: string[] = [];
  let rest = v;
  const sorted = [...set.values].filter(([, x]) => x !== 0).sort((a, b) => popcount(b[1]) - popcount(a[1]) || a[1] - b[1]);
  for (const [name, x] of sorted) {
    if ((rest & x) === x) {
      parts.push(name);
      rest &= ~x;
    }
  }
  if (rest !== 0) parts.push(`0x${(rest >>> 0).toString(16)}`);
  return parts.join('|');
}

/** Parse "A|B|0x10" or a number against a set; null if a name is unknown. */
export function parseFlags(set: FlagSet, text: string): number | null {
  let v = 0;
  for (const part of text.split('|')) {
    const p = part.trim();
    const hit = set.values.find(([n]) => n === p);
    if (hit) v |= hit[1];
    else if (/^(0x[0-9a-fA-F]+|\d+)$/.test(p)) v |= Number(p);
    else return null;
  }
  return v;
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}
