// Programs the fuzzer found that broke the model itself (simulator errors
// or false reports on the fixed kernel), minimized, kept with the schedule
// that hit them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execute } from '../../src/fuzz/execute.js';
import { parseProgram } from '../../src/fuzz/format.js';
import { EV_NAMES } from '../../src/sim/index.js';

const PROGRAMS = fileURLToPath(new URL('../../../test/fuzz/programs/', import.meta.url));

test('mremap moving a PTE that reclaim unmapped while the page-table allocation slept moves nothing (was a TypeError in the sweep)', () => {
  // Found by `faultline fuzz --profile shmem-take1`: the 16-page budget makes
  // move_page_tables' page-table allocation reclaim, whose rmap walk unmaps
  // the one PTE being moved; the move then stored an undefined PTE.
  const text = `profile: default
seed: 474865634.8944~2
strategy: preempt:start>p1.t1,p1.t1@3>virtiofsd,virtiofsd@1>p0.t1,p0.t1@3>p1.t0,p1.t0@29>p0.t0
option: fuseErrorRate=0.2
option: memoryPages=16

proc 0:
  thread 0:
    r0 = open("/data/file1", O_RDONLY)
    mem_read(0x20062000, 0x1)
    r1 = mmap(0x0, 0x1, PROT_READ, MAP_SHARED|MAP_POPULATE, r0, 0x0)
  thread 1:
    r2 = open("/mnt/virtiofs/file0", O_RDONLY)
proc 1:
  thread 0:
    mem_write(0x2002a000, 0x10000, 0x0)
  thread 1:
    r3 = open("/mnt/virtiofs/file0", O_RDONLY)
    r4 = mmap(0x0, 0x1, PROT_READ, MAP_PRIVATE, r3, 0x0)
    mem_read(r4, 0x1)
    r5 = mremap(r4, 0x1, 0x1, MREMAP_MAYMOVE|MREMAP_FIXED, 0x0)
`;
  const r = execute(parseProgram(text));
  assert.deepEqual(r.reports.map((x) => x.title), []);
  assert.equal(r.outcome, 'completed');
  assert.ok((r.vmstat?.pgunmapped ?? 0) >= 1, 'reclaim unmapped a PTE: the race was hit');
  assert.equal(r.results.find((c) => c.name === 'mremap')?.ret, 0, 'moved to address 0');
});

test('a shmem fault whose allocation slept in reclaim while the file was truncated maps nothing beyond EOF', () => {
  // Found by `faultline fuzz --profile shmem-3.15` (and shmem-take2), and
  // reproduced on default: the fault's page allocation reclaimed for 1 ms
  // while open(O_TRUNC) in another process cut i_size to 0 and swept the
  // cache; the fault then added and mapped page 9 beyond EOF. Linux's
  // shmem_get_folio_gfp checks i_size again once the new folio is in the
  // cache ("Perhaps the file has been truncated since we checked") and
  // removes it: the access gets SIGBUS.
  const text = `profile: default
seed: 479614858.40113
strategy: preempt:start>p0.t1
option: memoryPages=16

proc 0:
  thread 0:
    r0 = open("/tmp/victim0", O_RDWR|O_CREAT)
    pwritev(r0, [{0x20072000, 0x1}], 0xc000)
    r1 = mmap(0x0, 0xc000, PROT_READ, MAP_SHARED|MAP_FIXED, r0, 0x0)
    mem_read(0x0, 0xc000)
  thread 1:
    r2 = open("/data/file0", O_RDONLY)
    read(r2, 0x0, 0x1)
proc 1:
  thread 0:
    r3 = open("/tmp/victim0", O_TRUNC)
`;
  const r = execute(parseProgram(text));
  assert.deepEqual(r.reports.map((x) => x.title), []);
  assert.equal(r.outcome, 'completed');
  assert.ok(r.coverage.includes('shmem:alloc-raced-truncate'), 'the allocation raced the truncation');
  assert.equal(r.results.find((c) => c.name === 'mem_read')?.ret, -1007, 'SIGBUS');
});

test('a virtiofs hole punch whose range keeps being read back in ends once a batch takes its last page', () => {
  // Found by `npm run bench -- fuzz` (seed bench/w1) on default:
  // truncate_inode_pages_range's second loop went back to the range's start
  // whenever it found any page, so p0.t0's punch of pages 1-3 deleted the
  // pages p0.t1's fault and p1.t1's pread64 kept reading back in, every
  // time, and the reader starved (its page was truncated under it on every
  // try). mm/truncate.c loops while (index < end): a batch that takes the
  // range's last page ends it.
  const text = `profile: default
seed: bench/w1.11595
strategy: preempt:p1.t0@61>p1.f0
option: blockLatencyNs=1200000
option: kswapd=1
option: memoryPages=64

proc 0:
  thread 0:
    r0 = open("/mnt/virtiofs/file1", O_RDWR|O_CREAT|O_CLOEXEC)
    lseek(r0, 0x64, SEEK_END)
    r1 = mmap(0x30000000, 0x2d000, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_NORESERVE, r0, 0x2f000)
    fallocate(r0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x1000, 0x3000)
  thread 1:
    r2 = open("/mnt/virtiofs/file1", O_RDWR|O_CREAT|O_NONBLOCK)
    pread64(r0, r1+0xff4, 0x2000, 0x1000)
proc 1:
  thread 0:
    r3 = open("/tmp/victim0", O_RDWR|O_CREAT|O_TRUNC)
    fallocate(-0x1, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0x64, 0x1000)
    mem_read(0x2000d000, 0x2000)
    r4 = mmap(0x20033000, 0x3d000, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_POPULATE, r3, 0x100b) (fail_nth: 3)
    close(r3)
    mem_write(0x20079000, 0x18000, 0x24)
    mem_write(r4+0x17000, 0x13000, 0xcf)
    fork()
    ftruncate(r3, 0x3000) (fail_nth: 3)
    mem_write(r4+0x1000, 0x3d000, 0x800092)
  thread 1:
    r5 = open("/mnt/virtiofs/file1", O_RDWR|O_CREAT|O_NONBLOCK)
    lseek(r5, 0x1000, SEEK_CUR)
    r6 = mmap(r4, 0x18, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_NORESERVE, r3, 0x1000)
    pread64(r5, r6, 0x1ff4, 0x3000)
`;
  const r = execute(parseProgram(text));
  assert.deepEqual(r.reports.map((x) => x.title), []);
  assert.equal(r.outcome, 'completed');
});

/**
 * A kept false report (test/fuzz/programs/FILE, its `# was:` header naming
 * the title it gave), run with `edit` applied to its text: it must report
 * nothing now.
 */
function wasReport(file: string, title: string, edit: (text: string) => string = (x) => x): ReturnType<typeof execute> {
  const text = readFileSync(PROGRAMS + file, 'utf8');
  assert.ok(text.includes(`# was: ${title}`), file);
  const r = execute(parseProgram(edit(text), file));
  assert.deepEqual(r.reports.map((x) => x.title), [], file);
  return r;
}

test('thrashing under a tiny budget ends once a page refaulted right after its eviction comes back active (mm/workingset.c)', () => {
  // Both were "INFO: task starved in ..." on the fixed kernel (corpus/open
  // until workingset refault detection): a source page or a read page was
  // evicted before the copy that needed it, again and again.
  for (const [file, title] of [
    ['write-source-evicted-in-reclaim.prog', 'INFO: task starved in blockfs_file_write_iter'],
    ['thrash-starve-in-reclaim.prog', 'INFO: task starved in fuse_file_read_iter'],
  ] as const) {
    const r = wasReport(file, title);
    assert.ok((r.vmstat?.workingsetActivate ?? 0) > 0, `${file}: refaults were activated: ${JSON.stringify(r.vmstat)}`);
  }
});

test('a virtiofs punch, a read and a fault in its range no longer meet in lockstep in the liveness phase (was a starvation report)', () => {
  // Round robin made the same refill land behind the punch's cursor on every
  // turn; the seeded fair schedule does not keep a rotation up.
  const r = wasReport('fuse-punch-lockstep.prog', 'INFO: task starved in do_user_addr_fault');
  assert.equal(r.outcome, 'completed');
  assert.ok(r.steps > 20_000, 'the punch was still running when the liveness phase began (maxSteps=20000)');
  assert.ok(r.coverage.includes('truncate:restart'), 'the punch went back to the start of its range');
});

test('a hammered writer on a throttled device waits for writeback above dirty_ratio instead of starving in reclaim (was a starvation report)', () => {
  const file = 'hammered-writev-unthrottled.prog';
  const was = 'INFO: task starved in blockfs_file_write_iter';
  assert.ok(wasReport(file, was).coverage.includes('writeback:throttle'), 'the writer was throttled');
  // Without a flusher thread (a swarm option) the dirtier writes its own inode back.
  const alone = wasReport(file, was, (text) => text.replace('option: flusher=1\n', ''));
  assert.ok(alone.coverage.includes('writeback:throttle-self'), 'the writer wrote back its own pages');
});

test('an exit flushing a file a hammered appender grew writes back its dirty pages a batch at a time and ends (was a starvation report)', () => {
  const r = wasReport('fuse-flush-behind-appender.prog', 'INFO: task starved in do_exit');
  assert.equal(r.outcome, 'budget', 'the hammered write still runs when the budget ends');
  // Process 0's exit began at once and ended inside the liveness phase.
  const traced = execute(parseProgram(readFileSync(PROGRAMS + 'fuse-flush-behind-appender.prog', 'utf8')), { traceLimit: 1_000_000 });
  const exit = traced.events.filter((e) => e.task === 0 && e.name === 'exit').map((e) => [EV_NAMES[e.kind], e.step]);
  assert.equal(exit.length, 2, JSON.stringify(exit));
  assert.equal(exit[0]![0], 'begin');
  assert.equal(exit[1]![0], 'end');
  assert.ok(Number(exit[1]![1]) > 20_000 && Number(exit[1]![1]) < 40_000, JSON.stringify(exit));
});

test('an exit whose FUSE flushes outlast the liveness budget while a reader loops is waiting, not starved (was a starvation report)', () => {
  const r = wasReport('fuse-exit-flushes-behind-reader.prog', 'INFO: task starved in do_exit');
  assert.equal(r.outcome, 'budget', 'the hammered read still runs when the budget ends');
  assert.ok(r.steps >= 20_000, 'both phases ran to their budgets');
});
