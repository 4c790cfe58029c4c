// Syscall descriptions: the ABI as the fuzzer sees it (like trinity's
// syscalls/*.c or syzkaller's descriptions). No kernel logic here.

/** A named set of values: bit flags (combined with |) or an enumeration. */
export interface FlagSet {
  readonly name: string;
  /** [name, value], multi-bit and zero values allowed (O_RDONLY = 0, MAP_SHARED_VALIDATE = 3). */
  readonly values: readonly (readonly [string, number])[];
  /** Bit flags (any OR of values) or an enumeration (exactly one value). */
  readonly bitmask: boolean;
}

export type ArgType =
  /** Consumes an fd resource. */
  | { readonly t: 'fd' }
  /**
   * A user address: a buffer or a place in/near a mapping. `touch`: the
   * call accesses memory there (trinity's dirty_mapping), so the address is
   * mostly a page inside one of the process's mappings.
   */
  | { readonly t: 'addr'; readonly touch?: boolean }
  /**
   * A length in bytes (page-aligned, off-by-one, straddling EOF, ...).
   * `within`: the index of an earlier 'addr' argument; the length then
   * mostly stays inside the mapping that address points into.
   */
  | { readonly t: 'len'; readonly within?: number }
  /** A file offset. */
  | { readonly t: 'off' }
  | { readonly t: 'flags'; readonly set: FlagSet }
  | { readonly t: 'enum'; readonly set: FlagSet }
  /** A path: mostly the shared victim files. */
  | { readonly t: 'path' }
  /** An iovec array whose segments are addresses and lengths. */
  | { readonly t: 'iov' }
  /** A process of the program. */
  | { readonly t: 'pid' }
  /** A /proc/<pid>/ file name. */
  | { readonly t: 'procfile' }
  /** A byte value (for mem_write). */
  | { readonly t: 'byte' };

export interface ArgDesc {
  readonly name: string;
  readonly type: ArgType;
}

/** A resource kind a call creates or consumes. */
export type Resource = 'fd' | 'mapping';

export interface SyscallDesc {
  readonly name: string;
  readonly args: readonly ArgDesc[];
  /** The resource the call's result is, if any. */
  readonly creates: Resource | null;
  /** Relative generation weight. */
  readonly weight: number;
  /** A pseudo-call: what a user program does without a syscall. */
  readonly pseudo?: boolean;
  /**
   * Sanitise hook (trinity's ->sanitise): adjust freshly generated numeric
   * argument values, e.g. keep PUNCH_HOLE with KEEP_SIZE most of the time.
   * `chance(p)` draws from the generator's stream.
   */
  readonly sanitise?: (values: number[], chance: (p: number) => boolean) => void;
}

/** Resources an argument list consumes. */
export function consumes(d: SyscallDesc): Resource[] {
  const out: Resource[] = [];
  for (const a of d.args) {
    if (a.type.t === 'fd' && !out.includes('fd')) out.push('fd');
    if ((a.type.t === 'addr' || a.type.t === 'iov') && !out.includes('mapping')) out.push('mapping');
  }
  return out;
}
