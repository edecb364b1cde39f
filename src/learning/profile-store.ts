import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { SidecarError } from '../errors.js';
import { readJsonFile, writeJsonAtomic } from '../models/model-file.js';
import type { WorkloadRecord } from './workload.js';

export const WORKLOAD_FILE_FORMAT = 'falco-ml-workload';
export const WORKLOAD_FILE_VERSION = 1;

interface WorkloadFile extends WorkloadRecord {
  format: typeof WORKLOAD_FILE_FORMAT;
  version: number;
}

/**
 * One JSON file per workload in a folder, written atomically (temp file + rename), so a crash
 * leaves the previous state, never half a file. File names are the key with anything outside
 * `[A-Za-z0-9._-]` percent-encoded, so keys such as `k8s:blog/wordpress` stay one flat file.
 */
export class ProfileStore {
  readonly dir: string;
  /** The last write per file: saves of one workload run one after another, so an older record never lands last. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  fileOf(key: string): string {
    return path.join(this.dir, `${encodeURIComponent(key).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}.json`);
  }

  /** Saves a record (taken now, written after any earlier save of the same workload). */
  save(record: WorkloadRecord): Promise<void> {
    const path = this.fileOf(record.key);
    const file: WorkloadFile = { format: WORKLOAD_FILE_FORMAT, version: WORKLOAD_FILE_VERSION, ...record };
    const write = (this.writes.get(path) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        await mkdir(this.dir, { recursive: true });
        await writeJsonAtomic(path, file);
      });
    this.writes.set(path, write);
    void write.finally(() => {
      if (this.writes.get(path) === write) this.writes.delete(path);
    }).catch(() => undefined);
    return write;
  }

  /** @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the file */
  async load(key: string): Promise<WorkloadRecord | undefined> {
    const file = this.fileOf(key);
    try {
      return parseRecord(await readJsonFile(file), file);
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Every stored workload; a folder that does not exist yet holds none. */
  async loadAll(): Promise<WorkloadRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new SidecarError('FML_ERR_CONFIG_INVALID', `cannot read the profiles folder ${this.dir}`, { cause: err });
    }
    const records: WorkloadRecord[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      records.push(parseRecord(await readJsonFile(file), file));
    }
    return records;
  }

  async remove(key: string): Promise<boolean> {
    const file = this.fileOf(key);
    try {
      await rm(file);
      return true;
    } catch {
      return false;
    }
  }
}

function parseRecord(raw: unknown, file: string): WorkloadRecord {
  const fail = (what: string): never => {
    throw new SidecarError('FML_ERR_MODEL_FILE_INVALID', `${file}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) return fail('not a JSON object');
  const r = raw as Partial<WorkloadFile>;
  if (r.format !== WORKLOAD_FILE_FORMAT) return fail(`"format" is not "${WORKLOAD_FILE_FORMAT}"`);
  if (r.version !== WORKLOAD_FILE_VERSION) {
    throw new SidecarError('FML_ERR_MODEL_FILE_VERSION', `${file}: workload file version ${String(r.version)}, this release reads version ${WORKLOAD_FILE_VERSION}`);
  }
  if (typeof r.key !== 'string' || (r.state !== 'learning' && r.state !== 'detecting')) return fail('"key" and "state" (learning or detecting) are required');
  if (typeof r.startedMs !== 'number' || typeof r.events !== 'number') return fail('"startedMs" and "events" must be numbers');
  if (r.state === 'detecting' && (typeof r.model !== 'object' || r.model === null)) return fail('a detecting workload needs its "model"');
  const { format: _format, version: _version, ...record } = r as WorkloadFile;
  return record;
}
