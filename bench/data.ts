import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Benchmarks read real recordings from the shared data; they say so and stop where it is absent. */
export const SYSDIG_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/data/wordpress-sysdig-frasao');
export const STRACE_DATA = path.resolve(SYSDIG_DATA, '../wordpress-strace-castanhel');

export function requireData(): boolean {
  if (existsSync(SYSDIG_DATA) && existsSync(STRACE_DATA)) return true;
  process.stdout.write(`skipped: shared data not found at ${path.dirname(SYSDIG_DATA)}\n`);
  return false;
}
