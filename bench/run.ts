import { systemLine } from './system.js';

/** `tsx bench/run.ts all|<name>`: runs one benchmark or all of them, in this order. */
const BENCHES: Record<string, () => Promise<void>> = {
  ingest: async () => (await import('./ingest.bench.js')).run(),
  feed: async () => (await import('./feed.js')).run(),
  serve: async () => (await import('./serve.bench.js')).run(),
  learn: async () => (await import('./learn.bench.js')).run(),
  score: async () => (await import('./score.bench.js')).run(),
  windows: async () => (await import('./windows.bench.js')).run(),
  train: async () => (await import('./train.bench.js')).run(),
};

const which = process.argv[2] ?? 'all';
const names = which === 'all' ? Object.keys(BENCHES) : [which];
process.stdout.write(`${systemLine()}\n`);
for (const name of names) {
  const bench = BENCHES[name];
  if (bench === undefined) {
    process.stderr.write(`unknown benchmark "${name}"; choose all or ${Object.keys(BENCHES).join(', ')}\n`);
    process.exitCode = 2;
    break;
  }
  process.stdout.write(`\n== ${name}\n`);
  await bench();
}
