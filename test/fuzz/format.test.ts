// The program text format: canonical files round-trip byte for byte, any
// well-formed program survives format -> parse unchanged, and every kind of
// malformed input is reported at its exact file:line:col.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatProgram, parseProgram, ParseError } from '../../src/fuzz/format.js';
import { DEFAULT_HEADER, int, iov, pid, res, str, type Arg, type Call, type Program } from '../../src/fuzz/program.js';
import { SYSCALL_DESCS } from '../../syscalls/index.js';

// Compiled tests live in dist/test/fuzz/: the files are read from the sources.
const GOLDEN = fileURLToPath(new URL('../../../test/fuzz/golden/', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../corpus/examples/', import.meta.url));

function progFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.prog')).sort().map((f) => dir + f);
}

test('golden programs and corpus examples are canonical: parse then format gives the same bytes', () => {
  const files = [...progFiles(GOLDEN), ...progFiles(EXAMPLES)];
  assert.ok(files.length >= 6, `found only ${files.length} .prog files`);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.equal(formatProgram(parseProgram(text, f)), text, f);
  }
});

test('a hand-written program with odd spacing, decimal numbers, numeric flags and unsorted options formats to its canonical file', () => {
  const input = readFileSync(GOLDEN + 'noncanonical.in.txt', 'utf8');
  const expected = readFileSync(GOLDEN + 'noncanonical.prog', 'utf8');
  const p = parseProgram(input, 'noncanonical.in.txt');
  assert.equal(formatProgram(p), expected);
  assert.deepEqual(parseProgram(expected), p);
});

test('the basic golden program parses to the expected model', () => {
  const p = parseProgram(readFileSync(GOLDEN + 'basic.prog', 'utf8'));
  assert.deepEqual(p.header, {
    profile: 'default',
    seed: '42',
    strategy: 'pct:3',
    options: { hungTaskTimeoutNs: '120000000000', memoryPages: '4096' },
    schedule: 'AAECAwQ=',
    comments: ['faultline program', "any comment lines at the top go to header.comments (without the '# ')"],
  });
  const [t0, t1] = p.procs[0]!.threads;
  assert.deepEqual(t0!.calls[0], { name: 'open', args: [str('/tmp/v0'), int(0o102)], ret: 0, props: {} });
  assert.deepEqual(t0!.calls[2]!.comment, ['a comment line directly above a call belongs to that call (Call.comment)']);
  assert.deepEqual(t0!.calls[3], {
    name: 'pwritev',
    args: [res(0), iov([{ addr: res(1), len: int(0xc) }, { addr: res(1, 0x1000), len: int(0xc) }]), int(0x1ff4)],
    ret: null,
    props: { rerun: 3, fail_nth: 2 },
  });
  assert.deepEqual(t1!.calls[0]!.args, [pid(1), str('cmdline')]);
  assert.equal(p.procs[1]!.threads[0]!.calls[0]!.ret, 2);
});

const call = (name: string, args: Arg[], ret: number | null = null, extra: Partial<Call> = {}): Call => ({ name, args, ret, props: {}, ...extra });

test('constructed programs survive format then parse unchanged', () => {
  const programs: Program[] = [
    { header: DEFAULT_HEADER, procs: [] },
    { header: { ...DEFAULT_HEADER, options: { b: '2', a: '' }, schedule: '', comments: [''] }, procs: [{ threads: [] }, { threads: [{ calls: [] }] }] },
    {
      header: { profile: 'default+fuse_write=lock_all', seed: 'abc', strategy: 'pct:3', options: { memoryPages: '64' }, schedule: 'AAEC' },
      procs: [
        {
          threads: [
            {
              calls: [
                call('open', [str('/tmp/a "b"\n\t\u0000☃'), int(0o102)], 0, { comment: ['first', ' indented', ''] }),
                call('mmap', [int(0), int(0x3000), int(3), int(0x80000001), res(0), int(-4096)], 1),
                call('mremap', [res(1, -1), int(0x3000), int(2 ** 64), int(-1), res(1, 0x1000)], 2, { props: { rerun: 2 } }),
                call('lseek', [res(0), int(Number.MAX_SAFE_INTEGER), int(99)], null, { props: { fail_nth: 0 } }),
                call('writev', [res(0), iov([])]),
              ],
            },
            { calls: [call('proc_read', [pid(1), str('maps')], null, { props: { rerun: 1, fail_nth: 7 } })] },
          ],
        },
        { threads: [{ calls: [call('fallocate', [int(0), int(3), str('not an offset'), pid(0)])] }] },
      ],
    },
  ];
  for (const p of programs) assert.deepEqual(parseProgram(formatProgram(p)), p, formatProgram(p));
});

test('random well-formed programs over every syscall survive format then parse unchanged', () => {
  let s = 12345;
  const rand = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const NUMBERS = [0, 1, -1, 0x1000, 0x7fffffff, 0x80000000, -0x80000000, 2 ** 53, -(2 ** 63), 2 ** 64];
  for (let n = 0; n < 200; n++) {
    let nextRet = 0;
    const nprocs = 1 + rand(3);
    const procs = Array.from({ length: nprocs }, () => {
      const defined: number[] = [];
      const value = (depth: number): Arg => {
        switch (rand(depth > 0 ? 5 : 6)) {
          case 0: return int(pick(NUMBERS));
          case 1: return int(rand(1 << 30));
          case 2: return defined.length ? res(pick(defined), pick([0, 1, -1, 0x1000])) : int(0);
          case 3: return pid(rand(nprocs));
          case 4: return str(pick(['', '/tmp/v0', 'maps', '"q"\\', 'é\u0007']));
          default: return iov(Array.from({ length: rand(3) }, () => ({ addr: value(1), len: value(1) })));
        }
      };
      return {
        threads: Array.from({ length: rand(3) }, () => ({
          calls: Array.from({ length: rand(6) }, () => {
            const d = pick(SYSCALL_DESCS);
            const args = d.args.map((a) => (a.type.t === 'flags' || a.type.t === 'enum') && rand(2) ? int(rand(2 ** 31)) : value(0));
            const c: Call = { name: d.name, args, ret: d.creates ? nextRet++ : null, props: rand(4) ? {} : { rerun: rand(9), fail_nth: rand(9) } };
            if (c.ret !== null) defined.push(c.ret);
            return rand(5) ? c : { ...c, comment: ['why this call'] };
          }),
        })),
      };
    });
    const p: Program = { header: { ...DEFAULT_HEADER, seed: String(n), options: rand(2) ? {} : { k: String(n) } }, procs };
    const text = formatProgram(p);
    assert.deepEqual(parseProgram(text), p, text);
  }
});

const H = 'profile: default\nseed: 1\nstrategy: random\n\n'; // lines 1-4; `proc 0:` is line 5
const T = H + 'proc 0:\n  thread 0:\n'; // the first call is line 7

const MALFORMED: [string, string, string][] = [
  ['unknown call', T + '    opne("/tmp/v0", O_RDWR)\n', 'bad.prog:7:5: unknown call \'opne\''],
  ['too many arguments', T + '    close(r0, 0x1)\n', 'bad.prog:7:15: close takes 1 argument, got 2'],
  ['too few arguments', T + '    open("/tmp/v0")\n', 'bad.prog:7:19: open takes 2 arguments, got 1'],
  ['bad character', T + '    close($)\n', "bad.prog:7:11: unexpected character '$'"],
  ['bad number', T + '    close(12ab)\n', "bad.prog:7:11: bad number '12ab'"],
  ['number a double cannot hold', T + '    close(0xffffffffffffffff)\n', "bad.prog:7:11: number out of range '0xffffffffffffffff'"],
  ['unterminated string', T + '    open("/tmp, O_RDWR)\n', 'bad.prog:7:10: unterminated string'],
  ['bad string escape', T + '    open("\\q", O_RDWR)\n', 'bad.prog:7:10: bad string "\\q"'],
  ['unknown flag', T + '    r0 = open("/tmp/v0", O_RDWR|O_CREATE)\n', "bad.prog:7:33: unknown flag 'O_CREATE' for open_flags"],
  ['flag name where no flags go', T + '    close(O_RDWR)\n', "bad.prog:7:11: expected a value for fd, got 'O_RDWR'"],
  ['missing comma', T + '    mem_read(0x0 0x1)\n', "bad.prog:7:18: expected ')', got '0x1'"],
  ['text after the call', T + '    close(0x1) x\n', "bad.prog:7:16: expected end of line, got 'x'"],
  ['unknown property', T + '    close(0x1) (retry: 2)\n', "bad.prog:7:17: unknown property 'retry'"],
  ['duplicate property', T + '    close(0x1) (rerun: 2, rerun: 3)\n', "bad.prog:7:27: duplicate property 'rerun'"],
  ['property without a number', T + '    close(0x1) (rerun: x)\n', "bad.prog:7:24: expected a number, got 'x'"],
  ['property too large', T + '    close(0x1) (fail_nth: 0x20000000000000)\n', 'bad.prog:7:27: fail_nth too large'],
  ['duplicate header key', 'profile: default\nseed: 1\nseed: 2\nstrategy: random\n', "bad.prog:3:1: duplicate header key 'seed'"],
  ['missing header key before the procs', 'profile: default\nstrategy: random\n\nproc 0:\n', "bad.prog:4:1: missing header key 'seed'"],
  ['missing header key at the end of the file', 'profile: default\nseed: 1\n', "bad.prog:3:1: missing header key 'strategy'"],
  ['unknown header key', 'colour: blue\n', "bad.prog:1:1: unknown header key 'colour'"],
  ['header value missing', 'profile: default\nseed:\n', "bad.prog:2:6: missing value for 'seed'"],
  ['header value with a space', 'profile: default\nseed: 1 2\n', 'bad.prog:2:9: unexpected text after seed value'],
  ['duplicate option', H.trim() + '\noption: a=1\noption:  a=2\n', "bad.prog:5:10: duplicate option 'a'"],
  ['option without =', H.trim() + '\noption: memoryPages\n', "bad.prog:4:9: expected option 'key=value'"],
  ['schedule not base64', H.trim() + '\nschedule: a$b\n', 'bad.prog:4:11: schedule is not base64'],
  ['header line that is none', 'profile default\n', "bad.prog:1:1: expected 'key: value' or 'proc 0:'"],
  ['proc numbered wrong', H + 'proc 1:\n', 'bad.prog:5:6: expected proc 0, got proc 1'],
  ['thread numbered wrong', H + 'proc 0:\n  thread 0:\nproc 1:\n  thread 1:\n', 'bad.prog:8:10: expected thread 0, got thread 1'],
  ['proc without a number', H + 'proc :\n', "bad.prog:5:6: expected a number, got ':'"],
  ['call outside a thread', H + 'proc 0:\n    close(0x1)\n', 'bad.prog:6:5: call outside a thread'],
];

for (const [name, text, message] of MALFORMED) {
  test(`malformed input is reported at its position: ${name}`, () => {
    assert.throws(() => parseProgram(text, 'bad.prog'), (e: unknown) => {
      assert.ok(e instanceof ParseError);
      assert.equal(e.message, message);
      return true;
    });
  });
}

test('a ParseError carries file, line, column and the bare reason', () => {
  try {
    parseProgram(T + '\n  # note\n    opne()\n', 'x.prog');
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof ParseError);
    assert.deepEqual([e.file, e.line, e.col, e.reason], ['x.prog', 9, 5, "unknown call 'opne'"]);
    assert.equal(e.message, "x.prog:9:5: unknown call 'opne'");
  }
});

const INVALID: [string, string, string][] = [
  ['undefined result', T + '    r0 = open("/tmp/v0", O_RDWR)\n    mem_read(r5+0x10, 0x1)\n', '<input>:8:14: proc 0 thread 0 call 1 (mem_read) uses undefined r5'],
  [
    'result of another proc',
    T + '    r0 = open("/tmp/v0", O_RDWR)\nproc 1:\n  thread 0:\n    fsync(0x3)\n    pwritev(0x3, [{0x0, 0x1}, {0x0, r0}], 0x0)\n',
    '<input>:11:37: proc 1 thread 0 call 1 (pwritev) uses r0 of proc 0',
  ],
  ['result defined twice', T + '    r0 = open("/tmp/v0", O_RDWR)\n  thread 1:\n      r0 = dup(0x3)\n', '<input>:9:7: r0 defined twice'],
  ['pid of a missing proc', T + '    proc_read(pid:0, "maps")\n    proc_read(pid:3, "maps")\n', '<input>:8:15: proc_read names missing proc 3'],
];

for (const [name, text, message] of INVALID) {
  test(`validate() problems are reported at the offending call: ${name}`, () => {
    assert.throws(() => parseProgram(text), (e: unknown) => e instanceof ParseError && e.message === message);
  });
}

test('comments in the procs go to the next call; trailing ones are dropped', () => {
  const p = parseProgram(T + '    # a\n\n    # b\n  thread 1:\n    # c\n    fsync(0x1)\n    # dangling\n');
  assert.deepEqual(p.procs[0]!.threads[1]!.calls[0]!.comment, ['a', 'b', 'c']);
});

test('formatting refuses header values the format cannot carry', () => {
  assert.throws(() => formatProgram({ header: { ...DEFAULT_HEADER, seed: 'two words' }, procs: [] }), /cannot write seed/);
  assert.throws(() => formatProgram({ header: DEFAULT_HEADER, procs: [{ threads: [{ calls: [call('close', [int(0.5)])] }] }] }), /non-integer/);
});
