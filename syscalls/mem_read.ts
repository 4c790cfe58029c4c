import type { SyscallDesc } from './types.js';

/** A CPU load of len bytes at addr, through the fault path page by page. */
export const mem_read: SyscallDesc = {
  name: 'mem_read',
  args: [{ name: 'addr', type: { t: 'addr' } }, { name: 'len', type: { t: 'len' } }],
  creates: null,
  weight: 8,
  pseudo: true,
};
