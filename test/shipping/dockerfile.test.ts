import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/sidecar/config.js';
import { readRepoFile, ROOT } from './helpers.js';

interface Instruction {
  op: string;
  args: string;
  stage: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped, each tagged with its stage. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = '';
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`unparseable Dockerfile line: ${line}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') stage = /\bAS\s+(\S+)/i.exec(m[2])?.[1] ?? `stage${out.length}`;
    out.push({ op, args: m[2], stage });
  }
  return out;
}

const DEFAULT_PORT = String(SETTINGS.listen.default).split(':')[1];

describe('Dockerfile', () => {
  const steps = parseDockerfile(readRepoFile('Dockerfile'));
  const final = steps.filter((s) => s.stage === 'runtime');
  const args = (op: string, list = steps): string[] => list.filter((s) => s.op === op).map((s) => s.args);

  it('is multi-stage: a build stage on Node 20 and a runtime stage last', () => {
    const froms = args('FROM');
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatch(/^node:\$\{NODE_VERSION\}-\S+ AS build$/);
    expect(froms[1]).toMatch(/ AS runtime$/);
    expect(args('ARG')).toContain('NODE_VERSION=20');
    expect(steps[steps.length - 1].stage).toBe('runtime');
  });

  it('installs production dependencies only in the runtime stage and copies the built dist from the build stage', () => {
    expect(args('RUN', final).some((r) => /npm ci --omit=dev\b/.test(r))).toBe(true);
    expect(args('RUN', final).some((r) => /npm (i|install|ci)\b(?!.*--omit=dev)/.test(r))).toBe(false);
    expect(args('COPY', final)).toContain('--from=build /src/dist ./dist');
    expect(args('RUN', steps.filter((s) => s.stage === 'build')).some((r) => r.includes('npm run build'))).toBe(true);
  });

  it('copies only paths that exist in the repository, the default model, rules and proto among them', () => {
    const sources = steps
      .filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    for (const source of sources) expect(existsSync(path.join(ROOT, source)), source).toBe(true);
    expect(sources).toEqual(expect.arrayContaining(['models', 'rules', 'proto', 'package-lock.json', 'src']));
    expect(existsSync(path.join(ROOT, 'models/wordpress-xgb-windows.json'))).toBe(true);
    expect(existsSync(path.join(ROOT, 'rules/policies'))).toBe(true);
  });

  it('runs as a non-root user, exposes the default port, checks /healthz with node, starts serve', () => {
    const user = args('USER', final);
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(args('EXPOSE', final)).toEqual([DEFAULT_PORT]);
    const health = args('HEALTHCHECK', final);
    expect(health).toHaveLength(1);
    expect(health[0]).toMatch(/CMD \["node", "docker\/healthcheck\.mjs"\]/);
    expect(readRepoFile('docker/healthcheck.mjs')).toMatch(/\/healthz/);
    expect(readRepoFile('docker/healthcheck.mjs')).toContain(`'0.0.0.0:${DEFAULT_PORT}'`);
    expect(args('ENTRYPOINT', final)).toEqual(['["node", "dist/cli/main.js"]']);
    expect(args('CMD', final)).toEqual(['["serve"]']);
    // USER comes after every RUN of the runtime stage, so nothing runs as root at start.
    const lastRun = final.map((s) => s.op).lastIndexOf('RUN');
    expect(final.findIndex((s) => s.op === 'USER')).toBeGreaterThan(lastRun);
  });

  it('is configured by FALCO_ML_ environment variables that name real settings', () => {
    const envLine = args('ENV', final).join(' ');
    const names = [...envLine.matchAll(/\b(FALCO_ML_[A-Z_]+)=/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    const known = Object.keys(SETTINGS).map((k) => `FALCO_ML_${k.toUpperCase().replaceAll('-', '_')}`);
    for (const name of names) expect(known).toContain(name);
    expect(envLine).toContain(`FALCO_ML_LISTEN=0.0.0.0:${DEFAULT_PORT}`);
  });

  it('keeps the build context small: .dockerignore leaves out node_modules, dist, tests and .git', () => {
    const ignored = readRepoFile('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'test', '.git']));
    for (const kept of ['src', 'models', 'rules', 'proto', 'docker']) expect(ignored).not.toContain(kept);
  });
});
