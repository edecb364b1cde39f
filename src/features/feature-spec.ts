/**
 * Everything needed to rebuild a feature vector exactly as it was built at training time.
 * The model file stores this object whole; `score` and the sidecar rebuild features from it
 * alone, so training and serving cannot drift apart.
 */
export interface TokenSettings {
  /** Count recorder-only events (sysdig `switch`, strace signals) as tokens too. @default false */
  others: boolean;
  /**
   * Longest syscall n-gram counted, per thread where the recorder names threads. 1 counts
   * single calls only (the study's bag of system calls); 2 adds pairs such as `read>write`.
   * @default 1
   */
  ngram: number;
  /**
   * Add tokens taken from call arguments, e.g. `execve:sh` for the program an execve runs.
   * Only usable when the live feed carries arguments (`evt.info`/`evt.args`). @default false
   */
  args: boolean;
}

/** How raw token counts become a vector before scaling. */
export type Normalisation =
  /** raw counts (the study) */
  | 'count'
  /** count / number of calls in the recording or window */
  | 'share'
  /** log(1 + count) */
  | 'log'
  /** log(1 + 10⁴ · share): length-independent and robust to the very frequent calls */
  | 'log-share';

export type Scaling =
  | { kind: 'none' }
  | { kind: 'minmax'; min: number[]; max: number[] }
  | { kind: 'standard'; mean: number[]; std: number[] };

/** One vector per recording (the study), or per sliding window of `size` calls every `stride` calls. */
export type FeatureMode = { kind: 'recording' } | { kind: 'window'; size: number; stride: number };

export interface FeatureSpec {
  mode: FeatureMode;
  tokens: TokenSettings;
  /** Token names in vector order; the last slot is `UNKNOWN_TOKEN`, counting tokens unseen in training. */
  vocabulary: string[];
  normalisation: Normalisation;
  scaling: Scaling;
}

/** The vocabulary slot that counts tokens never seen in training (an unseen call is itself a signal). */
export const UNKNOWN_TOKEN = '<unknown>';
