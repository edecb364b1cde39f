import { describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/errors.js';
import { TRACE_FORMATS, detectFormat, traceFormat } from '../../src/traces/detect-format.js';
import { TRACE_FORMAT_NAMES, type TraceFormatName } from '../../src/traces/trace-format.js';

const SAMPLES: Record<TraceFormatName, string[]> = {
  'sysdig-stripped': ['clone res=0 exe=apache2 args=-DFOREGROUND. ', 'set_robust_list ', 'set_robust_list '],
  sysdig: [
    '598959 20:27:56.781383678 0 wordpress (cdab6c786756) apache2 (536909:75) < clone res=0 exe=apache2 ',
    '598968 20:27:56.781400426 0 wordpress (cdab6c786756) apache2 (536909:75) > set_robust_list ',
  ],
  'sysdig-json': [
    '{"evt.cpu":0,"evt.dir":">","evt.info":"addr=0","evt.num":2738,"evt.outputtime":1761443273107487235,"evt.type":"brk","proc.name":"vi","thread.tid":14173}',
  ],
  lidds: ['1631209047761484608 33 129057 apache2 129057 open > ', '1631209047761495000 33 129057 apache2 129057 open < fd=9 '],
  strace: ['accept4(3, {sa_family=AF_INET}, [128->16], SOCK_CLOEXEC) = 10', '[pid 12] --- SIGCHLD {si_signo=SIGCHLD} ---'],
  sequence: ['open read close', 'execve'],
};

describe('detectFormat', () => {
  it('tries the formats in the documented order', () => {
    expect(TRACE_FORMATS.map((f) => f.name)).toEqual(TRACE_FORMAT_NAMES);
  });

  it.each(Object.entries(SAMPLES))('recognises %s', (name, lines) => {
    expect(detectFormat(lines, 'sample').name).toBe(name);
  });

  it('tolerates one odd line among the first ones', () => {
    const lines = ['# captured with strace -f', ...Array.from({ length: 9 }, () => 'getpid() = 1')];
    expect(detectFormat(lines, 'x').name).toBe('strace');
  });

  it('throws FML_ERR_TRACE_UNKNOWN_FORMAT quoting the first line and the file', () => {
    const long = `Date,Value,${'x'.repeat(300)}`;
    let error: unknown;
    try {
      detectFormat([long, '2024-01-01,3'], '/data/prices.txt');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SidecarError);
    const e = error as SidecarError;
    expect(e.code).toBe('FML_ERR_TRACE_UNKNOWN_FORMAT');
    expect(e.message).toContain('/data/prices.txt');
    expect(e.message).toContain('"Date,Value,xxx');
    expect(e.message).not.toContain('x'.repeat(200));
  });

  it('looks formats up by name', () => {
    expect(traceFormat('lidds').name).toBe('lidds');
    expect(() => traceFormat('pcap')).toThrow(expect.objectContaining({ code: 'FML_ERR_TRACE_UNKNOWN_FORMAT' }));
  });
});
