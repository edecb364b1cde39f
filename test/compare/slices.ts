import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { STRACE_DATA, SYSDIG_DATA } from '../helpers/shared-data.js';

/** Small real recordings of each data set (the shortest runs), by label folder. */
export const SYSDIG_SLICE = {
  exec: ['wordpress/exec/warfare-1.log', 'wordpress/exec/mail-masta-2.log'],
  normal: ['wordpress/normal/warfare-1.log', 'wordpress/normal/mail-masta-1.log'],
};
export const STRACE_SLICE = {
  exec: ['wordpress/iscc/exec/wordpress_exec_1', 'wordpress/iscc/exec/wordpress_exec_3'],
  normal: ['wordpress/iscc/normal/wordpress_normal_16', 'wordpress/iscc/normal/wordpress_normal_19'],
};

/**
 * A temporary data set folder of symbolic links to a few shared-data files (no copies):
 * `<tmp>/exec/<file>` and `<tmp>/normal/<file>`.
 */
export async function linkSlice(root: string, slice: { exec: string[]; normal: string[] }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fml-slice-'));
  for (const label of ['exec', 'normal'] as const) {
    await mkdir(path.join(dir, label));
    for (const file of slice[label]) await symlink(path.join(root, file), path.join(dir, label, path.basename(file)));
  }
  return dir;
}

export const sysdigSlice = (): Promise<string> => linkSlice(SYSDIG_DATA, SYSDIG_SLICE);
export const straceSlice = (): Promise<string> => linkSlice(STRACE_DATA, STRACE_SLICE);
