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
import { loadWindowModelFile, parseWindowModelFile, windowModelFile, type LoadedWindowModel } from '../../src/models/window-model-file.js';
import { PolicyEngine, loadPolicyDir } from '../../src/policy/index.js';
import { DEFAULT_MODEL_PATH, DEFAULT_POLICIES_PATH } from '../../src/sidecar/config.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { Pipeline } from '../../src/sidecar/pipeline.js';
import type { AlertSink } from '../../src/sinks/alert-sink.js';
import { ids, requestLoop } from '../detectors/helpers.js';
import { noveltySpec } from '../../src/detectors/novelty.js';
import { profileWindowDetector, type WindowDetector } from '../../src/detectors/window-detector.js';
import { stideSpec } from '../../src/detectors/stide.js';
import type { ProfileKind } from '../../src/detectors/normal-profile.js';
import { Workload } from '../../src/learning/workload.js';

const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-learning-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('workload identity', () => {
  it('keys containers by image, by Kubernetes workload, or by container', () => {
    const fields = { 'container.image.repository': 'wordpress', 'k8s.ns.name': 'blog', 'k8s.pod.name': 'wp-7d9f8b6c5d-x2x7q' };
    expect(workloadKey('image', 'c1', fields)).toBe('image:wordpress');
    expect(workloadKey('k8s', 'c1', fields)).toBe('k8s:blog/wp');
    expect(workloadKey('container', 'c1', fields)).toBe('container:c1');
    expect(workloadKey('k8s', 'c1', { 'container.image.repository': 'nginx' })).toBe('image:nginx');
    // Unidentified containers belong to no workload (a profile per container id would pile up on disk).
    expect(workloadKey('image', 'c1', {})).toBeUndefined();
    expect(workloadKey('k8s', 'c1', {})).toBeUndefined();
    expect(workloadName('db-0')).toBe('db');
    expect(workloadName('fluentd-8x7kq')).toBe('fluentd');
  });
});

async function learningPipeline(storeDir: string) {
  const metrics = new SidecarMetrics({ defaultMetrics: false });
  const registry = await WorkloadRegistry.open({
    keyMode: 'image',
    learning: { ...LEARNING_DEFAULTS, detectors: ['stide'], learnMs: 0, minEvents: 5000, strideCalls: 20 },
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

  it('scores a container the feed does not identify with the shipped model, and learns no workload for it', async () => {
    const { pipeline, registry, sent } = await learningPipeline(path.join(dir, 'unidentified'));
    const calls = requestLoop(11, 300);
    calls.forEach((id) => pipeline.onEvent({ name: callName(id), kind: 'syscall', tid: 1, containerId: 'anon-1' }));
    pipeline.onFalcoAlert(falcoAlert('anon-1'));
    expect(registry.list()).toEqual([]);
    const fields = sent[0].output_fields;
    expect(fields).toMatchObject({ 'ml.verdict': 'signature', 'ml.model': 'xgb-windows', 'ml.window_events': 250 });
    expect(fields['ml.state']).toBeUndefined();
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

describe('learning progress', () => {
  it('is the slower of time and calls, and a period of no time does not end learning by itself', () => {
    const w = new Workload('image:x', 1_000);
    const options = { ...LEARNING_DEFAULTS, learnMs: 10_000, minEvents: 10 };
    for (let i = 0; i < 5; i++) w.observe('c', 'read', options);
    expect(w.progress(3_000, options)).toBeCloseTo(0.2);
    expect(w.progress(20_000, options)).toBe(0.5);
    // Started this very millisecond with no time period: calls decide (0/0 once made this NaN, which passed as done).
    expect(w.progress(1_000, { ...options, learnMs: 0 })).toBe(0.5);
    expect(w.maybeLearn(1_000, { ...options, learnMs: 0 })).toBeUndefined();
  });
});

describe('checkpoints', () => {
  it('rewrites a learning workload only when it has seen calls since its last checkpoint', async () => {
    const clock = { now: 0 };
    const store = new ProfileStore(path.join(dir, 'checkpoints'));
    const registry = await WorkloadRegistry.open({ keyMode: 'image', learning: { ...LEARNING_DEFAULTS, minEvents: 1_000_000 }, store, checkpointMs: 1000, now: () => clock.now });
    const file = store.fileOf('image:shop');
    const tickAndSettle = async (): Promise<void> => {
      clock.now += 1000;
      registry.tick();
      await new Promise((r) => setTimeout(r, 100));
    };
    const workload = registry.forContainer('web-1', { 'container.image.repository': 'shop' }) as Workload;
    workload.observe('web-1', 'read', registry.options.learning);
    await tickAndSettle();
    expect(existsSync(file)).toBe(true);
    rmSync(file);
    await tickAndSettle();
    expect(existsSync(file)).toBe(false);
    workload.observe('web-1', 'close', registry.options.learning);
    await tickAndSettle();
    expect((await store.load('image:shop'))?.events).toBe(2);
  });
});

describe('a second opinion and re-learning', () => {
  /** A workload learned from request loops, with a controllable clock. */
  async function learned(options: { detectors?: ProfileKind[]; relearnMs?: number; secondOpinion?: LoadedWindowModel; store?: ProfileStore }) {
    const clock = { now: 1_000_000 };
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const registry = await WorkloadRegistry.open({
      keyMode: 'image',
      learning: { ...LEARNING_DEFAULTS, detectors: options.detectors ?? ['novelty', 'stide'], learnMs: 0, minEvents: 5000, strideCalls: 20, ...(options.relearnMs === undefined ? {} : { relearnMs: options.relearnMs }) },
      ...(options.secondOpinion === undefined ? {} : { secondOpinion: options.secondOpinion }),
      ...(options.store === undefined ? {} : { store: options.store }),
      now: () => clock.now,
    });
    const engine = new PolicyEngine(await loadPolicyDir(DEFAULT_POLICIES_PATH), { metrics });
    const sent: FalcoAlert[] = [];
    const sink: AlertSink = { name: 'memory', pending: 0, send: (a) => sent.push(a), close: async () => undefined };
    const pipeline = new Pipeline({ model: await loadWindowModelFile(DEFAULT_MODEL_PATH), learning: registry, policies: () => engine, sink, metrics, now: () => clock.now });
    // Timed (from 0 s), so idle eviction can tell these learning containers have gone quiet.
    const timed = (calls: Int32Array, containerId: string): void =>
      calls.forEach((id, i) => pipeline.onEvent({ name: callName(id), kind: 'syscall', tid: 1, containerId, containerImage: 'shop', timeNs: BigInt(i) * 1000n }));
    timed(requestLoop(1, 400), 'web-1');
    timed(requestLoop(2, 400), 'web-2');
    pipeline.housekeeping();
    await registry.settled();
    const anomalies = (): unknown[] => sent.filter((a) => a.output_fields['ml.verdict'] === 'anomaly').map((a) => a.output_fields['container.id']);
    return { clock, registry, pipeline, sent, anomalies, shop: registry.get('image:shop') as Workload };
  }

  it('learns call novelty with the sequences: a call the workload never made alerts, and names the call', async () => {
    const { pipeline, anomalies, sent, shop } = await learned({});
    expect(shop.model?.file.name).toBe('novelty+stide@image:shop');
    feed(pipeline, requestLoop(3, 200), 'web-3', 'shop');
    expect(anomalies()).toEqual([]);
    feed(pipeline, Int32Array.from([...requestLoop(4, 50), ...ids('chmod'), ...requestLoop(5, 50)]), 'web-4', 'shop');
    expect(anomalies()).toEqual(['web-4']);
    expect(sent.at(-1)?.output_fields['ml.top_syscalls']).toMatch(/^chmod/);
  });

  const asModel = (detector: WindowDetector, name: string, threshold: number): LoadedWindowModel =>
    parseWindowModelFile(windowModelFile(detector, { threshold, k: 1, n: 1, cooldownWindows: 20 }, 20, { data: 'toy', dataSha256: '', recordings: 1, attacks: 0, seed: 1, createdAt: new Date(0).toISOString(), versions: {} }, name), name);

  it("scores a container once its scorer's window is full, and a shorter-lived one as it goes", async () => {
    const { pipeline, anomalies } = await learned({ detectors: ['novelty'] });
    const timed = (calls: Int32Array, containerId: string, atNs: bigint): void =>
      calls.forEach((id, i) => pipeline.onEvent({ name: callName(id), kind: 'syscall', tid: 1, containerId, containerImage: 'shop', timeNs: atNs + BigInt(i) * 1000n }));
    // 61 calls with a foreign one: the tracker closes windows at 20, 40 and 60 calls, but novelty's window is 100.
    timed(Int32Array.from([...requestLoop(8, 1), ...ids('chmod'), ...requestLoop(9, 5)].slice(0, 61)), 'web-9', 1_000_000_000n);
    expect(anomalies()).toEqual([]);
    // Idle for longer than the pipeline's idle time: scored on its way out, the foreign call named.
    timed(requestLoop(10, 3), 'web-10', 400_000_000_000n);
    pipeline.housekeeping();
    expect(anomalies()).toEqual(['web-9']);
  });

  it('scores with the profile and the second opinion side by side: either one makes a window anomalous', async () => {
    // Known calls in an order never seen: the learned call set cannot tell, the second opinion (3-call sequences) can.
    const sequences = asModel(profileWindowDetector(await stideSpec.fit([requestLoop(7, 400)], { k: 3, windowSize: 20 }, { seed: 1 })), 'sequences', 0.3);
    const reordered = Int32Array.from([...requestLoop(3, 50), ...ids('close close close close close close close close'), ...requestLoop(4, 50)]);
    const { registry, pipeline, anomalies, shop } = await learned({ detectors: ['novelty'], secondOpinion: sequences });
    expect(registry.scorer(shop)).toMatchObject({ name: 'novelty@image:shop + sequences', threshold: 0.5 });
    expect(registry.list()[0].secondOpinion).toEqual({ model: 'sequences', threshold: 0.3 });
    feed(pipeline, reordered, 'web-3', 'shop');
    expect(anomalies()).toEqual(['web-3']);
    const alone = await learned({ detectors: ['novelty'] });
    feed(alone.pipeline, reordered, 'web-3', 'shop');
    expect(alone.anomalies()).toEqual([]);
  });

  it('sits a second opinion out of a workload whose normal behaviour it finds anomalous (a model of another app)', async () => {
    // This model knows no writev, which every request makes: on this workload, every window looks anomalous to it.
    const blind = asModel(profileWindowDetector(await noveltySpec.fit([ids('accept4 read openat fstat stat close')], { windowSize: 20 }, { seed: 1 })), 'other-app', 0.5);
    const { registry, pipeline, anomalies, shop } = await learned({ secondOpinion: blind });
    expect(registry.scorer(shop)?.name).toBe('novelty+stide@image:shop');
    expect(registry.list()[0].secondOpinion).toBeUndefined();
    feed(pipeline, requestLoop(3, 200), 'web-3', 'shop');
    expect(anomalies()).toEqual([]);
  });

  it('re-learns on schedule: a normal period is swapped in, a period with an attack in it is dropped', async () => {
    const store = new ProfileStore(path.join(dir, 'relearn'));
    const { clock, registry, pipeline, shop } = await learned({ relearnMs: 60_000, store });
    const first = shop.model;
    // Nothing is due before the schedule, however many calls were kept.
    feed(pipeline, requestLoop(10, 600), 'web-5', 'shop');
    pipeline.housekeeping();
    await registry.settled();
    expect(shop.model).toBe(first);

    clock.now += 60_000;
    pipeline.housekeeping();
    await registry.settled();
    expect(shop.lastRelearn).toMatchObject({ outcome: 'swapped', flaggedShare: 0 });
    expect(shop.model).not.toBe(first);
    const second = shop.model;

    // A period with exploit bursts (clone, execve, wait4: calls the profile never saw) in most segments.
    for (let i = 0; i < 3; i++) feed(pipeline, requestLoop(20 + i, 600, true), `web-${6 + i}`, 'shop');
    clock.now += 60_000;
    pipeline.housekeeping();
    await registry.settled();
    // Each container's 5,400 calls make two segments; the burst sits in the first of each.
    expect(shop.lastRelearn).toMatchObject({ outcome: 'kept', flaggedShare: 0.5, segments: 6 });
    expect(shop.model).toBe(second);
    // The attack did not teach itself in: the kept profile still flags the burst.
    const stream = (shop.model as LoadedWindowModel).detector.createState();
    for (const id of ids('accept4 read execve clone wait4')) stream.push({ name: callName(id), kind: 'syscall', tid: 1 });
    expect(stream.score()).toBeGreaterThanOrEqual(0.5);

    // Both outcomes are on record after a restart.
    await registry.close();
    const reopened = await WorkloadRegistry.open({ keyMode: 'image', learning: LEARNING_DEFAULTS, store });
    expect(reopened.list()[0].lastRelearn).toMatchObject({ outcome: 'kept', segments: 6 });
  });
});

describe('a learned profile that cannot hold the alert share', () => {
  /** Learns workload `shop` (call novelty) from two containers into `storeDir`; returns the warnings logged and the registry. */
  async function learnShop(second: Int32Array, storeDir: string) {
    const warnings: object[] = [];
    const logger = { info: () => undefined, warn: (obj: object) => void warnings.push(obj), error: () => undefined };
    const learning = { ...LEARNING_DEFAULTS, detectors: ['novelty' as const], learnMs: 0, minEvents: 5000, strideCalls: 20 };
    const registry = await WorkloadRegistry.open({ keyMode: 'image', learning, logger, store: new ProfileStore(storeDir) });
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const engine = new PolicyEngine(await loadPolicyDir(DEFAULT_POLICIES_PATH), { metrics });
    const sink: AlertSink = { name: 'memory', pending: 0, send: () => undefined, close: async () => undefined };
    const pipeline = new Pipeline({ model: await loadWindowModelFile(DEFAULT_MODEL_PATH), learning: registry, policies: () => engine, sink, metrics });
    feed(pipeline, requestLoop(1, 400), 'web-1', 'shop');
    feed(pipeline, second, 'web-2', 'shop');
    pipeline.housekeeping();
    await registry.settled();
    expect(registry.get('image:shop')?.state).toBe('detecting');
    return { warnings, summary: registry.summary('image:shop'), reopened: (await WorkloadRegistry.open({ keyMode: 'image', learning, store: new ProfileStore(storeDir) })).summary('image:shop') };
  }

  it("warns, and says so in the workload's summary and profiles list, when its own held-out calls reach the highest score", async () => {
    const { runCli } = await import('../helpers/run-cli.js');
    // web-2 makes one call web-1 never does: held out, its segment scores 1 against a profile
    // learnt from web-1, and one segment in two is more than the threshold may let alert (2%).
    const oddDir = path.join(dir, 'over-budget');
    const odd = await learnShop(Int32Array.from([...requestLoop(2, 200), ...ids('chmod'), ...requestLoop(3, 200)]), oddDir);
    expect(odd.warnings).toEqual([expect.objectContaining({ workload: 'image:shop', model: 'novelty@image:shop', threshold: 1, alertShare: LEARNING_DEFAULTS.alertShare })]);
    expect(odd.summary).toMatchObject({ threshold: 1, overBudget: true });
    expect(odd.reopened).toMatchObject({ state: 'detecting', overBudget: true });
    const listed = await runCli(['profiles', 'list', '--dir', oddDir]);
    expect(listed.stdout).toMatch(/image:shop .*novelty@image:shop\s+1\.0000 \(over its alert share\)/);

    const evenDir = path.join(dir, 'within-budget');
    const even = await learnShop(requestLoop(2, 400), evenDir);
    expect(even.warnings).toEqual([]);
    expect(even.summary).not.toHaveProperty('overBudget');
    expect(even.reopened).not.toHaveProperty('overBudget');
    expect((await runCli(['profiles', 'list', '--dir', evenDir])).stdout).not.toContain('over its alert share');
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
