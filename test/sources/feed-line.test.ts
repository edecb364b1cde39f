import { describe, expect, it } from 'vitest';
import { encodeFeedLine } from '../../src/sources/feed-line.js';
import { ingestFeedBody } from '../../src/sources/feed-http.js';
import type { SyscallEvent } from '../../src/traces/syscall-event.js';

function roundTrip(events: SyscallEvent[], defaults = {}): SyscallEvent[] {
  const out: SyscallEvent[] = [];
  const result = ingestFeedBody(events.map((e) => `${encodeFeedLine(e, defaults)}\n`).join(''), { onEvent: (e) => out.push(e), keepArgs: true });
  expect(result.malformed).toBe(0);
  return out;
}

describe('feed line encoding', () => {
  it('writes a sysdig -j -pc exit line with the time as exact integer digits', () => {
    const line = encodeFeedLine({ name: 'openat', kind: 'syscall', tid: 7, containerId: 'abc', processName: 'php', timeNs: 1712345678901234567n });
    expect(line).toBe('{"evt.type":"openat","evt.dir":"<","thread.tid":7,"container.id":"abc","proc.name":"php","evt.rawtime":1712345678901234567}');
  });

  it('round-trips every field the reader knows, 64-bit times included', () => {
    const events: SyscallEvent[] = [
      {
        name: 'execve',
        kind: 'syscall',
        timeNs: 18446744073709551615n,
        containerId: 'cdab6c786756',
        containerName: 'wordpress',
        containerImage: 'docker.io/library/wordpress',
        k8sNamespace: 'blog',
        k8sPod: 'wordpress-7d9f',
        processName: 'sh "quoted" ☃',
        pid: 91459,
        tid: 91460,
        args: 'filename=/bin/sh\tx',
      },
      { name: 'switch', kind: 'other', tid: 1, timeNs: 1n },
      { name: 'read', kind: 'syscall' },
    ];
    expect(roundTrip(events)).toEqual([events[0], events[1], { name: 'read', kind: 'syscall' }]);
  });

  it('fills in the container from the defaults only when the event has none', () => {
    const out = roundTrip(
      [
        { name: 'read', kind: 'syscall', containerId: 'own' },
        { name: 'write', kind: 'syscall' },
      ],
      { containerId: 'file-manager-1' },
    );
    expect(out.map((e) => e.containerId)).toEqual(['own', 'file-manager-1']);
  });
});
