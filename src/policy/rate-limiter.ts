import type { RateLimit } from './duration.js';

/**
 * Sliding-window rate limits per key (policy + container). Memory stays bounded: at most
 * `maxKeys` keys, the least recently used dropped first, and each key keeps only the times
 * still inside its span.
 */
export class RateLimiter {
  readonly #times = new Map<string, number[]>();
  readonly #maxKeys: number;

  /** @param maxKeys keys kept at most; @default 10000 */
  constructor(maxKeys = 10_000) {
    this.#maxKeys = maxKeys;
  }

  /** Records an event at `nowMs` and returns true when the limit allows it; false (not recorded) otherwise. */
  take(key: string, limit: RateLimit, nowMs: number): boolean {
    const since = nowMs - limit.perMs;
    const times = (this.#times.get(key) ?? []).filter((t) => t > since);
    const allowed = times.length < limit.count;
    if (allowed) times.push(nowMs);
    this.#times.delete(key); // re-insert: Map order is the LRU order
    this.#times.set(key, times);
    if (this.#times.size > this.#maxKeys) this.#times.delete(this.#times.keys().next().value as string);
    return allowed;
  }

  get size(): number {
    return this.#times.size;
  }
}
