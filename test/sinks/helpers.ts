import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Counter, Gauge } from 'prom-client';
import type { FalcoAlert } from '../../src/falco/alert.js';

/** A Falco-shaped enriched alert numbered `seq` (in output_fields `test.seq`). */
export function makeAlert(seq: number): FalcoAlert {
  return {
    hostname: 'wp-node-1',
    output: `Shell spawned by web server (seq=${seq})`,
    output_fields: { 'evt.time': 1712345678901234567n + BigInt(seq), 'test.seq': seq, 'ml.verdict': 'confirmed', 'ml.score': 0.97 },
    priority: 'Critical',
    rule: 'Web Server Spawned Shell',
    source: 'syscall',
    tags: ['ml', 'confirmed'],
    time: '2024-04-05T19:34:38.901234567Z',
  };
}

/** The `test.seq` of a received payload, read without losing the bigint evt.time check. */
export function seqOf(payload: string): number {
  const m = /"test\.seq":(\d+)/.exec(payload);
  if (m === null) throw new Error(`no test.seq in ${payload}`);
  return Number(m[1]);
}

export function uuidOf(payload: string): string {
  return (JSON.parse(payload) as { uuid: string }).uuid;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fml-${prefix}-`));
}

/** Sum of a counter or gauge over the series whose labels include `labels`. */
export async function metricValue(metric: Counter<string> | Gauge<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}
