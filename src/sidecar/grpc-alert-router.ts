/**
 * Where an alert from the gRPC input goes, by the same rules as the http input (src/server.ts):
 * the falco-ml feed rule's alerts feed the windows, alerts the sidecar already enriched (a loop
 * through its own outputs service) are counted and skipped, every other alert goes to the
 * pipeline.
 */
import type { FalcoAlert } from '../falco/alert.js';
import { FEED_TAG } from '../server.js';
import { FeedIngester, type FeedOptions } from '../sources/feed-ingest.js';
import type { SidecarMetrics } from './metrics.js';
import type { Pipeline } from './pipeline.js';

/** @returns the `onAlert` callback of the gRPC input */
export function createGrpcAlertRouter(pipeline: Pipeline, metrics: SidecarMetrics, feedOptions: FeedOptions): (alert: FalcoAlert) => void {
  // One parser for the input's lifetime: feed lines carry exit events, so none waits for a pair.
  const feed = new FeedIngester('feed-grpc', feedOptions);
  return (alert) => {
    if (alert.tags.includes(FEED_TAG)) {
      // gRPC output_fields are strings (no bigint), so JSON.stringify is exact; the feed parser reads numeric strings.
      feed.push(`${JSON.stringify(alert)}\n`);
      return;
    }
    if (alert.output_fields['ml.verdict'] !== undefined) {
      metrics.inputsRejected.inc({ input: 'grpc', reason: 'already_enriched' });
      return;
    }
    metrics.alertsIn.inc({ input: 'grpc' });
    pipeline.onFalcoAlert(alert);
  };
}
