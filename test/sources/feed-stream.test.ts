import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { feedFromStream } from '../../src/sources/feed-stream.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';
import { counterValue, newMetrics } from './helpers.js';

describe('feed from a stream (stdin)', () => {
  it('reads a real pipe to its end, one parser for the whole stream', async () => {
    // A child process writes sysdig -j -pc lines to its stdout, as `sysdig -j -pc | falco-ml serve --feed-stdin` would.
    const script = `
      const out = [];
      for (let i = 0; i < 20000; i++) out.push('{"evt.type":"read","evt.dir":"<","thread.tid":' + (i % 9) + ',"container.id":"abc","evt.rawtime":' + (1712345678901234567n + BigInt(i)) + '}');
      out.push('not json');
      process.stdout.write(out.join('\\n'));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const got: SyscallEvent[] = [];
    const metrics = newMetrics();
    const handle = feedFromStream(child.stdout, { onEvent: (e) => got.push(e), metrics });
    expect(handle.connections).toBe(1);
    const stats = await handle.done;
    expect(handle.connections).toBe(0);
    expect(stats).toMatchObject({ lines: 20001, events: 20000, malformed: 1, firstError: { line: 20001 } });
    expect(got[19999].timeNs).toBe(1712345678901234567n + 19999n);
    expect(await counterValue(metrics, 'eventsIn', { source: 'stdin' })).toBe(20000);
    expect(await counterValue(metrics, 'inputsRejected', { input: 'feed-stdin', reason: 'malformed_line' })).toBe(1);
  });
});
