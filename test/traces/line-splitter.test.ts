import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/traces/line-splitter.js';

function split(chunks: Array<Uint8Array | string>, max?: number): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = [];
  const s = new LineSplitter((line, cut) => out.push([line, cut]), max);
  for (const c of chunks) {
    if (typeof c === 'string') s.pushText(c);
    else s.pushBytes(c);
  }
  s.end();
  return out;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('LineSplitter', () => {
  it('handles LF, CRLF, empty lines and a missing final newline', () => {
    expect(split([bytes('a\r\nb\n\nc')]).map(([l]) => l)).toEqual(['a', 'b', '', 'c']);
    expect(split([bytes('a\n')]).map(([l]) => l)).toEqual(['a']);
    expect(split([bytes('')])).toEqual([]);
  });

  it('joins lines and multi-byte characters split across chunks', () => {
    const all = bytes('héllo wörld\nsecond ☃ line\r\nthird');
    const chunks: Buffer[] = [];
    for (let i = 0; i < all.length; i += 3) chunks.push(all.subarray(i, i + 3));
    expect(split(chunks).map(([l]) => l)).toEqual(['héllo wörld', 'second ☃ line', 'third']);
  });

  it('turns invalid UTF-8 into U+FFFD and drops a byte-order mark', () => {
    const bad = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('ok\n'), Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a])]);
    expect(split([bad]).map(([l]) => l)).toEqual(['ok', 'a\ufffd\ufffdb']);
    expect(split(['\ufeffx\ny']).map(([l]) => l)).toEqual(['x', 'y']);
  });

  it('cuts runaway lines instead of growing without bound', () => {
    const out = split([bytes('short\n'), bytes('x'.repeat(30)), bytes('y'.repeat(30)), bytes('\nnext\n')], 40);
    expect(out).toEqual([
      ['short', false],
      ['x'.repeat(30) + 'y'.repeat(10), true],
      ['next', false],
    ]);
  });
});
