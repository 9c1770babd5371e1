/**
 * Vitest setup file (vitest.config.ts `setupFiles`): every test worker runs with
 * Apollo's telemetry off (before any test imports @apollo/gateway) and the egress
 * guard installed; a test file during which anything in the worker tried to reach
 * a non-loopback address fails, listing the attempts.
 */
import '../../lib/no-egress.js';
import './egress-guard.mjs';
import { afterAll } from 'vitest';

interface Attempt {
  kind: string;
  target: string;
  stack: string[];
}

afterAll(() => {
  const attempts = (globalThis as Record<symbol, Attempt[] | undefined>)[Symbol.for('motlan.egressAttempts')] ?? [];
  const found = attempts.splice(0);
  if (found.length > 0) {
    throw new Error(
      `Outbound connection attempts from this test file (nothing may leave the machine; see docs/SECURITY.md, "No egress"):\n` +
        found.map((a) => `  ${a.kind} ${a.target}\n    ${a.stack.join('\n    ')}`).join('\n'),
    );
  }
});
