import { describe, expect, it } from 'vitest';
import { getProfileSpec } from '../../src/detectors/index.js';
import { callName } from '../../src/detectors/normal-profile.js';
import { profileWindowDetector } from '../../src/detectors/window-detector.js';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { WINDOW_MODEL_FILE_FORMAT, WINDOW_MODEL_FILE_VERSION, type LoadedWindowModel } from '../../src/models/window-model-file.js';
import { PolicyEngine, loadPolicyDir } from '../../src/policy/index.js';
import { DEFAULT_POLICIES_PATH } from '../../src/sidecar/config.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { Pipeline } from '../../src/sidecar/pipeline.js';
import type { AlertSink } from '../../src/sinks/alert-sink.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { ids, requestLoop } from '../detectors/helpers.js';

/** A STIDE window model learned from toy request loops, with a fixed alert threshold. */
async function toyModel(): Promise<LoadedWindowModel> {
  const profile = await getProfileSpec('stide').fit([requestLoop(1, 300), requestLoop(2, 300)], { windowSize: 40 }, { seed: 1 });
  const detector = profileWindowDetector(profile);
  return {
    detector,
    file: {
      format: WINDOW_MODEL_FILE_FORMAT,
      version: WINDOW_MODEL_FILE_VERSION,
      name: 'stide',
      window: { size: 40, stride: 10 },
      alert: { threshold: 0.1, k: 1, n: 1, cooldownWindows: 0 },
      detector: detector.toBody(),
      training: { data: 'toy', dataSha256: '', recordings: 2, attacks: 0, seed: 1, createdAt: '2026-01-01T00:00:00.000Z', versions: {} },
    },
  };
}

async function setup(options: { idleMs?: number; maxContainers?: number } = {}) {
  const metrics = new SidecarMetrics({ defaultMetrics: false });
  const engine = new PolicyEngine(await loadPolicyDir(DEFAULT_POLICIES_PATH), { metrics, hostname: 'test-node' });
  const sent: FalcoAlert[] = [];
  const sink: AlertSink = { name: 'memory', pending: 0, send: (a) => sent.push(a), close: async () => undefined };
  const pipeline = new Pipeline({ model: await toyModel(), policies: () => engine, sink, metrics, ...options });
  return { pipeline, metrics, sent };
}

const feed = (pipeline: Pipeline, calls: Int32Array, fields: Partial<SyscallEvent>, startNs = 0n): void => {
  calls.forEach((id, i) => pipeline.onEvent({ name: callName(id), kind: 'syscall', tid: 7, timeNs: startNs + BigInt(i) * 1000n, ...fields }));
};

const alert = (containerId: string): FalcoAlert => ({
  hostname: 'node-1',
  output: 'A shell was spawned',
  output_fields: { 'container.id': containerId, 'proc.name': 'sh' },
  priority: 'Notice',
  rule: 'Terminal shell in container',
  source: 'syscall',
  tags: ['container'],
  time: '2026-01-01T00:00:00.000000000Z',
});

describe('the sidecar pipeline (transport-free)', () => {
  it('raises one anomaly-only alert for the container whose windows leave the normal profile, naming what it learned about it', async () => {
    const { pipeline, metrics, sent } = await setup();
    feed(pipeline, requestLoop(3, 200), { containerId: 'normal-1', containerName: 'web-normal' });
    feed(pipeline, requestLoop(4, 200, true), { containerId: 'attacked-1', containerName: 'web-attacked', containerImage: 'wordpress' });
    expect(sent.map((a) => a.output_fields['ml.verdict'])).toEqual(['anomaly']);
    const anomaly = sent[0];
    expect(anomaly.output_fields).toMatchObject({ 'container.id': 'attacked-1', 'container.name': 'web-attacked', 'container.image.repository': 'wordpress', 'ml.model': 'stide' });
    expect(String(anomaly.output_fields['ml.top_syscalls'])).toMatch(/execve|clone|exit_group|wait4|arch_prctl/);
    expect(await metrics.alertsOut.get()).toMatchObject({ values: [{ labels: { verdict: 'anomaly' }, value: 1 }] });
    expect((await metrics.windowsScored.get()).values[0].value).toBeGreaterThan(100);
  });

  it('joins a Falco alert with its container: confirmed where the windows are anomalous, signature elsewhere and for unknown containers', async () => {
    const { pipeline, sent } = await setup();
    feed(pipeline, requestLoop(3, 200), { containerId: 'normal-1' });
    feed(pipeline, requestLoop(4, 200, true), { containerId: 'attacked-1' });
    for (const id of ['attacked-1', 'normal-1', 'never-seen']) pipeline.onFalcoAlert(alert(id));
    const byContainer = new Map(sent.filter((a) => a.rule === 'Terminal shell in container').map((a) => [a.output_fields['container.id'], a]));
    expect(byContainer.get('attacked-1')?.output_fields['ml.verdict']).toBe('confirmed');
    expect(byContainer.get('attacked-1')?.priority).toBe('Critical');
    expect(byContainer.get('normal-1')?.output_fields['ml.verdict']).toBe('signature');
    expect(byContainer.get('normal-1')?.priority).toBe('Notice');
    expect(byContainer.get('never-seen')?.output_fields['ml.verdict']).toBe('signature');
    expect(byContainer.get('never-seen')?.output_fields['ml.score']).toBeUndefined();
  });

  it('scores a short-lived container that never filled a window when it goes idle', async () => {
    const { pipeline, sent } = await setup({ idleMs: 1 });
    const oneShot = ids('accept4 read clone execve brk arch_prctl mmap openat read close exit_group wait4 close');
    feed(pipeline, oneShot, { containerId: 'one-shot' });
    expect(sent).toEqual([]);
    feed(pipeline, requestLoop(3, 5), { containerId: 'later' }, 50_000_000n);
    pipeline.housekeeping();
    expect(sent.map((a) => [a.output_fields['container.id'], a.output_fields['ml.verdict'], a.output_fields['ml.window_events']])).toEqual([['one-shot', 'anomaly', oneShot.length]]);
  });

  it('evicts idle containers and caps how many it tracks, counting both', async () => {
    const { pipeline, metrics } = await setup({ idleMs: 1, maxContainers: 3 });
    for (let c = 0; c < 5; c++) feed(pipeline, requestLoop(c, 5), { containerId: `c${c}` }, BigInt(c) * 10_000_000n);
    expect(pipeline.containers).toBe(3);
    pipeline.housekeeping();
    expect(pipeline.containers).toBe(1);
    const evicted = Object.fromEntries((await metrics.streamsEvicted.get()).values.map((v) => [v.labels.reason, v.value]));
    expect(evicted).toEqual({ idle: 2, max_containers: 2 });
    expect((await metrics.streamsTracked.get()).values[0].value).toBe(1);
  });
});
