/**
 * A token bucket for `replay --rate`: `rate` tokens per second, at most `capacity` saved up, so a
 * sender paced by it never bursts more than `capacity` events above the rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  /**
   * @param ratePerSec tokens added per second (> 0)
   * @param capacity most tokens held; also the most one `take` may ask for @default ratePerSec / 10, at least 1
   */
  constructor(
    private readonly ratePerSec: number,
    readonly capacity = Math.max(1, Math.floor(ratePerSec / 10)),
  ) {
    this.tokens = capacity;
  }

  /** Waits until `n` tokens (≤ capacity) are there, then takes them. */
  async take(n: number): Promise<void> {
    this.refill();
    while (this.tokens < n) {
      await sleep(Math.max(1, ((n - this.tokens) * 1000) / this.ratePerSec));
      this.refill();
    }
    this.tokens -= n;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    this.last = now;
  }
}
