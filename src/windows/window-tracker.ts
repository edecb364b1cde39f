import type { SyscallEvent } from '../traces/syscall-event.js';

/**
 * When a stream's window closes: every `stride` calls once `size` calls have been seen
 * (count windows), or every `strideMs` of event time (time windows, which need `timeNs`).
 */
export type WindowPolicy = { kind: 'count'; size: number; stride: number } | { kind: 'time'; spanMs: number; strideMs: number };

/** Per-key state a tracker keeps: fed every call of its stream. */
export interface StreamState {
  /** Returns whether the event counted as a call of the window (recorder-only events may not). */
  push(event: SyscallEvent): boolean;
}

/** Where a closed window sits in its stream. */
export interface WindowInfo {
  key: string;
  /** Calls seen in this stream so far (1-based index of the window's last call). */
  calls: number;
  /** Event time of the window's last call, when the recorder gives times. */
  timeNs?: bigint;
  /** Set on the stream's last window, closed as it is evicted or flushed (possibly not full). */
  last?: true;
}

export interface WindowTrackerOptions<S extends StreamState> {
  policy: WindowPolicy;
  createState(key: string): S;
  onWindow(state: S, info: WindowInfo): void;
  /** Most streams tracked at once; the least recently active is evicted beyond it. @default 10000 */
  maxKeys: number;
  /**
   * Streams with no call for this long (event time when events carry it, otherwise calls seen
   * by the whole tracker) are evicted by `evictIdle`. @default 300000 ms / 1,000,000 calls
   */
  idleMs: number;
  idleCalls: number;
}

export const TRACKER_DEFAULTS = Object.freeze({ maxKeys: 10_000, idleMs: 300_000, idleCalls: 1_000_000 });

interface Entry<S> {
  state: S;
  calls: number;
  sinceWindow: number;
  lastNs: bigint | undefined;
  lastTick: number;
  nextCloseNs: bigint | undefined;
}

/**
 * Keeps one state per stream key (container, or container/thread) and closes windows on each.
 * Memory is bounded twice: each state bounds itself (a ring of the last calls), and the number
 * of keys is capped, evicting the least recently active (a Map keeps insertion order, and a
 * touched key is re-inserted, so the first key is always the stalest: O(1) eviction).
 */
export class WindowTracker<S extends StreamState> {
  private readonly entries = new Map<string, Entry<S>>();
  private readonly options: WindowTrackerOptions<S>;
  /** Time-policy span, stride and idle limit in nanoseconds, converted once. */
  private readonly spanNs: bigint;
  private readonly strideNs: bigint;
  private readonly idleNs: bigint;
  private tick = 0;
  private lastKey: string | undefined;
  private latestNs: bigint | undefined;
  /** Streams dropped because `maxKeys` was reached. */
  evictedForRoom = 0;
  /** Streams dropped for being idle. */
  evictedIdle = 0;

  constructor(options: WindowTrackerOptions<S>) {
    this.options = options;
    const toNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));
    this.spanNs = options.policy.kind === 'time' ? toNs(options.policy.spanMs) : 0n;
    this.strideNs = options.policy.kind === 'time' ? toNs(options.policy.strideMs) : 0n;
    this.idleNs = toNs(options.idleMs);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The state of stream `key`, if tracked, without counting as activity. */
  peek(key: string): S | undefined {
    return this.entries.get(key)?.state;
  }

  /** Feeds one call of stream `key`; closes that stream's window when the policy says so. */
  push(key: string, event: SyscallEvent): void {
    this.tick++;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      if (this.entries.size >= this.options.maxKeys) {
        const stalest = this.entries.keys().next().value;
        if (stalest !== undefined) this.entries.delete(stalest);
        this.evictedForRoom++;
      }
      entry = { state: this.options.createState(key), calls: 0, sinceWindow: 0, lastNs: undefined, lastTick: 0, nextCloseNs: undefined };
      this.entries.set(key, entry);
    } else if (key !== this.lastKey) {
      // Feeds come in runs of one container's events: the most recent key is already last in order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    this.lastKey = key;
    entry.lastTick = this.tick;
    if (event.timeNs !== undefined) {
      entry.lastNs = event.timeNs;
      if (this.latestNs === undefined || event.timeNs > this.latestNs) this.latestNs = event.timeNs;
    }
    if (!entry.state.push(event)) return;
    entry.calls++;
    entry.sinceWindow++;
    const policy = this.options.policy;
    if (policy.kind === 'count') {
      if (entry.calls >= policy.size && (entry.calls === policy.size || entry.sinceWindow >= policy.stride)) this.close(key, entry);
      return;
    }
    if (event.timeNs === undefined) return;
    if (entry.nextCloseNs === undefined) entry.nextCloseNs = event.timeNs + this.spanNs;
    else if (event.timeNs >= entry.nextCloseNs) {
      this.close(key, entry);
      // A stream quiet for several strides closes once, then waits a whole stride again.
      while (entry.nextCloseNs <= event.timeNs) entry.nextCloseNs += this.strideNs;
    }
  }

  /**
   * Evicts streams idle longer than `idleMs` of event time (or `idleCalls` tracker-wide calls
   * when events carry no time). Returns how many went. Call it now and then, not per event.
   * With `scoreUnfilled`, a stream that never filled a window gets its one window closed first:
   * a short-lived container (a one-shot exploit pod) is scored when it goes quiet, not never.
   * `unscored` widens that to streams their owner never scored (windows it chose to skip).
   */
  evictIdle(options: { scoreUnfilled?: boolean; unscored?: (state: S) => boolean } = {}): number {
    let evicted = 0;
    for (const [key, entry] of this.entries) {
      const idle =
        entry.lastNs !== undefined && this.latestNs !== undefined ? this.latestNs - entry.lastNs > this.idleNs : this.tick - entry.lastTick > this.options.idleCalls;
      // Entries are in activity order: the first one still active ends the scan.
      if (!idle) break;
      if (options.scoreUnfilled === true && (this.neverClosed(entry) || options.unscored?.(entry.state) === true)) this.close(key, entry, true);
      this.entries.delete(key);
      evicted++;
    }
    this.evictedIdle += evicted;
    return evicted;
  }

  /** Closes a last window on every stream that never filled one (short streams still get scored). */
  flush(): void {
    for (const [key, entry] of this.entries) if (this.neverClosed(entry)) this.close(key, entry, true);
  }

  private neverClosed(entry: Entry<S>): boolean {
    const policy = this.options.policy;
    const never = policy.kind === 'count' ? entry.calls < policy.size : entry.nextCloseNs !== undefined && entry.sinceWindow === entry.calls;
    return entry.calls > 0 && never;
  }

  private close(key: string, entry: Entry<S>, last = false): void {
    entry.sinceWindow = 0;
    const info: WindowInfo = { key, calls: entry.calls };
    if (last) info.last = true;
    if (entry.lastNs !== undefined) info.timeNs = entry.lastNs;
    this.options.onWindow(entry.state, info);
  }
}
