import { describe, expect, it } from 'vitest';
import { asRequestErrors, refusalStatus } from './refusal-status.js';

const err = (code: string) => ({ message: 'x', extensions: { code } });

describe('refusalStatus: the HTTP status of a prefill response', () => {
  it('a response with no data and one client-error code carries that code\'s status', () => {
    expect(refusalStatus(null, [err('BAD_USER_INPUT')])).toBe(400);
    expect(refusalStatus({ prefill: null }, [err('FORBIDDEN')])).toBe(403);
    expect(refusalStatus(undefined, [err('NOT_FOUND'), err('NOT_FOUND')])).toBe(404);
  });
  it('keeps 200 for partial results, mixed codes, server-side codes and responses without errors', () => {
    expect(refusalStatus({ prefill: { fields: [] } }, [err('REGISTRY_UNAVAILABLE')])).toBeUndefined();
    expect(refusalStatus({ prefill: { fields: [] } }, [err('FORBIDDEN')])).toBeUndefined();
    expect(refusalStatus(null, [err('FORBIDDEN'), err('NOT_FOUND')])).toBeUndefined();
    expect(refusalStatus(null, [err('REGISTRY_UNAVAILABLE')])).toBeUndefined();
    expect(refusalStatus(null, [{}])).toBeUndefined();
    expect(refusalStatus(null, [])).toBeUndefined();
    expect(refusalStatus({ prefill: { fields: [] } }, undefined)).toBeUndefined();
  });
});

describe('asRequestErrors: a refused prefill in the policy\'s body shape', () => {
  it('keeps message and public extensions, drops path, locations and the subgraph\'s name', () => {
    const out = asRequestErrors([
      { message: 'refused', path: ['prefill'], locations: [{ line: 1, column: 3 }], extensions: { code: 'FORBIDDEN', reason: 'SUBJECT_NOT_RELATED', serviceName: 'procedures' } },
    ]);
    expect(out).toEqual([{ message: 'refused', extensions: { code: 'FORBIDDEN', reason: 'SUBJECT_NOT_RELATED' } }]);
  });
});
