import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A web worker's request loop as call names: the normal traffic of the toy data sets. */
export const REQUEST_LOOP: readonly string[] = ['accept4', 'read', 'stat', 'openat', 'read', 'close', 'write', 'close'];

/** `n` repetitions of `loop`. */
export function loops(n: number, loop: readonly string[] = REQUEST_LOOP): string[] {
  return Array.from({ length: n }, () => loop).flat();
}

/** One recording of a toy data set: `normal/<name>.txt` or `exec/<name>.txt`, one call name per line. */
export interface ToyRecording {
  label: 'normal' | 'exec';
  /** File name without `.txt`; `<group>-<run>` gives the group (plugin) the protocols split on. */
  name: string;
  calls: readonly string[];
}

/** Writes a data set as `loadDataset` reads it, in a fresh temporary folder (or `<temp>/<folder>`). */
export async function writeToyDataset(recordings: readonly ToyRecording[], folder?: string): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'fml-toy-'));
  const dir = folder === undefined ? root : path.join(root, folder);
  for (const label of ['normal', 'exec']) await mkdir(path.join(dir, label), { recursive: true });
  for (const r of recordings) await writeFile(path.join(dir, r.label, `${r.name}.txt`), `${r.calls.join('\n')}\n`);
  return dir;
}

/**
 * Three plugins (a, b, c): normal runs of 400 calls, attack runs of 60 calls (shorter than any
 * window) ending in a clone/execve/wait4/mkdir burst.
 */
export function writeShortAttackDataset(): Promise<string> {
  return writeToyDataset(
    ['a', 'b', 'c'].flatMap((g): ToyRecording[] => [
      { label: 'normal', name: `${g}-1`, calls: loops(50) },
      { label: 'exec', name: `${g}-1`, calls: [...loops(7), 'clone', 'execve', 'wait4', 'mkdir'] },
    ]),
  );
}
