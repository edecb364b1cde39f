import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseGrpcAddress } from '../../src/falco/grpc-address.js';
import { parsePolicyFile } from '../../src/policy/index.js';
import { envName, SETTINGS, type SettingKey } from '../../src/sidecar/config.js';
import { at, readRepoFile, readYaml, readYamlDocuments, ROOT } from './helpers.js';

const LISTEN_PORT = Number(String(SETTINGS.listen.default).split(':')[1]);
const FEED_SOCKET = '/run/falco-ml/feed.sock';
const FEED_PROGRAM = `socat - UNIX-CONNECT:${FEED_SOCKET}`;
const SIDEKICK_PORT = 2801;
const CONTEXT_FIELDS = ['container.id', 'container.name', 'container.image.repository', 'k8s.ns.name', 'k8s.pod.name'];
const KNOWN_ENV = new Set((Object.keys(SETTINGS) as SettingKey[]).map(envName));

type Env = { name: string; value?: string }[];
interface Container {
  name: string;
  image: string;
  env?: Env;
  ports?: { containerPort: number }[];
  restartPolicy?: string;
  livenessProbe?: { httpGet: { path: string; port: number } };
  readinessProbe?: { httpGet: { path: string; port: number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumeMounts?: { name: string; mountPath: string }[];
}

/** The checks every Falco fragment (file, ConfigMap, Helm values) must pass for the 0.44 layout. */
function expectHttpLayout(falco: unknown): void {
  expect(at(falco, 'json_output')).toBe(true);
  expect(at(falco, 'priority')).toBe('debug');
  expect(at(falco, 'http_output.enabled')).toBe(true);
  const url = new URL(String(at(falco, 'http_output.url')));
  expect(Number(url.port)).toBe(LISTEN_PORT);
  expect(['127.0.0.1', 'localhost']).toContain(url.hostname);
  expect(at(falco, 'program_output')).toEqual({ enabled: true, keep_alive: true, program: FEED_PROGRAM });
  expectAppendOutput(falco);
}

function expectAppendOutput(falco: unknown): void {
  const append = at(falco, 'append_output') as { match: { source: string }; extra_fields: string[] }[];
  expect(Array.isArray(append)).toBe(true);
  const syscall = append.find((a) => a.match?.source === 'syscall');
  expect(syscall?.extra_fields).toEqual(expect.arrayContaining(CONTEXT_FIELDS));
}

/** The sidecar container: known settings only, the defaults' port and feed socket, probes, resources, non-root. */
function expectSidecar(c: Container): void {
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  for (const name of Object.keys(env)) expect(KNOWN_ENV, `${name} names a setting`).toContain(name);
  expect(env.FALCO_ML_LISTEN).toBe(`0.0.0.0:${LISTEN_PORT}`);
  expect(env.FALCO_ML_FEED_SOCKET).toBe(FEED_SOCKET);
  expect(new URL(String(env.FALCO_ML_SIDEKICK)).port).toBe(String(SIDEKICK_PORT));
  expect(c.ports?.map((p) => p.containerPort)).toEqual([LISTEN_PORT]);
  expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: LISTEN_PORT });
  expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: LISTEN_PORT });
  expect(c.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  expect(c.resources?.limits).toMatchObject({ memory: expect.any(String) });
  expect(c.securityContext?.runAsNonRoot).toBe(true);
  expect(c.securityContext?.runAsUser).not.toBe(0);
  expect(c.volumeMounts?.find((m) => m.mountPath === path.dirname(FEED_SOCKET))).toBeDefined();
  expect(c.volumeMounts?.find((m) => m.mountPath === env.FALCO_ML_POLICIES)).toBeDefined();
  expect(c.volumeMounts?.find((m) => m.mountPath === env.FALCO_ML_SPOOL_DIR)).toBeDefined();
}

/** A policies ConfigMap whose files are valid policy files, the default set among them. */
function expectPoliciesConfigMap(doc: unknown): void {
  expect(at(doc, 'kind')).toBe('ConfigMap');
  expect(at(doc, 'metadata.name')).toBe('falco-ml-policies');
  const data = at(doc, 'data') as Record<string, string>;
  expect(data['default.yaml']).toBe(readRepoFile('rules/policies/default.yaml'));
  for (const [file, text] of Object.entries(data)) expect(parsePolicyFile(text, file).issues).toEqual([]);
}

describe('plugin-config', () => {
  it('holds only YAML that parses, besides the Dockerfile and README', () => {
    const files = readdirSync(path.join(ROOT, 'plugin-config'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.relative(path.join(ROOT, 'plugin-config'), path.join(d.parentPath, d.name)));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files.filter((f) => f.endsWith('.yaml'))) expect(readYamlDocuments(`plugin-config/${file}`).length).toBeGreaterThan(0);
    expect(files.filter((f) => !f.endsWith('.yaml')).sort()).toEqual(['README.md', 'kubernetes/falco-socat.Dockerfile']);
  });

  it('Falco >= 0.44: http_output to the sidecar port, the feed to the feed socket, container and k8s fields appended', () => {
    expectHttpLayout(readYaml('plugin-config/falco/falco-ml-0.44.yaml'));
    expect(at(readYaml('plugin-config/falco/falco-ml-0.44.yaml'), 'grpc_output')).toBeUndefined();
  });

  it('Falco <= 0.43: the gRPC server on the unix socket the sidecar subscribes to by default, the feed over gRPC only', () => {
    const falco = readYaml<unknown>('plugin-config/falco/falco-ml-grpc-0.43.yaml');
    expect(at(falco, 'grpc.enabled')).toBe(true);
    expect(at(falco, 'grpc_output.enabled')).toBe(true);
    expect(at(falco, 'grpc.bind_address')).toBe('unix:///run/falco/falco.sock');
    expect(parseGrpcAddress(String(at(falco, 'grpc.bind_address')))).toEqual({ kind: 'unix', path: '/run/falco/falco.sock' });
    expect(SETTINGS['grpc-input'].description).toContain(String(at(falco, 'grpc.bind_address')));
    expect(at(falco, 'program_output')).toBeUndefined();
    expectAppendOutput(falco);
  });

  it('Falcosidekick before: listens on 2801, where the sidecar forwards', () => {
    const sidekick = readYaml<unknown>('plugin-config/falcosidekick/sidecar-before.yaml');
    expect(at(sidekick, 'listenport')).toBe(SIDEKICK_PORT);
    expect(at(sidekick, 'webhook')).toBeUndefined();
  });

  it('Falcosidekick after: its webhook posts every priority to the sidecar port, and the loop is broken by ml.verdict', () => {
    const text = readRepoFile('plugin-config/falcosidekick/webhook-after.yaml');
    const sidekick = readYaml<unknown>('plugin-config/falcosidekick/webhook-after.yaml');
    expect(at(sidekick, 'listenport')).toBe(SIDEKICK_PORT);
    expect(Number(new URL(String(at(sidekick, 'webhook.address'))).port)).toBe(LISTEN_PORT);
    expect(at(sidekick, 'webhook.minimumpriority')).toBe('');
    expect(text).toContain('ml.verdict');
    // The server really drops enriched alerts coming back (src/server.ts).
    expect(readRepoFile('src/sidecar/alert-route.ts')).toMatch(/output_fields\['ml\.verdict'\] !== undefined[\s\S]{0,120}already_enriched/);
  });

  it('Kubernetes: a DaemonSet with Falco and the sidecar sharing an emptyDir socket volume, probes, resources, a policies ConfigMap', () => {
    const docs = readYamlDocuments('plugin-config/kubernetes/falco-ml-daemonset.yaml');
    const byKind = (kind: string, name?: string): unknown => docs.find((d) => at(d, 'kind') === kind && (name === undefined || at(d, 'metadata.name') === name));
    const ds = byKind('DaemonSet');
    expect(at(ds, 'apiVersion')).toBe('apps/v1');
    const spec = at(ds, 'spec.template.spec') as { containers: Container[]; volumes: { name: string; emptyDir?: object; configMap?: { name: string } }[] };
    expect(at(ds, 'spec.template.metadata.labels')).toMatchObject(at(ds, 'spec.selector.matchLabels') as object);
    const falco = spec.containers.find((c) => c.name === 'falco') as Container;
    const sidecar = spec.containers.find((c) => c.name === 'falco-ml') as Container;
    expectSidecar(sidecar);
    const runVolume = sidecar.volumeMounts?.find((m) => m.mountPath === '/run/falco-ml')?.name;
    expect(falco.volumeMounts?.find((m) => m.mountPath === '/run/falco-ml')?.name).toBe(runVolume);
    expect(spec.volumes.find((v) => v.name === runVolume)?.emptyDir).toBeDefined();
    for (const mount of [...(falco.volumeMounts ?? []), ...(sidecar.volumeMounts ?? [])]) expect(spec.volumes.map((v) => v.name)).toContain(mount.name);
    const falcoConfig = byKind('ConfigMap', 'falco-ml-falco-config');
    expect(spec.volumes.find((v) => v.configMap?.name === 'falco-ml-falco-config')).toBeDefined();
    expectHttpLayout(parseYaml((at(falcoConfig, 'data') as Record<string, string>)['falco-ml.yaml']));
    expectPoliciesConfigMap(byKind('ConfigMap', 'falco-ml-policies'));
    expect(spec.volumes.find((v) => v.configMap?.name === 'falco-ml-policies')).toBeDefined();
  });

  it('Helm values for the Falco chart: the sidecar as a native sidecar in extra.initContainers, the socket volume through mounts', () => {
    const values = readYaml<unknown>('plugin-config/helm/falco-values.yaml');
    expectHttpLayout(at(values, 'falco'));
    const sidecar = (at(values, 'extra.initContainers') as Container[]).find((c) => c.name === 'falco-ml') as Container;
    expect(sidecar.restartPolicy).toBe('Always');
    expectSidecar(sidecar);
    const volumes = at(values, 'mounts.volumes') as { name: string; emptyDir?: object; configMap?: { name: string } }[];
    const falcoMounts = at(values, 'mounts.volumeMounts') as { name: string; mountPath: string }[];
    const runVolume = falcoMounts.find((m) => m.mountPath === '/run/falco-ml')?.name;
    expect(sidecar.volumeMounts?.find((m) => m.mountPath === '/run/falco-ml')?.name).toBe(runVolume);
    expect(volumes.find((v) => v.name === runVolume)?.emptyDir).toBeDefined();
    for (const mount of sidecar.volumeMounts ?? []) expect(volumes.map((v) => v.name)).toContain(mount.name);
    expectPoliciesConfigMap(readYaml('plugin-config/helm/falco-ml-policies.yaml'));
    expect(volumes.find((v) => v.configMap?.name === 'falco-ml-policies')).toBeDefined();
  });
});
