import { describe, expect, it } from 'vitest';
import { CATEGORY_LABELS, countByCategory } from '../../src/compare/categories.js';
import { SYSCALL_CATEGORIES, SYSCALL_TABLE } from '../../src/syscalls/syscall-table.js';

describe('syscall categories in the compare report', () => {
  it("names the issue's nine categories, each once", () => {
    expect(CATEGORY_LABELS.map(([, label]) => label)).toEqual(['file', 'network', 'process', 'memory', 'time', 'signals', 'IPC', 'device', 'other']);
    expect(CATEGORY_LABELS.map(([c]) => c).sort()).toEqual([...SYSCALL_CATEGORIES].sort());
  });

  it('gives every one of the 384 x86-64 syscalls exactly one reported category', () => {
    expect(SYSCALL_TABLE).toHaveLength(384);
    const reported = new Set(CATEGORY_LABELS.map(([c]) => c));
    for (const entry of SYSCALL_TABLE) expect(reported.has(entry.category), entry.name).toBe(true);
    // one call of every syscall: the categories add up to the whole table
    const counts = countByCategory(new Map(SYSCALL_TABLE.map((e) => [e.name, 1])));
    expect([...counts.values()].reduce((s, n) => s + n, 0)).toBe(384);
    for (const [category, n] of counts) expect(n).toBe(SYSCALL_TABLE.filter((e) => e.category === category).length);
  });

  it.each([
    ['read', 'file'],
    ['accept4', 'network'],
    ['clone', 'process'],
    ['mmap', 'memory'],
    ['setitimer', 'time'],
    ['rt_sigaction', 'signal'],
    ['futex', 'ipc'],
    ['ioctl', 'device'],
    ['uname', 'other'],
  ] as const)('%s counts as %s', (name, category) => {
    expect(countByCategory(new Map([[name, 3]])).get(category)).toBe(3);
  });
});
