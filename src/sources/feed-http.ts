/**
 * The syscall feed as an HTTP body (`POST /feed`, batched NDJSON): the route lives in the
 * server; this turns one body into events. Each body has its own parser, so an enter line and its
 * exit must arrive in the same body (sysdig -pc exit-only feeds need no pairing at all).
 */
import { FeedIngester, type FeedLineError, type FeedOptions } from './feed-ingest.js';

/** What one body gave: events handed to the consumer, lines refused, the first refusal. */
export interface FeedBodyResult {
  accepted: number;
  malformed: number;
  firstError?: FeedLineError;
}

/** Parses one NDJSON body and hands its events to `options.onEvent` before returning. Never throws on content. */
export function ingestFeedBody(body: Buffer | string, options: FeedOptions): FeedBodyResult {
  const ingester = new FeedIngester('feed-http', options);
  ingester.push(body);
  const stats = ingester.finish();
  const result: FeedBodyResult = { accepted: stats.events, malformed: stats.malformed };
  if (stats.firstError !== undefined) result.firstError = stats.firstError;
  return result;
}
