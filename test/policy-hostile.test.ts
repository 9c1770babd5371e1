/**
 * The purpose policy against a hostile client with a valid key (issue 10, observations
 * 1-3 and their variants), over the whole stack, in development AND production mode:
 *
 * 1. undecidable requests (null, defaulted or list-typed identifiers, variables in
 *    directives) are refused before any registry is called, prefill included;
 * 2. a purpose allows paths, not types: walking the family graph beyond the procedure's
 *    paths is refused however it is spelt (aliases, fragments, inline fragments, @include);
 * 3. `citizens(personalIds:)` names the subject and at most its declared relative;
 * 4. no oracle: unknown and unrelated subjects get byte-identical refusals, both count
 *    towards the failed-lookup brake, and a braked request calls no registry.
 *
 * "No registry called" is measured on the mock registries' own request counters.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kind, parse, print, type ObjectTypeDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../gateway/app.js';
import { REGISTRIES, type CitizenRecord, type World } from '../mocks/world/types.js';
import { startStack, type Stack } from './support/stack.js';
import { writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';

let stack: Stack;
let clients: ClientsFixture;
let world: World;
let procedureIds: string[];
let prodDir: string;
const gateways: Record<'development' | 'production', RunningGateway> = {} as never;

/** A living citizen with a recorded father whose own spouse is recorded (observation 2's walk). */
let citizen: CitizenRecord;
let father: CitizenRecord;
let stranger: CitizenRecord;
let unknownId: string;
let ownEnterprise: string;
let otherEnterprise: string;

const BRAKE = 6;

beforeAll(async () => {
  stack = await startStack({ citizens: 300 });
  world = stack.world;
  procedureIds = stack.gateway.services.need('procedures').ids();
  // '*' is honoured in development only: list the procedures, so both modes see the same clients.
  clients = writeClientsFile([
    { id: 'full', procedures: procedureIds },
    { id: 'narrow', procedures: ['lodging-notification'], registries: ['population', 'insurance'] },
    { id: 'oracle', procedures: procedureIds },
    { id: 'prober', procedures: procedureIds },
    { id: 'any', procedures: ['*'] },
  ]);
  const byId = new Map(world.citizens.map((c) => [c.personalId, c]));
  const roles = new Map<string, string[]>();
  for (const e of world.enterprises) for (const r of e.legalRepresentatives) roles.set(r.personalId, [...(roles.get(r.personalId) ?? []), e.enterpriseCode]);
  citizen = world.citizens.find((c) => !c.deceased && c.fatherId && byId.get(c.fatherId)?.spouseId && roles.has(c.personalId))
    ?? world.citizens.find((c) => !c.deceased && c.fatherId && byId.get(c.fatherId)?.spouseId)!;
  father = byId.get(citizen.fatherId!)!;
  const family = new Set([citizen.fatherId, citizen.motherId, citizen.spouseId, ...citizen.childrenIds, citizen.personalId]);
  for (const m of world.households.find((h) => h.householdId === citizen.householdId)?.members ?? []) family.add(m.personalId);
  stranger = world.citizens.find((c) => !family.has(c.personalId) && !c.deceased)!;
  for (let n = 1; !unknownId || byId.has(unknownId); n++) unknownId = `001090${String(900000 + n).padStart(6, '0')}`;
  ownEnterprise = roles.get(citizen.personalId)?.[0] ?? '';
  otherEnterprise = world.enterprises.find((e) => !e.legalRepresentatives.some((r) => r.personalId === citizen.personalId) && !e.members.some((m) => m.personalId === citizen.personalId))!.enterpriseCode;

  const common = {
    clientsFile: clients.file,
    demoClientsFile: false as const,
    watchSupergraph: false,
    rateLimit: { ratePerSecond: 100_000, burst: 100_000, unknownLookups: BRAKE, redisUrl: undefined },
  };
  gateways.development = await stack.startGateway({ ...common, production: false });
  // Production refuses development keys: give the audit trail real ones, in a temp folder.
  prodDir = mkdtempSync(path.join(tmpdir(), 'motlan-hostile-audit-'));
  const signingKeyPath = path.join(prodDir, 'signing.pem');
  writeFileSync(signingKeyPath, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  gateways.production = await stack.startGateway({
    ...common,
    production: true,
    sandbox: false,
    audit: { dataDir: prodDir, signingKeyPath, hmacKey: randomBytes(32).toString('hex') },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  clients?.cleanup();
  if (prodDir) rmSync(prodDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

/** Requests the registries answered so far (all four mock registries). */
const registryCalls = () => REGISTRIES.reduce((n, r) => n + Object.values(stack.registries.stats(r).requests).reduce((a, b) => a + b, 0), 0);

const first = (a: Answer) => a.body.errors?.[0];

describe.each(['development', 'production'] as const)('%s mode', (mode) => {
  const send = async (
    body: { query: string; variables?: Record<string, unknown> },
    opts: { client?: string; purpose?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const res = await fetch(gateways[mode].graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${clients.keys[opts.client ?? 'full']}`,
        ...(opts.purpose ? { 'x-purpose': opts.purpose } : {}),
        ...opts.headers,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Answer['body'] };
  };

  /** Sends, and asserts a refusal with no data and no registry call. */
  const refused = async (body: { query: string; variables?: Record<string, unknown> }, opts: Parameters<typeof send>[1] = {}) => {
    const before = registryCalls();
    const a = await send(body, opts);
    expect(a.status, a.text).toBeGreaterThanOrEqual(400);
    expect(a.status, a.text).toBeLessThan(500);
    expect(a.body.data ?? null, a.text).toBeNull();
    expect(registryCalls(), `registries called for ${body.query}`).toBe(before);
    for (const c of [citizen, father, stranger]) expect(a.text).not.toContain(c.fullName);
    return a;
  };

  describe('observation 1: undecidable requests are refused before any registry call', () => {
    const twoRoots = `query($a: ID = "${'CITIZEN'}", $b: ID!) {
      x: citizen(personalId: $a) { fullName }
      y: citizen(personalId: $b) { fullName identityCard { number } socialInsurance { socialInsuranceNumber } landParcels { parcelId } }
    }`;

    it('a nullable variable with a default sent as null', async () => {
      const query = twoRoots.replace('CITIZEN', citizen.personalId);
      for (const opts of [{ purpose: 'lodging-notification' }, {}, { client: 'narrow', purpose: 'lodging-notification' }, { client: 'narrow' }]) {
        await refused({ query, variables: { a: null, b: stranger.personalId } }, opts);
      }
      const a = await refused({ query, variables: { a: null, b: stranger.personalId } }, { purpose: 'lodging-notification' });
      expect(first(a)!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(first(a)!.extensions!.reason).toBe('UNDECIDABLE_REQUEST');
    });

    it('the same over GET', async () => {
      const before = registryCalls();
      const url = new URL(gateways[mode].graphqlUrl);
      url.searchParams.set('query', twoRoots.replace('CITIZEN', citizen.personalId));
      url.searchParams.set('variables', JSON.stringify({ a: null, b: stranger.personalId }));
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${clients.keys.full}`, 'x-purpose': 'lodging-notification', 'apollo-require-preflight': 'true' },
      });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect((JSON.parse(text) as Answer['body']).errors?.[0]?.extensions?.reason).toBe('UNDECIDABLE_REQUEST');
      expect(text).not.toContain(stranger.fullName);
      expect(registryCalls()).toBe(before);
    });

    it('an identifier left to its default, absent, or a list where one is expected', async () => {
      const defaulted = await refused(
        { query: `query($a: ID = "${citizen.personalId}") { citizen(personalId: $a) { fullName } }`, variables: {} },
        { purpose: 'lodging-notification' },
      );
      expect(first(defaulted)!.message).toMatch(/default/);
      await refused({ query: `query($a: ID) { citizen(personalId: $a) { fullName } }`, variables: {} }, { purpose: 'lodging-notification' });
      await refused({ query: `query($a: ID!) { citizen(personalId: $a) { fullName } }`, variables: { a: [citizen.personalId, stranger.personalId] } }, { purpose: 'lodging-notification' });
      await refused({ query: `query($a: ID!) { citizen(personalId: $a) { fullName } }`, variables: { a: { personalId: citizen.personalId } } }, { purpose: 'lodging-notification' });
      await refused({ query: `query($ids: [ID!]!) { citizens(personalIds: $ids) { fullName } }`, variables: { ids: [] } }, { purpose: 'lodging-notification' });
    });

    it('a variable in a directive, whatever it selects', async () => {
      const a = await refused(
        { query: `query($v: Boolean!) { citizen(personalId: "${citizen.personalId}") { fullName religion @include(if: $v) } }`, variables: { v: false } },
        { purpose: 'lodging-notification' },
      );
      expect(first(a)!.extensions!.reason).toBe('UNDECIDABLE_REQUEST');
      await refused(
        { query: `query($v: Boolean = true) { citizen(personalId: "${citizen.personalId}") @skip(if: $v) { fullName } }`, variables: { v: null } },
        { purpose: 'lodging-notification' },
      );
    });

    it('the same tricks around prefill: no prefill the client may not run, no token skipped', async () => {
      // A null variable next to a prefill for a procedure the narrow client may not run.
      await refused(
        {
          query: `query($id: ID = "${citizen.personalId}") { citizen(personalId: $id) { fullName } prefill(procedureId: "passport-issuance", subject: { personalId: "${citizen.personalId}" }) { fields { key value } } }`,
          variables: { id: null },
        },
        { client: 'narrow' },
      );
      const a = await refused(
        {
          query: `query($p: ID = "lodging-notification", $s: SubjectInput!) { prefill(procedureId: $p, subject: $s) { fields { key value } } }`,
          variables: { p: null, s: { personalId: citizen.personalId } },
        },
        { client: 'narrow' },
      );
      expect(first(a)!.extensions!.code).toBe('BAD_USER_INPUT');
      await refused(
        { query: `query($s: SubjectInput = { personalId: "${citizen.personalId}" }) { prefill(procedureId: "lodging-notification", subject: $s) { fields { key value } } }`, variables: {} },
        { client: 'narrow' },
      );
      const notAllowed = await refused(
        { query: `query($s: SubjectInput!) { prefill(procedureId: "passport-issuance", subject: $s) { fields { key value } } }`, variables: { s: { personalId: citizen.personalId } } },
        { client: 'narrow' },
      );
      expect(first(notAllowed)!.extensions!.reason).toBe('PROCEDURE_NOT_ALLOWED');
      // The same for an interconnected group: a null group id through a defaulted variable.
      const group = await refused(
        {
          query: `query($g: ID = "birth-registration-group", $s: SubjectInput!) { prefillGroup(groupId: $g, subject: $s) { summary { fieldsTotal } } }`,
          variables: { g: null, s: { personalId: citizen.personalId } },
        },
        { client: 'narrow' },
      );
      expect(first(group)!.extensions!.code).toBe('BAD_USER_INPUT');
    });

    it('catalog roots too: a null sent for a non-null argument through a defaulted variable is the client\'s error (400), on every catalog root', async () => {
      // Every root of the catalog subgraph that takes a non-null argument (prefill has its own tests above).
      const doc = parse(readFileSync(path.join(import.meta.dirname, '..', 'schema', 'procedures.graphql'), 'utf8'));
      const query = doc.definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Query')!;
      // prefill and prefillGroup are purpose-bound, not catalog: their own tests are above.
      const roots = (query.fields ?? []).filter((f) => !['prefill', 'prefillGroup'].includes(f.name.value) && (f.arguments ?? []).some((a) => a.type.kind === Kind.NON_NULL_TYPE));
      expect(roots.map((f) => f.name.value)).toEqual(expect.arrayContaining(['procedure', 'procedureGroup']));
      for (const f of roots) {
        const args = (f.arguments ?? []).filter((a) => a.type.kind === Kind.NON_NULL_TYPE);
        const vars = args.map((a) => `$${a.name.value}: ${print(a.type).replace(/!$/, '')} = "judicial-record-certificate"`).join(', ');
        const call = args.map((a) => `${a.name.value}: $${a.name.value}`).join(', ');
        const variables = Object.fromEntries(args.map((a) => [a.name.value, null]));
        for (const q of [`query(${vars}) { ${f.name.value}(${call}) { __typename } }`, `query(${vars}) { procedures { id } x: ${f.name.value}(${call}) { __typename } }`]) {
          for (const opts of [{}, { purpose: 'lodging-notification' }]) {
            const a = await refused({ query: q, variables }, opts);
            expect(a.status, a.text).toBe(400);
            expect(first(a)!.extensions!.code, a.text).toBe('BAD_USER_INPUT');
            expect(a.text).not.toContain('DOWNSTREAM_SERVICE_ERROR');
          }
        }
      }
    });

    it('an unknown procedure still answers NOT_FOUND UNKNOWN_PROCEDURE (to a client that may run any, in development)', async () => {
      for (const procedureId of ['no-such-procedure', "x'; --", '']) {
        const q = { query: `query($p: ID!) { prefill(procedureId: $p, subject: { personalId: "${citizen.personalId}" }) { fields { key } } }`, variables: { p: procedureId } };
        const a = await refused(q, { client: 'any' });
        const lowerCaseId = /^[a-z0-9-]+$/.test(procedureId);
        expect(first(a)!.extensions, procedureId).toMatchObject(
          mode === 'development' || !lowerCaseId ? { code: 'NOT_FOUND', reason: 'UNKNOWN_PROCEDURE' } : { code: 'FORBIDDEN', reason: 'PROCEDURE_NOT_ALLOWED' },
        );
      }
    });
  });

  describe('observation 2: a purpose allows paths, not types', () => {
    const purpose = 'judicial-record-certificate';
    const walk = (inner: string) => `{ citizen(personalId: "${citizen.personalId}") { fullName father { fullName ${inner} } } }`;

    it('serves the procedure\'s own operation, with keys and __typename at every allowed node', async () => {
      const op = stack.gateway.services.need('procedures').operation(purpose)!;
      const ok = await send({ query: op.query, variables: { personalId: citizen.personalId } }, { purpose });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.text).toContain(father.fullName);
      const keys = await send({ query: walk('personalId __typename') }, { purpose });
      expect(keys.status, keys.text).toBe(200);
      expect(keys.text).toContain(father.personalId);
    });

    it('refuses the family walk of the issue, naming the first path outside the tree', async () => {
      const a = await refused({ query: walk('spouse { fullName father { fullName children { personalId fullName spouse { personalId fullName } } } }') }, { purpose });
      expect(first(a)!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'FIELDS_NOT_ALLOWED', fields: ['citizen.father.spouse'] });
    });

    it('however it is spelt: aliases, named and inline fragments, @include(if: true), @skip(if: true)', async () => {
      const spellings = [
        `{ me: citizen(personalId: "${citizen.personalId}") { dad: father { name: fullName wife: spouse { personalId } } } }`,
        `{ citizen(personalId: "${citizen.personalId}") { father { ...Wife } } } fragment Wife on Citizen { spouse { personalId } }`,
        `{ citizen(personalId: "${citizen.personalId}") { father { ... on Citizen { spouse { personalId } } } } }`,
        `{ citizen(personalId: "${citizen.personalId}") { ...Up } } fragment Up on Citizen { father { ... { spouse { personalId } } } }`,
        `{ citizen(personalId: "${citizen.personalId}") { father { spouse @include(if: true) { personalId } } } }`,
        `{ citizen(personalId: "${citizen.personalId}") { father { spouse @skip(if: true) { personalId } } } }`,
        `{ citizen(personalId: "${citizen.personalId}") { father { fullName } ... @include(if: false) { father { spouse { personalId } } } } }`,
        `{ ...Root } fragment Root on Query { citizen(personalId: "${citizen.personalId}") { father { spouse { personalId } } } }`,
        `{ a: citizen(personalId: "${citizen.personalId}") { father { fullName } } b: citizen(personalId: "${citizen.personalId}") { father { spouse { fullName } } } }`,
      ];
      for (const query of spellings) {
        const a = await refused({ query }, { purpose });
        expect(first(a)!.extensions!.fields, query).toEqual(['citizen.father.spouse']);
      }
    });

    it('refuses roots no purpose reaches, and fields of the right type at the wrong depth', async () => {
      const household = await refused({ query: `{ household(householdId: "${world.households[0]!.householdId}") { members { citizen { fullName } } } }` }, { purpose });
      expect(first(household)!.extensions!.fields).toEqual(['household']);
      const deep = await refused({ query: walk('mother { fullName }') }, { purpose });
      expect(first(deep)!.extensions!.fields).toEqual(['citizen.father.mother']);
    });
  });

  describe('multi-subject lookups: citizens(personalIds:)', () => {
    it('names the subject once or twice, never anyone else', async () => {
      const same = await send({ query: `{ citizens(personalIds: ["${citizen.personalId}", "${citizen.personalId}"]) { fullName } }` }, { purpose: 'lodging-notification' });
      expect(same.status, same.text).toBe(200);
      const relative = await refused({ query: `{ citizens(personalIds: ["${citizen.personalId}", "${father.personalId}"]) { fullName } }` }, { purpose: 'lodging-notification' });
      expect(first(relative)!.extensions!.reason).toBe('SUBJECT_NOT_DECLARED');
      const three = await refused({ query: `{ citizens(personalIds: ["${citizen.personalId}", "${father.personalId}", "${stranger.personalId}"]) { fullName } }` }, { purpose: 'death-residence-removal-funeral-allowance' });
      expect(first(three)!.extensions!.reason).toBe('TOO_MANY_SUBJECTS');
    });

    it('reads the declared relative with what both roots allow, after the relation check', async () => {
      const purpose = 'death-residence-removal-funeral-allowance';
      const ok = await send({ query: `{ citizens(personalIds: ["${citizen.personalId}", "${father.personalId}"]) { fullName personalId } }` }, { purpose });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.text).toContain(father.fullName);
      const onlyRelated = await refused({ query: `{ citizens(personalIds: ["${citizen.personalId}", "${father.personalId}"]) { socialInsurance { socialInsuranceNumber } } }` }, { purpose });
      expect(first(onlyRelated)!.extensions!.fields).toEqual(['citizen.socialInsurance']);
      const unrelated = await send({ query: `{ citizens(personalIds: ["${citizen.personalId}", "${stranger.personalId}"]) { fullName } }` }, { purpose, client: 'oracle' });
      expect(unrelated.status).toBe(403);
      expect(first(unrelated)!.extensions!.reason).toBe('SUBJECT_NOT_RELATED');
      expect(unrelated.text).not.toContain(stranger.fullName);
    });
  });

  describe('observation 3: no existence oracle', () => {
    it('answers an unknown and a known-but-unrelated subject with identical bodies', async () => {
      const family = 'death-residence-removal-funeral-allowance';
      const q = (me: string, other: string) => ({ query: `{ citizen(personalId: "${me}") { fullName } relatedCitizen: citizen(personalId: "${other}") { fullName } }` });
      const unknown = await send(q(unknownId, father.personalId), { purpose: family, client: 'oracle' });
      const unrelated = await send(q(citizen.personalId, stranger.personalId), { purpose: family, client: 'oracle' });
      expect(unknown.status).toBe(403);
      expect(unrelated.status).toBe(403);
      expect(unknown.text).toBe(unrelated.text);
      if (ownEnterprise) {
        const e = (me: string, code: string) => ({ query: `{ citizen(personalId: "${me}") { fullName } enterprise(enterpriseCode: "${code}") { name } }` });
        const purpose = 'enterprise-legal-representative-change';
        const a = await send(e(unknownId, ownEnterprise), { purpose, client: 'oracle' });
        const b = await send(e(citizen.personalId, otherEnterprise), { purpose, client: 'oracle' });
        expect(a.status).toBe(403);
        expect(a.text).toBe(b.text);
        expect(a.text).toBe(unknown.text);
      }
    });

    it('counts unrelated subjects towards the failed-lookup brake, consulted before any registry call', async () => {
      const purpose = 'death-residence-removal-funeral-allowance';
      const probe = { query: `{ citizens(personalIds: ["${citizen.personalId}", "${stranger.personalId}"]) { fullName } }` };
      for (let i = 0; i < BRAKE; i++) {
        const a = await send(probe, { purpose, client: 'prober' });
        expect(first(a)!.extensions!.reason).toBe('SUBJECT_NOT_RELATED');
      }
      const braked = await refused(probe, { purpose, client: 'prober' });
      expect(braked.status).toBe(429);
      expect(first(braked)!.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'FAILED_LOOKUPS' });
      // A prefill with an unrelated subject is braked as well, before its relation check.
      await refused(
        { query: `{ prefill(procedureId: "${purpose}", subject: { personalId: "${citizen.personalId}", relatedPersonalId: "${stranger.personalId}" }) { fields { key value } } }` },
        { client: 'prober' },
      );
    });
  });
});
