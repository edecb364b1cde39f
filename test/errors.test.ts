import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, SidecarError } from '../src/errors.js';

describe('error table', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `(FML_ERR_[A-Z_]+)` \| (\d) \|/gm)].map((m) => [m[1], Number(m[2])] as const);

  it('docs/errors.md documents every code with its exit code, and no stale one', () => {
    expect(documented.map(([code]) => code).sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, exit] of documented) expect(ERRORS[code as keyof typeof ERRORS].exitCode).toBe(exit);
  });

  it('an error carries its code, hint and exit code', () => {
    const err = new SidecarError('FML_ERR_TRACE_EMPTY', 'x.log has no parseable line');
    expect(err.code).toBe('FML_ERR_TRACE_EMPTY');
    expect(err.exitCode).toBe(1);
    expect(err.hint).toBe(ERRORS.FML_ERR_TRACE_EMPTY.hint);
    expect(err).toBeInstanceOf(Error);
  });
});
