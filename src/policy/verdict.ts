/**
 * The verdict every emitted alert carries in `output_fields["ml.verdict"]`:
 * `signature` (a rule fired, windows not anomalous), `anomaly` (windows anomalous, no rule
 * fired), `confirmed` (both).
 */
export type Verdict = 'signature' | 'anomaly' | 'confirmed';
export const VERDICTS: readonly Verdict[] = ['signature', 'anomaly', 'confirmed'];
