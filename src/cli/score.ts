import { Command, Option } from 'commander';
import { parseModelFile, readJsonFile } from '../models/model-file.js';
import { scoreTraceFile, scoreTraceWindows, type TraceScore } from '../models/score-trace.js';
import { WINDOW_MODEL_FILE_FORMAT, parseWindowModelFile } from '../models/window-model-file.js';
import type { TraceFormatName } from '../traces/trace-format.js';
import { listTraceFiles } from '../traces/read-trace.js';
import { parseFormat, parseInteger } from './options.js';
import { alignTable } from '../evaluation/report.js';

interface ScoreFlags {
  model: string;
  json: boolean;
  top: number;
  format?: TraceFormatName;
}

export function scoreCommand(): Command {
  return new Command('score')
    .description('score trace files (or folders of them) with a trained model')
    .argument('<trace...>', 'trace files or folders')
    .requiredOption('--model <file>', 'model file written by train (per recording, or a window model from train --window)')
    .option('--json', 'print one JSON object with a results array', false)
    .addOption(new Option('--top <n>', 'features to list per trace').argParser(parseInteger(0)).default(5))
    .addOption(new Option('--format <name>', 'trace format (default: detected per file)').argParser(parseFormat))
    .action(async (traces: string[], flags: ScoreFlags) => {
      const scorer = await loadScorer(flags.model);
      const results: TraceScore[] = [];
      for (const trace of traces) {
        for (const file of await listTraceFiles(trace)) {
          results.push(await scorer.score(file, { top: flags.top, ...(flags.format === undefined ? {} : { format: flags.format }) }));
        }
      }
      if (flags.json) {
        const out = results.map(({ stats, ...r }) => ({ ...r, skippedSamples: stats.skippedSamples }));
        process.stdout.write(`${JSON.stringify({ model: flags.model, threshold: scorer.threshold, results: out }, null, 2)}\n`);
        return;
      }
      const table = [['file', 'format', 'events', 'skipped', 'windows', 'max score', 'alerts', 'top features']];
      for (const r of results) {
        table.push([
          r.file,
          r.format,
          String(r.events),
          String(r.skipped),
          String(r.windows),
          r.maxScore.toFixed(4),
          r.alert ? String(r.alerts) : '-',
          r.top.filter((c) => c.delta > 0).map((c) => c.feature).join(' ') || '-',
        ]);
      }
      process.stdout.write(`${alignTable(table)}\n`);
      for (const r of results) {
        for (const s of r.stats.skippedSamples) process.stderr.write(`skipped ${r.file}:${s.line}: ${s.reason}\n`);
      }
    });
}

interface Scorer {
  threshold: number;
  score(file: string, options: { top: number; format?: TraceFormatName }): Promise<TraceScore>;
}

/** Either kind of model file: per-recording (`train`) or window (`train --window`). */
async function loadScorer(path: string): Promise<Scorer> {
  const raw = await readJsonFile(path);
  if (typeof raw === 'object' && raw !== null && (raw as { format?: unknown }).format === WINDOW_MODEL_FILE_FORMAT) {
    const model = parseWindowModelFile(raw, path);
    return { threshold: model.file.alert.threshold, score: (file, options) => scoreTraceWindows(model, file, options) };
  }
  const model = parseModelFile(raw, path);
  return { threshold: model.file.threshold, score: (file, options) => scoreTraceFile(model, file, options) };
}
