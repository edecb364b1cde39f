import type { FalcoAlert, FalcoPriority } from '../falco/alert.js';
import type { ContainerContext } from './types.js';
import type { RateLimit } from './duration.js';

/**
 * A policy after loading: patterns compiled, durations in ms, priorities normalised. The
 * engine reads only these shapes; `schema.ts` describes the YAML they come from.
 */

/** Tests an alert (undefined for a window) and its container (undefined when unknown). */
export interface Selector {
  test(alert: FalcoAlert | undefined, ctx: ContainerContext | undefined): boolean;
  /** Uses rule, tags, priority or source, so it can never match a window. */
  readonly alertOnly: boolean;
}

/** What "anomalous" means for a policy. `atLeast` undefined = the model's threshold. */
export type ScoreCondition =
  | { readonly kind: 'latest'; readonly atLeast?: number }
  | { readonly kind: 'max_over'; readonly spanMs: number; readonly atLeast?: number }
  | { readonly kind: 'count_over'; readonly spanMs: number; readonly minCount: number; readonly atLeast?: number };

export type PriorityChange =
  | { readonly set: FalcoPriority }
  | { readonly steps: number }
  | { readonly atLeast?: FalcoPriority; readonly atMost?: FalcoPriority };

/** What to do with a Falco alert of one verdict. */
export interface AlertAction {
  readonly priority?: PriorityChange;
  readonly addTags: readonly string[];
  readonly suppress: boolean;
}

/** What to do when the container's windows are anomalous and no rule fired. */
export interface AnomalyAction {
  /** Undefined: the engine's `anomalyRule`. */
  readonly rule?: string;
  readonly priority: FalcoPriority;
  readonly addTags: readonly string[];
  readonly rateLimit: RateLimit;
  readonly suppress: boolean;
}

export interface Policy {
  readonly name: string;
  readonly description?: string;
  /** The file it came from, relative to the policy folder, and the line of its `name`. */
  readonly file: string;
  readonly line: number;
  readonly when?: Selector;
  readonly unless?: Selector;
  /** Undefined: the default test (max over 60 s at the model's threshold). */
  readonly score?: ScoreCondition;
  readonly signature?: AlertAction;
  readonly confirmed?: AlertAction;
  readonly anomaly?: AnomalyAction;
}

/** The enabled policies of one folder, in evaluation order. */
export interface PolicySet {
  readonly policies: readonly Policy[];
  /** Files read, in evaluation order, relative to the folder. */
  readonly files: readonly string[];
}

/** The span of the default score test, and how far back `latest` looks for a fired rule. */
export const DEFAULT_SCORE_SPAN_MS = 60_000;
/** Applies when no policy has an opinion: the highest window score of the last 60 s against the model's threshold. */
export const DEFAULT_SCORE_CONDITION: ScoreCondition = Object.freeze({ kind: 'max_over', spanMs: DEFAULT_SCORE_SPAN_MS });
/** Anomaly-only alerts of a policy that names no rate limit: at most 1 per 5 min per container. */
export const DEFAULT_ANOMALY_RATE_LIMIT: RateLimit = Object.freeze({ count: 1, perMs: 300_000 });
export const DEFAULT_ANOMALY_PRIORITY: FalcoPriority = 'Warning';
/** Files without an `order` key sort here; the shipped default set uses 1000 to go last. */
export const DEFAULT_FILE_ORDER = 100;
