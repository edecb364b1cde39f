/** One problem found in a policy file, located for the person who has to fix it. */
export interface PolicyIssue {
  /** File name relative to the policy folder. */
  file: string;
  /** 1-based line. */
  line: number;
  /** Key path such as `policies[1].score.max_over`; empty for the file as a whole. */
  path: string;
  message: string;
}

/** `policies/web.yaml:12: policies[1].score.max_over: expected a duration like 60s` */
export function formatIssue(issue: PolicyIssue): string {
  return `${issue.file}:${issue.line}: ${issue.path === '' ? '' : `${issue.path}: `}${issue.message}`;
}

/** `['policies', 1, 'when', 'fields', 'k8s.ns.name']` → `policies[1].when.fields["k8s.ns.name"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
