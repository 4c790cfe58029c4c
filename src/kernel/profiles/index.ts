// Kernel profiles: named sets of switches, each choosing between the
// historical buggy code path and the fixed one. `default` is all fixed.
// A profile name may carry overrides: "default+spf=v2+invalidate_lock=off".

export interface ProfileInfo {
  readonly name: string;
  readonly switches: Readonly<Record<string, string>>;
  readonly description: string;
  /** Seed thread or Linux commit it comes from. */
  readonly source: string;
}

export const PROFILES: readonly ProfileInfo[] = [
  { name: 'default', switches: {}, description: 'current Linux: every catalogued bug fixed', source: 'mainline' },
  {
    name: 'linux-5.9-virtiofs',
    switches: { fuse_write: 'lock_all' },
    description: 'A: fuse_fill_write_pages keeps every page of a write-through request locked while faulting in the next chunk of the user buffer',
    source: 'seed 000 (Qian Cai\'s trinity report, Oct 2020); fixed by 4f06dd92b5d0 "fuse: fix write deadlock" (5.13), Fixes ea9b9907b82a',
  },
  {
    name: 'linux-4.20',
    switches: { fault_io: 'hold', proc_mmap_lock: 'plain' },
    description: 'B: filemap_fault does readahead and ->readpage with mmap_lock held; a queued writer stalls /proc readers',
    source: 'seed 001 (Josef Bacik, "drop mmap_sem for all blocking operations", merged for 5.1 as 6b4c9f446981)',
  },
  {
    name: 'josef-v4',
    switches: { fault_io: 'leaky' },
    description: 'B leaky fix: page-cache allocation failure after dropping mmap_lock returns VM_FAULT_OOM without fput or RETRY',
    source: 'seed 001 (v4 of Nov 30 2018, as Andrew Morton reviewed it; fixed in the -mm version of Dec 28 2018)',
  },
  {
    name: 'spf-v2',
    switches: { spf: 'v2' },
    description: 'C: speculative page faults with vm_sequence writes annotated for lockdep in __vma_adjust and move_vma; with reclaim\'s rmap walk lockdep sees i_mmap_rwsem -> vm_sequence -> fs_reclaim -> i_mmap_rwsem',
    source: 'seed 002 (Laurent Dufour\'s SPF v2, Aug 2017; Sergey Senozhatsky\'s lockdep report); fixed by vm_raw_write_begin in later revisions',
  },
  {
    name: 'spf-raw',
    switches: { spf: 'raw' },
    description: 'C fixed: speculative page faults on, vm_raw_write_begin (invisible to lockdep) in __vma_adjust, copy_vma and move_vma',
    source: 'seed 002; the SPF series from its autumn 2017 reposts to v11 (2018), "[Fix lock dependency ... by using vm_raw_write* functions]"',
  },
  {
    name: 'no-invalidate-lock',
    switches: { invalidate_lock: 'off' },
    description: 'E2: no mapping->invalidate_lock; a fault or read in the punch window caches the old block',
    source: 'seed 004 thread (Sept 2020); fixed by Jan Kara\'s invalidate_lock series, 5.15 (730633f0b7f9)',
  },
  {
    name: 'shmem-3.15',
    switches: { shmem_punch: 'original' },
    description: 'D: tmpfs hole punch rescans until empty while faults refill the hole; the punch starves, writers hang on i_rwsem',
    source: 'seed 003 (Hugh Dickins, July 2014; CVE-2014-4171, trinity "shmem_fallocate hang")',
  },
  {
    name: 'shmem-take1',
    switches: { shmem_punch: 'take1' },
    description: 'D1: a fault into a hole being punched waits by taking i_mutex (nests i_mutex inside write\'s i_mutex)',
    source: 'seed 003, commit f00cdc6df7d7 (3.16-rc), reverted after Sasha Levin\'s lockdep report',
  },
  {
    name: 'shmem-take2',
    switches: { shmem_punch: 'take2' },
    description: 'D2: take 1 reverted, the punch made finite instead; faults refill the hole freely, and each page they map again costs the puncher a single-page unmap over all of i_mmap. It shows with hundreds of mappings of the file (trinity\'s forks), which the fuzzer does not build: run corpus/d2-shmem-take2-punch-starves.prog',
    source: 'seed 003, Hugh Dickins\' second try (July 2014): "good enough for a rational workload, but not good enough against trinity"',
  },
  {
    name: 'lockless-map-pages',
    switches: { map_pages: 'nolock' },
    description: 'E1: filemap_map_pages maps uptodate pages without the page lock or the mapping/EOF re-check',
    source: 'seed 004 (Willy, Sept 2020: "just check uptodate"); fixed by the trylock+recheck scheme in mainline',
  },
];

export class ProfileError extends Error {}

/** Resolve "name(+switch=value)*" to its switches. */
export function resolveProfile(spec: string): Record<string, string> {
  const [base, ...overrides] = spec.split('+');
  const p = PROFILES.find((x) => x.name === base);
  if (p === undefined) throw new ProfileError(`unknown profile '${base}' (known: ${PROFILES.map((x) => x.name).join(', ')})`);
  const out: Record<string, string> = { ...p.switches };
  for (const o of overrides) {
    const m = /^([a-z_][a-z0-9_]*)=([A-Za-z0-9_.:-]+)$/.exec(o);
    if (!m) throw new ProfileError(`bad profile override '${o}' (expected switch=value)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}
