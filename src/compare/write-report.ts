/**
 * `compare` end to end: read both data sets, compute the numbers, draw the charts, and write
 * the report folder:
 * ```
 * <out>/report.html           self-contained (charts inline)
 * <out>/compare.json          every number (what --json prints)
 * <out>/<a>-syscalls.svg|png  <out>/<b>-syscalls.svg|png
 * <out>/categories.svg|png    <out>/shifts.svg|png
 * ```
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from '../datasets/dataset.js';
import { SidecarError } from '../errors.js';
import { buildCharts, fileStem } from './charts.js';
import { compareRecorders, type Comparison } from './comparison.js';
import { renderHtmlReport } from './html-report.js';
import { renderPng } from './png.js';
import { profileRecorder } from './recorder-profile.js';

export interface CompareInput {
  name: string;
  dataset: Dataset;
}

export interface CompareOptions {
  out: string;
  /** Syscalls per chart (and twice as many rows in the shift tables). @default 20 */
  top: number;
  onProgress?: (done: number, total: number, note: string) => void;
  /** Time printed in the report; fixed in tests. @default now */
  generatedAt?: string;
}

export interface CompareReport {
  comparison: Comparison;
  /** Paths written, report first. */
  files: string[];
}

/**
 * Writes the report folder and returns the numbers.
 * @throws SidecarError FML_ERR_USAGE when both recorders would write the same chart file,
 *   FML_ERR_TRACE_* from the readers
 */
export async function writeCompareReport(a: CompareInput, b: CompareInput, options: CompareOptions): Promise<CompareReport> {
  if (fileStem(a.name) === fileStem(b.name)) {
    throw new SidecarError('FML_ERR_USAGE', `--a-name "${a.name}" and --b-name "${b.name}" give the same file names; pick two distinct names`);
  }
  const profileA = await profileRecorder(a.name, a.dataset, options.onProgress);
  const profileB = await profileRecorder(b.name, b.dataset, options.onProgress);
  const comparison = compareRecorders(profileA, profileB, { top: options.top });
  const charts = buildCharts(comparison, options.top);
  await mkdir(options.out, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, data: string | Buffer): Promise<void> => {
    const file = path.join(options.out, name);
    await writeFile(file, data);
    files.push(file);
  };
  await write('report.html', renderHtmlReport(comparison, charts, { top: options.top, generatedAt: options.generatedAt ?? new Date().toISOString() }));
  await write('compare.json', `${JSON.stringify(comparison, null, 2)}\n`);
  for (const chart of charts) {
    await write(`${chart.stem}.svg`, chart.svg);
    await write(`${chart.stem}.png`, renderPng(chart.svg));
  }
  return { comparison, files };
}
