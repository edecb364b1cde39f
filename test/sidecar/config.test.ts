import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH, DEFAULT_POLICIES_PATH, envName, parseAddress, resolveConfig } from '../../src/sidecar/config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('serve configuration', () => {
  it('defaults: listens on 2803 (clear of Falcosidekick 2801 and its UI 2802), the built-in model and policies, stdout sink', async () => {
    const config = await resolveConfig({}, {});
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 2803 });
    expect(config.model).toBe(DEFAULT_MODEL_PATH);
    expect(config.policies).toBe(DEFAULT_POLICIES_PATH);
    expect(config.sidekick).toBeUndefined();
    expect(config.feedStdin).toBe(false);
    // Learning each workload's normal behaviour is the default way of working, with --model as a second opinion.
    expect(config).toMatchObject({ learn: true, secondOpinion: true, learnDetectors: ['novelty'] });
    expect(config.relearnSeconds).toBeUndefined();
  });

  it('reads the learning settings: detector lists, the re-learning schedule, and booleans turned off', async () => {
    const config = await resolveConfig({ learn: false, 'learn-detectors': 'bosc, novelty,bosc', 'relearn-seconds': '86400' }, { FALCO_ML_SECOND_OPINION: 'false' });
    expect(config).toMatchObject({ learn: false, secondOpinion: false, learnDetectors: ['bosc', 'novelty'], relearnSeconds: 86400 });
    await expect(resolveConfig({ 'learn-detectors': 'novelty,xgb' }, {})).rejects.toThrow(/--learn-detectors: expected a comma-separated list of stide, bosc, autoencoder, novelty, got "novelty,xgb"/);
    await expect(resolveConfig({ 'relearn-seconds': '0' }, {})).rejects.toThrow(/--relearn-seconds: expected a positive integer/);
  });

  it('flags win over the environment, which wins over the config file', async () => {
    const file = configFile('all.yaml', 'listen: 127.0.0.1:1111\nsidekick: http://file:2801/\nmax-containers: 10\nfeed-stdin: true\n');
    const env = { FALCO_ML_CONFIG: file, FALCO_ML_SIDEKICK: 'http://env:2801/', FALCO_ML_MAX_CONTAINERS: '20' };
    const config = await resolveConfig({ 'max-containers': '30' }, env);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 1111 });
    expect(config.sidekick).toBe('http://env:2801/');
    expect(config.maxContainers).toBe(30);
    expect(config.feedStdin).toBe(true);
  });

  it('names every setting as FALCO_ML_<KEY>', () => {
    expect(envName('feed-socket')).toBe('FALCO_ML_FEED_SOCKET');
    expect(envName('listen')).toBe('FALCO_ML_LISTEN');
  });

  it('says where a bad value came from', async () => {
    await expect(resolveConfig({}, { FALCO_ML_LISTEN: 'nowhere' })).rejects.toThrow(/FALCO_ML_LISTEN: expected HOST:PORT, got "nowhere"/);
    await expect(resolveConfig({ sidekick: 'falcosidekick:2801' }, {})).rejects.toThrow(/--sidekick: expected an http\(s\) URL/);
    await expect(resolveConfig({ 'idle-seconds': '-5' }, {})).rejects.toThrow(/--idle-seconds: expected a positive integer/);
    await expect(resolveConfig({}, { FALCO_ML_FEED_STDIN: 'maybe' })).rejects.toThrow(/FALCO_ML_FEED_STDIN: expected true or false/);
    const file = configFile('bad.yaml', 'listen: 127.0.0.1:1\nlog-level: loud\n');
    await expect(resolveConfig({ config: file }, {})).rejects.toThrow(new RegExp(`${file}: log-level: expected one of`));
  });

  it('refuses unknown keys and wrong types in the config file, naming them', async () => {
    const unknown = configFile('unknown.yaml', 'listne: 127.0.0.1:1\n');
    await expect(resolveConfig({ config: unknown }, {})).rejects.toThrow(/unknown key "listne"/);
    const typed = configFile('typed.yaml', 'max-containers: lots\n');
    await expect(resolveConfig({ config: typed }, {})).rejects.toThrow(/max-containers: must be integer/);
    await expect(resolveConfig({ config: path.join(dir, 'missing.yaml') }, {})).rejects.toThrow(/cannot read config file/);
  });

  it('reads addresses with IPv6 hosts and an empty host', () => {
    expect(parseAddress('[::1]:2803', 'x')).toEqual({ host: '::1', port: 2803 });
    expect(parseAddress(':2803', 'x')).toEqual({ host: '0.0.0.0', port: 2803 });
    expect(() => parseAddress('host:70000', 'x')).toThrow(/HOST:PORT/);
  });
});
