/**
 * The sandbox as a gateway concern: listed once in gateway/app.ts, configured by
 * `GatewayOptions.sandbox` (`false` turns it off, e.g. for an API-only replica).
 */
import { defineConcern } from '../core/concern.js';
import { chooseDemoKey } from './demo-key.js';
import { EXAMPLE_GROUPS_ENV, EXAMPLE_SUBJECT_ENV } from './examples.js';
import { registerSandbox, type SandboxOptions } from './index.js';

/** `GatewayOptions.sandbox`: its options, or `false` to serve none. */
export type SandboxSetting = SandboxOptions | false;

export const sandbox = defineConcern({
  name: 'sandbox',
  slice: 'sandbox',
  options: (own: SandboxSetting | undefined) => own,
  // Read by the examples (sandbox/examples.ts): the demo subjects npm start passes.
  variables: [...Object.values(EXAMPLE_SUBJECT_ENV), EXAMPLE_GROUPS_ENV],
  needs: ['clients'],
  create: ({ own, core, app, services }) => {
    if (own === false) return {};
    const clients = services.need('clients');
    const opts: SandboxOptions = { production: core.production, env: core.env, ...own };
    // The gateway already loaded the demo clients file (never in production): take
    // the key from there so the sandbox prefills exactly what authentication accepts.
    if (opts.demoApiKey === undefined) {
      const demo = core.production ? null : chooseDemoKey(clients.demoCredentials(), clients.clients);
      opts.demoApiKey = demo?.key ?? null;
      opts.demoClientLabel = demo?.label ?? null;
    }
    return { install: () => registerSandbox(app, opts) };
  },
});
