import type { FalcoAlert } from '../falco/alert.js';

/** The tag of the falco-ml feed rule (rules/falco-feed.yaml). */
export const FEED_TAG = 'falco_ml_feed';

/**
 * What an incoming Falco alert is, whichever input brought it (http_output, gRPC):
 * - `feed`: an alert of the feed rule. Falco sends every alert to every output, so these reach
 *   the alert inputs too; they are syscall events for the windows, not alerts for people.
 * - `already_enriched`: one of our own enriched alerts coming back (falco-ml behind
 *   Falcosidekick's webhook output, or a loop through its gRPC outputs service): never twice.
 * - `alert`: a Falco alert to score and decide on.
 */
export function routeAlert(alert: FalcoAlert): 'feed' | 'already_enriched' | 'alert' {
  if (alert.tags.includes(FEED_TAG)) return 'feed';
  if (alert.output_fields['ml.verdict'] !== undefined) return 'already_enriched';
  return 'alert';
}
