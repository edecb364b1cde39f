/**
 * Where an alert from the gRPC input goes, by the rules every input shares (`routeAlert`): the
 * falco-ml feed rule's alerts feed the windows, alerts the sidecar already enriched are counted
 * and skipped, every other alert goes to the pipeline.
 */
import type { FalcoAlert } from '../falco/alert.js';
import { FeedIngester, type FeedOptions } from '../sources/feed-ingest.js';
import { routeAlert } from './alert-route.js';
import type { SidecarMetrics } from './metrics.js';
import type { Pipeline } from './pipeline.js';

/** @returns the `onAlert` callback of the gRPC input */
export function createGrpcAlertRouter(pipeline: Pipeline, metrics: SidecarMetrics, feedOptions: FeedOptions): (alert: FalcoAlert) => void {
  // One parser for the input's lifetime: feed lines carry exit events, so none waits for a pair.
  const feed = new FeedIngester('feed-grpc', feedOptions);
  return (alert) => {
    const route = routeAlert(alert);
    if (route === 'feed') {
      // gRPC output_fields are strings (no bigint), so JSON.stringify is exact; the feed parser reads numeric strings.
      feed.push(`${JSON.stringify(alert)}\n`);
      return;
    }
    if (route === 'already_enriched') {
      metrics.inputsRejected.inc({ input: 'grpc', reason: route });
      return;
    }
    metrics.alertsIn.inc({ input: 'grpc' });
    pipeline.onFalcoAlert(alert);
  };
}
