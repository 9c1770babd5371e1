/**
 * `GET /health`: the process is up (liveness; never calls anything else).
 * `GET /ready`: this replica can serve traffic (readiness): the supergraph is
 * loaded, every remote subgraph answers a trivial query, and every concern that
 * has a readiness probe (audit store, Redis…) says it is ready. Otherwise 503
 * with the list of what is not ready, so an operator knows where to look.
 */
import type { FastifyInstance } from 'fastify';
import { Agent, fetch as undiciFetch } from 'undici';
import type { GatewayConcern } from '../core/concern.js';
import { describeFailure } from '../core/datasource.js';
import { newSubgraphRequestId, pathOf, signatureHeaders } from '../../lib/subgraph-signature.js';
import type { SupergraphSource } from '../core/supergraph.js';

export interface HealthOptions {
  supergraph: SupergraphSource;
  /** Subgraphs answered in-process (always ready when the gateway is). */
  localSubgraphs: ReadonlySet<string>;
  /** Concerns whose `ready()` probes are asked. */
  concerns: () => readonly GatewayConcern[];
  instanceId: string;
  /** The key a remote subgraph's probe is signed with (subgraphs refuse unsigned requests). */
  signingKey: (subgraph: string) => Buffer;
  /** Per-probe timeout. Default: 2000 ms. */
  probeTimeoutMs?: number;
}

/** Asks a subgraph `{ __typename }` (data-free), signed with `key`; null when it answers, else why not. */
export async function probeSubgraph(url: string, subgraph: string, timeoutMs: number, key: Buffer, agent?: Agent): Promise<string | null> {
  try {
    const query = JSON.stringify({ query: 'query __MotlanReadiness__ { __typename }' });
    const signed = signatureHeaders({ key, subgraph, method: 'POST', path: pathOf(url), body: query, timestamp: Date.now(), requestId: newSubgraphRequestId() });
    const res = await undiciFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signed },
      body: query,
      signal: AbortSignal.timeout(timeoutMs),
      ...(agent ? { dispatcher: agent } : {}),
    });
    if (!res.ok) {
      await res.body?.cancel();
      // A 401 here is a key mismatch between this gateway and the subgraph: say so.
      if (res.status === 401) return 'HTTP 401 (the subgraph refuses this gateway\'s signature: check SUBGRAPH_SIGNING_KEY_<NAME> against its GATEWAY_SIGNING_KEY)';
      return `HTTP ${res.status}`;
    }
    const body = (await res.json()) as { data?: { __typename?: string } };
    return body?.data?.__typename ? null : 'no GraphQL answer';
  } catch (err) {
    return describeFailure(err, timeoutMs);
  }
}

export function registerHealthRoutes(app: FastifyInstance, opts: HealthOptions): void {
  const timeoutMs = opts.probeTimeoutMs ?? 2000;
  const started = Date.now();

  app.get('/health', async () => ({ status: 'ok', instance: opts.instanceId, uptimeSeconds: Math.round((Date.now() - started) / 1000) }));

  app.get('/ready', async (_request, reply) => {
    const notReady: string[] = [];
    const checks: Record<string, string> = {};
    if (opts.supergraph.sdl() === null || opts.supergraph.apiSchema() === null) {
      notReady.push('supergraph: not loaded yet');
      checks.supergraph = 'not loaded';
    } else {
      checks.supergraph = opts.supergraph.lastError() ? 'serving the previous version (the file on disk is invalid)' : 'ok';
    }
    const probes = opts.supergraph.subgraphs().map(async (s) => {
      const problem = opts.localSubgraphs.has(s.name) ? null : await probeSubgraph(s.url, s.name, timeoutMs, opts.signingKey(s.name));
      checks[`subgraph:${s.name}`] = problem ?? 'ok';
      if (problem) notReady.push(`subgraph ${s.name}: ${problem}`);
    });
    const concernProbes = opts.concerns().map(async (c) => {
      if (!c.ready) return;
      let problem: string | null;
      try {
        problem = await c.ready();
      } catch (err) {
        problem = (err as Error).message;
      }
      checks[c.name] = problem ?? 'ok';
      if (problem) notReady.push(`${c.name}: ${problem}`);
    });
    await Promise.all([...probes, ...concernProbes]);
    if (notReady.length > 0) return reply.code(503).send({ status: 'not ready', notReady: notReady.sort(), checks });
    return { status: 'ready', instance: opts.instanceId, composition: opts.supergraph.id(), checks };
  });
}
