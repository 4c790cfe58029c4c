import type { SyscallDesc } from './types.js';

/** A CPU load of len bytes at addr, through the fault path page by page. */
export const mem_read: SyscallDesc = {
  name: 'mem_read',
  args: [{ name: 'addr', type: { t: 'addr', touch: true } }, { name: 'len', type: { t: 'len', within: 0 } }],
  creates: null,
  weight: 8,
  pseudo: true,
};
