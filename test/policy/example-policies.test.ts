import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { loadPolicyDir } from '../../src/policy/load-policies.js';
import { PolicyEngine } from '../../src/policy/policy-engine.js';
import { NOW_MS, context, falcoAlert, loadPolicies, windows } from './helpers.js';

const POLICIES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../rules/policies');
const ANOMALOUS = context(windows([5_000, 0.93]));
const NORMAL = context(windows([5_000, 0.1]));

/** The shipped files with the example policies switched on (they ship disabled). */
async function enabledExamples(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(POLICIES)) files[name] = (await readFile(path.join(POLICIES, name), 'utf8')).replace(/enabled: false/g, 'enabled: true');
  return files;
}

describe('docs/policies.md', () => {
  it('every policy example in the docs loads', async () => {
    const doc = await readFile(path.resolve(POLICIES, '../../docs/policies.md'), 'utf8');
    const examples = [...doc.matchAll(/```yaml\n(policies:[\s\S]*?)```/g)].map((m) => m[1]);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const [i, text] of examples.entries()) expect((await loadPolicies({ [`doc-${i}.yaml`]: text })).policies).toHaveLength(1);
  });
});

describe('rules/policies', () => {
  it('every file loads; only the default policy is enabled as shipped', async () => {
    const set = await loadPolicyDir(POLICIES);
    expect(set.files).toEqual(['noisy-rule.yaml', 'wordpress.yaml', 'default.yaml']);
    expect(set.policies.map((p) => p.name)).toEqual(['default']);
  });

  describe('the default set', () => {
    const engine = async (): Promise<PolicyEngine> => new PolicyEngine(await loadPolicyDir(POLICIES), { hostname: 'node-1' });

    it('enriches every alert as signature when the windows are normal', async () => {
      const decision = (await engine()).onAlert(falcoAlert(), NORMAL, NOW_MS);
      expect(decision).toMatchObject({ verdict: 'signature', policy: 'default', alert: { priority: 'Warning', output_fields: { 'ml.verdict': 'signature' } } });
    });

    it('confirms and escalates to Critical when the windows are anomalous', async () => {
      const decision = (await engine()).onAlert(falcoAlert(), ANOMALOUS, NOW_MS);
      expect(decision).toMatchObject({ verdict: 'confirmed', alert: { priority: 'Critical', tags: expect.arrayContaining(['ml', 'anomaly']) } });
    });

    it('raises an anomaly-only alert at most once per 5 minutes per container', async () => {
      const e = await engine();
      expect(e.onWindow(ANOMALOUS, NOW_MS)).toMatchObject({ priority: 'Warning', rule: 'Anomalous syscall window', output_fields: { 'ml.verdict': 'anomaly' } });
      expect(e.onWindow(ANOMALOUS, NOW_MS + 4 * 60_000)).toBeUndefined();
      const later = context(windows([0, 0.8]).map((w) => ({ ...w, atMs: w.atMs + 5 * 60_000 })));
      expect(e.onWindow(later, NOW_MS + 5 * 60_000)).toBeDefined();
    });

    it('leaves learning workloads alone: no anomaly-only alerts, no escalation', async () => {
      const e = await engine();
      const learning = { ...ANOMALOUS, state: 'learning' as const };
      expect(e.onWindow(learning, NOW_MS)).toBeUndefined();
      expect(e.onAlert(falcoAlert(), learning, NOW_MS)).toMatchObject({ verdict: 'confirmed', alert: { priority: 'Warning' } });
    });
  });

  describe('the examples, enabled', () => {
    it('noisy-rule.yaml drops the noisy rule unless the model agrees', async () => {
      const engine = new PolicyEngine(await loadPolicies(await enabledExamples()), { hostname: 'node-1' });
      const noisy: FalcoAlert = falcoAlert({ rule: 'Read sensitive file untrusted' });
      expect(engine.onAlert(noisy, NORMAL, NOW_MS)).toEqual({ suppressed: true, policy: 'quiet-noisy-rule' });
      const agreed = engine.onAlert(noisy, context(windows([100_000, 0.9])), NOW_MS);
      expect(agreed).toMatchObject({ verdict: 'confirmed', policy: 'quiet-noisy-rule', alert: { tags: expect.arrayContaining(['model_agreed']) } });
      expect(engine.onAlert(falcoAlert(), NORMAL, NOW_MS)).toMatchObject({ policy: 'default' });
    });

    it('wordpress.yaml raises for WordPress only above 0.9, and not while learning', async () => {
      const engine = new PolicyEngine(await loadPolicies(await enabledExamples()), { hostname: 'node-1' });
      expect(engine.onWindow(context(windows([0, 0.85])), NOW_MS)).toBeUndefined();
      expect(engine.onWindow(context(windows([0, 0.95]), { state: 'learning' }), NOW_MS)).toBeUndefined();
      expect(engine.onWindow(context(windows([0, 0.95])), NOW_MS)).toMatchObject({
        rule: 'Anomalous syscall window in WordPress',
        priority: 'Error',
        tags: ['ml', 'anomaly', 'wordpress'],
      });
      const nginx = context(windows([0, 0.85]), { fields: { 'container.image.repository': 'nginx' } });
      expect(engine.onWindow(nginx, NOW_MS)?.output_fields['ml.policy']).toBe('default');
    });
  });
});
