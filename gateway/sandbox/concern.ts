/**
 * The sandbox as a gateway concern: listed once in gateway/app.ts, configured by
 * `GatewayOptions.sandbox` (`false` turns it off, e.g. for an API-only replica).
 */
import type { ConcernFactory } from '../core/concern.js';
import { chooseDemoKey } from './demo-key.js';
import { registerSandbox, type SandboxOptions } from './index.js';

export const sandbox: ConcernFactory = ({ app, options, clients }) => {
  const own = options.gateway.sandbox;
  if (own === false) return { name: 'sandbox' };
  const opts: SandboxOptions = { production: options.production, env: options.env, ...own };
  // The gateway already loaded the demo clients file (never in production): take
  // the key from there so the sandbox prefills exactly what authentication accepts.
  if (opts.demoApiKey === undefined) {
    const demo = options.production ? null : chooseDemoKey(clients.demoCredentials(), clients.clients);
    opts.demoApiKey = demo?.key ?? null;
    opts.demoClientLabel = demo?.label ?? null;
  }
  registerSandbox(app, opts);
  return { name: 'sandbox' };
};
