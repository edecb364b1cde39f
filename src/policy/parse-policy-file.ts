import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import { formatPath, type PolicyIssue } from './issue.js';
import { parsePriority, priorityRank } from './priority.js';
import { POLICY_FILE_SCHEMA, type PolicyFileInput, type PriorityRangeInput, type SelectorInput } from './schema.js';

/**
 * Parses one policy file's text and checks it against the schema and the rules a schema
 * cannot say. Every issue names the file, the line and the key path. Parsing keeps YAML
 * positions (parseDocument + LineCounter) only to locate problems.
 */

type Path = (string | number)[];

export interface ParsedPolicyFile {
  /** Present only when there were no issues. */
  input?: PolicyFileInput;
  issues: PolicyIssue[];
  /** The line of the node at `path` (or of its nearest ancestor present in the file). */
  lineOf(path: readonly (string | number)[]): number;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strictTypes: false });
ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
const validateSchema = ajv.compile<PolicyFileInput>(POLICY_FILE_SCHEMA);

const ALERT_ONLY_KEYS = ['rule', 'tags', 'priority', 'source'] as const;
const SCORE_KINDS = ['latest', 'max_over', 'count_over'] as const;

export function parsePolicyFile(text: string, file: string): ParsedPolicyFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (path: readonly (string | number)[], key?: string): number => locateLine(doc, lineCounter, path, key);
  const issues: PolicyIssue[] = [];
  const add = (path: Path, message: string, key?: string): void => {
    issues.push({ file, line: lineOf(path, key), path: formatPath(key === undefined ? path : [...path, key]), message });
  };

  for (const err of doc.errors) {
    const offset = err.pos[0];
    issues.push({ file, line: lineCounter.linePos(offset).line, path: '', message: `YAML: ${err.message.split('\n')[0]}` });
  }
  if (issues.length > 0) return { issues, lineOf };
  if (doc.contents === null) {
    issues.push({ file, line: 1, path: '', message: 'the file is empty; expected a mapping with a policies list' });
    return { issues, lineOf };
  }

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!validateSchema(data)) {
    const seen = new Set<string>();
    for (const err of validateSchema.errors ?? []) {
      const issue = describeAjvError(err);
      if (issue === undefined) continue;
      const id = `${issue.path.join('/')}\0${issue.key ?? ''}`;
      if (seen.has(id)) continue; // one message per key is enough: the first says what is wrong
      seen.add(id);
      add(issue.path, issue.message, issue.key);
    }
    issues.sort((a, b) => a.line - b.line);
    return { issues, lineOf };
  }

  checkSemantics(data, add);
  issues.sort((a, b) => a.line - b.line); // stable: same-line issues keep their order
  return issues.length === 0 ? { input: data, issues, lineOf } : { issues, lineOf };
}

function describeAjvError(err: ErrorObject): { path: Path; key?: string; message: string } | undefined {
  const path = toPath(err.instancePath);
  const parent = err.parentSchema as { expected?: string; properties?: Record<string, unknown> } | undefined;
  switch (err.keyword) {
    case 'if':
      return undefined; // the failing branch reports the real problem
    case 'additionalProperties': {
      const key = String((err.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys(parent?.properties ?? {});
      return { path, key, message: `unknown key; expected one of ${known.join(', ')}` };
    }
    case 'required': {
      const key = String((err.params as { missingProperty: string }).missingProperty);
      return { path, message: `missing required key ${key}` };
    }
    default:
      return { path, message: `expected ${parent?.expected ?? (err.keyword === 'type' ? `a ${String((err.params as { type: string }).type)}` : 'a valid value')}` };
  }
}

function toPath(instancePath: string): Path {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : seg));
}

function locateLine(doc: Document, lineCounter: LineCounter, path: readonly (string | number)[], key?: string): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (!isNode(node) || node.range == null) continue;
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair !== undefined && isScalar(pair.key) && pair.key.range != null) return lineCounter.linePos(pair.key.range[0]).line;
    }
    return lineCounter.linePos(node.range[0]).line;
  }
  return 1;
}

type AddIssue = (path: Path, message: string, key?: string) => void;

function checkSemantics(input: PolicyFileInput, add: AddIssue): void {
  const names = new Map<string, number>();
  input.policies.forEach((policy, i) => {
    const at: Path = ['policies', i];
    const first = names.get(policy.name);
    if (first !== undefined) add([...at, 'name'], `duplicate policy name; policies[${first}] already uses "${policy.name}"`);
    else names.set(policy.name, i);

    if (policy.signature === undefined && policy.confirmed === undefined && policy.anomaly === undefined) {
      add(at, 'a policy needs at least one of signature, confirmed, anomaly (an empty mapping `{}` only enriches)');
    }
    if (policy.anomaly !== undefined && policy.when !== undefined) {
      const alertKeys = ALERT_ONLY_KEYS.filter((k) => policy.when?.[k] !== undefined);
      if (alertKeys.length > 0) {
        add([...at, 'anomaly'], `can never apply: when selects by ${alertKeys.join(', ')}, which windows do not have; move anomaly into its own policy`);
      }
    }
    for (const part of ['when', 'unless'] as const) checkSelector(policy[part], [...at, part], add);
    for (const part of ['signature', 'confirmed'] as const) {
      const priority = policy[part]?.priority;
      if (typeof priority === 'object') checkRange(priority, [...at, part, 'priority'], add);
    }
    if (policy.score !== undefined) {
      const kinds = SCORE_KINDS.filter((k) => policy.score?.[k] !== undefined);
      if (kinds.length !== 1) add([...at, 'score'], `expected exactly one of latest, max_over, count_over${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`);
      if (policy.score.min_count !== undefined && policy.score.count_over === undefined) add([...at, 'score', 'min_count'], 'only meaningful with count_over');
    }
  });
}

function checkSelector(selector: SelectorInput | undefined, at: Path, add: AddIssue): void {
  if (selector === undefined) return;
  if (Object.keys(selector).length === 0) add(at, 'empty; leave it out to match everything');
  if (typeof selector.priority === 'object') checkRange(selector.priority, [...at, 'priority'], add);
}

function checkRange(range: PriorityRangeInput, at: Path, add: AddIssue): void {
  const least = range.at_least === undefined ? undefined : parsePriority(range.at_least);
  const most = range.at_most === undefined ? undefined : parsePriority(range.at_most);
  // at_least X keeps ranks <= rank(X), at_most Y keeps ranks >= rank(Y): empty when Y is below X.
  if (least !== undefined && most !== undefined && priorityRank(most) > priorityRank(least)) {
    add(at, `at_most ${most} is less severe than at_least ${least}: no priority fits`);
  }
}
