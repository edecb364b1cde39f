import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SidecarError } from '../errors.js';
import { listTraceFiles } from '../traces/read-trace.js';

/** Attack = 1, normal = 0 (the study's CSV uses the opposite: t=1 is normal). */
export type Label = 0 | 1;

/** One labelled trace file of a data set. */
export interface Recording {
  /** Absolute path. */
  path: string;
  /** Path relative to the data set root, with `/` separators: the recording's stable id. */
  id: string;
  label: Label;
  /** The behaviour or plugin it exercises (leave-one-group-out folds). */
  group: string;
}

export interface Dataset {
  root: string;
  recordings: Recording[];
  /** Files found but left out because no label could be given to them. */
  unlabelled: string[];
}

const ATTACK_FOLDERS = new Set(['exec', 'anormal', 'attack', 'attacks', 'malicious']);
const NORMAL_FOLDERS = new Set(['normal', 'benign']);

/**
 * Lists the labelled recordings under `root`. Without a manifest, a file's label is the name
 * of the folder holding it (`exec`, `anormal`, `attack` = attack; `normal` = normal) and its
 * group is its file name without the run number (`warfare-3.log` → `warfare`). Files in other
 * folders (the study's `raw-sysdig-sample/…/sysdig/`) are listed in `unlabelled`, not read.
 * @throws SidecarError FML_ERR_TRACE_NOT_FOUND, FML_ERR_DATASET_EMPTY, FML_ERR_MANIFEST_INVALID
 */
export async function loadDataset(root: string, options: { manifest?: string } = {}): Promise<Dataset> {
  const absRoot = path.resolve(root);
  if (options.manifest !== undefined) return loadManifest(absRoot, options.manifest);
  const files = await listTraceFiles(absRoot);
  const rootIsFile = (await stat(absRoot)).isFile();
  const base = rootIsFile ? path.dirname(absRoot) : absRoot;
  const recordings: Recording[] = [];
  const unlabelled: string[] = [];
  for (const file of files) {
    const label = labelFromFolder(path.basename(path.dirname(file)));
    const id = path.relative(base, file).split(path.sep).join('/');
    if (label === undefined) unlabelled.push(id);
    else recordings.push({ path: file, id, label, group: groupFromFileName(path.basename(file)) });
  }
  if (recordings.length === 0) {
    throw new SidecarError(
      'FML_ERR_DATASET_EMPTY',
      `no labelled trace file under ${root} (${files.length} files found, none in a folder named exec, anormal, attack or normal)`,
    );
  }
  return { root: base, recordings, unlabelled };
}

export function labelFromFolder(folder: string): Label | undefined {
  const name = folder.toLowerCase();
  if (ATTACK_FOLDERS.has(name)) return 1;
  if (NORMAL_FOLDERS.has(name)) return 0;
  return undefined;
}

/** `warfare-3.log` → `warfare`; `wordpress_exec_12` → `wordpress_exec`. */
export function groupFromFileName(fileName: string): string {
  const stem = fileName.replace(/\.(log|txt|sc|scap|json|ndjson|strace)$/i, '');
  return stem.replace(/[-_.]?\d+$/, '') || stem;
}

/** Parses `path,label,group` lines; paths are relative to the manifest's folder. */
async function loadManifest(root: string, manifest: string): Promise<Dataset> {
  let text: string;
  try {
    text = await readFile(manifest, 'utf8');
  } catch (cause) {
    throw new SidecarError('FML_ERR_TRACE_NOT_FOUND', `cannot read manifest ${manifest}`, { cause });
  }
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(',').map((s) => s.trim().toLowerCase());
  if (header?.[0] !== 'path' || header[1] !== 'label') {
    throw new SidecarError('FML_ERR_MANIFEST_INVALID', `${manifest}:1: header must be path,label,group (got "${lines[0] ?? ''}")`);
  }
  const base = path.dirname(path.resolve(manifest));
  const recordings: Recording[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const [file, labelText, group] = line.split(',').map((s) => s.trim());
    const label = labelText === 'attack' || labelText === '1' ? 1 : labelText === 'normal' || labelText === '0' ? 0 : undefined;
    if (file === undefined || file === '' || label === undefined) {
      throw new SidecarError('FML_ERR_MANIFEST_INVALID', `${manifest}:${i + 1}: expected path,attack|normal,group (got "${line}")`);
    }
    const abs = path.resolve(base, file);
    recordings.push({ path: abs, id: path.relative(root, abs).split(path.sep).join('/'), label, group: group || groupFromFileName(path.basename(file)) });
  }
  if (recordings.length === 0) throw new SidecarError('FML_ERR_DATASET_EMPTY', `manifest ${manifest} lists no recording`);
  return { root, recordings, unlabelled: [] };
}
