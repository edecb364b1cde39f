import { Command } from 'commander';
import { describeBody } from '../detectors/window-detector.js';
import { SidecarError } from '../errors.js';
import { alignTable } from '../evaluation/report.js';
import { ProfileStore } from '../learning/profile-store.js';
import type { WorkloadRecord } from '../learning/workload.js';
import { loadWindowModelFile, saveWindowModelFile } from '../models/window-model-file.js';
import { SETTINGS } from '../sidecar/config.js';

const DIR_OPTION = ['--dir <folder>', 'the profiles folder of `serve --learn` (--profiles-dir)', SETTINGS['profiles-dir'].default] as const;

async function record(store: ProfileStore, key: string): Promise<WorkloadRecord> {
  const found = await store.load(key);
  if (found === undefined) throw new SidecarError('FML_ERR_USAGE', `no workload "${key}" in ${store.dir}; \`falco-ml profiles list\` shows the keys`);
  return found;
}

/**
 * `falco-ml profiles list|show|export|import|reset`: the workload profiles `serve --learn` keeps,
 * managed on disk (stop the sidecar first, or use its /workloads API while it runs).
 */
export function profilesCommand(): Command {
  const profiles = new Command('profiles').exitOverride().description('manage the per-workload normal profiles that `serve --learn` learns and keeps');
  profiles
    .command('list')
    .description('every workload: state, calls seen, model and threshold')
    .option(...DIR_OPTION)
    .option('--json', 'print JSON', false)
    .action(async (flags: { dir: string; json: boolean }) => {
      const records = await new ProfileStore(flags.dir).loadAll();
      const rows = records.map((r) => ({
        key: r.key,
        state: r.state,
        events: r.events,
        startedAt: new Date(r.startedMs).toISOString(),
        learnedAt: r.learnedAtMs === undefined ? undefined : new Date(r.learnedAtMs).toISOString(),
        model: r.model?.name,
        threshold: r.model?.alert.threshold,
        overBudget: r.overBudget,
      }));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ dir: flags.dir, workloads: rows }, null, 2)}\n`);
        return;
      }
      const table = [['workload', 'state', 'calls seen', 'learned at', 'model', 'threshold']];
      for (const r of rows) {
        const threshold = r.threshold === undefined ? '-' : `${r.threshold.toFixed(4)}${r.overBudget === true ? ' (over its alert share)' : ''}`;
        table.push([r.key, r.state, String(r.events), r.learnedAt ?? '-', r.model ?? '-', threshold]);
      }
      process.stdout.write(rows.length === 0 ? `no workload profiles in ${flags.dir}\n` : `${alignTable(table)}\n`);
    });
  profiles
    .command('show')
    .description("one workload's state and model settings, as JSON")
    .argument('<workload>', 'workload key, e.g. image:wordpress')
    .option(...DIR_OPTION)
    .action(async (key: string, flags: { dir: string }) => {
      const { calls, model, ...rest } = await record(new ProfileStore(flags.dir), key);
      const kept = Object.values(calls ?? {}).reduce((n, text) => n + Buffer.from(text, 'base64').length / 4, 0);
      const shown = { ...rest, keptCalls: kept, ...(model === undefined ? {} : { model: { name: model.name, window: model.window, alert: model.alert, detector: describeBody(model.detector) } }) };
      process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    });
  profiles
    .command('export')
    .description("write a detecting workload's profile as a window model file (for score, serve --model, or another cluster)")
    .argument('<workload>', 'workload key')
    .requiredOption('--out <file>', 'model file to write')
    .option(...DIR_OPTION)
    .action(async (key: string, flags: { dir: string; out: string }) => {
      const found = await record(new ProfileStore(flags.dir), key);
      if (found.model === undefined) throw new SidecarError('FML_ERR_USAGE', `workload "${key}" is still learning: nothing to export yet`);
      await saveWindowModelFile(flags.out, found.model);
      process.stdout.write(`wrote ${flags.out}: ${found.model.name}\n`);
    });
  profiles
    .command('import')
    .description('install a window model file as a workload profile: that workload detects at once when the sidecar starts')
    .argument('<model>', 'window model file (profiles export, or train --window)')
    .requiredOption('--workload <key>', 'workload key, e.g. image:wordpress')
    .option(...DIR_OPTION)
    .action(async (file: string, flags: { dir: string; workload: string }) => {
      const loaded = await loadWindowModelFile(file);
      const now = Date.now();
      await new ProfileStore(flags.dir).save({ key: flags.workload, state: 'detecting', startedMs: now, events: 0, learnedAtMs: now, model: loaded.file });
      process.stdout.write(`imported ${file} as workload ${flags.workload}\n`);
    });
  profiles
    .command('reset')
    .description('forget a workload: it learns from scratch when next seen (a running sidecar: POST /workloads/<key>/reset)')
    .argument('<workload>', 'workload key')
    .option(...DIR_OPTION)
    .action(async (key: string, flags: { dir: string }) => {
      if (!(await new ProfileStore(flags.dir).remove(key))) throw new SidecarError('FML_ERR_USAGE', `no workload "${key}" in ${flags.dir}`);
      process.stdout.write(`reset ${key}: it learns again when next seen\n`);
    });
  return profiles;
}
