/**
 * Purpose and subject binding on an Apollo Server over the real supergraph schema, with
 * root resolvers that count calls: a refused request must never reach them (no subgraph
 * call), an allowed one must.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { buildASTSchema, parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEidIssuer, type EidIssuer } from '../../mocks/eid/issuer.js';
import { newTrace, type ClientIdentity, type MotlanContext, type Subject } from '../core/context.js';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { innerContext } from '../core/inner-execution.js';
import type { PathTree } from '../core/path-tree.js';
import { treeFromPaths } from './allowed-paths.js';
import { forbidden } from '../core/errors.js';
import { purposePolicyPlugin, type PurposePolicyOptions } from './plugin.js';

const SUPERGRAPH = readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8');
const schema = buildASTSchema(parse(SUPERGRAPH), { assumeValidSDL: true });

const CITIZEN = '001090000001';
const FATHER = '001060000002';
const STRANGER = '079085000003';
const ENTERPRISE = '0100109106';

/** A made-up catalog entry: the lodging notification reads identity and residence. */
const LODGING = ['citizen.fullName', 'citizen.dateOfBirth', 'citizen.permanentResidence.fullAddress'];
const ENTERPRISE_CHANGE = ['citizen.fullName', 'enterprise.name', 'enterprise.status'];
const CATALOG: Record<string, PathTree> = {
  'lodging-notification': treeFromPaths(LODGING),
  'enterprise-legal-representative-change': treeFromPaths(ENTERPRISE_CHANGE),
};

function client(over: Partial<ClientIdentity> = {}): ClientIdentity {
  return {
    id: 'hanoi',
    agency: 'UBND Thành phố Hà Nội',
    name: 'TTHC Hà Nội',
    demo: false,
    procedures: ['lodging-notification', 'enterprise-legal-representative-change'],
    permissions: [],
    requireSubjectToken: false,
    ...over,
  };
}

function context(c: ClientIdentity | null, headers: Record<string, string> = {}): MotlanContext {
  return { requestId: 'r1', receivedAt: Date.now(), client: c, purpose: null, subject: {}, headers, trace: newTrace() };
}

interface Harness {
  run(query: string, ctx: MotlanContext, variables?: Record<string, unknown>): Promise<{ status: number; code?: string; message?: string; extensions?: Record<string, unknown>; data?: unknown }>;
  calls: string[];
  relationChecks: Subject[];
  /** The context the plugins saw last (Apollo copies the one passed in). */
  last(): MotlanContext;
}

async function harness(over: Partial<PurposePolicyOptions> = {}, relation?: (s: Subject) => string | null): Promise<Harness> {
  const calls: string[] = [];
  const relationChecks: Subject[] = [];
  let last: MotlanContext | undefined;
  const root: Record<string, unknown> = {};
  const server = new ApolloServer<MotlanContext>({
    schema,
    rootValue: () => root,
    plugins: [
      purposePolicyPlugin({
        procedurePathTree: (id) => CATALOG[id],
        supergraphSdl: SUPERGRAPH,
        production: false,
        checkRelations: async (subject) => {
          relationChecks.push(subject);
          const reason = relation?.(subject);
          if (reason) throw forbidden(`Subject refused: ${reason}.`);
        },
        ...over,
      }),
      { async requestDidStart() { return { async willSendResponse(rc) { last = rc.contextValue; } }; } },
    ],
    includeStacktraceInErrorResponses: false,
  });
  await server.start();
  Object.assign(root, {
    citizen: ({ personalId }: { personalId: string }) => {
      calls.push(`citizen:${personalId}`);
      return { personalId, fullName: 'Nguyễn Văn An', dateOfBirth: '1990-01-01', gender: 'MALE', permanentResidence: null };
    },
    citizens: ({ personalIds }: { personalIds: string[] }) => {
      calls.push('citizens');
      return personalIds.map(() => null);
    },
    enterprise: () => {
      calls.push('enterprise');
      return null;
    },
    procedures: () => {
      calls.push('procedures');
      return [];
    },
    prefill: () => {
      calls.push('prefill');
      return null;
    },
  });
  return {
    calls,
    relationChecks,
    last: () => last!,
    async run(query, ctx, variables) {
      const res = await server.executeOperation({ query, variables }, { contextValue: ctx });
      const body = res.body.kind === 'single' ? res.body.singleResult : undefined;
      const err = body?.errors?.[0];
      return {
        status: res.http.status ?? 200,
        code: err?.extensions?.code as string | undefined,
        message: err?.message,
        extensions: err?.extensions as Record<string, unknown> | undefined,
        data: body?.data,
      };
    },
  };
}

const LODGING_QUERY = `query($id: ID!) { citizen(personalId: $id) { personalId fullName dateOfBirth permanentResidence { fullAddress } __typename } }`;

describe('purpose binding', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  it('refuses registry data without X-Purpose, before any resolver runs', async () => {
    const before = h.calls.length;
    const r = await h.run(LODGING_QUERY, context(client()), { id: CITIZEN });
    expect(r.status).toBe(403);
    expect(r.code).toBe('FORBIDDEN');
    expect(r.message).toMatch(/X-Purpose/);
    expect(h.calls.length).toBe(before);
  });

  it('serves exactly the fields of the declared purpose, and records purpose and subject', async () => {
    const ctx = context(client(), { 'x-purpose': 'lodging-notification', 'x-dossier-id': 'HN-2025-000123' });
    const r = await h.run(LODGING_QUERY, ctx, { id: CITIZEN });
    expect(r.code).toBeUndefined();
    expect(h.calls).toContain(`citizen:${CITIZEN}`);
    expect(h.last().purpose).toEqual({ procedureId: 'lodging-notification', dossierId: 'HN-2025-000123' });
    expect(ctx.subject.personalId).toBe(CITIZEN);
  });

  it('names every field the purpose does not need, even behind fragments and aliases', async () => {
    const before = h.calls.length;
    const q = `query { c: citizen(personalId: "${CITIZEN}") { fullName ...More } }
      fragment More on Citizen { religion ... on Citizen { socialInsurance { totalContributionMonths } } }`;
    const r = await h.run(q, context(client(), { 'x-purpose': 'lodging-notification' }));
    expect(r.status).toBe(403);
    expect(r.extensions?.fields).toEqual(['citizen.religion', 'citizen.socialInsurance']);
    expect(r.message).toContain('citizen.religion');
    expect(h.calls.length).toBe(before);
  });

  it('refuses a procedure the client may not run, and an unknown one', async () => {
    const other = await h.run(LODGING_QUERY, context(client({ procedures: ['passport-issuance'] }), { 'x-purpose': 'lodging-notification' }), { id: CITIZEN });
    expect(other.status).toBe(403);
    expect(other.message).toMatch(/may not run procedure "lodging-notification"/);
    const unknown = await h.run(LODGING_QUERY, context(client({ procedures: ['*'] }), { 'x-purpose': 'no-such-procedure' }), { id: CITIZEN });
    expect(unknown.code).toBe('NOT_FOUND');
    const malformed = await h.run(LODGING_QUERY, context(client(), { 'x-purpose': "lodging'; DROP TABLE" }), { id: CITIZEN });
    expect(malformed.code).toBe('BAD_USER_INPUT');
  });

  it('lets catalog fields through without a purpose', async () => {
    const r = await h.run('{ procedures { id name } }', context(client()));
    expect(r.code).toBeUndefined();
    expect(h.calls).toContain('procedures');
  });

  it('enforces the per-client registry allow-list', async () => {
    const wide = treeFromPaths([...LODGING, 'citizen.socialInsurance.totalContributionMonths']);
    const h2 = await harness({ procedurePathTree: () => wide });
    const q = `{ citizen(personalId: "${CITIZEN}") { fullName permanentResidence { fullAddress } socialInsurance { totalContributionMonths } } }`;
    const r = await h2.run(q, context(client({ registries: ['population'] }), { 'x-purpose': 'lodging-notification' }));
    expect(r.status).toBe(403);
    expect(r.extensions?.registries).toEqual(['insurance']);
    const ok = await h2.run(q, context(client({ registries: ['population', 'insurance'] }), { 'x-purpose': 'lodging-notification' }));
    expect(ok.code).toBeUndefined();
  });

  it('validates identifiers before any call: no partial-identifier search', async () => {
    for (const bad of ['0010%', '001*', '00109000000', '0010900000011', "001090000001' OR 1=1", '００１０９０００００００１']) {
      const r = await h.run(LODGING_QUERY, context(client(), { 'x-purpose': 'lodging-notification' }), { id: bad });
      expect(r.code, bad).toBe('BAD_USER_INPUT');
      expect(r.status).toBe(400);
    }
    expect(h.calls.filter((c) => c.includes('%') || c.includes('*'))).toEqual([]);
  });

  it('refuses sweeping over several citizens in one request', async () => {
    const h2 = await harness();
    const r = await h2.run(`{ citizens(personalIds: ["${CITIZEN}", "${FATHER}", "${STRANGER}"]) { fullName } }`, context(client(), { 'x-purpose': 'lodging-notification' }));
    expect(r.status).toBe(403);
    expect(h2.calls).toEqual([]);
  });

  it('checks relations when a query names an enterprise with the citizen', async () => {
    const h2 = await harness({}, (s) => (s.enterpriseCode ? 'the citizen is neither legal representative nor member of the enterprise' : null));
    const q = `{ citizen(personalId: "${CITIZEN}") { fullName } enterprise(enterpriseCode: "${ENTERPRISE}") { name status } }`;
    const r = await h2.run(q, context(client(), { 'x-purpose': 'enterprise-legal-representative-change' }));
    expect(r.status).toBe(403);
    expect(r.message).toMatch(/legal representative/);
    expect(h2.relationChecks).toEqual([{ personalId: CITIZEN, enterpriseCode: ENTERPRISE }]);
    expect(h2.calls).toEqual([]);
    const alone = await h2.run(`{ enterprise(enterpriseCode: "${ENTERPRISE}") { name } }`, context(client(), { 'x-purpose': 'enterprise-legal-representative-change' }));
    expect(alone.status).toBe(403);
    expect(alone.message).toMatch(/must name the citizen/);
  });

  it('lets explore run anything in development only', async () => {
    const q = `{ citizen(personalId: "${CITIZEN}") { fullName religion } }`;
    const dev = await h.run(q, context(client({ permissions: ['explore'] })));
    expect(dev.code).toBeUndefined();
    const prod = await harness({ production: true });
    const r = await prod.run(q, context(client({ permissions: ['explore'], procedures: ['*'] })));
    expect(r.status).toBe(403);
  });

  it('refuses introspection in production only', async () => {
    const prod = await harness({ production: true });
    expect((await prod.run('{ __schema { types { name } } }', context(client()))).code).toBe('FORBIDDEN');
    expect((await h.run('{ __schema { queryType { name } } }', context(client()))).code).toBeUndefined();
  });

  it('holds prefill to the client procedures, and inner operations to the procedure fields', async () => {
    const q = `query($p: ID!) { prefill(procedureId: $p, subject: { personalId: "${CITIZEN}" }) { summary { fieldsTotal } } }`;
    const refused = await h.run(q, context(client({ procedures: ['passport-issuance'] })), { p: 'lodging-notification' });
    expect(refused.status).toBe(403);
    expect(refused.message).toMatch(/may not run procedure/);
    const outer = context(client());
    const ok = await h.run(q, outer, { p: 'lodging-notification' });
    expect(ok.status).not.toBe(403);
    expect(h.last().purpose?.procedureId).toBe('lodging-notification');

    const inner = innerContext(outer, { procedureId: 'lodging-notification', dossierId: null }, { personalId: CITIZEN });
    expect((await h.run(LODGING_QUERY, inner, { id: CITIZEN })).code).toBeUndefined();
    const leak = await h.run(`{ citizen(personalId: "${CITIZEN}") { fullName religion } }`, inner);
    expect(leak.code).toBe('FORBIDDEN');
    expect(leak.extensions?.fields).toEqual(['citizen.religion']);
  });

  it('refuses data to unauthenticated callers', async () => {
    const r = await h.run(LODGING_QUERY, context(null, { 'x-purpose': 'lodging-notification' }), { id: CITIZEN });
    expect(r.code).toBe('UNAUTHENTICATED');
  });
});

describe('deny by default (nothing undecidable reaches a resolver)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  const purpose = () => context(client(), { 'x-purpose': 'lodging-notification' });
  const refusedBefore = async (query: string, variables: Record<string, unknown> | undefined, reason: string, ctx = purpose()) => {
    const before = h.calls.length;
    const r = await h.run(query, ctx, variables);
    expect(r.status, r.message).toBeGreaterThanOrEqual(400);
    expect(r.extensions?.reason, r.message).toBe(reason);
    expect(h.calls.length, 'a resolver ran').toBe(before);
    return r;
  };

  it('refuses a nullable variable with a default sent as null, whatever the other root fields', async () => {
    const q = `query($a: ID = "${CITIZEN}", $b: ID!) { a: citizen(personalId: $a) { fullName } b: citizen(personalId: $b) { fullName religion } }`;
    await refusedBefore(q, { a: null, b: STRANGER }, 'UNDECIDABLE_REQUEST');
    await refusedBefore(q, { a: null, b: STRANGER }, 'UNDECIDABLE_REQUEST', context(client())); // no purpose either
    await refusedBefore(q, { b: STRANGER }, 'UNDECIDABLE_REQUEST'); // defaulted
    await refusedBefore(`query($a: ID!) { citizen(personalId: $a) { fullName } }`, { a: [CITIZEN] }, 'UNDECIDABLE_REQUEST');
    await refusedBefore(`query($a: ID!) { citizen(personalId: $a) { fullName } }`, undefined, 'UNDECIDABLE_REQUEST');
  });

  it('refuses variables in directives, and treats literal @include/@skip as present', async () => {
    await refusedBefore(`query($v: Boolean!) { citizen(personalId: "${CITIZEN}") { fullName @include(if: $v) } }`, { v: true }, 'UNDECIDABLE_REQUEST');
    const skipped = await refusedBefore(`{ citizen(personalId: "${CITIZEN}") { fullName religion @skip(if: true) } }`, undefined, 'FIELDS_NOT_ALLOWED');
    expect(skipped.extensions?.fields).toEqual(['citizen.religion']);
  });

  it('refuses prefill arguments it cannot decide, but still answers NOT_FOUND for an unknown procedure', async () => {
    const q = `query($p: ID = "lodging-notification") { prefill(procedureId: $p, subject: { personalId: "${CITIZEN}" }) { summary { fieldsTotal } } }`;
    await refusedBefore(q, { p: null }, 'UNDECIDABLE_REQUEST', context(client()));
    await refusedBefore(q, {}, 'UNDECIDABLE_REQUEST', context(client()));
    const unknown = await refusedBefore(q, { p: 'no-such-procedure' }, 'UNKNOWN_PROCEDURE', context(client({ procedures: ['*'] })));
    expect(unknown.status).toBe(404);
  });

  it('enters citizen(personalId) at the root its identifier plays, and refuses undeclared roots', async () => {
    const two = `{ c: citizen(personalId: "${CITIZEN}") { fullName } f: citizen(personalId: "${FATHER}") { fullName } }`;
    const r = await refusedBefore(two, undefined, 'SUBJECT_NOT_DECLARED');
    expect(r.extensions?.roots).toEqual(['relatedCitizen']);
    await refusedBefore(`{ citizens(personalIds: ["${CITIZEN}", "${FATHER}"]) { fullName } }`, undefined, 'SUBJECT_NOT_DECLARED');
    const ok = await h.run(`{ citizens(personalIds: ["${CITIZEN}", "${CITIZEN}"]) { fullName } }`, purpose());
    expect(ok.code).toBeUndefined();
    const household = await refusedBefore(`{ household(householdId: "HH-1") { householdId } }`, undefined, 'FIELDS_NOT_ALLOWED');
    expect(household.extensions?.fields).toEqual(['household']);
  });

  it('holds internal operations to the tree plus relation identifiers, for the subjects of their context', async () => {
    const outer = context(client());
    const inner = innerContext(outer, { procedureId: 'lodging-notification', dossierId: null }, { personalId: CITIZEN });
    const relations = `query MotlanSubjectRelations($personalId: ID!) { subjectCitizen: citizen(personalId: $personalId) { personalId } }`;
    expect((await h.run(relations, inner, { personalId: CITIZEN })).code).toBeUndefined();
    // The relation paths of a relative are not the lodging procedure's: it declares no relatedCitizen.
    const family = await h.run(`query($id: ID!) { citizen(personalId: $id) { father { personalId } } }`, inner, { id: CITIZEN });
    expect(family.extensions?.fields).toEqual(['citizen.father']);
    const other = await h.run(LODGING_QUERY, inner, { id: STRANGER });
    expect(other.extensions?.reason).toBe('SUBJECT_NOT_DECLARED');
  });
});

describe('subject binding (X-Subject-Token)', () => {
  let h: Harness;
  let eid: EidIssuer;
  let rogue: EidIssuer;
  const strict = client({ id: 'danang', requireSubjectToken: true });
  const headers = (token?: string, extra: Record<string, string> = {}) => ({
    'x-purpose': 'lodging-notification',
    ...(token ? { 'x-subject-token': token } : {}),
    ...extra,
  });

  beforeAll(async () => {
    eid = await createEidIssuer();
    rogue = await createEidIssuer(); // same issuer name, other key: a forgery
    h = await harness({ subjectTokens: { jwks: eid.jwks } });
  });

  const refusedWith = async (token: string | undefined, pattern: RegExp, extra: Record<string, string> = {}, id = CITIZEN) => {
    const before = h.calls.length;
    const r = await h.run(LODGING_QUERY, context(strict, headers(token, extra)), { id });
    expect(r.status).toBe(403);
    expect(r.code).toBe('FORBIDDEN');
    expect(r.message).toMatch(pattern);
    expect(h.calls.length).toBe(before);
  };

  it('serves the citizen and procedure the token names', async () => {
    const token = await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification' });
    const ctx = context(strict, headers(token));
    const r = await h.run(LODGING_QUERY, ctx, { id: CITIZEN });
    expect(r.code).toBeUndefined();
    expect(ctx.subject.personalId).toBe(CITIZEN);
  });

  it('refuses a missing token', () => refusedWith(undefined, /X-Subject-Token/));
  it('refuses a token for another citizen', async () =>
    refusedWith(await eid.issueSubjectToken({ personalId: STRANGER, procedureId: 'lodging-notification' }), /another citizen/));
  it('refuses a token for another procedure', async () =>
    refusedWith(await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'passport-issuance' }), /procedure "passport-issuance"/));
  it('refuses an expired token', async () =>
    refusedWith(await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification', issuedAt: Math.floor(Date.now() / 1000) - 400, ttl: 300 }), /expired/));
  it('refuses a long-lived token issued too long ago', async () =>
    refusedWith(await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification', issuedAt: Math.floor(Date.now() / 1000) - 3600, ttl: 86_400 }), /too old/));
  it('refuses a token signed with another key', async () =>
    refusedWith(await rogue.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification' }), /signed with a key|signature/));
  it('refuses a token from another issuer or for another audience', async () => {
    await refusedWith(await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification', issuer: 'https://evil.example' }), /issuer/);
    await refusedWith(await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification', audience: 'other-gateway' }), /audience/);
  });
  it('refuses a tampered token and garbage', async () => {
    const token = await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification' });
    const [head, , sig] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: STRANGER, procedure_id: 'lodging-notification', iss: eid.issuer, aud: eid.audience, iat: 1, exp: 9999999999 })).toString('base64url');
    await refusedWith(`${head}.${forgedPayload}.${sig}`, /signature|invalid|old/, {}, STRANGER);
    await refusedWith('not-a-token', /compact JWS/);
    await refusedWith(`${head}.${forgedPayload}.`, /compact JWS/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forgedPayload}.x`;
    await refusedWith(none, /algorithm|invalid/, {}, STRANGER);
  });
  it('refuses a token replayed by another client or for another dossier', async () => {
    const forOther = await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification', clientId: 'hcm' });
    await refusedWith(forOther, /another client/);
    const forDossier = await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification', dossierId: 'DN-1' });
    await refusedWith(forDossier, /another dossier/, { 'x-dossier-id': 'DN-2' });
  });
  it('binds prefill to the token too', async () => {
    const q = `query($id: ID!) { prefill(procedureId: "lodging-notification", subject: { personalId: $id }) { summary { fieldsTotal } } }`;
    const token = await eid.issueSubjectToken({ personalId: CITIZEN, procedureId: 'lodging-notification' });
    const ok = await h.run(q, context(strict, { 'x-subject-token': token }), { id: CITIZEN });
    expect(ok.status).not.toBe(403);
    const other = await h.run(q, context(strict, { 'x-subject-token': token }), { id: STRANGER });
    expect(other.status).toBe(403);
    expect(other.message).toMatch(/another citizen/);
  });
});

describe('interconnected groups (a group id is a purpose of its own)', () => {
  const GROUP = 'lodging-and-enterprise-group';
  const members = ['lodging-notification', 'enterprise-legal-representative-change'];
  const groupCatalog: Record<string, PathTree> = { ...CATALOG, [GROUP]: treeFromPaths([...LODGING, ...ENTERPRISE_CHANGE]) };
  const q = `query($g: ID!) { prefillGroup(groupId: $g, subject: { personalId: "${CITIZEN}" }) { summary { fieldsTotal } } }`;
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ procedurePathTree: (id) => groupCatalog[id], groupProcedures: (id) => (id === GROUP ? members : null) });
  });

  it('needs the group id AND every procedure of the group in the client list', async () => {
    const onlyGroup = await h.run(q, context(client({ procedures: [GROUP, members[0]!] })), { g: GROUP });
    expect(onlyGroup).toMatchObject({ status: 403, extensions: { reason: 'PROCEDURE_NOT_ALLOWED' } });
    expect(onlyGroup.message).toContain(members[1]);
    const noGroup = await h.run(q, context(client({ procedures: members })), { g: GROUP });
    expect(noGroup).toMatchObject({ status: 403, extensions: { reason: 'PROCEDURE_NOT_ALLOWED' } });
    const all = await h.run(q, context(client({ procedures: [GROUP, ...members] })), { g: GROUP });
    expect(all.extensions?.['reason']).toBeUndefined();
    expect(h.last().purpose).toEqual({ procedureId: GROUP, dossierId: null });
  });

  it('unauthenticated or unknown group: refused like prefill, never read as catalog metadata', async () => {
    expect(await h.run(q, context(null), { g: GROUP })).toMatchObject({ status: 401 });
    expect(await h.run(q, context(client({ procedures: ['*'] })), { g: 'no-such-group' })).toMatchObject({ status: 404 });
  });

  it('as X-Purpose: the union of the procedures paths, for a client allowed the group and its procedures', async () => {
    const ok = await h.run(LODGING_QUERY, context(client({ procedures: [GROUP, ...members] }), { 'x-purpose': GROUP }), { id: CITIZEN });
    expect(ok.code).toBeUndefined();
    const refused = await h.run(LODGING_QUERY, context(client({ procedures: [GROUP] }), { 'x-purpose': GROUP }), { id: CITIZEN });
    expect(refused).toMatchObject({ status: 403, extensions: { reason: 'PROCEDURE_NOT_ALLOWED' } });
  });
});
