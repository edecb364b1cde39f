import { describe, expect, it } from 'vitest';
import { isSidecarError } from '../../src/errors.js';
import { formatIssue } from '../../src/policy/issue.js';
import { checkPolicyDir, loadPolicyDir } from '../../src/policy/load-policies.js';
import { parsePolicyFile } from '../../src/policy/parse-policy-file.js';
import { policyDir } from './helpers.js';

const issuesOf = (text: string): string[] => parsePolicyFile(text, 'policies/web.yaml').issues.map(formatIssue);

describe('parsePolicyFile: errors name file, line and key', () => {
  it('a bad duration', () => {
    const text = [
      'policies:', //                     1
      '  - name: first', //               2
      '    signature: {}', //             3
      '  - name: second', //              4
      '    score:', //                    5
      '      max_over: sixty seconds', // 6
      '    confirmed: {}', //             7
    ].join('\n');
    expect(issuesOf(text)).toEqual(['policies/web.yaml:6: policies[1].score.max_over: expected a duration like 60s']);
  });

  it('an unknown key, at the key itself', () => {
    const text = ['policies:', '  - name: a', '    when:', '      rule: x', '      rules: y', '    signature: {}'].join('\n');
    const [issue] = parsePolicyFile(text, 'a.yaml').issues;
    expect(issue).toMatchObject({ file: 'a.yaml', line: 5, path: 'policies[0].when.rules' });
    expect(issue.message).toMatch(/^unknown key; expected one of rule, tags, priority/);
  });

  it('an unknown top-level key and a missing name', () => {
    const issues = parsePolicyFile(['polices: []', 'policies:', '  - signature: {}'].join('\n'), 'b.yaml').issues;
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [1, 'polices'],
      [3, 'policies[0]'],
    ]);
    expect(issues[1].message).toBe('missing required key name');
  });

  it.each([
    ['a priority name', 'when: { priority: Urgent }', 'policies[0].when.priority', /Falco priority/],
    ['a priority range key', 'when: { priority: { above: Warning } }', 'policies[0].when.priority.above', /unknown key/],
    ['a step of 0', 'confirmed: { priority: 0 }', 'policies[0].confirmed.priority', /step from -7 to \+7/],
    ['a rate limit', 'anomaly: { rate_limit: once every 5m }', 'policies[0].anomaly.rate_limit', /a rate like 1 per 5m/],
    ['a state', 'when: { state: training }', 'policies[0].when.state', /learning or detecting/],
    ['a field pattern', 'when: { fields: { k8s.ns.name: 3 } }', 'policies[0].when.fields["k8s.ns.name"]', /string or a list/],
    ['a non-ASCII rule name', 'anomaly: { rule: "Anomalie détectée" }', 'policies[0].anomaly.rule', /printable ASCII/],
    ['a score threshold', 'score: { latest: true, at_least: high }', 'policies[0].score.at_least', /a number/],
  ])('refuses %s', (_what, line, path, message) => {
    const [issue] = parsePolicyFile(`policies:\n  - name: p\n    signature: {}\n    ${line}\n`, 'c.yaml').issues;
    expect(issue.path).toBe(path);
    expect(issue.line).toBe(4);
    expect(issue.message).toMatch(message);
  });

  it.each([
    ['two score kinds', 'score: { latest: true, max_over: 60s }', 'policies[0].score', /exactly one of latest, max_over, count_over/],
    ['min_count without count_over', 'score: { max_over: 60s, min_count: 2 }', 'policies[0].score.min_count', /count_over/],
    ['an empty priority range', 'when: { priority: { at_least: Critical, at_most: Notice } }', 'policies[0].when.priority', /no priority fits/],
    ['an anomaly action behind an alert selector', 'when: { rule: x }\n    anomaly: {}', 'policies[0].anomaly', /can never apply/],
  ])('refuses %s', (_what, line, path, message) => {
    const issues = parsePolicyFile(`policies:\n  - name: p\n    signature: {}\n    ${line}\n`, 'c.yaml').issues;
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe(path);
    expect(issues[0].message).toMatch(message);
  });

  it('refuses a policy with no action, and duplicate names in one file', () => {
    const issues = parsePolicyFile('policies:\n  - name: p\n  - name: p\n    signature: {}\n', 'd.yaml').issues;
    expect(issues.map((i) => `${i.line} ${i.path}`)).toEqual(['2 policies[0]', '3 policies[1].name']);
  });

  it('reports YAML syntax errors with their line', () => {
    const [issue] = parsePolicyFile('policies:\n  - name: p\n    signature: {\n', 'e.yaml').issues;
    expect(issue.file).toBe('e.yaml');
    expect(issue.line).toBeGreaterThanOrEqual(3);
    expect(issue.message).toMatch(/^YAML: /);
  });

  it('refuses an empty file and a file that is a list', () => {
    expect(issuesOf('# nothing here\n')).toEqual(['policies/web.yaml:1: the file is empty; expected a mapping with a policies list']);
    expect(issuesOf('- name: p\n')).toEqual(['policies/web.yaml:1: expected a mapping with a policies list']);
  });

  it('accepts Falco rules-file spellings of priorities and steps', () => {
    const text = 'policies:\n  - name: p\n    when: { priority: { at_least: WARNING } }\n    confirmed: { priority: +2 }\n    signature: { priority: info }\n';
    expect(parsePolicyFile(text, 'f.yaml').issues).toEqual([]);
  });
});

describe('loadPolicyDir', () => {
  it('lists every problem of every file, then throws FML_ERR_POLICY_INVALID', async () => {
    const { dir, cleanup } = await policyDir({
      'a.yaml': 'policies:\n  - name: p\n    score: { count_over: 5 }\n    signature: {}\n',
      'b.yaml': 'policies:\n  - name: q\n    colour: red\n    signature: {}\n',
      'notes.txt': 'not a policy file',
    });
    try {
      const err: unknown = await loadPolicyDir(dir).catch((e: unknown) => e);
      expect(isSidecarError(err) && err.code).toBe('FML_ERR_POLICY_INVALID');
      const lines = (err as Error).message.split('\n').slice(1);
      expect(lines).toEqual([
        'a.yaml:3: policies[0].score.count_over: expected a duration like 60s',
        expect.stringMatching(/^b\.yaml:3: policies\[0\]\.colour: unknown key/),
      ]);
    } finally {
      await cleanup();
    }
  });

  it('refuses a policy name used in two files', async () => {
    const { dir, cleanup } = await policyDir({
      'a.yaml': 'policies:\n  - name: same\n    signature: {}\n',
      'b.yaml': 'policies:\n\n  - name: same\n    signature: {}\n',
    });
    try {
      const result = await checkPolicyDir(dir);
      expect(result.issues.map(formatIssue)).toEqual(['b.yaml:3: name: duplicate policy name "same", also in a.yaml:2']);
    } finally {
      await cleanup();
    }
  });

  it('orders files by order, then name, and drops disabled policies', async () => {
    const { dir, cleanup } = await policyDir({
      'a.yaml': 'order: 1000\npolicies:\n  - name: last\n    signature: {}\n',
      'b.yml': 'policies:\n  - name: first\n    signature: {}\n  - name: off\n    enabled: false\n    signature: {}\n',
      'c.yaml': 'order: 100\npolicies:\n  - name: second\n    signature: {}\n',
      '.hidden.yaml': 'not: valid',
    });
    try {
      const set = await loadPolicyDir(dir);
      expect(set.files).toEqual(['b.yml', 'c.yaml', 'a.yaml']);
      expect(set.policies.map((p) => `${p.name}@${p.file}:${p.line}`)).toEqual(['first@b.yml:2', 'second@c.yaml:3', 'last@a.yaml:3']);
    } finally {
      await cleanup();
    }
  });

  it('throws FML_ERR_POLICY_NOT_FOUND for a missing folder', async () => {
    const err: unknown = await loadPolicyDir('/nonexistent/falco-ml/policies').catch((e: unknown) => e);
    expect(isSidecarError(err) && err.code).toBe('FML_ERR_POLICY_NOT_FOUND');
  });
});
