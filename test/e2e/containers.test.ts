/**
 * The images together: the built falco-ml image, falcosecurity/falcosidekick and
 * falcosecurity/falco, driven through the docker CLI (testcontainers is not a dependency).
 * Runs only where a Docker engine answers; elsewhere it skips with a one-line reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './sidecar-process.js';

function detectDockerEngine(): { available: true } | { available: false; reason: string } {
  const socket = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
  if (process.env.DOCKER_HOST === undefined && !existsSync(socket)) return { available: false, reason: `no Docker engine (${socket} absent)` };
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 });
  if (info.error !== undefined) return { available: false, reason: `no Docker engine (docker CLI: ${info.error.message})` };
  if (info.status !== 0) return { available: false, reason: `no Docker engine (docker info: ${info.stderr.trim().split('\n')[0]})` };
  return { available: true };
}

function docker(...args: string[]): string {
  const run = spawnSync('docker', args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout.trim();
}

const engine = detectDockerEngine();
const IMAGE = 'falco-ml:e2e';
const NETWORK = `falco-ml-e2e-${process.pid}`;

if (!engine.available) {
  describe('containers (falco-ml image, Falcosidekick, Falco)', () => {
    it.skip(`skipped: ${engine.reason}`, () => undefined);
  });
} else {
  describe('containers (falco-ml image, Falcosidekick, Falco)', () => {
    const started: string[] = [];
    beforeAll(() => {
      docker('build', '-t', IMAGE, '.');
      docker('network', 'create', NETWORK);
    }, 900_000);

    afterAll(() => {
      for (const id of started) spawnSync('docker', ['rm', '-f', id]);
      spawnSync('docker', ['network', 'rm', NETWORK]);
    });

    it('the image runs as non-root and turns healthy through its HEALTHCHECK', async () => {
      const id = docker('run', '-d', '--network', NETWORK, '--name', `falco-ml-${process.pid}`, IMAGE);
      started.push(id);
      expect(docker('exec', id, 'id', '-u')).not.toBe('0');
      const deadline = Date.now() + 90_000;
      while (docker('inspect', '-f', '{{.State.Health.Status}}', id) !== 'healthy') {
        if (Date.now() > deadline) throw new Error('the sidecar container never turned healthy');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }, 120_000);

    it('forwards an enriched alert to the real Falcosidekick', async () => {
      const sidekick = docker('run', '-d', '--network', NETWORK, '--name', `falcosidekick-${process.pid}`, '-e', 'DEBUG=true', 'falcosecurity/falcosidekick');
      started.push(sidekick);
      const sidecar = docker('run', '-d', '--network', NETWORK, '-e', `FALCO_ML_SIDEKICK=http://falcosidekick-${process.pid}:2801/`, IMAGE);
      started.push(sidecar);
      await new Promise((r) => setTimeout(r, 5000));
      const alert = '{"hostname":"n","output":"A shell was spawned","output_fields":{"container.id":"abc"},"priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":[],"time":"2024-04-05T19:34:38.901234567Z"}';
      docker('exec', sidecar, 'node', '-e', `fetch('http://127.0.0.1:2803/',{method:'POST',body:${JSON.stringify(alert)}}).then(r=>process.exit(r.ok?0:1))`);
      const deadline = Date.now() + 30_000;
      while (!docker('logs', sidekick).includes('ml.verdict')) {
        if (Date.now() > deadline) throw new Error('Falcosidekick never logged the enriched alert');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }, 120_000);

    it('the Falco image starts with the falco-ml fragment loaded (config check only: no kernel driver here)', () => {
      const out = docker('run', '--rm', '-v', `${ROOT}/plugin-config/falco/falco-ml-0.44.yaml:/etc/falco/config.d/falco-ml.yaml:ro`, 'falcosecurity/falco', 'falco', '--dry-run', '-o', 'engine.kind=nodriver');
      expect(out).not.toMatch(/error/i);
    }, 300_000);
  });
}
