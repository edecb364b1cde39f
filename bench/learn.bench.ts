import path from 'node:path';
import type { FalcoAlert } from '../src/falco/alert.js';
import { LEARNING_DEFAULTS } from '../src/learning/workload.js';
import { WorkloadRegistry } from '../src/learning/workload-registry.js';
import { loadWindowModelFile } from '../src/models/window-model-file.js';
import { PolicyEngine, loadPolicyDir } from '../src/policy/index.js';
import { DEFAULT_MODEL_PATH, DEFAULT_POLICIES_PATH } from '../src/sidecar/config.js';
import { SidecarMetrics } from '../src/sidecar/metrics.js';
import { Pipeline } from '../src/sidecar/pipeline.js';
import { readTraceFile } from '../src/traces/read-trace.js';
import type { SyscallEvent } from '../src/traces/syscall-event.js';
import { requireData, SYSDIG_DATA } from './data.js';
import { printJson } from './system.js';

/**
 * What `serve --learn` costs per event, through the whole pipeline (windows, scoring, policies),
 * against the same loop with learning off (the built-in supervised model): while workloads
 * learn (calls kept, nothing scored), once they detect (the default: the learned novelty and
 * STIDE profile beside the built-in model as a second opinion, every 50 calls), and detecting
 * while keeping calls for a scheduled re-learning (`--relearn-seconds`).
 */
export async function run(): Promise<void> {
  if (!requireData()) return;
  const events: SyscallEvent[] = [];
  for (const name of ['file-manager-6', 'mail-masta-3', 'warfare-2', 'simple-file-4']) {
    await readTraceFile(path.join(SYSDIG_DATA, 'wordpress/normal', `${name}.log`), (e) => {
      events.push({ ...e, containerId: name, containerImage: 'wordpress' });
    });
  }
  const model = await loadWindowModelFile(DEFAULT_MODEL_PATH);
  const policies = await loadPolicyDir(DEFAULT_POLICIES_PATH);
  const make = (learning?: WorkloadRegistry): Pipeline => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const engine = new PolicyEngine(policies, { metrics });
    const sink = { name: 'null', pending: 0, send: (_a: FalcoAlert) => undefined, close: async () => undefined };
    return new Pipeline({ model, policies: () => engine, sink, metrics, ...(learning === undefined ? {} : { learning }) });
  };
  // Best of 5 passes over the same events after one warm-up, per configuration, interleaved.
  const rate = (pipeline: Pipeline): number => {
    const start = performance.now();
    for (const e of events) pipeline.onEvent(e);
    return events.length / ((performance.now() - start) / 1000);
  };
  const registry = await WorkloadRegistry.open({ keyMode: 'image', learning: { ...LEARNING_DEFAULTS, learnMs: 0, minEvents: 1, maxCalls: 10_000_000 } });
  const learnedPipeline = async (relearnMs?: number): Promise<Pipeline> => {
    const learned = await WorkloadRegistry.open({
      keyMode: 'image',
      learning: { ...LEARNING_DEFAULTS, learnMs: 0, minEvents: 1, ...(relearnMs === undefined ? {} : { relearnMs }) },
      secondOpinion: model,
    });
    const pipeline = make(learned);
    for (const e of events) pipeline.onEvent(e);
    pipeline.housekeeping();
    await learned.settled();
    return pipeline;
  };
  const off = make();
  const learning = make(registry);
  const detecting = await learnedPipeline();
  // Never due within the bench: it measures keeping the calls, not the re-learning itself.
  const relearning = await learnedPipeline(3_600_000);
  const best = { off: 0, learning: 0, detecting: 0, relearning: 0 };
  for (let pass = 0; pass <= 5; pass++) {
    const r = { off: rate(off), learning: rate(learning), detecting: rate(detecting), relearning: rate(relearning) };
    if (pass === 0) continue;
    for (const k of Object.keys(best) as (keyof typeof best)[]) best[k] = Math.max(best[k], r[k]);
  }
  process.stdout.write(
    `${events.length} calls of 4 normal recordings, best of 5 passes, in memory (no parsing):\n` +
      `learning off (built-in supervised model): ${Math.round(best.off).toLocaleString('en')} events/s\n` +
      `--learn, workload learning:   ${Math.round(best.learning).toLocaleString('en')} events/s (${(best.off / best.learning).toFixed(2)}x the cost per event)\n` +
      `--learn, workload detecting:  ${Math.round(best.detecting).toLocaleString('en')} events/s (${(best.off / best.detecting).toFixed(2)}x the cost per event)\n` +
      `  ... and keeping calls to re-learn: ${Math.round(best.relearning).toLocaleString('en')} events/s (${(best.off / best.relearning).toFixed(2)}x)\n`,
  );
  printJson({ name: 'learn', events: events.length, offEventsPerSec: Math.round(best.off), learningEventsPerSec: Math.round(best.learning), detectingEventsPerSec: Math.round(best.detecting), relearningEventsPerSec: Math.round(best.relearning) });
}
