import type { SyscallDesc } from './types.js';

/**
 * `pid = fork(); if (pid == 0) _exit(0); waitpid(pid)`: the copy-on-write
 * copy of the address space and the child's exit race the other tasks'
 * calls. Returns the child's pid.
 */
export const fork: SyscallDesc = {
  name: 'fork',
  args: [],
  creates: null,
  weight: 2,
};
