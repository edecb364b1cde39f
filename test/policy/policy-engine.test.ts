import { describe, expect, it } from 'vitest';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { PolicyEngine } from '../../src/policy/policy-engine.js';
import type { AlertDecision, ContainerContext } from '../../src/policy/types.js';
import { SidecarMetrics } from '../../src/sidecar/metrics.js';
import { NOW_MS, context, falcoAlert, loadPolicies, windows } from './helpers.js';

const ANOMALOUS = context(windows([10_000, 0.2], [5_000, 0.93]));
const NORMAL = context(windows([10_000, 0.2], [5_000, 0.1]));

/** An engine over one policy file's text. */
async function engineFor(yaml: string, metrics?: SidecarMetrics): Promise<PolicyEngine> {
  return new PolicyEngine(await loadPolicies({ 'p.yaml': yaml }), { hostname: 'node-1', ...(metrics === undefined ? {} : { metrics }) });
}

function emitted(decision: AlertDecision): FalcoAlert {
  if ('suppressed' in decision) throw new Error(`suppressed by ${decision.policy}`);
  return decision.alert;
}

/** The name of the policy that decided, for a policy file where each policy adds its name as a tag. */
async function matchingPolicy(when: string, alert: FalcoAlert, ctx: ContainerContext | undefined): Promise<string | undefined> {
  const engine = await engineFor(`policies:\n  - name: hit\n    when: ${when}\n    signature: {}\n    confirmed: {}\n`);
  const decision = engine.onAlert(alert, ctx, NOW_MS);
  return 'suppressed' in decision ? undefined : decision.policy;
}

describe('PolicyEngine.onAlert: matching', () => {
  it.each([
    ['an exact rule name', '{ rule: Web Server Spawned Shell }', true],
    ['another rule name', '{ rule: Web Server Spawned }', false],
    ['a rule glob', '{ rule: "Web Server *" }', true],
    ['a ? glob', '{ rule: "Web Server Spawned Shel?" }', true],
    ['one of several rules', '{ rule: [Terminal shell in container, "Web*"] }', true],
    ['all listed tags', '{ tags: [container, shell] }', true],
    ['a tag the alert lacks', '{ tags: [container, network] }', false],
    ['an exact priority', '{ priority: Warning }', true],
    ['another exact priority', '{ priority: Critical }', false],
    ['priority at least Warning', '{ priority: { at_least: WARNING } }', true],
    ['priority at least Error', '{ priority: { at_least: Error } }', false],
    ['priority at most Notice', '{ priority: { at_most: Notice } }', false],
    ['priority within Error..Notice', '{ priority: { at_least: Notice, at_most: Error } }', true],
    ['the source', '{ source: syscall }', true],
    ['another source', '{ source: k8s_audit }', false],
    ['an output field glob', '{ fields: { k8s.pod.name: "wp-*" } }', true],
    ['a numeric output field', '{ fields: { evt.time: "1767323045000000001" } }', true],
    ['a field neither alert nor container has', '{ fields: { fd.name: "*" } }', false],
    ['the image by its last path segment', '{ image: wordpress }', true],
    ['the image by full repository', '{ image: docker.io/library/wordpress }', true],
    ['another image', '{ image: nginx }', false],
    ['the namespace', '{ namespace: [blog, shop] }', true],
    ['the container name', '{ container: "w?" }', true],
    ['all selectors together', '{ rule: "Web*", namespace: blog, priority: { at_least: Notice }, tags: shell }', true],
    ['one failing selector among several', '{ rule: "Web*", namespace: kube-system }', false],
  ])('%s', async (_what, when, hits) => {
    expect(await matchingPolicy(when, falcoAlert(), NORMAL)).toBe(hits ? 'hit' : undefined);
  });

  it('reads container fields from the context when the alert lacks them', async () => {
    const alert = falcoAlert({ output_fields: { 'container.id': 'abc123def456', 'proc.name': 'sh' } });
    expect(await matchingPolicy('{ namespace: blog }', alert, NORMAL)).toBe('hit');
    expect(await matchingPolicy('{ namespace: blog }', alert, undefined)).toBeUndefined();
  });

  it('matches the workload state; an unknown state matches neither', async () => {
    expect(await matchingPolicy('{ state: detecting }', falcoAlert(), { ...NORMAL, state: 'detecting' })).toBe('hit');
    expect(await matchingPolicy('{ state: [learning] }', falcoAlert(), { ...NORMAL, state: 'detecting' })).toBeUndefined();
    expect(await matchingPolicy('{ state: detecting }', falcoAlert(), NORMAL)).toBeUndefined();
  });

  it('unless excludes what it matches', async () => {
    const engine = await engineFor('policies:\n  - name: p\n    when: { rule: "Web*" }\n    unless: { namespace: blog }\n    signature: {}\n');
    expect(emitted(engine.onAlert(falcoAlert(), NORMAL, NOW_MS)).output_fields['ml.policy']).toBeUndefined();
    const other = falcoAlert({ output_fields: { 'k8s.ns.name': 'shop' } });
    expect(emitted(engine.onAlert(other, undefined, NOW_MS)).output_fields['ml.policy']).toBe('p');
  });

  it('the first matching policy with an alert action decides; later ones are not applied', async () => {
    const engine = await engineFor(
      [
        'policies:',
        '  - name: windows-only',
        '    anomaly: {}',
        '  - name: web',
        '    when: { rule: "Web*" }',
        '    signature: { add_tags: [web] }',
        '  - name: everything',
        '    signature: { add_tags: [everything] }',
      ].join('\n'),
    );
    const web = engine.onAlert(falcoAlert(), NORMAL, NOW_MS);
    expect(web).toMatchObject({ policy: 'web', verdict: 'signature' });
    expect(emitted(web).tags).toEqual(['container', 'shell', 'mitre_execution', 'ml', 'web']);
    expect(engine.onAlert(falcoAlert({ rule: 'Terminal shell in container' }), NORMAL, NOW_MS)).toMatchObject({ policy: 'everything' });
  });
});

describe('PolicyEngine.onAlert: verdicts and enrichment', () => {
  const engine = new PolicyEngine({ policies: [], files: [] }, { hostname: 'node-1' });

  it('signature: enriched with ml.* fields and the ml tag, nothing else changed', () => {
    const alert = falcoAlert();
    const before = structuredClone(alert);
    const decision = engine.onAlert(alert, NORMAL, NOW_MS);
    expect(decision).toEqual({
      verdict: 'signature',
      alert: {
        ...before,
        output_fields: {
          ...before.output_fields,
          'ml.verdict': 'signature',
          'ml.model': 'rf',
          'ml.threshold': 0.5,
          'ml.score': 0.2,
          'ml.window_events': 512,
          'ml.top_syscalls': 'execve,clone,openat',
        },
        tags: [...before.tags, 'ml'],
      },
    });
    expect(alert).toEqual(before);
  });

  it('confirmed: the rule fired and the windows are anomalous (default: max over 60 s >= threshold)', () => {
    const decision = engine.onAlert(falcoAlert(), ANOMALOUS, NOW_MS);
    expect(decision).toMatchObject({ verdict: 'confirmed' });
    const alert = emitted(decision);
    expect(alert.output_fields).toMatchObject({ 'ml.verdict': 'confirmed', 'ml.score': 0.93 });
    expect(alert.tags.slice(-2)).toEqual(['ml', 'anomaly']);
    expect(alert.priority).toBe('Warning'); // no policy: enrich only
  });

  it('windows older than 60 s do not make the default test anomalous', () => {
    const stale = context(windows([61_000, 0.99], [30_000, 0.1]));
    expect(engine.onAlert(falcoAlert(), stale, NOW_MS)).toMatchObject({ verdict: 'signature' });
  });

  it('without a context (no scores for the container, or a host alert): signature, verdict only', () => {
    const alert = emitted(engine.onAlert(falcoAlert(), undefined, NOW_MS));
    expect(Object.keys(alert.output_fields).filter((k) => k.startsWith('ml.'))).toEqual(['ml.verdict']);
    expect(alert.output_fields['ml.verdict']).toBe('signature');
  });

  it('the policy score test decides the verdict and names the threshold it used', async () => {
    const strict = await engineFor('policies:\n  - name: strict\n    score: { max_over: 60s, at_least: 0.95 }\n    signature: {}\n    confirmed: {}\n');
    const decision = strict.onAlert(falcoAlert(), ANOMALOUS, NOW_MS);
    expect(decision).toMatchObject({ verdict: 'signature', policy: 'strict' });
    expect(emitted(decision).output_fields).toMatchObject({ 'ml.threshold': 0.95, 'ml.policy': 'strict' });
  });
});

describe('PolicyEngine.onAlert: actions', () => {
  it('suppresses a noisy rule unless the model agrees', async () => {
    const engine = await engineFor('policies:\n  - name: quiet\n    when: { rule: "Web*" }\n    signature: { suppress: true }\n    confirmed: {}\n');
    expect(engine.onAlert(falcoAlert(), NORMAL, NOW_MS)).toEqual({ suppressed: true, policy: 'quiet' });
    expect(engine.onAlert(falcoAlert(), ANOMALOUS, NOW_MS)).toMatchObject({ verdict: 'confirmed', policy: 'quiet' });
  });

  it.each([
    ['a set priority', 'Critical', 'Warning', 'Critical'],
    ['a set priority that lowers', 'notice', 'Warning', 'Notice'],
    ['one step up', '+1', 'Warning', 'Error'],
    ['two steps down', '-2', 'Warning', 'Informational'],
    ['steps stopping at Emergency', '+7', 'Error', 'Emergency'],
    ['steps stopping at Debug', '-7', 'Notice', 'Debug'],
    ['at_least raising', '{ at_least: Critical }', 'Warning', 'Critical'],
    ['at_least never lowering', '{ at_least: Critical }', 'Emergency', 'Emergency'],
    ['at_most lowering', '{ at_most: Notice }', 'Error', 'Notice'],
  ])('escalates or lowers: %s', async (_what, change, from, to) => {
    const engine = await engineFor(`policies:\n  - name: p\n    signature: {}\n    confirmed: { priority: ${change}, add_tags: [paged] }\n`);
    const alert = emitted(engine.onAlert(falcoAlert({ priority: from as FalcoAlert['priority'] }), ANOMALOUS, NOW_MS));
    expect(alert.priority).toBe(to);
    expect(alert.tags).toContain('paged');
  });

  it('keeps the priority in the output text truthful', async () => {
    const engine = await engineFor('policies:\n  - name: p\n    signature: {}\n    confirmed: { priority: Critical }\n');
    const alert = emitted(engine.onAlert(falcoAlert(), ANOMALOUS, NOW_MS));
    expect(alert.output).toMatch(/^03:04:05\.000000001: Critical Shell spawned by web server/);
  });
});

describe('PolicyEngine.onWindow: anomaly-only alerts', () => {
  const DEFAULT_LIKE = 'policies:\n  - name: anomalies\n    signature: {}\n    anomaly: { rate_limit: 1 per 5m }\n';

  it('raises a Falcosidekick-valid alert when windows are anomalous and no rule fired', async () => {
    const engine = await engineFor(DEFAULT_LIKE);
    const alert = engine.onWindow(ANOMALOUS, NOW_MS + 0.5);
    expect(alert).toBeDefined();
    expect(alert).toEqual({
      hostname: 'node-1',
      output:
        '03:04:05.123500000: Warning Anomalous syscall window in container (container_id=abc123def456 container_name=wp ' +
        'image=docker.io/library/wordpress k8s_ns=blog k8s_pod=wp-0 score=0.9300 threshold=0.5 model=rf window_events=512 ' +
        'top_syscalls=execve,clone,openat)',
      output_fields: {
        'container.id': 'abc123def456',
        'container.name': 'wp',
        'container.image.repository': 'docker.io/library/wordpress',
        'k8s.ns.name': 'blog',
        'k8s.pod.name': 'wp-0',
        'ml.verdict': 'anomaly',
        'ml.model': 'rf',
        'ml.threshold': 0.5,
        'ml.score': 0.93,
        'ml.window_events': 512,
        'ml.top_syscalls': 'execve,clone,openat',
        'ml.policy': 'anomalies',
      },
      priority: 'Warning',
      rule: 'Anomalous syscall window',
      source: 'syscall',
      tags: ['ml', 'anomaly'],
      time: '2026-01-02T03:04:05.123500000Z',
    });
    expect(alert?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  it('uses the hostname of the machine by default and keeps text ASCII', async () => {
    const engine = new PolicyEngine(await loadPolicies({ 'p.yaml': DEFAULT_LIKE }), { anomalyRule: 'ML anomaly' });
    const ctx = context(windows([1_000, 0.9]), { fields: { 'container.name': 'café' } });
    const alert = engine.onWindow(ctx, NOW_MS);
    expect(alert?.rule).toBe('ML anomaly');
    expect(alert?.hostname.length).toBeGreaterThan(0);
    expect(alert?.output).toMatch(/^[\x20-\x7E]+$/);
    expect(alert?.output).toContain('container_name=caf\\u{e9} ');
  });

  it('raises nothing for normal windows, or with no window policy', async () => {
    expect((await engineFor(DEFAULT_LIKE)).onWindow(NORMAL, NOW_MS)).toBeUndefined();
    expect(new PolicyEngine({ policies: [], files: [] }).onWindow(ANOMALOUS, NOW_MS)).toBeUndefined();
  });

  it('raises nothing when a rule fired for the container within the span; a suppressed rule does not count', async () => {
    const engine = await engineFor(
      'policies:\n  - name: quiet\n    when: { rule: Noisy }\n    signature: { suppress: true }\n' + DEFAULT_LIKE.replace('policies:\n', ''),
    );
    engine.onAlert(falcoAlert({ rule: 'Noisy' }), NORMAL, NOW_MS - 1_000);
    expect(engine.onWindow(ANOMALOUS, NOW_MS)).toBeDefined();
    const other = context(windows([1_000, 0.9]), { containerId: 'ffff00001111' });
    engine.onAlert(falcoAlert({ output_fields: { 'container.id': 'ffff00001111' } }), undefined, NOW_MS - 30_000);
    expect(engine.onWindow(other, NOW_MS)).toBeUndefined();
    expect(engine.onWindow(other, NOW_MS + 31_000)).toBeDefined();
  });

  it('rate-limits per policy and container, counting what it holds back', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const engine = await engineFor(DEFAULT_LIKE, metrics);
    const at = (offsetMs: number): ContainerContext => context(windows([0, 0.9]).map((w) => ({ ...w, atMs: w.atMs + offsetMs })));
    expect(engine.onWindow(at(0), NOW_MS)).toBeDefined();
    expect(engine.onWindow(at(60_000), NOW_MS + 60_000)).toBeUndefined();
    expect(engine.onWindow(at(299_999), NOW_MS + 299_999)).toBeUndefined();
    expect(engine.onWindow({ ...at(60_000), containerId: 'other' }, NOW_MS + 60_000)).toBeDefined();
    expect(engine.onWindow(at(300_000), NOW_MS + 300_000)).toBeDefined();
    expect((await metrics.anomaliesRateLimited.get()).values[0].value).toBe(2);
  });

  it('a window policy claims its containers: below its own threshold nothing is raised, even if a later policy would', async () => {
    const engine = await engineFor(
      [
        'policies:',
        '  - name: wp',
        '    when: { image: wordpress }',
        '    score: { latest: true, at_least: 0.95 }',
        '    anomaly: { priority: Error, rule: WordPress anomaly, add_tags: [wordpress] }',
        '  - name: rest',
        '    anomaly: {}',
      ].join('\n'),
    );
    expect(engine.onWindow(ANOMALOUS, NOW_MS)).toBeUndefined();
    const high = engine.onWindow(context(windows([0, 0.97])), NOW_MS);
    expect(high).toMatchObject({ rule: 'WordPress anomaly', priority: 'Error', tags: ['ml', 'anomaly', 'wordpress'] });
    expect(engine.onWindow({ ...ANOMALOUS, fields: { 'container.image.repository': 'nginx' } }, NOW_MS)?.output_fields['ml.policy']).toBe('rest');
  });

  it('anomaly suppress claims windows and raises nothing', async () => {
    const engine = await engineFor('policies:\n  - name: mute\n    when: { namespace: blog }\n    anomaly: { suppress: true }\n  - name: rest\n    anomaly: {}\n');
    expect(engine.onWindow(ANOMALOUS, NOW_MS)).toBeUndefined();
  });

  it('setPolicies swaps the set and keeps rate limits', async () => {
    const engine = await engineFor(DEFAULT_LIKE);
    expect(engine.onWindow(ANOMALOUS, NOW_MS)).toBeDefined();
    engine.setPolicies(await loadPolicies({ 'p.yaml': DEFAULT_LIKE }));
    expect(engine.onWindow(ANOMALOUS, NOW_MS + 1_000)).toBeUndefined();
  });
});
