import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { readTraceFile } from '../src/traces/read-trace.js';
import { requireData, STRACE_DATA, SYSDIG_DATA } from './data.js';
import { printJson } from './system.js';

/**
 * Bytes → SyscallEvent for each recorder's real files, against a baseline in the same run
 * that only splits the same bytes into lines and counts them (the floor any reader pays).
 */
export async function run(): Promise<void> {
  if (!requireData()) return;
  const cases = [
    { name: 'sysdig-stripped', file: path.join(SYSDIG_DATA, 'wordpress/normal/file-manager-6.log') },
    { name: 'sysdig (-pc text)', file: path.join(SYSDIG_DATA, 'raw-sysdig-sample/wordpress/logs/normal/sysdig/warfare-1.log') },
    { name: 'strace', file: path.join(STRACE_DATA, 'wordpress/iscc/normal/wordpress_normal_20') },
  ];
  for (const c of cases) {
    const bytes = (await stat(c.file)).size;
    const repeats = Math.max(3, Math.ceil(60e6 / bytes));
    const baseline = await timeIt(repeats, () => countLines(c.file));
    let events = 0;
    const reader = await timeIt(repeats, async () => {
      const s = await readTraceFile(c.file, () => {});
      events = s.events;
      return s.lines;
    });
    const mbps = (bytes * repeats) / 1e6 / reader.seconds;
    const eventsPerSec = (events * repeats) / reader.seconds;
    process.stdout.write(
      `${c.name}: ${(bytes / 1e6).toFixed(1)} MB x ${repeats}, ${events} events per pass: ${(eventsPerSec / 1e6).toFixed(2)} M events/s, ${mbps.toFixed(0)} MB/s; ` +
        `line-split baseline ${((bytes * repeats) / 1e6 / baseline.seconds).toFixed(0)} MB/s; reader/baseline time ratio ${(reader.seconds / baseline.seconds).toFixed(2)}\n`,
    );
    printJson({ name: `ingest:${c.name}`, bytes, events, eventsPerSec: Math.round(eventsPerSec), mbPerSec: Number(mbps.toFixed(1)), ratioToBaseline: Number((reader.seconds / baseline.seconds).toFixed(2)) });
  }
}

async function timeIt(repeats: number, fn: () => Promise<number>): Promise<{ seconds: number }> {
  await fn(); // warm-up
  const start = performance.now();
  for (let i = 0; i < repeats; i++) await fn();
  return { seconds: (performance.now() - start) / 1000 };
}

/** Baseline: decode and split into lines, nothing more. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop() ?? '';
    lines += parts.length;
  }
  return lines + (rest === '' ? 0 : 1);
}
