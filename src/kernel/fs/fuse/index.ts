// virtiofs/FUSE: the connection and request queue (dev.ts), the simulated
// server with its store and latency model (daemon.ts, options.ts) and the
// file operations (file.ts).

export { FuseFs, FuseInode, FUSE_VICTIMS, FUSE_MAX_BYTES } from './file.js';
export { FuseConn, FuseReq, FuseOpcode, FUSE_OPCODE_NAMES } from './dev.js';
export { FuseServer, FuseNode } from './daemon.js';
export { checkFuse } from './checker.js';
export {
  FuseOptionError, FUSE_OPTION_KEYS, FUSE_LATENCY_DEFAULT, fuseOptionsFromHeader, parseDuration, parseFlag,
  parseFuseErrorRate, parseFuseLatency, parseFuseStall, stallEndNs, type FuseLatency, type FuseOptions, type FuseStall,
} from './options.js';
