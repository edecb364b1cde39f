/**
 * Calls per category. The mapping is the syscall table's (`src/syscalls/syscall-table.ts`: one
 * category per x86-64 syscall, with the rule that assigns it); this file only orders and names
 * the categories the way the report shows them.
 */
import { syscallCategory, type SyscallCategory } from '../syscalls/syscall-table.js';

/** Report order and labels of the nine categories (the list). */
export const CATEGORY_LABELS: ReadonlyArray<readonly [SyscallCategory, string]> = [
  ['file', 'file'],
  ['network', 'network'],
  ['process', 'process'],
  ['memory', 'memory'],
  ['time', 'time'],
  ['signal', 'signals'],
  ['ipc', 'IPC'],
  ['device', 'device'],
  ['other', 'other'],
];

/**
 * Calls per category of one recording. A name outside the table (none after canonical naming,
 * since readers mark unknown names as recorder events) would count as `other`.
 */
export function countByCategory(syscalls: ReadonlyMap<string, number>): Map<SyscallCategory, number> {
  const out = new Map<SyscallCategory, number>(CATEGORY_LABELS.map(([c]) => [c, 0]));
  for (const [name, n] of syscalls) {
    const category = syscallCategory(name) ?? 'other';
    out.set(category, (out.get(category) ?? 0) + n);
  }
  return out;
}
