import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared data folder (`../shared/data` from the repo root); tests skip where it is absent. */
export const SHARED_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
export const SYSDIG_DATA = path.join(SHARED_DATA, 'wordpress-sysdig-frasao');
export const STRACE_DATA = path.join(SHARED_DATA, 'wordpress-strace-castanhel');
export const HAS_SHARED_DATA = existsSync(SYSDIG_DATA) && existsSync(STRACE_DATA);

if (!HAS_SHARED_DATA) {
  console.warn(`shared data not found at ${SHARED_DATA}: tests on real recordings are skipped`);
}
