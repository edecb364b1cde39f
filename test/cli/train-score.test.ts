import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile } from '../../src/models/model-file.js';
import { loadWindowModelFile } from '../../src/models/window-model-file.js';
import { scoreTraceFile } from '../../src/models/score-trace.js';
import { loops, writeToyDataset, type ToyRecording } from '../helpers/toy-recordings.js';
import { runCli } from '../helpers/run-cli.js';
import { HAS_SHARED_DATA, SYSDIG_DATA } from '../helpers/shared-data.js';

// A toy app: normal runs serve files; attack runs also spawn a shell.
const NORMAL = ['accept4', 'read', 'stat', 'openat', 'read', 'close', 'write', 'close'];
const ATTACK = ['accept4', 'read', 'clone', 'execve', 'wait4', 'read', 'write', 'close'];

async function makeDataset(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fml-cli-'));
  await mkdir(path.join(dir, 'normal'));
  await mkdir(path.join(dir, 'exec'));
  for (let run = 0; run < 6; run++) {
    const repeat = (seq: string[]) => Array.from({ length: 20 + run * 3 }, () => seq.join('\n')).join('\n');
    await writeFile(path.join(dir, 'normal', `app-${run}.txt`), `${repeat(NORMAL)}\n`);
    await writeFile(path.join(dir, 'exec', `app-${run}.txt`), `${repeat(NORMAL)}\n${repeat(ATTACK)}\n`);
  }
  return dir;
}

describe('train then score', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeDataset();
  });

  it('writes a model file that scores attack runs above normal ones', async () => {
    const out = path.join(dir, 'model.json');
    const train = await runCli(['train', '--data', dir, '--model', 'dt', '--out', out, '--quiet'], { SOURCE_DATE_EPOCH: '1700000000' });
    expect(train.stderr).toBe('');
    expect(train.code).toBe(0);
    expect(train.stdout).toMatch(/wrote .*model\.json: Decision Tree on 12 recordings \(6 attack\)/);

    const score = await runCli(['score', '--model', out, '--json', path.join(dir, 'normal', 'app-0.txt'), path.join(dir, 'exec')]);
    expect(score.code).toBe(0);
    const parsed = JSON.parse(score.stdout) as { results: { file: string; format: string; alert: boolean; windows: number; events: number; top: { feature: string }[] }[] };
    expect(parsed.results).toHaveLength(7);
    expect(parsed.results[0]).toMatchObject({ format: 'sequence', alert: false, windows: 1, events: 160 });
    expect(parsed.results.slice(1).every((r) => r.alert)).toBe(true);
    expect(parsed.results[1].top.map((t) => t.feature)).toEqual(expect.arrayContaining([expect.stringMatching(/execve|clone|wait4/)]));
  });

  it('writes the same file for the same command', async () => {
    const a = path.join(dir, 'a.json');
    const b = path.join(dir, 'b.json');
    for (const out of [a, b]) {
      const r = await runCli(['train', '--data', dir, '--model', 'rf', '--out', out, '--quiet', '--seed', '7'], { SOURCE_DATE_EPOCH: '1700000000' });
      expect(r.code).toBe(0);
    }
    expect(await readFile(a, 'utf8')).toBe(await readFile(b, 'utf8'));
  });

  it('a loaded model scores exactly as the saved classifier', async () => {
    const out = path.join(dir, 'sgd.json');
    expect((await runCli(['train', '--data', dir, '--model', 'sgd', '--out', out, '--quiet'])).code).toBe(0);
    const model = await loadModelFile(out);
    expect(model.file.classifier.kind).toBe('sgd');
    expect(model.file.features.vocabulary.at(-1)).toBe('<unknown>');
    const again = await loadModelFile(out);
    const file = path.join(dir, 'exec', 'app-1.txt');
    expect((await scoreTraceFile(model, file)).maxScore).toBe((await scoreTraceFile(again, file)).maxScore);
  });
});

describe('errors', () => {
  it('a missing data folder exits 2 with its code', async () => {
    const r = await runCli(['train', '--data', '/nonexistent/x', '--out', '/tmp/x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error FML_ERR_TRACE_NOT_FOUND: /);
  });

  it('an unknown model is a usage error', async () => {
    const r = await runCli(['train', '--data', '.', '--model', 'knn', '--out', '/tmp/x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected one of ab, dt, mlp, nusv, rf, sgd, xgb/);
  });

  it('a model file that is not one is refused with its code', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fml-bad-'));
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"format":"something-else"}');
    const r = await runCli(['score', '--model', bad, bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error FML_ERR_MODEL_FILE_INVALID: /);
  });

  it('an unreadable trace names the file', async () => {
    const dir = await makeDataset();
    const out = path.join(dir, 'm.json');
    expect((await runCli(['train', '--data', dir, '--model', 'dt', '--out', out, '--quiet'])).code).toBe(0);
    const junk = path.join(dir, 'junk.bin');
    await writeFile(junk, '\u0000\u0001\u0002 ??? !!!\n');
    const r = await runCli(['score', '--model', out, junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FML_ERR_TRACE_(UNKNOWN_FORMAT|EMPTY).*junk\.bin/);
  });
});

describe('per-recording features of a classifier', () => {
  it('the MLP counts triples unless --ngram says otherwise; the other classifiers count pairs', async () => {
    const dir = await makeDataset();
    const ngramOf = async (args: string[]): Promise<number> => {
      const out = path.join(dir, `${args.join('')}.json`);
      const r = await runCli(['train', '--data', dir, ...args, '--out', out, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      return (await loadModelFile(out)).file.features.tokens.ngram;
    };
    expect(await ngramOf(['--model', 'mlp', '--hyper', 'epochs=5'])).toBe(3);
    expect(await ngramOf(['--model', 'mlp', '--hyper', 'epochs=5', '--ngram', '2'])).toBe(2);
    expect(await ngramOf(['--model', 'dt'])).toBe(2);
  });
});

describe.skipIf(!HAS_SHARED_DATA)('score on real recordings', () => {
  it('a run scores the same from its stripped log and from its raw sysdig -pc text', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fml-real-'));
    const out = path.join(dir, 'ab.json');
    // ngram 1: the raw text carries thread ids, the stripped log does not, so pairs would differ
    const train = await runCli(['train', '--data', SYSDIG_DATA, '--model', 'ab', '--ngram', '1', '--out', out, '--quiet']);
    expect(train.code).toBe(0);
    const stripped = path.join(SYSDIG_DATA, 'wordpress/exec/warfare-1.log');
    const raw = path.join(SYSDIG_DATA, 'raw-sysdig-sample/wordpress/logs/anormal/sysdig/warfare-1.log');
    const r = await runCli(['score', '--model', out, '--json', stripped, raw]);
    expect(r.code).toBe(0);
    const [a, b] = (JSON.parse(r.stdout) as { results: { format: string; events: number; maxScore: number; alert: boolean }[] }).results;
    expect([a.format, b.format]).toEqual(['sysdig-stripped', 'sysdig']);
    expect(a.events).toBe(b.events);
    expect(a.maxScore).toBe(b.maxScore);
    expect(a.alert).toBe(true);
  });
});

describe('train --window then score: window models for serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeDataset();
  });

  it('a classifier over windows alerts inside attack runs only, naming the calls that drove it', async () => {
    const out = path.join(dir, 'dt-windows.json');
    const train = await runCli(['train', '--data', dir, '--model', 'dt', '--window', '40', '--stride', '8', '--ngram', '1', '--out', out, '--quiet']);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/wrote .*dt-windows\.json: dt-windows over windows of 40 calls every 8, alert at [\d.]+ on 1 of 1, from 12 recordings/);
    const loaded = await loadWindowModelFile(out);
    expect(loaded.file).toMatchObject({ format: 'falco-ml-window-model', name: 'dt-windows', window: { size: 40, stride: 8 }, alert: { k: 1, n: 1 } });

    const score = await runCli(['score', '--model', out, '--json', path.join(dir, 'normal'), path.join(dir, 'exec')]);
    expect(score.code, score.stderr).toBe(0);
    const results = (JSON.parse(score.stdout) as { results: { file: string; alerts: number; windows: number; top: { feature: string }[] }[] }).results;
    const normal = results.filter((r) => r.file.includes(`${path.sep}normal${path.sep}`));
    const attack = results.filter((r) => r.file.includes(`${path.sep}exec${path.sep}`));
    expect(normal.every((r) => r.alerts === 0)).toBe(true);
    expect(attack.every((r) => r.alerts >= 1)).toBe(true);
    expect(attack[0].windows).toBeGreaterThan(10);
    expect(attack[0].top.map((t) => t.feature)).toEqual(expect.arrayContaining([expect.stringMatching(/execve|clone|wait4/)]));
  });

  it('warns when held-out normal recordings reach the highest score, so no threshold holds --alert-share', async () => {
    // One normal run also spawns a shell (a cron job, say): held out, it meets a tree whose
    // shell leaf holds attack windows only, and scores 1 like the attacks.
    const toy = await writeToyDataset([
      ...[0, 1, 2, 3, 4, 5].map((run): ToyRecording => ({ label: 'normal', name: `app-${run}`, calls: [...loops(20 + run * 3, NORMAL), ...(run === 0 ? loops(6, ATTACK) : [])] })),
      ...[0, 1, 2, 3, 4, 5].map((run): ToyRecording => ({ label: 'exec', name: `app-${run}`, calls: [...loops(20 + run * 3, NORMAL), ...loops(20 + run * 3, ATTACK)] })),
    ]);
    const args = ['train', '--data', toy, '--window', '40', '--stride', '8', '--ngram', '1', '--quiet'];
    const dt = await runCli([...args, '--model', 'dt', '--out', path.join(toy, 'dt.json')]);
    expect(dt.code, dt.stderr).toBe(0);
    expect(dt.stdout).toMatch(/alert at 1\.0000 on 1 of 1/);
    expect(dt.stderr).toMatch(
      /^warning: 1 of 6 held-out normal recordings reach 1\.0000, the highest score dt-windows gives, so no threshold keeps them within --alert-share 0\.05: expect about 17% of normal containers to alert/,
    );
    // the same data, a budget that one normal recording in six fits: no warning
    const loose = await runCli([...args, '--model', 'dt', '--alert-share', '0.2', '--out', path.join(toy, 'dt-loose.json')]);
    expect(loose.code, loose.stderr).toBe(0);
    expect(loose.stderr).toBe('');
  });

  it('takes the training flags of the online protocol: --vocabulary, --mil-rounds and --hyper reach the window model', async () => {
    const train = async (name: string, extra: string[]) => {
      const out = path.join(dir, name);
      const r = await runCli(['train', '--data', dir, '--model', 'dt', '--window', '40', '--stride', '8', '--ngram', '1', ...extra, '--out', out, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      const { file } = await loadWindowModelFile(out);
      if (file.detector.type !== 'classifier') throw new Error('expected a classifier detector');
      return file.detector;
    };
    const plain = await train('dt-plain.json', []);
    expect(plain.features.vocabulary).toContain('execve');
    expect(plain.classifier.hyper.maxDepth).toBe(8);
    // normal recordings only: the shell's calls are novel, counted in <unknown>
    const tuned = await train('dt-tuned.json', ['--vocabulary', 'normal', '--mil-rounds', '1', '--hyper', 'maxDepth=2']);
    expect(tuned.features.vocabulary).not.toContain('execve');
    expect(tuned.features.vocabulary).toContain('<unknown>');
    expect(tuned.classifier.hyper.maxDepth).toBe(2);
    const bad = await runCli(['train', '--data', dir, '--model', 'dt', '--window', '40', '--hyper', 'depth=2', '--out', path.join(dir, 'x.json'), '--quiet']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/hyper-parameter "depth" is not known to/);
  });

  it('refuses flags the model would not use, and reads window models in the --format asked', async () => {
    const out = path.join(dir, 'unused.json');
    const train = (args: string[]) => runCli(['train', '--data', dir, ...args, '--out', out, '--quiet']);
    const perRecording = await train(['--model', 'dt', '--k', '2', '--n', '3']);
    expect(perRecording.code).toBe(2);
    expect(perRecording.stderr).toMatch(/--k, --n do not apply to a per-recording model: add --window/);
    const window = await train(['--model', 'dt', '--window', '40', '--threshold', '0.9']);
    expect(window.code).toBe(2);
    expect(window.stderr).toMatch(/--threshold does not apply to a window model: its alert threshold comes from --alert-share/);
    const profile = await train(['--model', 'stide', '--hyper', 'x=1', '--bag', '3']);
    expect(profile.code).toBe(2);
    expect(profile.stderr).toMatch(/--hyper, --bag do not apply to a normal-profile detector/);
    // the toy runs are one call name per line: forced to read them as strace, nothing parses
    const strace = await train(['--model', 'dt', '--window', '40', '--stride', '8', '--format', 'strace']);
    expect(strace.code).not.toBe(0);
    expect(strace.stderr).toMatch(/FML_ERR_TRACE_EMPTY: .* read as a strace trace/);
  });

  it('with --bag, writes the copies as one soft vote that serve and score read like any window model', async () => {
    const out = path.join(dir, 'rf-bag.json');
    const train = await runCli(['train', '--data', dir, '--model', 'rf', '--window', '40', '--stride', '8', '--ngram', '1', '--bag', '3', '--out', out, '--quiet']);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/: rf-bag3-windows over windows of 40 calls/);
    const { file } = await loadWindowModelFile(out);
    if (file.detector.type !== 'classifier') throw new Error('expected a classifier detector');
    expect(file.detector.classifier.kind).toBe('vote');
    expect((file.detector.classifier.params.members as { kind: string }[]).map((m) => m.kind)).toEqual(['rf', 'rf', 'rf']);
    const score = await runCli(['score', '--model', out, '--json', path.join(dir, 'normal'), path.join(dir, 'exec')]);
    expect(score.code, score.stderr).toBe(0);
    const results = (JSON.parse(score.stdout) as { results: { file: string; alerts: number }[] }).results;
    expect(results.filter((r) => r.file.includes(`${path.sep}exec${path.sep}`)).every((r) => r.alerts >= 1)).toBe(true);
    expect(results.filter((r) => r.file.includes(`${path.sep}normal${path.sep}`)).every((r) => r.alerts === 0)).toBe(true);
  });

  it('sets the alert threshold for the share of normal recordings --alert-share allows, and refuses a share outside [0, 1)', async () => {
    // Three of six normal runs make a call no other run makes: scored by inner-fold profiles
    // that never saw it, each is novel. Allowing none of them to alert puts the threshold at
    // novelty's top score, 1; allowing half keeps it near the quiet runs' 0.
    const odd = ['mkdir', 'chmod', 'rename'];
    const data = await writeToyDataset(
      Array.from({ length: 6 }, (_, i): ToyRecording[] => [
        { label: 'normal', name: `app-${i}`, calls: i < 3 ? [...loops(30), odd[i], ...loops(30)] : loops(60) },
        { label: 'exec', name: `app-${i}`, calls: [...loops(30), 'execve', ...loops(30)] },
      ]).flat(),
    );
    const thresholds: number[] = [];
    for (const share of ['0', '0.5']) {
      const out = path.join(data, `novelty-${share}.json`);
      const train = await runCli(['train', '--data', data, '--model', 'novelty', '--alert-share', share, '--out', out, '--quiet']);
      expect(train.code, train.stderr).toBe(0);
      thresholds.push((await loadWindowModelFile(out)).file.alert.threshold);
    }
    expect(thresholds[0]).toBeGreaterThan(0.99);
    expect(thresholds[1]).toBeLessThan(0.5);
    const bad = await runCli(['train', '--data', data, '--model', 'novelty', '--alert-share', '1', '--out', path.join(data, 'x.json'), '--quiet']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--alert-share.*share in \[0, 1\)/);
  });

  it('a normal-profile detector trains on the normal runs alone', async () => {
    const out = path.join(dir, 'stide.json');
    const train = await runCli(['train', '--data', dir, '--model', 'stide', '--stride', '8', '--out', out, '--quiet']);
    expect(train.code, train.stderr).toBe(0);
    const loaded = await loadWindowModelFile(out);
    expect(loaded.file.detector.type).toBe('profile');
    const score = await runCli(['score', '--model', out, '--json', path.join(dir, 'exec', 'app-0.txt')]);
    expect((JSON.parse(score.stdout) as { results: { alerts: number }[] }).results[0].alerts).toBeGreaterThanOrEqual(1);
  });

  it('refuses a per-recording model where a window model is needed', async () => {
    const perRecording = path.join(dir, 'per-recording.json');
    expect((await runCli(['train', '--data', dir, '--model', 'dt', '--out', perRecording, '--quiet'])).code).toBe(0);
    await expect(loadWindowModelFile(perRecording)).rejects.toThrow(/per-recording model cannot score windows; train one with `falco-ml train --window/);
    const serve = await runCli(['serve', '--model', perRecording, '--listen', '127.0.0.1:0']);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/FML_ERR_MODEL_FILE_INVALID/);
  });
});
