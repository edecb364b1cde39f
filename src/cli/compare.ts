import { Command, Option } from 'commander';
import { explainArtefacts } from '../compare/artefacts.js';
import { formatSummary } from '../compare/summary-table.js';
import { writeCompareReport } from '../compare/write-report.js';
import { loadDataset } from '../datasets/dataset.js';
import { parseInteger } from './options.js';
import { createProgress } from './progress.js';

interface CompareFlags {
  a: string;
  aName: string;
  b: string;
  bName: string;
  out: string;
  top: number;
  json: boolean;
  quiet: boolean;
}

/** `compare`: two recorders' data sets side by side, as an HTML report with SVG/PNG charts. */
export function compareCommand(): Command {
  return new Command('compare')
    .description('compare two recorders\' data sets (e.g. sysdig and strace): calls per recording by syscall and category, normal vs attack shifts, overlap and recorder artefacts')
    .requiredOption('--a <dir>', 'first data set folder (exec/ and normal/ sub-folders)')
    .option('--a-name <name>', 'name of the first recorder in the report', 'a')
    .requiredOption('--b <dir>', 'second data set folder')
    .option('--b-name <name>', 'name of the second recorder', 'b')
    .requiredOption('--out <dir>', 'folder for report.html, compare.json and the charts (SVG and PNG)')
    .addOption(new Option('--top <n>', 'syscalls per chart').argParser(parseInteger(1)).default(20))
    .option('--json', 'print every number as JSON instead of the summary table', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (flags: CompareFlags) => {
      const a = { name: flags.aName, dataset: await loadDataset(flags.a) };
      const b = { name: flags.bName, dataset: await loadDataset(flags.b) };
      const progress = createProgress('compare', { quiet: flags.quiet });
      const { comparison, files } = await writeCompareReport(a, b, { out: flags.out, top: flags.top, onProgress: (done, total, note) => progress.update(done, total, note) });
      progress.stop();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...comparison, artefactNotes: explainArtefacts(comparison), files }, null, 2)}\n`);
        return;
      }
      process.stdout.write(formatSummary(comparison));
      process.stdout.write(`\nreport: ${files[0]} (${files.length} files in ${flags.out})\n`);
    });
}
