import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { HAS_SHARED_DATA } from '../helpers/shared-data.js';

describe('falco-ml demo', () => {
  it.skipIf(!HAS_SHARED_DATA)('shows the three verdicts on recorded WordPress traffic with the built-in model and policies', async () => {
    const result = await runCli(['demo']);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout.split('\n').map((l) => l.trim().split(/\s+/));
    const row = (verdict: string, container: string): string[] | undefined => rows.find((r) => r[0] === verdict && r.includes(container));
    expect(row('anomaly', 'wordpress-attack')).toBeDefined();
    expect(row('confirmed', 'wordpress-attack')?.[1]).toBe('Critical');
    expect(row('signature', 'wordpress-normal')?.[1]).toBe('Notice');
    expect(rows.some((r) => r[0] === 'anomaly' && r.includes('wordpress-normal'))).toBe(false);
  });

  it('names a missing recording and how to pass one', async () => {
    const result = await runCli(['demo', '--attack', '/nonexistent/attack.log']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/FML_ERR_TRACE_NOT_FOUND: \/nonexistent\/attack.log does not exist.*--attack and --normal/);
  });
});
