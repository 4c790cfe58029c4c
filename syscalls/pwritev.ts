import type { SyscallDesc } from './types.js';

/** pwritev: the source segments are often mappings of the same file (seed 000). */
export const pwritev: SyscallDesc = {
  name: 'pwritev',
  args: [{ name: 'fd', type: { t: 'fd' } }, { name: 'iov', type: { t: 'iov' } }, { name: 'pos', type: { t: 'off' } }],
  creates: null,
  weight: 4,
};
