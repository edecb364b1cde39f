/**
 * Capped exponential backoff with jitter, as the delivery queue and the gRPC input use it: the
 * delay doubles per consecutive failure up to a cap, then a random 50-100% of it is taken, so
 * many sidecars restarted together do not reconnect in lock-step (and never wait less than half).
 */

/**
 * @param attempt consecutive failures so far, 1 for the first retry
 * @param baseMs delay before the first retry
 * @param maxMs cap before jitter
 * @param random jitter source in [0, 1)
 * @returns the delay in milliseconds, in [cap/2, cap] where cap = min(maxMs, baseMs * 2^(attempt-1))
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return cap * (0.5 + 0.5 * random());
}
