import { FormatError } from '../errors.js';

/**
 * The .npy header: a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` (numpy `lib/format.py`).
 * This file parses the subset of Python literals numpy writes (dicts, tuples, lists, strings,
 * integers with an optional Python 2 `L`, True/False/None) without `eval`, and formats a header
 * byte-for-byte as numpy 1.x/2.x `_write_array_header` does. Internal to npy.ts.
 */

/** A parsed Python literal. */
export type PyLiteral =
  | string
  | number
  | boolean
  | null
  | { kind: 'tuple'; items: PyLiteral[] }
  | { kind: 'list'; items: PyLiteral[] }
  | { kind: 'dict'; entries: [PyLiteral, PyLiteral][] };

/** `pyRepr`-like short description of a literal for error messages. */
export function describeLiteral(v: PyLiteral): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  if (v.kind === 'dict') return `{${v.entries.map(([k, x]) => `${describeLiteral(k)}: ${describeLiteral(x)}`).join(', ')}}`;
  const inner = v.items.map(describeLiteral).join(', ');
  return v.kind === 'list' ? `[${inner}]` : `(${inner}${v.items.length === 1 ? ',' : ''})`;
}

/**
 * Parses `text` as one Python literal; throws FormatError `${fn}: header is not a valid Python
 * literal (...)` naming the offset and the problem.
 */
export function parsePyLiteral(fn: string, text: string): PyLiteral {
  let pos = 0;
  const fail = (what: string): never => {
    const shown = text.length > 160 ? `${text.slice(0, 160)}...` : text;
    throw new FormatError(`${fn}: header is not a valid Python literal (${what} at offset ${pos}): ${JSON.stringify(shown)}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const sequence = (close: string): PyLiteral[] => {
    const items: PyLiteral[] = [];
    for (;;) {
      skipSpace();
      if (text[pos] === close) {
        pos++;
        return items;
      }
      items.push(value());
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
    }
  };
  const value = (): PyLiteral => {
    skipSpace();
    const c = text[pos];
    if (c === undefined) return fail('unexpected end');
    if (c === '{') {
      pos++;
      const entries: [PyLiteral, PyLiteral][] = [];
      for (;;) {
        skipSpace();
        if (text[pos] === '}') {
          pos++;
          return { kind: 'dict', entries };
        }
        const key = value();
        skipSpace();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        entries.push([key, value()]);
        skipSpace();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(') {
      pos++;
      const items = sequence(')');
      return { kind: 'tuple', items };
    }
    if (c === '[') {
      pos++;
      return { kind: 'list', items: sequence(']') };
    }
    if (c === "'" || c === '"') {
      pos++;
      let s = '';
      for (;;) {
        const d = text[pos++];
        if (d === undefined) return fail('unterminated string');
        if (d === c) return s;
        if (d === '\\') {
          const e = text[pos++];
          if (e === undefined) return fail('unterminated string');
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e;
        } else {
          s += d;
        }
      }
    }
    const num = /^[-+]?\d+[lL]?/.exec(text.slice(pos, pos + 40));
    if (num) {
      const digits = num[0].replace(/[lL]$/, '');
      const n = Number(digits);
      if (!Number.isSafeInteger(n)) fail(`integer ${digits} is too large`);
      pos += num[0].length;
      if (/[.eE]/.test(text[pos] ?? '')) fail('floats are not supported');
      return n;
    }
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, pos) && !/\w/.test(text[pos + word.length] ?? '')) {
        pos += word.length;
        return v;
      }
    }
    return fail(`unexpected character ${JSON.stringify(c)}`);
  };
  const result = value();
  skipSpace();
  if (pos !== text.length) fail('unexpected text after the literal');
  return result;
}

/** numpy's `ARRAY_ALIGN`: the data start is a multiple of this. */
const ARRAY_ALIGN = 64;
/** numpy's `GROWTH_AXIS_MAX_DIGITS`: spare room after the dict so the shape can grow in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** Python's `repr` of a tuple of ints: `()`, `(5,)`, `(2, 3)`. */
function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * The complete preamble (magic, version, header length, dict, padding, `\n`) that numpy writes
 * for a C-order array of `descr` and `shape`: version 1.0 unless the header needs more than
 * 65535 bytes (then 2.0), data aligned to 64 bytes, as `np.save` does.
 */
export function formatNpyPreamble(descr: string, shape: readonly number[]): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pyTuple(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = dict.length + 1; // + '\n'
  let prefix = 10; // magic (6) + version (2) + u16 length
  let padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
  let major = 1;
  if (hlen + padlen > 0xffff) {
    major = 2;
    prefix = 12; // u32 length
    padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
  }
  const out = new Uint8Array(prefix + hlen + padlen);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]); // \x93NUMPY, version
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, hlen + padlen, true);
  else view.setUint32(8, hlen + padlen, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i); // ASCII
  out.fill(0x20, prefix + dict.length, out.length - 1);
  out[out.length - 1] = 0x0a;
  return out;
}
