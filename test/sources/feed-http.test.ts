import { describe, expect, it } from 'vitest';
import { ingestFeedBody } from '../../src/sources/feed-http.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { counterValue, FALCO_FEED_LINE, memoryLogger, newMetrics, SYSDIG_PC_LINE } from './helpers.js';

describe('feed from an HTTP body', () => {
  it('parses a batched NDJSON body (Buffer or string) and reports what it accepted', async () => {
    const got: SyscallEvent[] = [];
    const metrics = newMetrics();
    const body = Buffer.from(`${SYSDIG_PC_LINE}\r\n${FALCO_FEED_LINE}\n\n{"evt.num":3}\n${SYSDIG_PC_LINE}`);
    const result = ingestFeedBody(body, { onEvent: (e) => got.push(e), metrics, logger: memoryLogger() });
    expect(result).toEqual({ accepted: 3, malformed: 1, firstError: { line: 4, reason: 'no "evt.type" field' } });
    expect(got.map((e) => e.name)).toEqual(['accept', 'openat', 'accept']);
    expect(got[1].timeNs).toBe(1712345678901234567n);
    expect(await counterValue(metrics, 'eventsIn', { source: 'http' })).toBe(3);
    expect(await counterValue(metrics, 'inputsRejected', { input: 'feed-http', reason: 'malformed_line' })).toBe(1);
    expect(ingestFeedBody(SYSDIG_PC_LINE, { onEvent: () => undefined })).toEqual({ accepted: 1, malformed: 0 });
  });

  it('never throws on content: empty, binary and truncated bodies', () => {
    const noop = { onEvent: () => undefined };
    expect(ingestFeedBody('', noop)).toEqual({ accepted: 0, malformed: 0 });
    expect(ingestFeedBody(Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b]), noop).malformed).toBe(2);
    expect(ingestFeedBody(SYSDIG_PC_LINE.slice(0, 40), noop)).toMatchObject({ accepted: 0, malformed: 1, firstError: { line: 1 } });
  });
});
