/**
 * Minimal reproductions of every bypass class the generated-query invariant test found
 * (test/invariant.test.ts), and of the transport tricks tried by hand, over the whole
 * stack. Each test states the secure behaviour: the request is refused before any data
 * leaves (no `data` with registry values), or answers exactly what the purpose allows.
 * On failure the message shows what leaked.
 *
 * Clients: `jrc` may run judicial-record-certificate only (which reads citizen.father/
 * mother/spouse names and birth dates) and needs a subject token; `open` may run it
 * without a token.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CitizenRecord } from '../mocks/world/types.js';
import { startEidIssuer, type StartedEidIssuer } from '../mocks/eid/issuer.js';
import type { GraphQLResult, Stack } from './support/stack.js';
import { GENEROUS_RATE_LIMIT, startStackForClients } from './support/client-stack.js';
import { writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';

const JRC = 'judicial-record-certificate';
const HMAC_KEY = 'bypass-test-hmac-key-0123456789abcdef0123';

let stack: Stack;
let eid: StartedEidIssuer;
let clients: ClientsFixture;
/** A citizen with a recorded father, mother, spouse and a child. */
let subject: CitizenRecord;
let father: CitizenRecord;
let child: CitizenRecord;
let stranger: CitizenRecord;
let unknownId: string;
let token: string;
let auditDir: string;

beforeAll(async () => {
  eid = await startEidIssuer({ port: 0 });
  clients = writeClientsFile([
    { id: 'jrc', procedures: [JRC], requireSubjectToken: true },
    { id: 'open', procedures: [JRC, 'death-residence-removal-funeral-allowance'] },
    { id: 'auditor', procedures: [] },
  ]);
  // The fixture writes TTHC clients; this one reads the audit trail.
  const file = JSON.parse(readFileSync(clients.file, 'utf8')) as { clients: Array<{ id: string; roles: string[] }> };
  file.clients.find((c) => c.id === 'auditor')!.roles = ['auditor'];
  writeFileSync(clients.file, JSON.stringify(file));
  auditDir = mkdtempSync(path.join(tmpdir(), 'motlan-bypass-audit-'));
  stack = await startStackForClients(clients, {
    rateLimit: GENEROUS_RATE_LIMIT,
    policy: { subjectTokens: { jwksUrl: eid.jwksUrl } },
    audit: { dataDir: auditDir, hmacKey: HMAC_KEY },
  });
  const byId = new Map(stack.world.citizens.map((c) => [c.personalId, c]));
  subject = stack.world.citizens.find(
    (c) => !c.deceased && c.fatherId && byId.has(c.fatherId) && c.motherId && byId.has(c.motherId) && c.spouseId && byId.has(c.spouseId) && c.childrenIds.some((k) => byId.has(k)) && (byId.get(c.fatherId)!.childrenIds.length > 1),
  )!;
  father = byId.get(subject.fatherId!)!;
  child = byId.get(subject.childrenIds.find((k) => byId.has(k))!)!;
  const family = new Set([subject.fatherId, subject.motherId, subject.spouseId, ...subject.childrenIds, subject.personalId]);
  for (const m of stack.world.households.find((h) => h.householdId === subject.householdId)?.members ?? []) family.add(m.personalId);
  stranger = stack.world.citizens.find((c) => !family.has(c.personalId) && !c.deceased)!;
  unknownId = subject.personalId.slice(0, 6) + '999999';
  token = await eid.issueSubjectToken({ personalId: subject.personalId, procedureId: JRC, ttl: 3600 });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await eid?.close();
  clients?.cleanup();
  if (auditDir) rmSync(auditDir, { recursive: true, force: true });
});

const jrc = (extra: Record<string, string> = {}) => ({ key: clients.keys['jrc']!, headers: { 'x-purpose': JRC, 'x-subject-token': token, ...extra } });
const open = (extra: Record<string, string> = {}) => ({ key: clients.keys['open']!, headers: { 'x-purpose': JRC, ...extra } });

/** Registry values in a response (anything but nulls and __typename), for failure messages. */
function leaked(r: GraphQLResult): string {
  return JSON.stringify(r.body.data ?? null).slice(0, 600);
}

function expectRefused(r: GraphQLResult, what: string): void {
  const data = r.body.data ?? null;
  const values = data === null ? [] : Object.values(data).filter((v) => v !== null);
  expect(values, `${what} leaked (HTTP ${r.status}): ${leaked(r)}`).toEqual([]);
  expect(r.status, `${what}: a refusal is a 4xx`).toBeGreaterThanOrEqual(400);
  expect(r.status).toBeLessThan(500);
}

describe('bypass class A: an undecidable root argument switches every check off', () => {
  it('a nullable variable with a default, sent as null, lets another root run with no purpose, token or field check', async () => {
    const r = await stack.query(
      {
        query: `query($a: ID = "${subject.personalId}", $b: ID!) { citizen(personalId: $a) { fullName } x: citizen(personalId: $b) { fullName identityCard { number } socialInsurance { socialInsuranceNumber status } landParcels { parcelId area } } }`,
        variables: { a: null, b: stranger.personalId },
      },
      { key: clients.keys['jrc']!, headers: {} },
    );
    expectRefused(r, 'a stranger\'s identity card, insurance and parcels with no X-Purpose and no token');
  });

  it('the same with the variable absent from a list root (`citizens`) and a household lookup', async () => {
    const r = await stack.query(
      {
        query: `query($ids: [ID!] = ["${subject.personalId}"], $p: ID = "${subject.personalId}") { citizens(personalIds: $ids) { fullName } h: household(householdId: "${stranger.householdId}") { members { citizen { personalId fullName dateOfBirth } } } c: citizen(personalId: $p) { fullName } }`,
        variables: { ids: null },
      },
      { key: clients.keys['jrc']!, headers: {} },
    );
    expectRefused(r, 'a stranger\'s household');
  });

  it('…and with the undecidable root skipped (@skip(if: true)), the leak comes with no error at all', async () => {
    const card = stack.world.healthInsurance.find((h) => h.personalId === stranger.personalId) ?? stack.world.healthInsurance.at(-1)!;
    const r = await stack.query(
      {
        query: `query($a: ID = "${subject.personalId}") { c: citizen(personalId: $a) @skip(if: true) { fullName } x: healthInsuranceCard(cardNumber: "${card.cardNumber}") { cardNumber registeredFacility validTo } }`,
        variables: { a: null },
      },
      { key: clients.keys['jrc']!, headers: {} },
    );
    expectRefused(r, 'a health insurance card by number, no purpose, no token');
  });

  it('prefill of a procedure the client may not run, for a stranger, without token, next to a null-defaulted catalog lookup', async () => {
    const r = await stack.query(
      {
        query: `query($p: ID = "${JRC}") { procedure(id: $p) { id } prefill(procedureId: "passport-issuance", subject: { personalId: "${stranger.personalId}" }) { fields { key value } } }`,
        variables: { p: null },
      },
      { key: clients.keys['jrc']!, headers: {} },
    );
    const form = (r.body.data as { prefill?: { fields: Array<{ value: string | null }> } } | null)?.prefill;
    expect(form ?? null, `passport form of a stranger for a client limited to ${JRC}: ${leaked(r)}`).toBeNull();
  });
});

describe('bypass class B: fields are allowed per type, not per path', () => {
  it('walks the family graph beyond citizen.father / spouse', async () => {
    const r = await stack.query(
      { query: `query($id: ID!) { citizen(personalId: $id) { fullName father { fullName spouse { fullName father { fullName personalId spouse { mother { fullName dateOfBirth personalId } } } } } } }`, variables: { id: subject.personalId } },
      jrc(),
    );
    expectRefused(r, 'citizen.father.spouse.father.spouse.mother (in-laws of the father)');
  });

  it('reads fields the purpose needs for the citizen on the relatives (citizen.father.identityCard)', async () => {
    const r = await stack.query(
      { query: `query($id: ID!) { citizen(personalId: $id) { fullName father { fullName placeOfBirth permanentResidence { fullAddress } identityCard { number issuedOn } } } }`, variables: { id: subject.personalId } },
      jrc(),
    );
    expectRefused(r, 'the father\'s identity card and birth place');
  });

  it('an alias does not change the field (father under the response key "spouse")', async () => {
    const r = await stack.query(
      { query: `query($id: ID!) { citizen(personalId: $id) { spouse: father { mother: spouse { fullName } } } }`, variables: { id: subject.personalId } },
      jrc(),
    );
    expectRefused(r, 'citizen.father.spouse under aliases');
  });
});

describe('bypass class C: a relative named as a second root gets the whole citizen tree', () => {
  it('citizen(father) beside citizen(subject) returns the father\'s identity card, residences and parents', async () => {
    const r = await stack.query(
      {
        query: `query($id: ID!, $f: ID!) { citizen(personalId: $id) { personalId } f: citizen(personalId: $f) { fullName identityCard { number issuedOn issuedBy } permanentResidence { fullAddress } father { fullName dateOfBirth } } }`,
        variables: { id: subject.personalId, f: father.personalId },
      },
      jrc(),
    );
    expectRefused(r, 'the father as a second subject (JRC declares no relatedCitizen)');
  });

  it('citizens(personalIds: [subject, child]) returns a child the procedure does not declare', async () => {
    const r = await stack.query(
      { query: `query($ids: [ID!]!) { citizens(personalIds: $ids) { personalId fullName dateOfBirth identityCard { number } } }`, variables: { ids: [subject.personalId, child.personalId] } },
      jrc(),
    );
    expectRefused(r, 'a child through citizens(personalIds:)');
  });
});

describe('bypass class D: relation-check coordinates are selectable by the client', () => {
  it('a procedure with a related citizen lets the client read the whole household and every child', async () => {
    const r = await stack.query(
      {
        query: `query($id: ID!) { citizen(personalId: $id) { fullName children { personalId fullName } household { members { citizen { personalId fullName dateOfBirth socialInsurance { totalContributionMonths } } } } } }`,
        variables: { id: subject.personalId },
      },
      open({ 'x-purpose': 'death-residence-removal-funeral-allowance' }),
    );
    expectRefused(r, 'children and household members with their insurance under the funeral-allowance purpose');
  });
});

describe('no existence oracle (observation 3)', () => {
  it('an unknown and an unrelated personal ID get the same status, code and message', async () => {
    // The probed ID first: a client without token requirement makes it the citizen, the known one the relative.
    const q = (id: string) => ({ query: `query($o: ID!, $id: ID!) { o: citizen(personalId: $o) { __typename } citizen(personalId: $id) { personalId } }`, variables: { id: subject.personalId, o: id } });
    const unknown = await stack.query(q(unknownId), open());
    const unrelated = await stack.query(q(stranger.personalId), open());
    const shape = (r: GraphQLResult) => ({ status: r.status, code: r.body.errors?.[0]?.extensions?.code, message: r.body.errors?.[0]?.message.replace(/\d{12}/g, '<id>') });
    expect(shape(unknown), `unknown: ${JSON.stringify(unknown.body)} / unrelated: ${JSON.stringify(unrelated.body)}`).toEqual(shape(unrelated));
  });
});

describe('transports and request shapes', () => {
  it('GET with the query string is held to the same rules as POST', async () => {
    const qs = new URLSearchParams({
      query: `query($a: ID = "${subject.personalId}", $b: ID!) { citizen(personalId: $a) { fullName } x: citizen(personalId: $b) { fullName dateOfBirth religion } }`,
      variables: JSON.stringify({ a: null, b: stranger.personalId }),
    });
    const res = await fetch(`${stack.graphqlUrl}?${qs}`, { headers: { authorization: `Bearer ${clients.keys['jrc']}`, 'apollo-require-preflight': 'true' } });
    const body = (await res.json()) as GraphQLResult['body'];
    expectRefused({ status: res.status, headers: res.headers, body }, 'GET with a null-defaulted variable');
  });

  it('a batched POST (array body) is refused or held to the same rules', async () => {
    const res = await fetch(stack.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${clients.keys['jrc']}`, 'x-purpose': JRC, 'x-subject-token': token },
      body: JSON.stringify([
        { query: `{ citizen(personalId: "${subject.personalId}") { fullName } }` },
        { query: `{ citizen(personalId: "${stranger.personalId}") { fullName identityCard { number } } }` },
      ]),
    });
    const text = await res.text();
    expect(text, 'a stranger in the second operation of a batch').not.toContain(stranger.fullName);
  });

  it('an automatic persisted query (hash only) is held to the same rules as the full text', async () => {
    const query = `{ citizen(personalId: "${subject.personalId}") { fullName father { spouse { father { fullName } } } } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${clients.keys['open']}`, 'x-purpose': JRC };
    const ext = { persistedQuery: { version: 1, sha256Hash } };
    await fetch(stack.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query, extensions: ext }) });
    const res = await fetch(stack.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ extensions: ext }) });
    const body = (await res.json()) as GraphQLResult['body'];
    // Either refused, or not found because the refused registration never stored it: no data in both cases.
    const values = Object.values(body.data ?? {}).filter((v) => v !== null);
    expect(values, `citizen.father.spouse.father by persisted-query hash leaked (HTTP ${res.status}): ${JSON.stringify(body).slice(0, 400)}`).toEqual([]);
  });

  it('operationName selects the checked operation (a decoy cannot carry the data)', async () => {
    const query = `query Decoy { procedures { id } } query Real($id: ID!) { citizen(personalId: $id) { father { spouse { fullName personalId } } } }`;
    const r = await stack.query({ query, operationName: 'Real', variables: { id: subject.personalId } }, jrc());
    expectRefused(r, 'citizen.father.spouse behind a decoy operation');
  });

  it('a __typename-only lookup of a stranger does not tell whether the stranger exists', async () => {
    const r = await stack.query({ query: `{ c: citizen(personalId: "${subject.personalId}") { personalId } x: citizen(personalId: "${stranger.personalId}") { __typename } }` }, jrc());
    expectRefused(r, 'existence of a stranger');
  });

  it('a client without token requirement cannot name two citizens and get both whole', async () => {
    const r = await stack.query(
      { query: `{ a: citizen(personalId: "${subject.personalId}") { fullName identityCard { number } } b: citizen(personalId: "${father.personalId}") { fullName identityCard { number } permanentResidence { fullAddress } } }` },
      open(),
    );
    expectRefused(r, 'the father as a second whole subject');
  });
});

describe('evidence: the audit record names every citizen whose data left (issue 11, observation 1)', () => {
  it('records the subject returned under an alias and the mother returned without her key', async () => {
    const mother = stack.world.citizens.find((c) => c.personalId === subject.motherId)!;
    const r = await stack.query(
      { query: `query($id: ID!) { citizen(personalId: $id) { who: personalId fullName mother { dateOfBirth } } }`, variables: { id: subject.personalId } },
      jrc(),
    );
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    expect(JSON.stringify(r.body.data)).toContain(mother.dateOfBirth);
    const res = await fetch(`${stack.gatewayUrl}/audit/v1/requests/${encodeURIComponent(r.headers.get('x-request-id') ?? '')}`, { headers: { authorization: `Bearer ${clients.keys['auditor']}` } });
    expect(res.status).toBe(200);
    const { record } = (await res.json()) as { record: { subjects: Array<{ kind: string; hmac: string }> } };
    const hmacs = new Set(record.subjects.map((s) => s.hmac));
    const h = (id: string) => createHmac('sha256', Buffer.from(HMAC_KEY, 'utf8')).update(`personal:${id}`).digest('hex');
    expect(hmacs.has(h(subject.personalId)), 'the subject').toBe(true);
    expect(hmacs.has(h(mother.personalId)), 'the mother, whose birth date left without her key').toBe(true);
  });
});
