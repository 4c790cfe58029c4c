// Linux errno values (asm-generic/errno-base.h, errno.h) and the signals a
// user access can raise. Syscalls return a value >= 0 or -errno.

export const EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12,
  EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EISDIR = 21,
  EINVAL = 22, EMFILE = 24, ETXTBSY = 26, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30,
  ENOSYS = 38, EOPNOTSUPP = 95;

export const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM',
  13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR',
  22: 'EINVAL', 24: 'EMFILE', 26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE', 30: 'EROFS',
  38: 'ENOSYS', 95: 'EOPNOTSUPP',
};

export const SIGKILL = 9, SIGBUS = 7, SIGSEGV = 11;
export const SIGNAL_NAMES: Record<number, string> = { 7: 'SIGBUS', 9: 'SIGKILL', 11: 'SIGSEGV' };

/**
 * A user-memory access (mem_read/mem_write) that raised a signal returns
 * SIGNAL_BASE - signo; the process keeps going, as a fuzzer's executor
 * with handlers installed does.
 */
export const SIGNAL_BASE = -1000;
export const signalResult = (signo: number): number => SIGNAL_BASE - signo;
export const resultSignal = (ret: number): number => (ret <= SIGNAL_BASE - 1 ? SIGNAL_BASE - ret : 0);

/** "ret=N", "-EINVAL" or "SIGBUS", for traces and tests. */
export function formatResult(ret: number): string {
  const sig = resultSignal(ret);
  if (sig) return SIGNAL_NAMES[sig] ?? `signal ${sig}`;
  if (ret < 0) return `-${ERRNO_NAMES[-ret] ?? -ret}`;
  return String(ret);
}
