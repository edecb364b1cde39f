/**
 * Durations (`90s`, `5m`) and rate limits (`1 per 5m`) as policy files spell them.
 * The patterns are shared with the JSON schema so the schema and the parser cannot disagree.
 */

/** A whole positive number of ms, s, m or h: `500ms`, `60s`, `5m`, `1h`. */
export const DURATION_PATTERN = '^[1-9][0-9]*(ms|s|m|h)$';
/** `N per DURATION`: at most N events in any sliding span of DURATION. */
export const RATE_LIMIT_PATTERN = '^[1-9][0-9]* per [1-9][0-9]*(ms|s|m|h)$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export interface RateLimit {
  count: number;
  perMs: number;
}

/** `60s` → 60000. Throws on text the schema would have refused. */
export function parseDurationMs(text: string): number {
  const m = /^([1-9][0-9]*)(ms|s|m|h)$/.exec(text);
  if (m === null) throw new RangeError(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** `1 per 5m` → { count: 1, perMs: 300000 }. */
export function parseRateLimit(text: string): RateLimit {
  const m = /^([1-9][0-9]*) per (.+)$/.exec(text);
  if (m === null) throw new RangeError(`not a rate limit: ${text}`);
  return { count: Number(m[1]), perMs: parseDurationMs(m[2]) };
}
