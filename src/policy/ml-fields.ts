import type { OutputFieldValue } from '../falco/alert.js';
import { toPrintableAscii } from '../falco/sidekick-payload.js';
import type { ContainerContext } from './types.js';
import type { ScoreOutcome } from './score-condition.js';
import type { Verdict } from './verdict.js';

/** Top syscalls reported per alert; the UI shows the field on one line. */
const MAX_TOP_SYSCALLS = 10;

/** Tag on every alert this service emits, and the tag added when the windows were anomalous. */
export const ML_TAG = 'ml';
export const ANOMALY_TAG = 'anomaly';

/** Four decimals: enough to compare with a threshold, short enough to read in Falcosidekick-UI. */
function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * The `ml.*` output fields. Falcosidekick drops unknown top-level keys, so everything the model
 * says goes here; numbers stay numbers, as Falco types its own output_fields.
 */
export function mlFields(
  verdict: Verdict,
  outcome: ScoreOutcome,
  ctx: ContainerContext | undefined,
  threshold: number | undefined,
  policy: string | undefined,
): Record<string, OutputFieldValue> {
  const fields: Record<string, OutputFieldValue> = { 'ml.verdict': verdict };
  if (ctx !== undefined) {
    fields['ml.model'] = ctx.model;
    if (threshold !== undefined) fields['ml.threshold'] = round4(threshold);
    if (ctx.state !== undefined) fields['ml.state'] = ctx.state;
  }
  const w = outcome.window;
  if (w !== undefined) {
    fields['ml.score'] = round4(w.score);
    fields['ml.window_events'] = w.events;
    fields['ml.top_syscalls'] = toPrintableAscii(w.top.slice(0, MAX_TOP_SYSCALLS).join(','));
  }
  if (policy !== undefined) fields['ml.policy'] = policy;
  return fields;
}

/** Appends tags not yet present, keeping the alert's own order first. */
export function mergeTags(existing: readonly string[], ...more: readonly (readonly string[])[]): string[] {
  const out = [...existing];
  for (const tag of more.flat()) if (!out.includes(tag)) out.push(tag);
  return out;
}
