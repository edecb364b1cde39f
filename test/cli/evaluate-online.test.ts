import { describe, expect, it } from 'vitest';
import { ONLINE_DEFAULTS } from '../../src/evaluation/online-defaults.js';
import { runCli } from '../helpers/run-cli.js';
import { loops, writeShortAttackDataset, writeToyDataset, type ToyRecording } from '../helpers/toy-recordings.js';

interface OnlineJson {
  settings: Record<string, unknown>;
  results: { model: string; recall: number; partialWindowAlerts: number; recordings: { id: string; label: string; flagged: boolean; level: number }[] }[];
}

describe('evaluate --protocol online flags', () => {
  it('echoes the documented defaults and scores full windows only unless --flush', async () => {
    const dir = await writeShortAttackDataset();
    const base = ['evaluate', '--data', dir, '--protocol', 'online', '--split', 'group-out', '--detectors', 'stide', '--stride', '25', '--json', '--quiet'];
    const quiet = await runCli(base);
    expect(quiet.code, quiet.stderr).toBe(0);
    const q = JSON.parse(quiet.stdout) as OnlineJson;
    expect(q.settings).toEqual({
      window: ONLINE_DEFAULTS.windowSize,
      stride: 25,
      k: ONLINE_DEFAULTS.k,
      n: ONLINE_DEFAULTS.n,
      witnessShare: ONLINE_DEFAULTS.witnessShare,
      milRounds: ONLINE_DEFAULTS.rounds,
      bag: ONLINE_DEFAULTS.bag,
      thresholdRepeats: ONLINE_DEFAULTS.thresholdRepeats,
      thresholdFolds: ONLINE_DEFAULTS.thresholdFolds,
      vocabulary: ONLINE_DEFAULTS.vocabulary,
      alertShare: ONLINE_DEFAULTS.alertShare,
      flush: false,
      hyper: {},
    });
    // 60-call attacks never fill STIDE's 100-call window: nothing to alert on
    expect(q.results[0]).toMatchObject({ model: 'stide', recall: 0, partialWindowAlerts: 0 });
    const flushed = JSON.parse((await runCli([...base, '--flush'])).stdout) as OnlineJson;
    expect(flushed.settings.flush).toBe(true);
    expect(flushed.results[0]).toMatchObject({ recall: 1, partialWindowAlerts: 3 });
    // every tested recording, labelled in words, with its peak level
    expect(q.results[0].recordings.map((o) => [o.id, o.label, o.flagged, o.level]).sort()).toEqual([
      ['exec/a-1.txt', 'attack', false, 0],
      ['exec/b-1.txt', 'attack', false, 0],
      ['exec/c-1.txt', 'attack', false, 0],
      ['normal/a-1.txt', 'normal', false, 0],
      ['normal/b-1.txt', 'normal', false, 0],
      ['normal/c-1.txt', 'normal', false, 0],
    ]);
  });

  it('lists the recordings it got wrong with --list-errors', async () => {
    const dir = await writeShortAttackDataset();
    const base = ['evaluate', '--data', dir, '--protocol', 'online', '--split', 'group-out', '--detectors', 'stide', '--stride', '25', '--quiet'];
    const plain = await runCli(base);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain('attack missed');
    const listed = await runCli([...base, '--list-errors']);
    expect(listed.code, listed.stderr).toBe(0);
    // the three 60-call attacks never fill a window: missed at level 0; no normal alerts
    const rows = listed.stdout.split('\n').filter((line) => line.includes('attack missed'));
    expect(rows.map((line) => line.split(/\s+/)[3]).sort()).toEqual(['exec/a-1.txt', 'exec/b-1.txt', 'exec/c-1.txt']);
    expect(rows.every((line) => line.split(/\s+/)[4] === '0.0000')).toBe(true);
    expect(listed.stdout).not.toContain('normal alerting');
    const flushed = await runCli([...base, '--list-errors', '--flush']);
    expect(flushed.stdout).toMatch(/stide\s+none/);
  });

  it('says in which folds held-out normals reached the highest score, beyond --alert-share', async () => {
    // Plugin a's first normal run also spawns a shell. Every fold that trains on it has a
    // held-out normal recording at a decision tree's 1, which no threshold stays above.
    const shell = ['clone', 'execve', 'wait4', 'read', 'write', 'close', 'accept4', 'read'];
    const dir = await writeToyDataset(
      ['a', 'b', 'c'].flatMap((g): ToyRecording[] =>
        [1, 2].flatMap((run): ToyRecording[] => [
          { label: 'normal', name: `${g}-${run}`, calls: [...loops(25 + run), ...(g === 'a' && run === 1 ? loops(6, shell) : [])] },
          { label: 'exec', name: `${g}-${run}`, calls: [...loops(15 + run), ...loops(15, shell)] },
        ]),
      ),
    );
    const base = ['evaluate', '--data', dir, '--protocol', 'online', '--split', 'group-out', '--detectors', 'dt', '--window', '40', '--stride', '8', '--ngram', '1', '--quiet'];
    const text = await runCli(base);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('dt-windows: in 2 of 3 folds, held-out normal training recordings reached its highest score, so no threshold kept them within --alert-share 0.05');
    const json = JSON.parse((await runCli([...base, '--json'])).stdout) as { results: { overBudgetFolds: number; thresholds: number[] }[] };
    expect(json.results[0].overBudgetFolds).toBe(2);
    expect(json.results[0].thresholds.filter((t) => t === 1)).toHaveLength(2);
    const loose = await runCli([...base, '--alert-share', '0.5']);
    expect(loose.stdout).not.toContain('highest score');
  });

  it('passes the training knobs through and rejects bad ones', async () => {
    const dir = await writeShortAttackDataset();
    const r = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--split', 'group-out', '--detectors', 'dt', '--window', '40', '--stride', '10', '--mil-rounds', '1', '--witness-share', '0.5', '--vocabulary', 'all', '--k', '2', '--n', '3', '--bag', '2', '--threshold-repeats', '2', '--threshold-folds', '3', '--hyper', 'dt.maxDepth=3', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as OnlineJson;
    expect(json.settings).toMatchObject({ window: 40, milRounds: 1, witnessShare: 0.5, vocabulary: 'all', k: 2, n: 3, bag: 2, thresholdRepeats: 2, thresholdFolds: 3, hyper: { dt: { maxDepth: 3 } } });
    expect(json.results[0].model).toBe('dt-bag2-windows');
    const bad = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--witness-share', '0', '--quiet']);
    expect(bad.code).not.toBe(0);
    const badVocabulary = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--vocabulary', 'attack', '--quiet']);
    expect(badVocabulary.code).not.toBe(0);
    const badBag = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--bag', '0', '--quiet']);
    expect(badBag.code).not.toBe(0);
    expect(badBag.stderr).toMatch(/--bag/);
    const badFolds = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--threshold-folds', '1', '--quiet']);
    expect(badFolds.code).not.toBe(0);
    expect(badFolds.stderr).toMatch(/--threshold-folds/);
    // --hyper reaches the window classifier: a name it does not know is refused, not ignored
    const badHyper = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--split', 'group-out', '--detectors', 'dt', '--window', '40', '--hyper', 'dt.depth=3', '--quiet']);
    expect(badHyper.code).not.toBe(0);
    expect(badHyper.stderr).toMatch(/hyper-parameter "depth" is not known to/);
    // --format reaches the replays: the toy runs (a call name per line) do not read as strace
    const strace = await runCli(['evaluate', '--data', dir, '--protocol', 'online', '--split', 'group-out', '--detectors', 'stide', '--format', 'strace', '--quiet']);
    expect(strace.code).not.toBe(0);
    expect(strace.stderr).toMatch(/FML_ERR_TRACE_EMPTY: .* read as a strace trace/);
  });
});
