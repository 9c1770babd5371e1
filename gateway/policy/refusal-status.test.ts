import { describe, expect, it } from 'vitest';
import { refusalStatus } from './refusal-status.js';

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
