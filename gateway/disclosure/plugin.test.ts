/**
 * The response check's plugin on crafted traces: what it lets through, what it refuses
 * (whole, 403, reason code), what it skips, and the one bench-only switch.
 */
import { describe, expect, it } from 'vitest';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { newTrace, type ClientIdentity, type MotlanContext } from '../core/context.js';
import type { CoreSettings } from '../core/concern.js';
import { ServiceRegistry, ServiceView, type ServiceMap } from '../core/services.js';
import type { SupergraphSource } from '../core/supergraph.js';
import { EnvReader } from '../../lib/env-options.js';
import type { PathTree } from '../core/path-tree.js';
import { addEdge } from './collect.js';
import { disclosureCheck } from './concern.js';
import { decide, responseCheckPlugin, RESPONSE_REASONS } from './plugin.js';
import { DEFAULT_ROOT_BINDINGS } from './reach.js';

const tree = (spec: Record<string, unknown>): PathTree => ({
  children: new Map(Object.entries(spec).map(([k, v]) => [k, tree((v ?? {}) as Record<string, unknown>)])),
});
const TREE = tree({ citizen: { fullName: null, father: { fullName: null } } });
const client = (permissions: string[] = []): ClientIdentity => ({ id: 'c', agency: 'a', name: 'n', demo: false, procedures: ['p'], permissions, requireSubjectToken: false });

function ctxWith(entities: string[], edges: Array<[string, string[], string]>, extra: Partial<MotlanContext> = {}): MotlanContext {
  const trace = newTrace();
  for (const id of entities) trace.returnedEntities.set(id, { type: id.split(':')[0]!, key: id.split(':')[1]! });
  for (const [from, path, to] of edges) addEdge(trace.entityGraph, from, path, to);
  return { requestId: 'r', receivedAt: 0, client: client(), purpose: { procedureId: 'p', dossierId: null }, subject: { personalId: 'S' }, headers: {}, trace, ...extra };
}
const opts = { production: true, pathTree: (id: string) => (id === 'p' ? TREE : null) };

describe('decide', () => {
  it('accepts the subject and its father, refuses the father\'s father', () => {
    expect(decide(ctxWith(['Citizen:S', 'Citizen:F'], [['Citizen:S', ['father'], 'Citizen:F']]), opts, DEFAULT_ROOT_BINDINGS).outcome).toBe('checked');
    const r = decide(ctxWith(['Citizen:S', 'Citizen:F', 'Citizen:G'], [['Citizen:S', ['father'], 'Citizen:F'], ['Citizen:F', ['father'], 'Citizen:G']]), opts, DEFAULT_ROOT_BINDINGS);
    expect(r).toEqual({ outcome: 'refused', reason: RESPONSE_REASONS.notAllowed, outside: { Citizen: 1 } });
  });

  it('skips what has no registry entity (catalog, introspection)', () => {
    expect(decide(ctxWith([], [], { purpose: null }), opts, DEFAULT_ROOT_BINDINGS).outcome).toBe('skipped');
  });

  it('refuses entities without a purpose, or with an unknown one', () => {
    expect(decide(ctxWith(['Citizen:S'], [], { purpose: null }), opts, DEFAULT_ROOT_BINDINGS).reason).toBe(RESPONSE_REASONS.notAllowed);
    expect(decide(ctxWith(['Citizen:S'], [], { purpose: { procedureId: 'gone', dossierId: null } }), opts, DEFAULT_ROOT_BINDINGS).reason).toBe(RESPONSE_REASONS.notAllowed);
  });

  it('refuses a purpose the client may not run, and entities without a client', () => {
    expect(decide(ctxWith(['Citizen:S'], [], { client: { ...client(), procedures: ['other'] } }), opts, DEFAULT_ROOT_BINDINGS).outcome).toBe('refused');
    expect(decide(ctxWith(['Citizen:S'], [], { client: { ...client(), procedures: ['*'] } }), opts, DEFAULT_ROOT_BINDINGS).outcome).toBe('refused');
    expect(decide(ctxWith(['Citizen:S'], [], { client: { ...client(), procedures: ['*'] } }), { ...opts, production: false }, DEFAULT_ROOT_BINDINGS).outcome).toBe('checked');
    expect(decide(ctxWith(['Citizen:S'], [], { client: null }), opts, DEFAULT_ROOT_BINDINGS).outcome).toBe('refused');
  });

  it('refuses registry data under no subject, and answers that could not be read', () => {
    const unanchored = ctxWith([], []);
    unanchored.trace.entityGraph.unanchored.add('household');
    expect(decide(unanchored, opts, DEFAULT_ROOT_BINDINGS).reason).toBe(RESPONSE_REASONS.notAllowed);
    const unreadable = ctxWith(['Citizen:S'], []);
    unreadable.trace.entityGraph.problems.push('Citizen at citizen has no personalId');
    expect(decide(unreadable, opts, DEFAULT_ROOT_BINDINGS).reason).toBe(RESPONSE_REASONS.undecidable);
  });

  it('explore skips the check in development only', () => {
    const ctx = ctxWith(['Citizen:X'], [], { client: client(['explore']) });
    expect(decide(ctx, { ...opts, production: false }, DEFAULT_ROOT_BINDINGS).outcome).toBe('skipped');
    expect(decide(ctx, opts, DEFAULT_ROOT_BINDINGS).outcome).toBe('refused');
  });
});

describe('responseCheckPlugin', () => {
  async function send(ctx: MotlanContext, body: unknown) {
    const refused: string[] = [];
    const plugin = responseCheckPlugin({ ...opts, onRefusal: (r) => refused.push(r) });
    const listener = await plugin.requestDidStart!({} as never);
    const rc = { contextValue: ctx, response: { http: { status: undefined as number | undefined, headers: new Map() }, body }, schema: (await import('graphql')).buildSchema('type Query { citizen(personalId: ID!): Citizen } type Citizen { personalId: ID! }') };
    await listener!.willSendResponse!(rc as never);
    return { rc, refused };
  }

  it('replaces the whole response by a 403 without data, and counts it', async () => {
    const ctx = ctxWith(['Citizen:S', 'Citizen:X'], []);
    const { rc, refused } = await send(ctx, { kind: 'single', singleResult: { data: { citizen: { fullName: 'secret' } } } });
    expect(rc.response.http.status).toBe(403);
    expect(rc.response.body).toEqual({
      kind: 'single',
      singleResult: { errors: [{ message: expect.stringContaining('Citizen: 1'), extensions: { code: 'FORBIDDEN', reason: 'RESPONSE_ENTITY_NOT_ALLOWED' } }] },
    });
    expect(refused).toEqual(['RESPONSE_ENTITY_NOT_ALLOWED']);
    expect(ctx.trace.errorCodes.has('FORBIDDEN')).toBe(true);
    expect(ctx.trace.responseCheck?.outcome).toBe('refused');
  });

  it('leaves inner executions to the outer request, and a response without data alone', async () => {
    const outer = ctxWith(['Citizen:X'], []);
    const inner = Object.assign({}, outer, { internalOf: outer });
    expect((await send(inner, { kind: 'single', singleResult: { data: { x: 1 } } })).refused).toEqual([]);
    expect((await send(outer, { kind: 'single', singleResult: { errors: [{ message: 'no' }] } })).refused).toEqual([]);
  });

  it('refuses an incremental response (its later parts could not be checked)', async () => {
    const { refused } = await send(ctxWith([], []), { kind: 'incremental', initialResult: { data: {} }, subsequentResults: (async function* () {})() });
    expect(refused).toEqual(['RESPONSE_UNDECIDABLE']);
  });
});

describe('disclosure concern', () => {
  const ctx = (production: boolean, env: NodeJS.ProcessEnv = {}) => ({ core: { production } as CoreSettings, env: new EnvReader(env) });

  it('turning the check off is refused in production', async () => {
    expect(() => disclosureCheck.options!({ enabled: false }, ctx(true))).toThrow(/refused in production/);
    expect(() => disclosureCheck.options!(undefined, ctx(true, { DISCLOSURE: 'off' }))).toThrow(/refused in production/);
    expect(disclosureCheck.options!(undefined, ctx(false, { DISCLOSURE: 'off' }))).toEqual({ enabled: false });
    expect(() => disclosureCheck.options!(undefined, ctx(false, { DISCLOSURE: 'maybe' }))).toThrow(/DISCLOSURE="maybe"/);
    const registry = new ServiceRegistry();
    registry.provide('procedures', { pathTree: () => null } as unknown as ServiceMap['procedures'], 'test');
    const env = (enabled: boolean) => ({
      own: { enabled },
      core: { production: true } as CoreSettings,
      logger: { warn: () => undefined } as unknown as FastifyBaseLogger,
      app: {} as FastifyInstance,
      supergraph: { sdl: () => null } as unknown as SupergraphSource,
      services: new ServiceView<'procedures', 'metrics'>(registry, 'disclosure', new Set(['procedures']), new Set(['metrics'])),
    });
    expect(await disclosureCheck.create(env(false))).toEqual({});
    const on = await disclosureCheck.create(env(true));
    expect(on.services?.entityCollector).toBeDefined();
    expect(on.plugins).toHaveLength(1);
  });
});
