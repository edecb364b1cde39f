/** Hybrid policies: load, watch and apply them. The sidecar imports from here. */
export type { AlertDecision, ContainerContext, WindowScore, WorkloadState } from './types.js';
export type { Verdict } from './verdict.js';
export { VERDICTS } from './verdict.js';
export type { Policy, PolicySet, ScoreCondition } from './policy.js';
export { DEFAULT_SCORE_CONDITION } from './policy.js';
export type { PolicyIssue } from './issue.js';
export { formatIssue } from './issue.js';
export { parsePolicyFile } from './parse-policy-file.js';
export { checkPolicyDir, loadPolicyDir, type PolicyDirResult } from './load-policies.js';
export { PolicyEngine, type PolicyEngineMetrics, type PolicyEngineOptions } from './policy-engine.js';
export { PolicyWatcher, type PolicyLogger, type PolicyReloadMetrics, type PolicyWatcherOptions, type SignalSource } from './policy-watcher.js';
export { DEFAULT_ANOMALY_RULE, formatFalcoTime } from './anomaly-alert.js';
export { ANOMALY_TAG, ML_TAG } from './ml-fields.js';
