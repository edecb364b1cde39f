import { describe, expect, it } from 'vitest';
import { sequenceFormat } from '../../src/traces/sequence.js';
import { names, parseLines } from './helpers.js';

describe('sequence reader', () => {
  it('reads one or several names per line', () => {
    const { events, skipped } = parseLines(sequenceFormat, 'open read close\nread\n  write\tpread  \nSIGCHLD\n');
    expect(skipped).toEqual([]);
    expect(names(events)).toEqual(['open', 'read', 'close', 'read', 'write', 'pread64', 'SIGCHLD']);
    expect(events.at(-1)?.kind).toBe('other');
  });

  it('skips a line with anything but names, whole', () => {
    const { events, skipped } = parseLines(sequenceFormat, 'open\nread 3 close\nclose\n');
    expect(names(events)).toEqual(['open', 'close']);
    expect(skipped).toEqual([{ line: 2, reason: '"3" is not a syscall name', text: 'read 3 close' }]);
  });

  it('recognises its own first lines', () => {
    expect(sequenceFormat.sniff(['open read close', 'read'])).toBe(true);
    expect(sequenceFormat.sniff(['mmap addr=0'])).toBe(false);
  });
});
