import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';

/**
 * Static checks of the Falco rules files in rules/: the shape Falco's rule loader expects, and
 * that every macro and list a condition names exists. No Falco binary is needed (none in CI).
 */

const RULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../rules');

/** Keys Falco's loader accepts per item kind (falco rules file reference, Falco 0.39 to 0.44). */
const KNOWN_KEYS = {
  rule: ['rule', 'desc', 'condition', 'output', 'priority', 'tags', 'enabled', 'exceptions', 'source', 'append', 'override', 'warn_evttypes', 'skip-if-unknown-filter'],
  macro: ['macro', 'condition', 'append', 'override'],
  list: ['list', 'items', 'append', 'override'],
} as const;
const REQUIRED_KEYS = {
  rule: ['desc', 'condition', 'output', 'priority', 'tags'],
  macro: ['condition'],
  list: ['items'],
} as const;
/** Falco accepts these case-insensitively; `INFO` is its shorthand for Informational. */
const PRIORITIES = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFORMATIONAL', 'INFO', 'DEBUG'];
/**
 * Macros and lists of upstream falco_rules.yaml a file here may use without defining them.
 * Ours define everything they use (prefixed falco_ml_), so this stays a documented allowance.
 */
const UPSTREAM_DEFAULTS = ['container', 'spawned_process', 'open_read', 'open_write', 'outbound', 'inbound', 'shell_binaries', 'shell_procs', 'http_server_binaries', 'sensitive_file_names', 'rfc_1918_addresses', 'never_true', 'always_true', 'proc_name_exists', 'container_started', 'interactive'];
/** Operators and keywords of Falco's condition grammar, lower-case. */
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'intersects', 'pmatch', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'glob', 'iglob', 'exists', 'regex']);
const VALUE_OPERATORS = new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'glob', 'iglob', 'regex']);
const GROUP_OPERATORS = new Set(['in', 'intersects', 'pmatch']);

type Kind = keyof typeof KNOWN_KEYS;
type Item = Record<string, unknown>;

function loadItems(file: string): Item[] {
  const doc = parseDocument(readFileSync(path.join(RULES, file), 'utf8'));
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  const items: unknown = doc.toJS();
  expect(Array.isArray(items)).toBe(true);
  return items as Item[];
}

function kindOf(item: Item): Kind {
  const kinds = (Object.keys(KNOWN_KEYS) as Kind[]).filter((k) => k in item);
  expect(kinds, JSON.stringify(item).slice(0, 80)).toHaveLength(1);
  return kinds[0];
}

/**
 * Macro and list names a condition refers to. Macros: bare identifiers in a boolean position
 * (not the value of a comparison). Lists: identifiers with an underscore inside an `in (...)`
 * group (inline values here, syscall names, have none).
 */
function references(condition: string): { macros: string[]; lists: string[] } {
  const text = condition.replace(/"[^"]*"|'[^']*'/g, ' "" ');
  const tokens = text.match(/[()]|,|!=|==|<=|>=|=|<|>|[^\s(),=<>!]+/g) ?? [];
  const macros: string[] = [];
  const lists: string[] = [];
  let groupDepth = 0;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '(') {
      depth++;
      if (GROUP_OPERATORS.has(tokens[i - 1]?.toLowerCase() ?? '') && groupDepth === 0) groupDepth = depth;
      continue;
    }
    if (t === ')') {
      if (depth === groupDepth) groupDepth = 0;
      depth--;
      continue;
    }
    if (!/^[a-z_][a-z0-9_]*$/.test(t) || KEYWORDS.has(t)) continue;
    if (groupDepth > 0) {
      if (t.includes('_')) lists.push(t);
    } else if (!VALUE_OPERATORS.has(tokens[i - 1]?.toLowerCase() ?? '')) macros.push(t);
  }
  expect(depth, `unbalanced parentheses in: ${condition}`).toBe(0);
  return { macros, lists };
}

describe.each(['falco-feed.yaml', 'webapp-signatures.yaml'])('rules/%s', (file) => {
  const items = loadItems(file);

  it('every item is exactly one of rule, macro, list, with its required keys and only known keys', () => {
    for (const item of items) {
      const kind = kindOf(item);
      const name = String(item[kind]);
      expect(name.length).toBeGreaterThan(0);
      for (const key of REQUIRED_KEYS[kind]) expect(item[key], `${name}: ${key}`).toBeDefined();
      for (const key of Object.keys(item)) expect(KNOWN_KEYS[kind] as readonly string[], `${name}: ${key}`).toContain(key);
      if (kind === 'list') expect(Array.isArray(item.items)).toBe(true);
      if (kind === 'rule') expect(Array.isArray(item.tags)).toBe(true);
    }
  });

  it('names are unique and rule names printable ASCII', () => {
    const names = items.map((i) => `${kindOf(i)}:${String(i[kindOf(i)])}`);
    expect(new Set(names).size).toBe(names.length);
    for (const item of items.filter((i) => kindOf(i) === 'rule')) expect(String(item.rule)).toMatch(/^[\x20-\x7E]+$/);
  });

  it('every macro and list a condition uses is defined earlier in the file or an upstream default; every one defined is used', () => {
    const defined = { macro: new Set<string>(), list: new Set<string>() };
    const used = new Set<string>();
    for (const item of items) {
      const kind = kindOf(item);
      if (kind === 'list') {
        for (const value of item.items as unknown[]) if (typeof value === 'string' && defined.list.has(value)) used.add(value);
        defined.list.add(String(item.list));
        continue;
      }
      const { macros, lists } = references(String(item.condition));
      for (const m of macros) {
        expect(defined.macro.has(m) || UPSTREAM_DEFAULTS.includes(m), `${String(item[kind])}: macro ${m}`).toBe(true);
        used.add(m);
      }
      for (const l of lists) {
        expect(defined.list.has(l) || UPSTREAM_DEFAULTS.includes(l), `${String(item[kind])}: list ${l}`).toBe(true);
        used.add(l);
      }
      if (kind === 'macro') defined.macro.add(String(item.macro));
    }
    expect([...defined.macro, ...defined.list].filter((n) => !used.has(n))).toEqual([]);
  });

  it('rules have valid priorities and outputs naming container.id', () => {
    for (const rule of items.filter((i) => kindOf(i) === 'rule')) {
      expect(PRIORITIES).toContain(String(rule.priority).toUpperCase());
      expect(String(rule.output)).toContain('%container.id');
      expect(String(rule.output)).toMatch(/^[\x20-\x7E\n]+$/);
    }
  });
});

describe('rules/falco-feed.yaml', () => {
  const rules = loadItems('falco-feed.yaml').filter((i) => 'rule' in i);

  it('is one DEBUG rule tagged falco_ml_feed, on exit events of a selected list of containers', () => {
    expect(rules).toHaveLength(1);
    const [feed] = rules;
    expect(feed.priority).toBe('DEBUG');
    expect(feed.tags).toContain('falco_ml_feed');
    const condition = String(feed.condition);
    expect(condition).toMatch(/evt\.dir = </);
    expect(condition).toContain('falco_ml_feed_selected');
  });

  it('puts every field the model needs into output_fields', () => {
    const output = String(rules[0].output);
    for (const field of ['container.id', 'container.name', 'container.image.repository', 'k8s.ns.name', 'k8s.pod.name', 'evt.type', 'evt.dir', 'evt.rawtime', 'proc.name', 'proc.pid', 'thread.tid']) {
      expect(output).toContain(`%${field}`);
    }
  });
});

describe('rules/webapp-signatures.yaml', () => {
  const rules = loadItems('webapp-signatures.yaml').filter((i) => 'rule' in i);

  it('covers shells spawned by the web server, PHP uploads written and executed, sensitive reads, outbound connections', () => {
    const conditions = rules.map((r) => String(r.condition));
    expect(conditions.some((c) => c.includes('falco_ml_web_server_parent') && c.includes('falco_ml_shell_binaries'))).toBe(true);
    expect(conditions.some((c) => c.includes('falco_ml_open_write') && c.includes('falco_ml_uploads_path'))).toBe(true);
    expect(conditions.some((c) => c.includes('falco_ml_open_read') && c.includes('falco_ml_uploads_path'))).toBe(true);
    expect(conditions.some((c) => c.includes('falco_ml_sensitive_files'))).toBe(true);
    expect(conditions.some((c) => c.includes('falco_ml_outbound_connect'))).toBe(true);
  });
});

describe('the reference finder', () => {
  it('tells macros and lists from values', () => {
    expect(references('a_macro and not fd.name in (x_list, "/a b") and evt.type in (execve, open) and container.id != host and evt.dir = <')).toEqual({
      macros: ['a_macro'],
      lists: ['x_list'],
    });
  });
});
