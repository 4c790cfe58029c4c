import type { SyscallDesc } from './types.js';

/** A CPU store of len bytes of value `byte` at addr. */
export const mem_write: SyscallDesc = {
  name: 'mem_write',
  args: [{ name: 'addr', type: { t: 'addr', touch: true } }, { name: 'len', type: { t: 'len', within: 0 } }, { name: 'byte', type: { t: 'byte' } }],
  creates: null,
  weight: 6,
  pseudo: true,
};
