import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FalcoAlert } from '../../src/falco/alert.js';
import { loadPolicyDir } from '../../src/policy/load-policies.js';
import type { PolicySet } from '../../src/policy/policy.js';
import type { ContainerContext, WindowScore } from '../../src/policy/types.js';

/** A temp folder holding the given policy files; `cleanup` removes it. */
export async function policyDir(files: Record<string, string>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'falco-ml-policy-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes the files to a temp folder and loads them as a set. */
export async function loadPolicies(files: Record<string, string>): Promise<PolicySet> {
  const { dir, cleanup } = await policyDir(files);
  try {
    return await loadPolicyDir(dir);
  } finally {
    await cleanup();
  }
}

export const NOW_MS = Date.UTC(2026, 0, 2, 3, 4, 5, 123);

/** A Falco http_output alert, as Falco 0.4x posts it for the upstream "Web Server Spawned Shell" rule. */
export function falcoAlert(overrides: Partial<FalcoAlert> = {}): FalcoAlert {
  return {
    hostname: 'node-1',
    output:
      '03:04:05.000000001: Warning Shell spawned by web server (user=www-data proc.name=sh container.id=abc123def456 image=wordpress)',
    output_fields: {
      'container.id': 'abc123def456',
      'container.name': 'wp',
      'container.image.repository': 'docker.io/library/wordpress',
      'k8s.ns.name': 'blog',
      'k8s.pod.name': 'wp-0',
      'evt.time': 1767323045000000001n,
      'proc.name': 'sh',
      'user.name': 'www-data',
    },
    priority: 'Warning',
    rule: 'Web Server Spawned Shell',
    source: 'syscall',
    tags: ['container', 'shell', 'mitre_execution'],
    time: '2026-01-02T03:04:05.000000001Z',
    ...overrides,
  };
}

/** Window scores at the given ages (ms before NOW_MS), oldest first. */
export function windows(...items: [ageMs: number, score: number][]): WindowScore[] {
  return items
    .map(([ageMs, score]) => ({ atMs: NOW_MS - ageMs, score, events: 512, top: ['execve', 'clone', 'openat'] }))
    .sort((a, b) => a.atMs - b.atMs);
}

export function context(scores: WindowScore[], overrides: Partial<ContainerContext> = {}): ContainerContext {
  return {
    containerId: 'abc123def456',
    fields: {
      'container.name': 'wp',
      'container.image.repository': 'docker.io/library/wordpress',
      'k8s.ns.name': 'blog',
      'k8s.pod.name': 'wp-0',
    },
    scores,
    threshold: 0.5,
    model: 'rf',
    ...overrides,
  };
}
