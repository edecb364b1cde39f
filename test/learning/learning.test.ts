import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callName } from '../../src/detectors/normal-profile.js';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { ProfileStore } from '../../src/learning/profile-store.js';
import { LEARNING_DEFAULTS } from '../../src/learning/workload.js';
import { workloadKey, workloadName } from '../../src/learning/workload-identity.js';
import { WorkloadRegistry } from '../../src/learning/workload-registry.js';
import { loadWindowModelFile } from '../../src/models/window-model-file.js';
import { PolicyEngine, loadPolicyDir } from '../../src/policy/index.js';
import { DEFAULT_MODEL_PATH, DEFAULT_POLICIES_PATH } from '../../src/sidecar/config.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { Pipeline } from '../../src/sidecar/pipeline.js';
import type { AlertSink } from '../../src/sinks/alert-sink.js';
import { requestLoop } from '../detectors/helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-learning-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('workload identity', () => {
  it('keys containers by image, by Kubernetes workload, or by container', () => {
    const fields = { 'container.image.repository': 'wordpress', 'k8s.ns.name': 'blog', 'k8s.pod.name': 'wp-7d9f8b6c5d-x2x7q' };
    expect(workloadKey('image', 'c1', fields)).toBe('image:wordpress');
    expect(workloadKey('k8s', 'c1', fields)).toBe('k8s:blog/wp');
    expect(workloadKey('container', 'c1', fields)).toBe('container:c1');
    expect(workloadKey('k8s', 'c1', { 'container.image.repository': 'nginx' })).toBe('image:nginx');
    expect(workloadKey('image', 'c1', {})).toBe('container:c1');
    expect(workloadName('db-0')).toBe('db');
    expect(workloadName('fluentd-8x7kq')).toBe('fluentd');
  });
});

async function learningPipeline(storeDir: string) {
  const metrics = new SidecarMetrics({ defaultMetrics: false });
  const registry = await WorkloadRegistry.open({
    keyMode: 'image',
    learning: { ...LEARNING_DEFAULTS, detector: 'stide', learnMs: 0, minEvents: 5000, strideCalls: 20 },
    store: new ProfileStore(storeDir),
  });
  const engine = new PolicyEngine(await loadPolicyDir(DEFAULT_POLICIES_PATH), { metrics });
  const sent: FalcoAlert[] = [];
  const sink: AlertSink = { name: 'memory', pending: 0, send: (a) => sent.push(a), close: async () => undefined };
  const pipeline = new Pipeline({ model: await loadWindowModelFile(DEFAULT_MODEL_PATH), learning: registry, policies: () => engine, sink, metrics });
  return { pipeline, registry, sent, metrics };
}

const feed = (pipeline: Pipeline, calls: Int32Array, containerId: string, image: string): void => {
  calls.forEach((id) => pipeline.onEvent({ name: callName(id), kind: 'syscall', tid: 1, containerId, containerImage: image }));
};

const falcoAlert = (containerId: string): FalcoAlert => ({
  hostname: 'node-1',
  output: 'shell',
  output_fields: { 'container.id': containerId },
  priority: 'Notice',
  rule: 'Terminal shell in container',
  source: 'syscall',
  tags: [],
  time: '2026-01-01T00:00:00.000000000Z',
});

describe('learning normal on the job', () => {
  const storeDir = path.join(dir, 'profiles');

  it('learns a workload from its containers, then detects an attacked sibling and leaves normal ones alone', async () => {
    const { pipeline, registry, sent, metrics } = await learningPipeline(storeDir);
    feed(pipeline, requestLoop(1, 400), 'web-1', 'shop');
    feed(pipeline, requestLoop(2, 400), 'web-2', 'shop');
    pipeline.onFalcoAlert(falcoAlert('web-1'));
    expect(sent[0].output_fields).toMatchObject({ 'ml.verdict': 'signature', 'ml.state': 'learning' });
    expect(registry.list()).toEqual([expect.objectContaining({ key: 'image:shop', state: 'learning' })]);

    pipeline.housekeeping();
    await registry.settled();
    expect(registry.list()[0]).toMatchObject({ state: 'detecting', model: 'stide@image:shop' });
    expect(existsSync(new ProfileStore(storeDir).fileOf('image:shop'))).toBe(true);

    sent.length = 0;
    feed(pipeline, requestLoop(3, 300), 'web-3', 'shop');
    feed(pipeline, requestLoop(4, 300, true), 'web-4', 'shop');
    feed(pipeline, requestLoop(5, 300), 'other-1', 'blog'); // another workload: still learning
    const anomalies = sent.filter((a) => a.output_fields['ml.verdict'] === 'anomaly');
    expect(anomalies.map((a) => a.output_fields['container.id'])).toEqual(['web-4']);
    expect(anomalies[0].output_fields['ml.state']).toBe('detecting');
    pipeline.housekeeping();
    const states = Object.fromEntries((await metrics.workloads.get()).values.map((v) => [v.labels.state, v.value]));
    expect(states).toEqual({ learning: 1, detecting: 1 });
    await registry.close();
  });

  it('keeps state across a restart, in the middle of learning and once detecting', async () => {
    const { registry } = await learningPipeline(storeDir);
    const shop = registry.get('image:shop');
    expect(shop?.state).toBe('detecting');
    const blog = registry.get('image:blog');
    expect(blog?.state).toBe('learning');
    expect(blog?.events).toBeGreaterThan(2000);
    // The restarted blog workload goes on learning from the calls it had kept.
    const again = await learningPipeline(storeDir);
    feed(again.pipeline, requestLoop(6, 400), 'other-2', 'blog');
    again.pipeline.housekeeping();
    await again.registry.settled();
    expect(again.registry.get('image:blog')?.state).toBe('detecting');
    expect(await again.registry.reset('image:shop')).toBe(true);
    expect(again.registry.get('image:shop')?.state).toBe('learning');
    await again.registry.close();
  });
});

describe('falco-ml profiles', () => {
  it('lists, shows, exports (a model score accepts), imports and resets the stored workloads', async () => {
    const { runCli } = await import('../helpers/run-cli.js');
    const storeDir = path.join(dir, 'profiles');
    const list = await runCli(['profiles', 'list', '--dir', storeDir, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const workloads = (JSON.parse(list.stdout) as { workloads: { key: string; state: string }[] }).workloads;
    expect(workloads.find((w) => w.key === 'image:blog')?.state).toBe('detecting');
    const show = await runCli(['profiles', 'show', 'image:blog', '--dir', storeDir]);
    expect(JSON.parse(show.stdout)).toMatchObject({ key: 'image:blog', state: 'detecting', model: { detector: 'stide', window: { stride: 20 } } });
    const exported = path.join(dir, 'blog.json');
    expect((await runCli(['profiles', 'export', 'image:blog', '--dir', storeDir, '--out', exported])).code).toBe(0);
    expect((await loadWindowModelFile(exported)).file.name).toBe('stide@image:blog');
    const imported = await runCli(['profiles', 'import', exported, '--workload', 'image:blog-copy', '--dir', storeDir]);
    expect(imported.code, imported.stderr).toBe(0);
    const registry = await WorkloadRegistry.open({ keyMode: 'image', learning: LEARNING_DEFAULTS, store: new ProfileStore(storeDir) });
    expect(registry.get('image:blog-copy')?.state).toBe('detecting');
    expect((await runCli(['profiles', 'reset', 'image:blog-copy', '--dir', storeDir])).code).toBe(0);
    const missing = await runCli(['profiles', 'show', 'image:blog-copy', '--dir', storeDir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no workload "image:blog-copy"/);
  });
});
