import { hostname as osHostname } from 'node:os';
import type { FalcoAlert } from '../falco/alert.js';
import { buildAnomalyAlert, DEFAULT_ANOMALY_RULE } from './anomaly-alert.js';
import type { AlertDecision, ContainerContext } from './types.js';
import { enrichAlert } from './enrich-alert.js';
import { DEFAULT_SCORE_CONDITION, type Policy, type PolicySet } from './policy.js';
import { RateLimiter } from './rate-limiter.js';
import { evaluateScore, lookbackMs } from './score-condition.js';

/**
 * The counter the engine increments; `SidecarMetrics` fits. Structural, so `policy/` does not
 * import `sidecar/` (imports flow with the pipeline). Suppressions are visible in the decision,
 * so the caller counts those (`alertsSuppressed{policy}`); rate-limited anomalies are not.
 */
export interface PolicyEngineMetrics {
  anomaliesRateLimited: { inc(): void };
}

export interface PolicyEngineOptions {
  /** The rule name of anomaly-only alerts when the policy names none. @default 'Anomalous syscall window' */
  anomalyRule?: string;
  /** @default os.hostname() */
  hostname?: string;
  metrics?: PolicyEngineMetrics;
  /** Containers whose last emitted alert and rate limits are remembered. @default 10000 */
  maxContainers?: number;
}

/**
 * Applies a policy set to Falco alerts and scored windows. Semantics (docs/policies.md):
 * the first policy, in set order, whose `when` matches, whose `unless` does not, and which has
 * an action for the event's kind (signature/confirmed for alerts, anomaly for windows) decides;
 * its `score` test says what "anomalous" means. With no such policy an alert is only enriched
 * (default test: max score over 60 s at the model's threshold) and a window raises nothing.
 */
export class PolicyEngine {
  #set: PolicySet;
  readonly #anomalyRule: string;
  readonly #hostname: string;
  readonly #metrics: PolicyEngineMetrics | undefined;
  readonly #maxContainers: number;
  readonly #limiter: RateLimiter;
  /** container id → time of the last alert emitted (not suppressed) for it; oldest first. */
  readonly #lastAlertMs = new Map<string, number>();

  constructor(set: PolicySet, options: PolicyEngineOptions = {}) {
    this.#set = set;
    this.#anomalyRule = options.anomalyRule ?? DEFAULT_ANOMALY_RULE;
    this.#hostname = options.hostname ?? osHostname();
    this.#metrics = options.metrics;
    this.#maxContainers = options.maxContainers ?? 10_000;
    this.#limiter = new RateLimiter(this.#maxContainers);
  }

  get policies(): PolicySet {
    return this.#set;
  }

  /** Swaps in a reloaded set; rate limits and "rule fired" memory carry over. */
  setPolicies(set: PolicySet): void {
    this.#set = set;
  }

  /** Decides what happens to one Falco alert. `ctx` is undefined when the container has no scores (or no container). */
  onAlert(alert: FalcoAlert, ctx: ContainerContext | undefined, nowMs: number): AlertDecision {
    const policy = this.#set.policies.find((p) => (p.signature !== undefined || p.confirmed !== undefined) && selects(p, alert, ctx));
    const cond = policy?.score ?? DEFAULT_SCORE_CONDITION;
    const outcome = evaluateScore(cond, ctx, nowMs);
    const verdict = outcome.anomalous ? 'confirmed' : 'signature';
    const action = policy?.[verdict];
    if (policy !== undefined && action?.suppress === true) {
      return { suppressed: true, policy: policy.name };
    }
    const containerId = ctx?.containerId ?? containerIdOf(alert);
    if (containerId !== undefined) this.#remember(containerId, nowMs);
    const threshold = ctx === undefined ? undefined : (cond.atLeast ?? ctx.threshold);
    const enriched = enrichAlert(alert, verdict, outcome, ctx, threshold, action, policy?.name);
    return policy === undefined ? { alert: enriched, verdict } : { alert: enriched, verdict, policy: policy.name };
  }

  /**
   * Called after each scored window: returns an anomaly-only alert when the deciding policy's
   * test finds the windows anomalous, no alert was emitted for the container within the test's
   * span, and the policy's per-container rate limit allows one.
   */
  onWindow(ctx: ContainerContext, nowMs: number): FalcoAlert | undefined {
    const policy = this.#set.policies.find((p) => p.anomaly !== undefined && selects(p, undefined, ctx));
    if (policy?.anomaly === undefined || policy.anomaly.suppress) return undefined;
    const cond = policy.score ?? DEFAULT_SCORE_CONDITION;
    const outcome = evaluateScore(cond, ctx, nowMs);
    if (!outcome.anomalous) return undefined;
    const last = this.#lastAlertMs.get(ctx.containerId);
    if (last !== undefined && last >= nowMs - lookbackMs(cond)) return undefined; // a rule already spoke for these windows
    const action = policy.anomaly;
    if (!this.#limiter.take(`${policy.name}\0${ctx.containerId}`, action.rateLimit, nowMs)) {
      this.#metrics?.anomaliesRateLimited.inc();
      return undefined;
    }
    return buildAnomalyAlert({
      ctx,
      outcome,
      threshold: cond.atLeast ?? ctx.threshold,
      rule: action.rule ?? this.#anomalyRule,
      priority: action.priority,
      tags: action.addTags,
      policy: policy.name,
      hostname: this.#hostname,
      nowMs,
    });
  }

  #remember(containerId: string, nowMs: number): void {
    this.#lastAlertMs.delete(containerId); // re-insert so Map order stays least recent first
    this.#lastAlertMs.set(containerId, nowMs);
    if (this.#lastAlertMs.size > this.#maxContainers) this.#lastAlertMs.delete(this.#lastAlertMs.keys().next().value as string);
  }
}

function selects(policy: Policy, alert: FalcoAlert | undefined, ctx: ContainerContext | undefined): boolean {
  if (policy.when !== undefined && !policy.when.test(alert, ctx)) return false;
  return policy.unless === undefined || !policy.unless.test(alert, ctx);
}

function containerIdOf(alert: FalcoAlert): string | undefined {
  const id = alert.output_fields['container.id'];
  return id === undefined || id === null || id === 'host' ? undefined : String(id);
}
