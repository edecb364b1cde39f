import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicySet } from '../../src/policy/policy.js';
import { PolicyWatcher, type PolicyLogger, type SignalSource } from '../../src/policy/policy-watcher.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { policyDir } from './helpers.js';

const policyFile = (name: string): string => `policies:\n  - name: ${name}\n    signature: {}\n`;

/** Records log lines; pino's logger fits the same interface (checked by the compiler below). */
class RecordingLogger implements PolicyLogger {
  readonly lines: { level: string; obj: object; msg: string }[] = [];
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: 'error', obj, msg });
  }
}
const pinoFits: PolicyLogger = pino({ enabled: false });
void pinoFits;

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function reloads(metrics: SidecarMetrics, result: 'ok' | 'invalid'): Promise<number> {
  return (await metrics.policyReloads.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
}

const names = (set: PolicySet | undefined): string[] => set?.policies.map((p) => p.name) ?? [];

describe('PolicyWatcher', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setUp(debounceMs: number, signals?: SignalSource) {
    const { dir, cleanup } = await policyDir({ 'a.yaml': policyFile('v1') });
    const logger = new RecordingLogger();
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const reloaded: PolicySet[] = [];
    const watcher = new PolicyWatcher({ dir, logger, metrics, debounceMs, onReload: (s) => reloaded.push(s), ...(signals === undefined ? {} : { signals }) });
    cleanups.push(async () => {
      await watcher.close();
      await cleanup();
    });
    expect(names(await watcher.start())).toEqual(['v1']);
    return { file: path.join(dir, 'a.yaml'), logger, metrics, reloaded, watcher };
  }

  it('on file change: keeps the old set on an invalid edit, picks up the next valid one', async () => {
    const { file, logger, metrics, reloaded, watcher } = await setUp(50);

    await writeFile(file, 'policies:\n  - name: broken\n    score: { max_over: soon }\n    signature: {}\n');
    await until(async () => (await reloads(metrics, 'invalid')) === 1);
    expect(names(watcher.current)).toEqual(['v1']);
    expect(reloaded).toEqual([]);
    const failure = logger.lines.find((l) => l.level === 'error');
    expect(failure?.obj).toMatchObject({ code: 'FML_ERR_POLICY_INVALID', problems: ['a.yaml:3: policies[0].score.max_over: expected a duration like 60s'] });

    await writeFile(file, policyFile('v2'));
    await until(() => reloaded.length === 1);
    expect(names(reloaded[0])).toEqual(['v2']);
    expect(names(watcher.current)).toEqual(['v2']);
    expect(await reloads(metrics, 'ok')).toBe(1);
  });

  it('on SIGHUP from process (file events debounced out of the way)', async () => {
    const { file, reloaded, watcher } = await setUp(60_000);
    await writeFile(file, policyFile('v3'));
    process.emit('SIGHUP');
    await until(() => reloaded.length === 1);
    expect(names(watcher.current)).toEqual(['v3']);
  });

  it('on SIGHUP from an injected source; stops listening on close', async () => {
    const signals = new EventEmitter();
    const { file, metrics, reloaded, watcher } = await setUp(60_000, signals);
    await writeFile(file, 'policies: nope\n');
    signals.emit('SIGHUP');
    await until(async () => (await reloads(metrics, 'invalid')) === 1);
    expect(names(watcher.current)).toEqual(['v1']);
    await writeFile(file, policyFile('v4'));
    signals.emit('SIGHUP');
    await until(() => reloaded.length === 1);
    expect(names(watcher.current)).toEqual(['v4']);
    await watcher.close();
    expect(signals.listenerCount('SIGHUP')).toBe(0);
  });
});
