/**
 * One vocabulary for two recorders: the rule `evaluate --protocol cross` (and `compare`'s
 * "seen by one recorder only" list) applies before any model sees a count.
 *
 * 1. Merge recorder spellings of one call (`CROSS_RECORDER_MERGES`): the sysdig version behind
 *    the study's data names the accept4 syscall `accept` (its enter event carries `flags=`, the
 *    accept4 signature; see `src/syscalls/canonical.ts`), strace prints `accept4`.
 * 2. Keep a token only when both data sets contain it: seen in at least one recording of each,
 *    labels unused. A call one recorder cannot see (strace without `-f` never sees the `execve`
 *    of a forked child; the study's sysdig capture never shows `pread64`) would otherwise be a
 *    perfect feature in training and a constant in testing.
 * 3. Recount the share denominator over the kept single calls, so a call the other recorder
 *    cannot see does not dilute the shares of the calls it can.
 */
import type { TokenCounts } from './extract.js';

/** Recorder names of one call, mapped to the name both recorders' rows use (`accept` → `accept4`). */
export const CROSS_RECORDER_MERGES: ReadonlyMap<string, string> = new Map([['accept', 'accept4']]);

/** Token with every call in it merged (`accept>read` → `accept4>read`); argument tokens keep their text. */
export function mergeToken(token: string): string {
  if (token.includes(':')) return token;
  if (!token.includes('>')) return CROSS_RECORDER_MERGES.get(token) ?? token;
  return token
    .split('>')
    .map((call) => CROSS_RECORDER_MERGES.get(call) ?? call)
    .join('>');
}

/** The counts with merged token names (summing tokens that merge into one). */
export function mergeCounts(counts: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [token, n] of counts) {
    const merged = mergeToken(token);
    out.set(merged, (out.get(merged) ?? 0) + n);
  }
  return out;
}

/** Tokens present (count > 0) in at least one recording of `a` and one of `b`, sorted. */
export function sharedTokens(a: readonly TokenCounts[], b: readonly TokenCounts[]): string[] {
  const seen = (rows: readonly TokenCounts[]): Set<string> => {
    const out = new Set<string>();
    for (const row of rows) for (const [token, n] of row.counts) if (n > 0) out.add(token);
    return out;
  };
  const inB = seen(b);
  return [...seen(a)].filter((t) => inB.has(t)).sort();
}

/**
 * A recording's counts restricted to `keep`; `calls` becomes the sum of the kept single calls
 * (tokens without `>` or `:`), the share denominator of rule 3.
 */
export function restrictCounts<T extends TokenCounts>(row: T, keep: ReadonlySet<string>): T {
  const counts = new Map<string, number>();
  let calls = 0;
  for (const [token, n] of row.counts) {
    if (!keep.has(token)) continue;
    counts.set(token, n);
    if (!token.includes('>') && !token.includes(':')) calls += n;
  }
  return { ...row, counts, calls };
}
