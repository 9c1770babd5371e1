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
import { defineConcern } from '../core/concern.js';
import { EntityCollector } from './collect.js';
import { responseCheckPlugin, RESPONSE_REASONS, type ResponseReason } from './plugin.js';

/** Settings of the concern, read from `GatewayOptions.disclosure`. */
export interface DisclosureOptions {
  /** False turns the response check off (benchmark only; refused in production). Default: `DISCLOSURE` env unless `off`, i.e. on. */
  enabled?: boolean;
}

export const disclosureCheck = defineConcern({
  name: 'disclosure',
  slice: 'disclosure',
  options: (own: DisclosureOptions | undefined, { env, core }) => {
    const enabled = own?.enabled ?? env.flag('DISCLOSURE') !== false;
    if (!enabled && core.production) {
      throw new Error('DISCLOSURE=off (or disclosure.enabled: false) turns off the response check; it exists for the benchmark only and is refused in production. Remove it.');
    }
    return { enabled };
  },
  provides: ['entityCollector'],
  needs: ['procedures'],
  uses: ['metrics'],
  create: ({ own, core, logger, supergraph, services }) => {
    if (!own.enabled) {
      logger.warn('The response check is OFF (DISCLOSURE=off): entities returned are neither checked nor recorded. Benchmark use only.');
      return {};
    }
    // Built before this concern whatever the list order (providers first).
    const metrics = services.use('metrics');
    let refusals: Counter<'reason'> | null = null;
    if (metrics) {
      refusals = new Counter({
        name: 'motlan_response_refusals_total',
        help: 'Responses withheld by the response check (an entity outside the purpose, or an answer that could not be checked), by reason.',
        labelNames: ['reason'],
        registers: [metrics.registry],
      });
      for (const reason of Object.values(RESPONSE_REASONS)) refusals.inc({ reason }, 0);
    }
    const catalog = services.need('procedures');
    const collector = new EntityCollector({ supergraphSdl: () => supergraph.sdl() });
    return {
      services: { entityCollector: collector },
      plugins: [
        responseCheckPlugin({
          pathTree: (id) => catalog.pathTree(id),
          production: core.production,
          onRefusal: (reason: ResponseReason) => refusals?.inc({ reason }),
        }),
      ],
    };
  },
});
