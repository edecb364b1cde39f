import { describe, expect, it } from 'vitest';
import { clockTimeToNs, isoToNs, parseTimestamp, secondsToNs } from '../../src/traces/timestamps.js';

describe('timestamps', () => {
  it('parses decimal seconds exactly', () => {
    expect(secondsToNs('1712345678.123456789')).toBe(1712345678123456789n);
    expect(secondsToNs('1712345678.123456')).toBe(1712345678123456000n);
    expect(secondsToNs('0.000012')).toBe(12000n);
    expect(secondsToNs('42')).toBe(42000000000n);
    expect(secondsToNs('1.2.3')).toBeUndefined();
    expect(secondsToNs('abc')).toBeUndefined();
  });

  it('parses clock times as nanoseconds since midnight', () => {
    expect(clockTimeToNs('20:27:56.781400426')).toBe(73676781400426n);
    expect(clockTimeToNs('00:00:01')).toBe(1000000000n);
    expect(clockTimeToNs('12:34')).toBeUndefined();
  });

  it('parses ISO date-times with nanoseconds and zones', () => {
    expect(isoToNs('2024-04-05T19:34:38.901234567Z')).toBe(1712345678901234567n);
    expect(isoToNs('2024-04-05T21:34:38.5+02:00')).toBe(1712345678500000000n);
    expect(isoToNs('yesterday')).toBeUndefined();
  });

  it('picks the right parser', () => {
    expect(parseTimestamp('20:27:56.781400426')).toBe(73676781400426n);
    expect(parseTimestamp('1712345678.5')).toBe(1712345678500000000n);
    expect(parseTimestamp('1631209047761484608')).toBe(1631209047761484608n);
    expect(parseTimestamp('2024-04-05 19:34:38.000000001')).toBe(1712345678000000001n);
    expect(parseTimestamp('')).toBeUndefined();
  });
});
