/**
 * Call novelty: the normal profile is the set of system calls seen in normal behaviour (what
 * Kubescape's application profiles and Sysdig's learned policies hold), and a window is
 * anomalous when it holds a call outside that set. On the study's WordPress data, 12 of 51
 * held-out attack recordings make a call (rename, chmod, chown, ftruncate, fadvise64) that no
 * training normal recording made, and no held-out normal recording does: few attacks, but with
 * no false alert, which the sequence and bag profiles cannot say.
 *
 * The score is binary (1 when the window holds a foreign call), so the alert threshold fitted
 * on held-out normal data is either just above 0 or 1: both alert on every foreign call.
 */
import { SidecarError } from '../errors.js';
import type { FitOptions, Json } from '../models/classifier.js';
import { invalidHyper, invalidParam, readIntegerOption } from '../models/params.js';
import { CALL_ID_COUNT, UNKNOWN_CALL, callId, callName, type NormalProfile, type NormalProfileSpec, type ProfileContribution, type ProfileStream } from './normal-profile.js';

export interface NoveltyOptions {
  /** Calls a foreign call stays in the score for: with the sidecar's stride of 100, each foreign call is seen by one or two scored windows. @default 100 */
  windowSize: number;
}

const DEFAULTS: NoveltyOptions = { windowSize: 100 };
const MAX_WINDOW = 1_000_000;

export class NoveltyProfile implements NormalProfile {
  readonly kind = 'novelty' as const;
  readonly windowSize: number;
  /** known[id] = 1 for every call id seen in normal behaviour. */
  readonly known: Uint8Array;

  constructor(options: NoveltyOptions, known: Uint8Array) {
    this.windowSize = options.windowSize;
    this.known = known;
  }

  createStream(): ProfileStream {
    return new NoveltyStream(this);
  }

  toParams(): { [key: string]: Json } {
    const calls: string[] = [];
    for (let id = 0; id < UNKNOWN_CALL; id++) if (this.known[id] === 1) calls.push(callName(id));
    return { windowSize: this.windowSize, calls };
  }
}

class NoveltyStream implements ProfileStream {
  /** The last `windowSize` calls, with the foreign ones counted. */
  private readonly ring: Int32Array;
  private pos = 0;
  private foreign = 0;

  constructor(private readonly profile: NoveltyProfile) {
    this.ring = new Int32Array(profile.windowSize).fill(-1);
  }

  push(call: number): void {
    const id = call >= 0 && call < CALL_ID_COUNT ? call | 0 : UNKNOWN_CALL;
    const old = this.ring[this.pos];
    if (old >= 0 && this.profile.known[old] === 0) this.foreign--;
    if (this.profile.known[id] === 0) this.foreign++;
    this.ring[this.pos] = id;
    this.pos = this.pos + 1 === this.ring.length ? 0 : this.pos + 1;
  }

  score(): number {
    return this.foreign > 0 ? 1 : 0;
  }

  /** The foreign calls in the window, most frequent first, weighted by their share of it. */
  explain(top: number): ProfileContribution[] {
    if (this.foreign === 0 || top <= 0) return [];
    const counts = new Map<number, number>();
    for (const id of this.ring) if (id >= 0 && this.profile.known[id] === 0) counts.set(id, (counts.get(id) ?? 0) + 1);
    return [...counts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, top)
      .map(([id, count]) => ({ feature: callName(id), weight: count / this.ring.length }));
  }

  reset(): void {
    this.ring.fill(-1);
    this.pos = 0;
    this.foreign = 0;
  }
}

function readOptions(source: Record<string, Json>, fail: (field: string, what: string) => never): NoveltyOptions {
  return { windowSize: readIntegerOption(source, 'windowSize', DEFAULTS.windowSize, MAX_WINDOW, fail) };
}

/**
 * Registry entry for call novelty (`kind: 'novelty'`). Params: `{ windowSize, calls }`, the
 * known calls by name so a file stays valid when the call table grows.
 * @throws SidecarError FML_ERR_MODEL_TRAIN (fit: no calls), FML_ERR_MODEL_FILE_INVALID (fromParams)
 */
export const noveltySpec: NormalProfileSpec = {
  kind: 'novelty',
  label: 'call novelty',
  defaults: { ...DEFAULTS },

  async fit(normal: readonly Int32Array[], hyper: Record<string, Json>, options: FitOptions): Promise<NoveltyProfile> {
    const opts = readOptions(hyper, (field, what) => invalidHyper(field, what, 'novelty'));
    const known = new Uint8Array(CALL_ID_COUNT);
    let calls = 0;
    for (let s = 0; s < normal.length; s++) {
      for (const id of normal[s]) if (id >= 0 && id < UNKNOWN_CALL) known[id] = 1;
      calls += normal[s].length;
      options.onProgress?.(s + 1, normal.length);
    }
    if (calls === 0) throw new SidecarError('FML_ERR_MODEL_TRAIN', `no calls in the ${normal.length} normal sequences given`);
    return new NoveltyProfile(opts, known);
  },

  fromParams(params: { [key: string]: Json }): NoveltyProfile {
    const opts = readOptions(params, (field, what) => invalidParam(field, what, 'novelty'));
    const calls = params.calls;
    if (!Array.isArray(calls)) return invalidParam('calls', 'must be an array of syscall names', 'novelty');
    const known = new Uint8Array(CALL_ID_COUNT);
    for (const [i, name] of calls.entries()) {
      const id = typeof name === 'string' ? callId(name) : UNKNOWN_CALL;
      if (id === UNKNOWN_CALL) invalidParam('calls', `entry ${i} is not a known syscall name (got ${JSON.stringify(name)})`, 'novelty');
      known[id] = 1;
    }
    return new NoveltyProfile(opts, known);
  },
};
