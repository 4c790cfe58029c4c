import type { SyscallDesc } from './types.js';

/** Read /proc/<pid>/cmdline or /maps: takes the target's mmap_lock for read. */
export const proc_read: SyscallDesc = {
  name: 'proc_read',
  args: [{ name: 'pid', type: { t: 'pid' } }, { name: 'file', type: { t: 'procfile' } }],
  creates: null,
  weight: 2,
  pseudo: true,
};
