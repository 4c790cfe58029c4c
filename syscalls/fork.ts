import type { SyscallDesc } from './types.js';

/**
 * fork() whose child exits at once (`if (fork() == 0) _exit(0);`): the
 * copy-on-write copy of the address space and the child's exit race the
 * parent's calls. Returns the child's pid.
 */
export const fork: SyscallDesc = {
  name: 'fork',
  args: [],
  creates: null,
  weight: 2,
};
