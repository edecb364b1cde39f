import type { FalcoAlert } from '../falco/alert.js';

/**
 * The shapes the sidecar and the policy stage exchange. The sidecar builds one
 * `ContainerContext` per container (its recent window scores and identifying fields) and hands
 * it to the `PolicyEngine` with each Falco alert and after each scored window.
 */

/** A workload's phase: still learning its normal profile, or detecting deviations from it. */
export type WorkloadState = 'learning' | 'detecting';

/** One scored window of a container's syscalls. */
export interface WindowScore {
  /** When the window closed, ms since the epoch. */
  atMs: number;
  /** The model's score; the window is anomalous at `score >= threshold` by default. */
  score: number;
  /** Syscall events in the window. */
  events: number;
  /** Syscalls or tokens that drove the score, most influential first. */
  top: readonly string[];
}

export interface ContainerContext {
  containerId: string;
  /** `container.name`, `container.image.repository`, `k8s.ns.name`, `k8s.pod.name`, ... where known. */
  fields: Record<string, string>;
  /** Recent windows, oldest first; the sidecar keeps this bounded. */
  scores: readonly WindowScore[];
  /** The model's alert threshold: the default for every score test. */
  threshold: number;
  /** The model's name, reported in `ml.model`. */
  model: string;
  state?: WorkloadState;
}

/** The engine's answer to a Falco alert: the enriched alert and its verdict, or the policy that suppressed it. */
export type AlertDecision =
  | { alert: FalcoAlert; verdict: 'signature' | 'confirmed'; policy?: string }
  | { suppressed: true; policy: string };

export type { PolicyEngine } from './policy-engine.js';
