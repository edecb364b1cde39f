/**
 * Normal-profile detectors: learned from normal recordings only (no attack data), they score
 * how far the latest window of a stream's calls is from anything seen in normal behaviour.
 * Calls arrive as small integer ids so the per-event path is array lookups, not string work.
 */
import type { FitOptions, Json } from '../models/classifier.js';
import { SYSCALL_NAMES } from '../syscalls/syscall-table.js';

export const PROFILE_KINDS = ['stide', 'bosc', 'autoencoder', 'novelty'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

/** Id of a call outside the x86-64 table (never seen in a normal profile by construction). */
export const UNKNOWN_CALL = SYSCALL_NAMES.length;
/** Number of distinct call ids, `UNKNOWN_CALL` included. */
export const CALL_ID_COUNT = SYSCALL_NAMES.length + 1;

const CALL_IDS: ReadonlyMap<string, number> = new Map(SYSCALL_NAMES.map((name, i) => [name, i]));

/** The id of a canonical syscall name; `UNKNOWN_CALL` for anything else. */
export function callId(name: string): number {
  return CALL_IDS.get(name) ?? UNKNOWN_CALL;
}

/** The name behind a call id (`<unknown>` for `UNKNOWN_CALL`). */
export function callName(id: number): string {
  return SYSCALL_NAMES[id] ?? '<unknown>';
}

/** A token and how much it added to a window's anomaly score. */
export interface ProfileContribution {
  feature: string;
  weight: number;
}

/** Per-stream scoring state (one per container or per thread), fed one call at a time. */
export interface ProfileStream {
  push(call: number): void;
  /**
   * Anomaly score in [0, 1] of the window ending at the latest call (the detector's own window
   * length; fewer calls when the stream is younger): 0 = like normal, 1 = nothing like it.
   */
  score(): number;
  /** The calls or call sequences that made the current score, most first. */
  explain(top: number): ProfileContribution[];
  reset(): void;
}

/** A learned normal profile: creates per-stream states and serialises to plain JSON. */
export interface NormalProfile {
  readonly kind: ProfileKind;
  /** Calls per scored window. */
  readonly windowSize: number;
  createStream(): ProfileStream;
  toParams(): { [key: string]: Json };
}

/** One entry of the normal-profile registry. */
export interface NormalProfileSpec {
  readonly kind: ProfileKind;
  readonly label: string;
  readonly defaults: Readonly<Record<string, Json>>;
  /** Learns from the call-id sequences of normal recordings (one array per recording or thread). */
  fit(normal: readonly Int32Array[], hyper: Record<string, Json>, options: FitOptions): Promise<NormalProfile>;
  /** @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the bad field */
  fromParams(params: { [key: string]: Json }): NormalProfile;
}
