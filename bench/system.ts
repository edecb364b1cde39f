import os from 'node:os';

/** The line every benchmark prints first: figures mean little without the machine. */
export function systemLine(): string {
  const cpus = os.cpus();
  return `node ${process.version}, ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

/** Runs `fn` until `minMs` have passed (after a warm-up), returning operations per second. */
export function measure(fn: () => number, minMs = 1000): { opsPerSec: number; ms: number; ops: number } {
  fn(); // warm-up: JIT and caches
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    ops += fn();
    elapsed = performance.now() - start;
  }
  return { opsPerSec: (ops * 1000) / elapsed, ms: elapsed, ops };
}

export interface BenchResult {
  name: string;
  [figure: string]: string | number;
}

/** The machine-readable last line of a benchmark. */
export function printJson(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify({ ...result, node: process.version, cpu: os.cpus()[0]?.model ?? '', cores: os.cpus().length })}\n`);
}
