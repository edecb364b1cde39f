/**
 * A Falco alert as Falco's http_output posts it (json_output: true) and as Falcosidekick
 * accepts it. The same type flows from every input (http, gRPC) to every sink.
 */

/** Falco's priorities, most severe first, spelled as Falco's JSON and Falcosidekick spell them. */
export const FALCO_PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'] as const;
export type FalcoPriority = (typeof FALCO_PRIORITIES)[number];

/**
 * An `output_fields` value. Falco writes typed JSON: strings, numbers, booleans, `null` when a
 * field is missing. Integers beyond 2^53 (`evt.time`, `evt.rawtime`) stay exact as `bigint`.
 */
export type OutputFieldValue = string | number | bigint | boolean | null;

export interface FalcoAlert {
  /** Present when the alert came through Falcosidekick's webhook output. */
  uuid?: string;
  hostname: string;
  output: string;
  output_fields: Record<string, OutputFieldValue>;
  priority: FalcoPriority;
  rule: string;
  /** `syscall`, `internal`, or a plugin source (`k8s_audit`, ...). */
  source: string;
  tags: string[];
  /** RFC 3339 UTC with 9 fractional digits, as Falco writes it. */
  time: string;
}
