import type { FalcoAlert, FalcoPriority, OutputFieldValue } from '../falco/alert.js';
import { toPrintableAscii } from '../falco/sidekick-payload.js';
import type { ContainerContext } from './types.js';
import { ANOMALY_TAG, ML_TAG, mergeTags, mlFields } from './ml-fields.js';
import type { ScoreOutcome } from './score-condition.js';

/** The rule name of anomaly-only alerts when neither the engine options nor the policy name one. */
export const DEFAULT_ANOMALY_RULE = 'Anomalous syscall window';

/** Container fields named in the output text, with Falco's usual labels, in Falco's usual order. */
const OUTPUT_LABELS: readonly (readonly [field: string, label: string])[] = [
  ['container.id', 'container_id'],
  ['container.name', 'container_name'],
  ['container.image.repository', 'image'],
  ['k8s.ns.name', 'k8s_ns'],
  ['k8s.pod.name', 'k8s_pod'],
];

export interface AnomalyAlertInput {
  ctx: ContainerContext;
  outcome: ScoreOutcome;
  threshold: number;
  rule: string;
  priority: FalcoPriority;
  tags: readonly string[];
  policy: string;
  hostname: string;
  nowMs: number;
}

/**
 * An alert for anomalous windows no rule explained, shaped like one Falco would post
 * (json_output) so Falcosidekick and its UI accept it: Title-case priority, `source: syscall`,
 * RFC 3339 time with 9 fractional digits, ASCII rule/output/hostname, non-empty output_fields.
 */
export function buildAnomalyAlert(input: AnomalyAlertInput): FalcoAlert {
  const { ctx, outcome, threshold, priority, nowMs } = input;
  const time = formatFalcoTime(nowMs);
  const containerFields: Record<string, OutputFieldValue> = { ...ctx.fields, 'container.id': ctx.containerId };
  const w = outcome.window;
  const parts = OUTPUT_LABELS.map(([field, label]) => `${label}=${ctx.fields[field] ?? (field === 'container.id' ? ctx.containerId : '<NA>')}`);
  parts.push(
    `score=${w === undefined ? '<NA>' : w.score.toFixed(4)}`,
    `threshold=${threshold}`,
    `model=${ctx.model}`,
    `window_events=${w?.events ?? '<NA>'}`,
    `top_syscalls=${w === undefined || w.top.length === 0 ? '<NA>' : w.top.slice(0, 5).join(',')}`,
  );
  const rule = toPrintableAscii(input.rule);
  return {
    hostname: toPrintableAscii(input.hostname),
    // Falco's output begins "HH:MM:SS.nnnnnnnnn: Priority text (fields)".
    output: toPrintableAscii(`${time.slice(11, 29)}: ${priority} ${rule} in container (${parts.join(' ')})`),
    output_fields: { ...containerFields, ...mlFields('anomaly', outcome, ctx, threshold, input.policy) },
    priority,
    rule,
    source: 'syscall',
    tags: mergeTags([ML_TAG, ANOMALY_TAG], input.tags),
    time,
  };
}

/** ms since the epoch → `2026-01-02T03:04:05.123456789Z` (RFC 3339 UTC, 9 fractional digits, as Falco writes it). */
export function formatFalcoTime(nowMs: number): string {
  const wholeMs = Math.floor(nowMs);
  const subMsNs = Math.min(999_999, Math.round((nowMs - wholeMs) * 1e6));
  const iso = new Date(wholeMs).toISOString(); // 2026-01-02T03:04:05.123Z
  return `${iso.slice(0, 23)}${String(subMsNs).padStart(6, '0')}Z`;
}
