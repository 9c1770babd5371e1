/**
 * OpenTelemetry tracing of the gateway (lib/tracing.ts holds what the three tiers share).
 * Off by default; on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). docs/OPERATIONS.md, "Tracing", lists the spans.
 *
 * - `onRequest`: the SERVER span `<METHOD> <route>` opens, child of the caller's
 *   `traceparent`; its trace id goes into the request's context (the audit record keeps it).
 * - first `preHandler`: the rest of the request (auth, limits, Apollo: policy, plan, fetches)
 *   runs inside that span's context (activated after the body is read: stream callbacks
 *   would lose it), so @apollo/gateway's spans (`gateway.request`, `gateway.plan`,
 *   `gateway.fetch`…), the policy's and the subgraph calls' are its children, and each
 *   subgraph call carries `traceparent` on to the subgraph.
 * - `onResponse` (or an aborted request): the span ends with the status code.
 */
import type { FastifyRequest } from 'fastify';
import { startTracing, traceRequests, TRACING_VARIABLES, tracingSettings, type TracingSettings } from '../../lib/tracing.js';
import { defineConcern, motlanContextOf } from '../core/concern.js';

export interface TracingOptions {
  /** Settings in place of the OTEL_* variables (tests); `false` turns tracing off whatever the environment says. Default: from the environment, off without an endpoint. */
  settings?: TracingSettings | false;
}

/** service.name of the gateway unless OTEL_SERVICE_NAME says otherwise. */
export const GATEWAY_SERVICE_NAME = 'motlan-gateway';

export const tracingConcern = defineConcern({
  name: 'tracing',
  slice: 'tracing',
  variables: TRACING_VARIABLES,
  options: (own: TracingOptions | undefined, { env }): TracingSettings | null => {
    if (own?.settings === false) return null;
    return own?.settings ?? tracingSettings(env, GATEWAY_SERVICE_NAME, true);
  },
  create: async ({ own, app, logger }) => {
    if (!own) return {};
    const tracing = await startTracing(own, { global: true });
    if (!tracing) return {};
    logger.info(`Tracing on: spans of service ${own.serviceName} go to ${own.url} (sampler ${own.sampler})`);
    return {
      install: () =>
        traceRequests<FastifyRequest>(app, tracing, {
          onStart: (request, s) => {
            const ctx = motlanContextOf(request);
            if (ctx) ctx.traceId = s.span.spanContext().traceId;
          },
          onEnd: (request, s) => {
            const client = motlanContextOf(request)?.client;
            if (client) s.span.setAttribute('motlan.client_id', client.id);
          },
        }),
      close: () => tracing.shutdown(),
    };
  },
});

