import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SidecarError } from '../errors.js';
import { compilePolicies } from './compile-policy.js';
import { formatIssue, type PolicyIssue } from './issue.js';
import { parsePolicyFile } from './parse-policy-file.js';
import { DEFAULT_FILE_ORDER, type Policy, type PolicySet } from './policy.js';

/** Policy files are `*.yaml` and `*.yml` directly in the folder; dot-files (Kubernetes' `..data`) are skipped. */
export function isPolicyFileName(name: string): boolean {
  return !name.startsWith('.') && /\.ya?ml$/.test(name);
}

/** The outcome of reading a policy folder: a set when there was no problem, else every problem. */
export type PolicyDirResult = { set: PolicySet; issues: [] } | { set?: undefined; issues: PolicyIssue[] };

/**
 * Loads every policy file of a folder into one set, ordered by each file's `order` (default
 * 100, ascending), then file name, then position in the file. All files are checked before
 * failing, so one run reports every problem.
 * @throws SidecarError FML_ERR_POLICY_NOT_FOUND (no such folder), FML_ERR_POLICY_INVALID
 *   (message lists each problem as `file:line: key: message`).
 */
export async function loadPolicyDir(dir: string): Promise<PolicySet> {
  const result = await checkPolicyDir(dir);
  if (result.set === undefined) {
    throw new SidecarError('FML_ERR_POLICY_INVALID', `invalid policies in ${dir}:\n${result.issues.map(formatIssue).join('\n')}`);
  }
  return result.set;
}

/**
 * Like `loadPolicyDir` but returns the problems instead of throwing them.
 * @throws SidecarError FML_ERR_POLICY_NOT_FOUND
 */
export async function checkPolicyDir(dir: string): Promise<PolicyDirResult> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    names = (await readdir(dir)).filter(isPolicyFileName).sort();
  } catch (cause) {
    throw new SidecarError('FML_ERR_POLICY_NOT_FOUND', `cannot read the policy folder ${dir}`, { cause });
  }
  const files: { name: string; order: number; policies: Policy[] }[] = [];
  const issues: PolicyIssue[] = [];
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(path.join(dir, name), 'utf8');
    } catch (cause) {
      issues.push({ file: name, line: 1, path: '', message: `cannot read: ${(cause as Error).message}` });
      continue;
    }
    const parsed = parsePolicyFile(text, name);
    issues.push(...parsed.issues);
    if (parsed.input === undefined) continue;
    files.push({ name, order: parsed.input.order ?? DEFAULT_FILE_ORDER, policies: compilePolicies(parsed.input.policies, name, parsed.lineOf) });
  }
  files.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const byName = new Map<string, Policy>();
  for (const policy of files.flatMap((f) => f.policies)) {
    const other = byName.get(policy.name);
    if (other === undefined) byName.set(policy.name, policy);
    else if (other.file !== policy.file) {
      issues.push({ file: policy.file, line: policy.line, path: 'name', message: `duplicate policy name "${policy.name}", also in ${other.file}:${other.line}` });
    }
  }
  if (issues.length > 0) return { issues };
  return { set: { policies: files.flatMap((f) => f.policies), files: files.map((f) => f.name) }, issues: [] };
}
