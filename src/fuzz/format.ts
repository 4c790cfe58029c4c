// The program text format (syzkaller's prog/encoding.go, in small): one
// canonical, line-based, diff-able text for a Program, and a parser that
// reports every problem as file:line:col. Layout:
//
//   # header comments
//   profile: default
//   seed: 42
//   strategy: pct:3
//   option: memoryPages=4096        (sorted by key)
//   schedule: AAECAwQ=              (optional)
//
//   proc 0:
//     thread 0:
//       # call comment
//       r0 = open("/tmp/v0", O_RDWR|O_CREAT)
//       pwritev(r0, [{r1, 0xc}, {r1+0x1000, 0xc}], 0x0) (rerun: 3, fail_nth: 2)
//
// Structure comes from the `proc N:` / `thread N:` keywords, so indentation
// is not significant when parsing; blank lines are ignored. Comments in the
// procs belong to the next call; comments after the last call are dropped.

import { DESC_BY_NAME, formatFlags, parseFlags, type ArgType, type FlagSet } from '../../syscalls/index.js';
import { validate, type Arg, type Call, type CallProps, type Header, type IovSeg, type Program } from './program.js';

export class ParseError extends Error {
  /** `message` is `${file}:${line}:${col}: ${reason}`. */
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
    this.name = 'ParseError';
  }
}

// ------------------------------------------------------------------ format

const PROP_KEYS = ['rerun', 'fail_nth'] as const;

function hex(v: number): string {
  if (!Number.isInteger(v)) throw new Error(`cannot write non-integer value ${v}`);
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

function dec(v: number, what: string): string {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`cannot write ${what} ${v}`);
  return String(v);
}

/** A header value must be one whitespace-free token to survive a round trip. */
function word(v: string, what: string, allowEmpty = false): string {
  if ((!allowEmpty && v === '') || /\s/.test(v)) throw new Error(`cannot write ${what} ${JSON.stringify(v)}`);
  return v;
}

function comment(c: string): string {
  if (/[\r\n]/.test(c)) throw new Error(`cannot write multi-line comment ${JSON.stringify(c)}`);
  return c === '' ? '#' : `# ${c}`;
}

/** An argument; ints of a flags/enum argument print symbolically. */
export function formatArg(a: Arg, type?: ArgType): string {
  switch (a.kind) {
    case 'int':
      // Flag names are int32 bit patterns: other values print as plain numbers.
      if (type && (type.t === 'flags' || type.t === 'enum') && Number.isInteger(a.value) && a.value >= 0 && a.value <= 0x7fffffff) {
        return formatFlags(type.set, a.value);
      }
      return hex(a.value);
    case 'str':
      return JSON.stringify(a.value);
    case 'res':
      return `r${dec(a.ref, 'result')}${a.add > 0 ? `+${hex(a.add)}` : a.add < 0 ? hex(a.add) : ''}`;
    case 'pid':
      return `pid:${dec(a.proc, 'pid')}`;
    case 'iov':
      return `[${a.segs.map((s) => `{${formatArg(s.addr)}, ${formatArg(s.len)}}`).join(', ')}]`;
  }
}

/** One call line, without its comment lines or indentation. */
export function formatCall(c: Call): string {
  const desc = DESC_BY_NAME.get(c.name);
  const args = c.args.map((a, i) => formatArg(a, desc?.args[i]?.type)).join(', ');
  const props = PROP_KEYS.filter((k) => c.props[k] !== undefined).map((k) => `${k}: ${dec(c.props[k]!, k)}`);
  const ret = c.ret === null ? '' : `r${dec(c.ret, 'result')} = `;
  return `${ret}${c.name}(${args})${props.length ? ` (${props.join(', ')})` : ''}`;
}

export function formatProgram(p: Program): string {
  const h = p.header;
  const out = (h.comments ?? []).map(comment);
  out.push(`profile: ${word(h.profile, 'profile')}`, `seed: ${word(h.seed, 'seed')}`, `strategy: ${word(h.strategy, 'strategy')}`);
  for (const k of Object.keys(h.options).sort()) {
    if (k.includes('=')) throw new Error(`cannot write option key ${JSON.stringify(k)}`);
    out.push(`option: ${word(k, 'option key')}=${word(h.options[k]!, 'option value', true)}`);
  }
  // An empty decision log (a run without a single choice) is `schedule:`.
  if (h.schedule !== undefined) out.push(`schedule:${h.schedule && ' '}${word(h.schedule, 'schedule', true)}`);
  p.procs.forEach((pr, pi) => {
    if (pi === 0) out.push('');
    out.push(`proc ${pi}:`);
    pr.threads.forEach((t, ti) => {
      out.push(`  thread ${ti}:`);
      for (const c of t.calls) {
        for (const line of c.comment ?? []) out.push(`    ${comment(line)}`);
        out.push(`    ${formatCall(c)}`);
      }
    });
  });
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------ tokens

type Tok =
  | { kind: 'name' | 'punct' | 'end'; text: string; col: number }
  | { kind: 'num'; text: string; col: number; value: number }
  | { kind: 'str'; text: string; col: number; value: string };

type Fail = (col: number, reason: string) => never;

const PUNCT = '()[]{},=+-|:';

function isWord(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

function lex(s: string, fail: Fail): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    const start = i;
    const col = i + 1;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      while (isWord(s[i])) i++;
      toks.push({ kind: 'name', text: s.slice(start, i), col });
    } else if (/[0-9]/.test(c)) {
      while (isWord(s[i])) i++;
      const text = s.slice(start, i);
      if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text) || text.startsWith('0X')) fail(col, `bad number '${text}'`);
      const value = Number(text);
      // Reject numbers a double would silently round (0xffffffffffffffff).
      if (!Number.isFinite(value) || BigInt(text) !== BigInt(value)) fail(col, `number out of range '${text}'`);
      toks.push({ kind: 'num', text, col, value });
    } else if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
      if (i >= s.length) fail(col, 'unterminated string');
      const text = s.slice(start, ++i);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        fail(col, `bad string ${text}`);
      }
      toks.push({ kind: 'str', text, col, value: value as string });
    } else if (PUNCT.includes(c)) {
      i++;
      toks.push({ kind: 'punct', text: c, col });
    } else {
      fail(col, `unexpected character '${c}'`);
    }
  }
  toks.push({ kind: 'end', text: '', col: s.length + 1 });
  return toks;
}

const RES = /^r([0-9]+)$/;

/** Where a call and the results/pids it names sit, for validate() problems. */
interface CallPos {
  line: number;
  col: number;
  refs: { ref: number; col: number }[];
  pids: { proc: number; col: number }[];
}

/** Recursive descent over the tokens of one line. */
class LineParser {
  private i = 0;
  private readonly toks: Tok[];

  constructor(
    text: string,
    readonly fail: Fail,
  ) {
    this.toks = lex(text, fail);
  }

  peek(): Tok {
    return this.toks[this.i]!;
  }

  next(): Tok {
    const t = this.toks[this.i]!;
    if (t.kind !== 'end') this.i++;
    return t;
  }

  accept(p: string): Tok | null {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p ? this.next() : null;
  }

  expect(p: string): Tok {
    return this.accept(p) ?? this.unexpected(`'${p}'`);
  }

  expectNum(): number {
    const t = this.next();
    return t.kind === 'num' ? t.value : this.unexpected('a number', t);
  }

  expectEnd(): void {
    if (this.peek().kind !== 'end') this.unexpected('end of line');
  }

  unexpected(what: string, t = this.peek()): never {
    return this.fail(t.col, `expected ${what}, got ${t.kind === 'end' ? 'end of line' : `'${t.text}'`}`);
  }

  /** `proc N:` or `thread N:`, checking N against the expected number. */
  header(keyword: string, expected: number): void {
    this.next();
    const t = this.peek();
    const n = this.expectNum();
    if (n !== expected) this.fail(t.col, `expected ${keyword} ${expected}, got ${keyword} ${n}`);
    this.expect(':');
    this.expectEnd();
  }

  call(pos: CallPos): Call {
    let ret: number | null = null;
    let name = this.next();
    const m = RES.exec(name.text);
    if (name.kind === 'name' && m && this.accept('=')) {
      ret = Number(m[1]);
      name = this.next();
    }
    if (name.kind !== 'name') this.unexpected('a call name', name);
    const desc = DESC_BY_NAME.get(name.text) ?? this.fail(name.col, `unknown call '${name.text}'`);
    this.expect('(');
    const args: Arg[] = [];
    const cols: number[] = [];
    let close = this.accept(')');
    if (!close) {
      do {
        cols.push(this.peek().col);
        const d = desc.args[args.length];
        args.push(this.arg(pos, d?.name ?? 'argument', d?.type));
      } while (this.accept(','));
      close = this.expect(')');
    }
    const want = desc.args.length;
    if (args.length !== want) {
      const col = args.length > want ? cols[want]! : close.col;
      this.fail(col, `${desc.name} takes ${want} argument${want === 1 ? '' : 's'}, got ${args.length}`);
    }
    const props: { -readonly [K in keyof CallProps]: CallProps[K] } = {};
    if (this.accept('(')) {
      do {
        const k = this.next();
        if (k.kind !== 'name') this.unexpected('a property name', k);
        const key = PROP_KEYS.find((p) => p === k.text) ?? this.fail(k.col, `unknown property '${k.text}'`);
        if (props[key] !== undefined) this.fail(k.col, `duplicate property '${key}'`);
        this.expect(':');
        const v = this.peek();
        props[key] = this.expectNum();
        if (!Number.isSafeInteger(props[key])) this.fail(v.col, `${key} too large`);
      } while (this.accept(','));
      this.expect(')');
    }
    this.expectEnd();
    return { name: desc.name, args, ret, props };
  }

  /** One argument; `type` is undefined past the description's arguments. */
  arg(pos: CallPos, argName: string, type: ArgType | undefined): Arg {
    const t = this.peek();
    const set = type && (type.t === 'flags' || type.t === 'enum') ? type.set : null;
    const m = RES.exec(t.text);
    if (t.kind === 'str') {
      this.next();
      return { kind: 'str', value: t.value };
    }
    if (t.kind === 'name' && m) {
      this.next();
      const ref = Number(m[1]);
      pos.refs.push({ ref, col: t.col });
      const add = this.accept('+') ? this.expectNum() : this.accept('-') ? -this.expectNum() : 0;
      return { kind: 'res', ref, add: add || 0 };
    }
    if (t.kind === 'name' && t.text === 'pid') {
      this.next();
      this.expect(':');
      const proc = this.expectNum();
      pos.pids.push({ proc, col: t.col });
      return { kind: 'pid', proc };
    }
    if (this.accept('[')) {
      const segs: IovSeg[] = [];
      if (!this.accept(']')) {
        do {
          this.expect('{');
          const addr = this.arg(pos, 'iov addr', { t: 'addr' });
          this.expect(',');
          const len = this.arg(pos, 'iov len', { t: 'len' });
          this.expect('}');
          segs.push({ addr, len });
        } while (this.accept(','));
        this.expect(']');
      }
      return { kind: 'iov', segs };
    }
    if (t.kind === 'name' && (set || !type)) return { kind: 'int', value: this.flags(set) };
    if (t.kind === 'num' && set && this.toks[this.i + 1]?.text === '|') return { kind: 'int', value: this.flags(set) };
    if (t.kind === 'num' || (t.kind === 'punct' && t.text === '-')) {
      const v = this.accept('-') ? -this.expectNum() : this.expectNum();
      return { kind: 'int', value: v || 0 };
    }
    return this.unexpected(`a value for ${argName}`, t);
  }

  /** NAME|NAME|0x10 against a flag set (any names when the set is unknown). */
  flags(set: FlagSet | null): number {
    let v = 0;
    do {
      const t = this.next();
      if (t.kind === 'num') v |= t.value;
      else if (t.kind !== 'name') this.unexpected('a flag', t);
      else if (set) v |= parseFlags(set, t.text) ?? this.fail(t.col, `unknown flag '${t.text}' for ${set.name}`);
    } while (this.accept('|'));
    return v;
  }
}

// ------------------------------------------------------------------ parse

const HEADER_KEYS = ['profile', 'seed', 'strategy'] as const;

function commentText(s: string, at: number): string {
  return s.slice(s[at + 1] === ' ' ? at + 2 : at + 1);
}

export function parseProgram(text: string, file = '<input>'): Program {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const failAt = (line: number, col: number, reason: string): never => {
    throw new ParseError(file, line, col, reason);
  };
  const indentOf = (s: string): number => s.length - s.trimStart().length;

  // Header: comments and `key: value` lines up to the first `proc`.
  const comments: string[] = [];
  const fields = new Map<string, string>();
  const options: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const s = lines[i]!;
    const ln = i + 1;
    const ind = indentOf(s);
    if (ind === s.length) continue;
    if (s[ind] === '#') {
      comments.push(commentText(s, ind));
      continue;
    }
    if (/^proc\b/.test(s.slice(ind))) break;
    const m = /^([A-Za-z_]\w*)[ \t]*:[ \t]*(.*?)[ \t]*$/d.exec(s.slice(ind));
    if (!m) failAt(ln, ind + 1, "expected 'key: value' or 'proc 0:'");
    const key = m![1]!;
    const value = m![2]!;
    const vcol = ind + m!.indices![2]![0] + 1;
    const known = ['option', 'schedule', ...HEADER_KEYS].includes(key);
    if (!known) failAt(ln, ind + 1, `unknown header key '${key}'`);
    if (value === '' && key !== 'schedule') failAt(ln, vcol, `missing value for '${key}'`);
    const space = value.search(/\s/);
    if (space >= 0) failAt(ln, vcol + space + value.slice(space).search(/\S/), `unexpected text after ${key} value`);
    if (key === 'option') {
      const eq = value.indexOf('=');
      if (eq <= 0) failAt(ln, vcol, "expected option 'key=value'");
      const k = value.slice(0, eq);
      if (k in options) failAt(ln, vcol, `duplicate option '${k}'`);
      options[k] = value.slice(eq + 1);
      continue;
    }
    if (fields.has(key)) failAt(ln, ind + 1, `duplicate header key '${key}'`);
    if (key === 'schedule' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) failAt(ln, vcol, 'schedule is not base64');
    fields.set(key, value);
  }
  const headerEnd = Math.min(i + 1, lines.length);
  for (const k of HEADER_KEYS) if (!fields.has(k)) failAt(headerEnd, 1, `missing header key '${k}'`);
  const header: { -readonly [K in keyof Header]: Header[K] } = {
    profile: fields.get('profile')!,
    seed: fields.get('seed')!,
    strategy: fields.get('strategy')!,
    options,
  };
  if (fields.has('schedule')) header.schedule = fields.get('schedule')!;
  if (comments.length) header.comments = comments;

  // Procs, threads and calls.
  const procs: { threads: { calls: Call[] }[] }[] = [];
  const where: CallPos[][][] = [];
  let pending: string[] = [];
  for (; i < lines.length; i++) {
    const s = lines[i]!;
    const ln = i + 1;
    const ind = indentOf(s);
    if (ind === s.length) continue;
    if (s[ind] === '#') {
      pending.push(commentText(s, ind));
      continue;
    }
    const lp = new LineParser(s, (col, reason) => failAt(ln, col, reason));
    const first = lp.peek();
    const proc = procs[procs.length - 1];
    if (first.kind === 'name' && first.text === 'proc') {
      lp.header('proc', procs.length);
      procs.push({ threads: [] });
      where.push([]);
    } else if (first.kind === 'name' && first.text === 'thread') {
      if (!proc) failAt(ln, first.col, 'thread outside a proc');
      lp.header('thread', proc!.threads.length);
      proc!.threads.push({ calls: [] });
      where[where.length - 1]!.push([]);
    } else {
      const thread = proc?.threads[proc.threads.length - 1];
      if (!thread) failAt(ln, first.col, 'call outside a thread');
      const pos: CallPos = { line: ln, col: first.col, refs: [], pids: [] };
      const call = lp.call(pos);
      thread!.calls.push(pending.length ? { ...call, comment: pending } : call);
      where[where.length - 1]!.at(-1)!.push(pos);
      pending = [];
    }
  }

  const program: Program = { header, procs };
  const problem = validate(program)[0];
  if (problem !== undefined) {
    const [line, col] = locate(problem, program, where);
    failAt(line, col, problem);
  }
  return program;
}

/** Map a validate() message back to the call (and token) it is about. */
function locate(problem: string, p: Program, where: CallPos[][][]): [number, number] {
  const flat = where.flat(2);
  const first: [number, number] = flat.length ? [flat[0]!.line, flat[0]!.col] : [1, 1];
  let m = /^proc (\d+) thread (\d+) call (\d+) \(.*\) uses (?:undefined )?r(\d+)/.exec(problem);
  if (m) {
    const c = where[Number(m[1])]?.[Number(m[2])]?.[Number(m[3])];
    const r = c?.refs.find((x) => x.ref === Number(m![4]));
    return c ? [c.line, r?.col ?? c.col] : first;
  }
  m = /^r(\d+) defined twice$/.exec(problem);
  if (m) {
    const calls = p.procs.flatMap((pr) => pr.threads.flatMap((t) => t.calls));
    const defs = flat.filter((_, k) => calls[k]!.ret === Number(m![1]));
    return defs[1] ? [defs[1].line, defs[1].col] : first;
  }
  m = /names missing proc (-?\d+)$/.exec(problem);
  if (m) {
    for (const c of flat) {
      const bad = c.pids.find((x) => x.proc === Number(m![1]));
      if (bad) return [c.line, bad.col];
    }
  }
  return first;
}
