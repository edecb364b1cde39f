import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { DiskSpool } from '../../src/sinks/disk-spool.js';
import { SidecarError } from '../../src/errors.js';
import { metricValue, tempDir } from './helpers.js';

const line = (i: number): string => `{"output":"alert ${i}","pad":"${'x'.repeat(40)}"}`;

function drain(spool: DiskSpool, max = 1000): string[] {
  const out: string[] = [];
  for (;;) {
    const batch = spool.take(7);
    if (batch.length === 0 || out.length >= max) return out;
    for (const r of batch) {
      out.push(r.body);
      spool.ack(r);
    }
  }
}

describe('DiskSpool', () => {
  it('gives lines back in order across segments and deletes delivered segments', () => {
    const dir = tempDir('spool-order');
    const spool = DiskSpool.open({ dir, segmentBytes: 300 });
    for (let i = 0; i < 40; i++) expect(spool.append(line(i))).toBe(true);
    expect(spool.depth).toBe(40);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThan(5);
    expect(drain(spool)).toEqual(Array.from({ length: 40 }, (_, i) => line(i)));
    expect(spool.depth).toBe(0);
    spool.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-'))).toEqual([]);
  });

  it('resumes after a restart where the last one stopped acking', () => {
    const dir = tempDir('spool-resume');
    const first = DiskSpool.open({ dir, segmentBytes: 400 });
    for (let i = 0; i < 30; i++) first.append(line(i));
    const taken = first.take(12);
    for (const r of taken.slice(0, 10)) first.ack(r); // 10 and 11 taken, never acked
    first.close();

    const second = DiskSpool.open({ dir, segmentBytes: 400 });
    expect(second.depth).toBe(20);
    second.append(line(30));
    expect(drain(second)).toEqual(Array.from({ length: 21 }, (_, i) => line(i + 10)));
    second.close();
  });

  it('skips and counts a partial last line left by a crash mid-write', async () => {
    const dir = tempDir('spool-crash');
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const first = DiskSpool.open({ dir });
    for (let i = 0; i < 3; i++) first.append(line(i));
    first.close();
    const [segment] = readdirSync(dir).filter((f) => f.startsWith('segment-'));
    appendFileSync(join(dir, segment), '{"output":"cut by the cra');

    const second = DiskSpool.open({ dir, metrics });
    second.append(line(3));
    expect(drain(second)).toEqual([line(0), line(1), line(2), line(3)]);
    expect(await metricValue(metrics.dropped, { reason: 'spool_partial_line' })).toBe(1);
    second.close();
  });

  it('skips and counts a damaged line in the middle', async () => {
    const dir = tempDir('spool-corrupt');
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    writeFileSync(join(dir, 'segment-0000000007.ndjson'), `${line(0)}\ngarbage\n${line(1)}\n`);
    const spool = DiskSpool.open({ dir, metrics });
    expect(spool.depth).toBe(3);
    expect(drain(spool)).toEqual([line(0), line(1)]);
    expect(spool.depth).toBe(0);
    expect(await metricValue(metrics.dropped, { reason: 'spool_corrupt' })).toBe(1);
    spool.close();
  });

  it('refuses lines past maxBytes, counting each in dropped', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const spool = DiskSpool.open({ dir: tempDir('spool-full'), maxBytes: 500, metrics });
    let accepted = 0;
    for (let i = 0; i < 20; i++) if (spool.append(line(i))) accepted++;
    expect(accepted).toBe(Math.floor(500 / (line(0).length + 1)));
    expect(await metricValue(metrics.dropped, { reason: 'spool_full' })).toBe(20 - accepted);
    expect(await metricValue(metrics.spooled)).toBe(accepted);
    expect(await metricValue(metrics.spoolDepth)).toBe(accepted);
    spool.close();
  });

  it('throws FML_ERR_SPOOL_UNAVAILABLE for a path it cannot create', () => {
    const file = join(tempDir('spool-bad'), 'a-file');
    writeFileSync(file, 'x');
    expect(() => DiskSpool.open({ dir: join(file, 'spool') })).toThrow(SidecarError);
  });
});

describe('DiskSpool after a crash (no close)', () => {
  it('delivers again what the lost cursor had not recorded: at-least-once, never less', () => {
    const dir = tempDir('spool-nocl');
    const crashed = DiskSpool.open({ dir, cursorFlushMs: 60_000 });
    for (let i = 0; i < 5; i++) crashed.append(line(i));
    for (const r of crashed.take(2)) crashed.ack(r); // acked, but the cursor was never saved
    const next = DiskSpool.open({ dir });
    expect(drain(next)).toEqual(Array.from({ length: 5 }, (_, i) => line(i)));
    next.close();
  });
});
