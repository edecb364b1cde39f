import { describe, expect, it } from 'vitest';
import { liddsFormat } from '../../src/traces/lidds.js';
import { names, parseLines } from './helpers.js';

const SAMPLE = [
  '1631209047761484608 33 129057 apache2 129057 open > ',
  '1631209047761490000 33 129057 apache2 129058 read > fd=8 size=100',
  '1631209047761495000 33 129057 apache2 129057 open < fd=9(<f>/etc/passwd) name=/etc/passwd flags=1(O_RDONLY) mode=0 dev=200024',
  '1631209047761499999 33 129057 apache2 129058 read < res=4 data=héhé',
  '1631209047761500000 0 1 my init 1 getpid >',
  '1631209047761500001 0 1 my init 1 getpid <',
  '1631209047761500002 33 129057 apache2 129057 switch > next=0',
  '1631209047761500003 33 129057 apache2 129059 clone < res=0',
].join('\n');

describe('lidds reader', () => {
  it('pairs enter and exit per thread, times exact', () => {
    const { events, skipped } = parseLines(liddsFormat, SAMPLE, true);
    expect(skipped).toEqual([]);
    expect(names(events)).toEqual(['open', 'read', 'getpid', 'switch', 'clone']);
    expect(events[0]).toMatchObject({
      timeNs: 1631209047761484608n,
      pid: 129057,
      tid: 129057,
      processName: 'apache2',
      args: 'fd=9(<f>/etc/passwd) name=/etc/passwd flags=1(O_RDONLY) mode=0 dev=200024',
    });
    expect(events[1]).toMatchObject({ tid: 129058, args: 'fd=8 size=100 res=4 data=héhé' });
    expect(events[2]).toMatchObject({ processName: 'my init', pid: 1 });
    expect(events[3].kind).toBe('other');
  });

  it('reports malformed lines', () => {
    const { skipped } = parseLines(liddsFormat, `${SAMPLE.split('\n')[0]}\nhello world\n1631209047761484608 33 x apache2 1 open >\n`);
    expect(skipped.map((s) => s.line)).toEqual([2, 3]);
  });

  it('recognises its own first lines', () => {
    expect(liddsFormat.sniff(SAMPLE.split('\n'))).toBe(true);
    expect(liddsFormat.sniff(['598968 20:27:56.781400426 0 wordpress (cdab6c786756) apache2 (536909:75) > getpid'])).toBe(false);
  });
});
