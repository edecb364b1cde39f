/**
 * Glob patterns for rule names and field values: `*` matches any run of characters, `?` one
 * character, everything else itself (case-sensitive, like Falco's own rule names).
 */

/** A compiled pattern: an exact comparison when it has no wildcard, else an anchored RegExp. */
export type Matcher = (value: string) => boolean;

export function compileGlob(pattern: string): Matcher {
  if (!/[*?]/.test(pattern)) return (value) => value === pattern;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const re = new RegExp(`^${source}$`, 's');
  return (value) => re.test(value);
}

/** True when any of the patterns matches. */
export function compileGlobs(patterns: readonly string[]): Matcher {
  const matchers = patterns.map(compileGlob);
  return (value) => matchers.some((m) => m(value));
}
