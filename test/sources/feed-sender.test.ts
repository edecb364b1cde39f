import { describe, expect, it } from 'vitest';
import { describeFeedTarget, parseFeedTarget } from '../../src/sources/feed-sender.js';

describe('feed target', () => {
  it.each([
    ['unix:/run/falco-ml/feed.sock', { kind: 'unix', path: '/run/falco-ml/feed.sock' }],
    ['tcp:127.0.0.1:2804', { kind: 'tcp', host: '127.0.0.1', port: 2804 }],
    ['tcp:[::1]:2804', { kind: 'tcp', host: '::1', port: 2804 }],
    ['http://127.0.0.1:2803/feed', { kind: 'http', url: 'http://127.0.0.1:2803/feed' }],
  ])('reads %s', (spec, target) => {
    expect(parseFeedTarget(spec)).toEqual(target);
  });

  it.each(['unix:', 'tcp:host', 'tcp:host:0', 'tcp:host:70000', 'udp:1.2.3.4:9', '/tmp/feed.sock'])('refuses %s with FML_ERR_FEED_TARGET', (spec) => {
    expect(() => parseFeedTarget(spec)).toThrow(expect.objectContaining({ code: 'FML_ERR_FEED_TARGET' }));
  });

  it('describes a target as it was written', () => {
    expect(describeFeedTarget(parseFeedTarget('tcp:[::1]:9'))).toBe('tcp:[::1]:9');
  });
});
