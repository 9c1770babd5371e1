/**
 * What leaves, as a gateway concern: the entity collector every remote subgraph fetch
 * goes through (collect.ts: keys added, entities recorded into the trace for the audit)
 * and the response check that refuses a response disclosing an entity outside the
 * purpose (plugin.ts). Refusals are counted in
 * `motlan_response_refusals_total{reason}` (reason: RESPONSE_ENTITY_NOT_ALLOWED,
 * RESPONSE_UNDECIDABLE).
 *
 * Settings: `GatewayOptions.disclosure` (below) or `DISCLOSURE=off` in the environment.
 * Off exists for the benchmark only (to price the check) and is refused in production.
 */
import { Counter } from 'prom-client';
import type { ConcernFactory } from '../core/concern.js';
import { metricsFor } from '../metrics/index.js';
import { procedurePathTree } from '../procedures/service.js';
import { EntityCollector } from './collect.js';
import { responseCheckPlugin, RESPONSE_REASONS, type ResponseReason } from './plugin.js';

export interface DisclosureOptions {
  /**
   * `false` turns collection and the response check off: benchmark only (prices the
   * check); refused in production. Default: on (`DISCLOSURE=off` turns it off).
   */
  enabled?: boolean;
}

export const disclosureCheck: ConcernFactory = (env) => {
  const own = (env.options.gateway as { disclosure?: DisclosureOptions }).disclosure ?? {};
  const enabled = own.enabled ?? env.options.env.DISCLOSURE !== 'off';
  if (!enabled) {
    if (env.options.production) {
      throw new Error('DISCLOSURE=off (or disclosure.enabled: false) turns off the response check; it exists for the benchmark only and is refused in production. Remove it.');
    }
    env.logger.warn('The response check is OFF (DISCLOSURE=off): entities returned are neither checked nor recorded. Benchmark use only.');
    return { name: 'disclosure' };
  }

  // The metrics registry is created by the metrics concern (later in the list): register once every factory ran.
  let refusals: Counter<'reason'> | null = null;
  env.app.addHook('onReady', async () => {
    if (!env.app.hasDecorator('motlanMetrics')) return;
    refusals = new Counter({
      name: 'motlan_response_refusals_total',
      help: 'Responses withheld by the response check (an entity outside the purpose, or an answer that could not be checked), by reason.',
      labelNames: ['reason'],
      registers: [metricsFor(env.app).registry],
    });
    for (const reason of Object.values(RESPONSE_REASONS)) refusals.inc({ reason }, 0);
  });

  const collector = new EntityCollector({ supergraphSdl: () => env.supergraph.sdl() });
  return {
    name: 'disclosure',
    entityCollector: collector,
    plugins: [
      responseCheckPlugin({
        pathTree: (id) => procedurePathTree(id),
        production: env.options.production,
        onRefusal: (reason: ResponseReason) => refusals?.inc({ reason }),
      }),
    ],
  };
};
