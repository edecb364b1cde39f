import { FALCO_PRIORITIES, type FalcoAlert, type FalcoPriority } from '../falco/alert.js';
import type { ContainerContext } from './types.js';
import { ANOMALY_TAG, ML_TAG, mergeTags, mlFields } from './ml-fields.js';
import type { AlertAction, PriorityChange } from './policy.js';
import { isAtLeast, shiftPriority } from './priority.js';
import type { ScoreOutcome } from './score-condition.js';
import type { Verdict } from './verdict.js';

/**
 * A copy of a Falco alert with the model's view added: `ml.*` output fields, the `ml` tag (and
 * `anomaly` when the windows were anomalous), the action's tags and priority change. The input
 * alert is not modified; no top-level key is added (Falcosidekick would drop it).
 */
export function enrichAlert(
  alert: FalcoAlert,
  verdict: Verdict,
  outcome: ScoreOutcome,
  ctx: ContainerContext | undefined,
  threshold: number | undefined,
  action: AlertAction | undefined,
  policy: string | undefined,
): FalcoAlert {
  const priority = action?.priority === undefined ? alert.priority : changePriority(alert.priority, action.priority);
  return {
    ...alert,
    priority,
    output: priority === alert.priority ? alert.output : replaceOutputPriority(alert.output, alert.priority, priority),
    output_fields: { ...alert.output_fields, ...mlFields(verdict, outcome, ctx, threshold, policy) },
    tags: mergeTags(alert.tags, [ML_TAG], outcome.anomalous ? [ANOMALY_TAG] : [], action?.addTags ?? []),
  };
}

export function changePriority(current: FalcoPriority, change: PriorityChange): FalcoPriority {
  if ('set' in change) return change.set;
  if ('steps' in change) return shiftPriority(current, change.steps);
  let p = current;
  if (change.atLeast !== undefined && !isAtLeast(p, change.atLeast)) p = change.atLeast;
  if (change.atMost !== undefined && !isAtLeast(change.atMost, p)) p = change.atMost;
  return p;
}

const OUTPUT_PREFIX = new RegExp(`^(\\d{2}:\\d{2}:\\d{2}\\.\\d+: )(${FALCO_PRIORITIES.join('|')})( )`);

/**
 * Falco starts `output` with `HH:MM:SS.nnnnnnnnn: Priority `; keep that prefix truthful after
 * a priority change. Outputs in any other shape are left alone.
 */
function replaceOutputPriority(output: string, from: FalcoPriority, to: FalcoPriority): string {
  const m = OUTPUT_PREFIX.exec(output);
  if (m === null || m[2] !== from) return output;
  return `${m[1]}${to}${m[3]}${output.slice(m[0].length)}`;
}
