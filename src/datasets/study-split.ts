import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SidecarError } from '../errors.js';
import type { Recording } from './dataset.js';

/** The study's 50/50 split mapped onto recordings, plus what could not be mapped. */
export interface StudySplit {
  train: Recording[];
  test: Recording[];
  /** CSV rows whose log file is not in the data (the two files missing from the snapshot). */
  missingRows: { id: number; split: 'train' | 'test'; note: string }[];
}

/**
 * Rebuilds the study's train/test halves from `derived/split_seed42.csv` (row id → half) and
 * `derived/histogramas_row_to_file.csv` (row id → log file). Three pairs of attack logs have
 * identical histograms, so their rows name both files (`a|b`); the lower row id takes the first
 * file. Since the two files count the same calls, the study's vectors are unaffected.
 * @throws SidecarError FML_ERR_SPLIT_INVALID when the CSV files are absent or malformed
 */
export async function loadStudySplit(root: string, recordings: readonly Recording[]): Promise<StudySplit> {
  const rowsToFile = await readCsv(path.join(root, 'derived', 'histogramas_row_to_file.csv'));
  const splitRows = await readCsv(path.join(root, 'derived', 'split_seed42.csv'));
  const half = new Map<number, 'train' | 'test'>();
  for (const row of splitRows) {
    const split = row.split;
    if (split !== 'train' && split !== 'test') throw new SidecarError('FML_ERR_SPLIT_INVALID', `split_seed42.csv: row ${row.id} has split "${split}"`);
    half.set(Number(row.id), split);
  }
  const byId = new Map(recordings.map((r) => [r.id, r]));
  const used = new Map<string, number>();
  const out: StudySplit = { train: [], test: [], missingRows: [] };
  const sorted = [...rowsToFile].sort((a, b) => Number(a.id) - Number(b.id));
  for (const row of sorted) {
    const id = Number(row.id);
    const split = half.get(id);
    if (split === undefined) throw new SidecarError('FML_ERR_SPLIT_INVALID', `row ${id} of histogramas_row_to_file.csv has no split`);
    const candidates = row.file.split('|');
    const nth = used.get(row.file) ?? 0;
    used.set(row.file, nth + 1);
    const recording = byId.get(candidates[Math.min(nth, candidates.length - 1)]);
    if (recording === undefined) {
      out.missingRows.push({ id, split, note: row.file });
      continue;
    }
    out[split].push(recording);
  }
  if (out.train.length === 0 || out.test.length === 0) {
    throw new SidecarError('FML_ERR_SPLIT_INVALID', `the study split matched no recording under ${root}`);
  }
  return out;
}

async function readCsv(file: string): Promise<Record<string, string>[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new SidecarError('FML_ERR_SPLIT_INVALID', `cannot read ${file}`, { cause });
  }
  const [headerLine, ...lines] = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = headerLine.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}
