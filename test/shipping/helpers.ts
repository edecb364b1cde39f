import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function readRepoFile(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

/** Every YAML document of a repository file, failing on any parse error or warning. */
export function readYamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(readRepoFile(file));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0 || doc.warnings.length > 0) throw new Error(`${file}: ${[...doc.errors, ...doc.warnings].map((e) => e.message).join('; ')}`);
  }
  return list.map((d) => d.toJS() as unknown);
}

export function readYaml<T>(file: string): T {
  const docs = readYamlDocuments(file);
  if (docs.length !== 1) throw new Error(`${file}: expected one YAML document, got ${docs.length}`);
  return docs[0] as T;
}

/** Reads a nested key (`a.b.c`); undefined when any step is missing. */
export function at(value: unknown, keyPath: string): unknown {
  let node: unknown = value;
  for (const key of keyPath.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
