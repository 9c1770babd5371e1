/**
 * Nothing in a Motlan process connects outside the deployment (docs/SECURITY.md,
 * "No egress"). Import this module FIRST in every entry point that loads
 * `@apollo/gateway` (gateway/app.ts does, so every gateway process and test worker
 * gets it; the benchmark's contenders import it too):
 *
 * - `@apollo/gateway` starts its own usage telemetry in the ApolloGateway
 *   constructor unless APOLLO_TELEMETRY_DISABLED is `true`/`1`; the exporter probes
 *   cloud-metadata addresses (169.254.169.254, metadata.google.internal,
 *   100.100.100.200) and then exports to the vendor. An operator's `false` is
 *   overridden on purpose: there is no supported way to turn it on.
 * - OpenTelemetry SDK auto-configuration: OTEL_SDK_DISABLED.
 * - Apollo Server's usage and schema reporting start when APOLLO_KEY/APOLLO_GRAPH_REF
 *   or APOLLO_SCHEMA_REPORTING are set: they are removed here, and gateway/app.ts also
 *   installs the "disabled" plugins (and no landing page: Apollo's default one loads
 *   its page from a CDN).
 * - Hive Gateway (benchmark contender only): no usage reporting unless given a token.
 */
const FORCED: Readonly<Record<string, string>> = {
  APOLLO_TELEMETRY_DISABLED: 'true',
  OTEL_SDK_DISABLED: 'true',
};
const REMOVED: readonly string[] = ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_GRAPH_ID', 'APOLLO_GRAPH_VARIANT', 'APOLLO_SCHEMA_REPORTING'];

/** Applies the settings above to `env` (default: this process's environment); returns it. */
export function disableEgress(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  for (const [k, v] of Object.entries(FORCED)) env[k] = v;
  for (const k of REMOVED) delete env[k];
  return env;
}

/** The variables to put in a child process's environment (scripts/start.ts, bench). */
export const NO_EGRESS_ENV: Readonly<Record<string, string>> = FORCED;

disableEgress();
