/**
 * Red team, round 3 (whole stack), against what was added last: interconnected procedure
 * groups (a group id as a purpose, `prefillGroup`), the fifth registry `civil`, the response
 * cache's hit path and the statistics endpoints, as TTHC clients with valid keys.
 *
 * Every test either failed before its fix (the comment says what the hole was) or pins a claim
 * that had no whole-stack test.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { getNamedType, isObjectType, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathTree } from '../gateway/core/path-tree.js';
import type { RunningGateway } from '../gateway/app.js';
import type { AuditRecord } from '../gateway/audit/record.js';
import { hashApiKey } from '../gateway/auth/keys.js';
import type { ProcedureService } from '../gateway/procedures/service.js';
import { startEidIssuer, type StartedEidIssuer } from '../mocks/eid/issuer.js';
import { findCitizen, findDeceasedWithDeathNotice, findParentWithBirthNotice } from '../mocks/world/find.js';
import { indexWorld, type WorldIndex } from '../mocks/world/index-world.js';
import { REGISTRIES, type CitizenRecord, type World } from '../mocks/world/types.js';
import { clientGatewayOptions, GENEROUS_RATE_LIMIT } from './support/client-stack.js';
import { testProcedureYaml } from './support/test-procedure.js';
import { writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';
import { startStack, type Stack } from './support/stack.js';

const HMAC_KEY = 'redteam3-audit-hmac-key-0123456789abcdef';
const BIRTH_GROUP = 'birth-registration-group';
const BIRTH_MEMBERS = ['birth-registration', 'child-permanent-residence-registration', 'child-health-insurance-card'];
const DEATH_GROUP = 'death-registration-group';
const DEATH_MEMBERS = ['death-registration', 'permanent-residence-removal', 'funeral-allowance'];
/** A test procedure in a temporary catalog folder, rewritten by the catalog-reload test. */
const FORM = 'redteam3-form';
/** Coordinates only the relation checks (MotlanSubjectRelations) select: no group procedure reads them. */
const RELATION_ONLY = ['Citizen.children', 'Citizen.father', 'Citizen.mother', 'Citizen.spouse', 'Household.members', 'HouseholdMember.citizen'];

const formFile = (withReligion: boolean) => testProcedureYaml(FORM, withReligion ? [{ key: 'tonGiao', label: 'Tôn giáo', source: 'citizen.religion' }] : []);

let stack: Stack;
let eid: StartedEidIssuer;
let clients: ClientsFixture;
let monitorKey: string;
let catalogDir: string;
const auditDirs: string[] = [];
let plain: RunningGateway;
let cached: RunningGateway;
let world: World;
let ix: WorldIndex;
let mother: CitizenRecord;
let deceased: CitizenRecord;
let relative: CitizenRecord;

beforeAll(async () => {
  eid = await startEidIssuer({ port: 0 });
  clients = writeClientsFile([
    { id: 'grp', procedures: [BIRTH_GROUP, ...BIRTH_MEMBERS, DEATH_GROUP, ...DEATH_MEMBERS, 'lodging-notification', FORM] },
    { id: 'members', procedures: BIRTH_MEMBERS },
    { id: 'grouponly', procedures: [BIRTH_GROUP] },
    { id: 'popregistry', procedures: [BIRTH_GROUP, ...BIRTH_MEMBERS], registries: ['population'] },
    { id: 'consent', procedures: [BIRTH_GROUP, ...BIRTH_MEMBERS, DEATH_GROUP, ...DEATH_MEMBERS], requireSubjectToken: true },
  ]);
  // A staff key for the statistics (the fixture writes TTHC clients only).
  monitorKey = `test-monitor-key-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const file = JSON.parse(readFileSync(clients.file, 'utf8')) as { clients: unknown[] };
  file.clients.push({ id: 'monitor', agency: 'Test monitoring', name: 'Monitoring', procedures: [], permissions: [], requireSubjectToken: false, roles: ['monitor'], keys: [{ id: 'monitor-1', sha256: hashApiKey(monitorKey), createdAt: '2025-07-01T00:00:00Z' }] });
  writeFileSync(clients.file, JSON.stringify(file, null, 2));

  catalogDir = mkdtempSync(path.join(tmpdir(), 'motlan-redteam3-catalog-'));
  writeFileSync(path.join(catalogDir, `${FORM}.yaml`), formFile(true));
  const common = {
    ...clientGatewayOptions(clients, eid.jwksUrl),
    procedures: { dirs: [path.join(import.meta.dirname, '..', 'schema', 'procedures'), catalogDir], watch: false },
  };
  // The subgraphs' today is the world's asOf, so digitised results have the statuses the world gives them.
  stack = await startStack({ citizens: 3000, today: 'asOf', gateway: { ...common, audit: audit() } });
  plain = stack.gateway;
  cached = await stack.startGateway({ ...common, audit: audit(), cache: {} });
  await cached.services.need('cache').feedsConnected();
  world = stack.world;
  ix = indexWorld(world);
  mother = findParentWithBirthNotice(world);
  deceased = findDeceasedWithDeathNotice(world);
  relative = findCitizen(world, (c) => !c.deceased && (c.fatherId === deceased.personalId || c.motherId === deceased.personalId || c.spouseId === deceased.personalId), 'living relative of a deceased citizen');
}, 180_000);

/** A fresh audit folder per gateway (SQLite is held by one gateway), removed after the file. */
function audit() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-redteam3-audit-'));
  auditDirs.push(dataDir);
  return { dataDir, hmacKey: HMAC_KEY };
}

afterAll(async () => {
  await stack?.close();
  await eid?.close();
  clients?.cleanup();
  for (const d of [catalogDir, ...auditDirs]) if (d) rmSync(d, { recursive: true, force: true });
});

interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
  record: AuditRecord;
}

/** Sends as `client` and returns the answer with the audit record written for it (durable before the response). */
async function send(gw: RunningGateway, body: { query: string; variables?: Record<string, unknown> }, client: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(gw.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${clients.keys[client]!}`, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const record = await gw.services.need('audit').store.byRequestId(res.headers.get('x-request-id')!);
  expect(record, 'an audit record for every request').not.toBeNull();
  return { status: res.status, text, body: JSON.parse(text) as Answer['body'], record: record! };
}

const registryCalls = () => REGISTRIES.reduce((n, r) => n + Object.values(stack.registries.stats(r).requests).reduce((a, b) => a + b, 0), 0);
const hmac = (id: string) => createHmac('sha256', Buffer.from(HMAC_KEY, 'utf8')).update(`personal:${id}`).digest('hex');

/** Asserts a refusal with this reason, no data, and no registry called for it. */
async function refused(run: () => Promise<Answer>, status: number, extensions: Record<string, unknown>): Promise<Answer> {
  const before = registryCalls();
  const a = await run();
  expect(a.status, a.text).toBe(status);
  expect(a.body.data ?? null, a.text).toBeNull();
  expect(a.body.errors?.[0]?.extensions, a.text).toMatchObject(extensions);
  expect(registryCalls(), 'registries called for a refused request').toBe(before);
  return a;
}

const GROUP_QUERY = `query G($g: ID!, $s: SubjectInput!, $d: String) {
  prefillGroup(groupId: $g, subject: $s, dossierId: $d) {
    forms { procedure { id } fields { key value } }
    dossierComponents { code status reasonCode procedureIds }
    summary { forms fieldsTotal fieldsPrefilled componentsCut }
  }
}`;
const group = (groupId: string, subject: Record<string, string>) => ({ query: GROUP_QUERY, variables: { g: groupId, s: subject } });
const birth = () => group(BIRTH_GROUP, { personalId: mother.personalId });
const death = () => group(DEATH_GROUP, { personalId: relative.personalId, relatedPersonalId: deceased.personalId });

describe('a group id as a purpose: the union of its procedures\' paths, nothing more', () => {
  it('serves the paths its procedures declare, and refuses any path none of them declares (civil included), before any registry call', async () => {
    const ok = await send(plain, { query: `{ citizen(personalId: "${mother.personalId}") { fullName latestBirthNotice { number mother { spouse { fullName } } } household { head { fullName } } } }` }, 'grp', { 'x-purpose': BIRTH_GROUP });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.data!.citizen.latestBirthNotice.number).toBe(ix.birthNoticesByParent.get(mother.personalId)!.notices.reduce((a, b) => (b.issuedOn >= a.issuedOn ? b : a)).number);
    const q = (inner: string) => ({ query: `{ citizen(personalId: "${mother.personalId}") { fullName ${inner} } }` });
    for (const [inner, field] of [
      ['latestBirthNotice { mother { spouse { civilStatus { marriage { registrationNumber } } } } }', 'citizen.latestBirthNotice.mother.spouse.civilStatus'],
      // birth-registration reads the parents' marriage registration number (it cuts the marriage certificate), nothing deeper
      ['civilStatus { marriage { registrationNumber spouse { fullName } } }', 'citizen.civilStatus.marriage.spouse'],
      ['civilStatus { birth { registrationNumber } }', 'citizen.civilStatus.birth'],
      ['digitisedResults { all { number verificationCode } }', 'citizen.digitisedResults.all'],
      ['digitisedResults { marriageCertificate { verificationCode } }', 'citizen.digitisedResults.marriageCertificate.verificationCode'],
      ['digitisedResults { judicialRecordCertificate { number } }', 'citizen.digitisedResults.judicialRecordCertificate'],
      ['deathNotice { number }', 'citizen.deathNotice'],
      // however it is spelt: an alias, a fragment, @include(if: true)
      ['n: latestBirthNotice { m: mother { ... on Citizen { father { fullName } } } }', 'citizen.latestBirthNotice.mother.father'],
      ['household @include(if: true) { members { citizen { fullName } } }', 'citizen.household.members'],
    ] as const) {
      await refused(() => send(plain, q(inner), 'grp', { 'x-purpose': BIRTH_GROUP }), 403, { code: 'FORBIDDEN', reason: 'FIELDS_NOT_ALLOWED', fields: [field] });
    }
    // The death group reads the deceased's death notice as relatedCitizen, never the citizen's own death or the relative's civil status.
    await refused(() => send(plain, { query: `{ citizen(personalId: "${relative.personalId}") { deathNotice { number } civilStatus { death { registrationNumber } } } }` }, 'grp', { 'x-purpose': DEATH_GROUP }), 403, {
      reason: 'FIELDS_NOT_ALLOWED', fields: ['citizen.civilStatus', 'citizen.deathNotice'],
    });
  });

  it('needs a client holding the group id AND every procedure of it, for X-Purpose and prefillGroup alike', async () => {
    for (const client of ['members', 'grouponly']) {
      await refused(() => send(plain, { query: `{ citizen(personalId: "${mother.personalId}") { fullName } }` }, client, { 'x-purpose': BIRTH_GROUP }), 403, { reason: 'PROCEDURE_NOT_ALLOWED' });
      await refused(() => send(plain, birth(), client), 403, { reason: 'PROCEDURE_NOT_ALLOWED' });
    }
  });

  it('is refused when the client may not reach a registry a procedure of the group reads', async () => {
    await refused(() => send(plain, birth(), 'popregistry'), 403, { reason: 'REGISTRY_NOT_ALLOWED', registries: ['civil'] });
  });

  it('a group id is no procedure id and a procedure id no group id', async () => {
    await refused(() => send(plain, { query: `query($s: SubjectInput!) { prefill(procedureId: "${BIRTH_GROUP}", subject: $s) { fields { key value } } }`, variables: { s: { personalId: mother.personalId } } }, 'grp'), 404, { code: 'NOT_FOUND' });
    await refused(() => send(plain, group('birth-registration', { personalId: mother.personalId }), 'grp'), 404, { code: 'NOT_FOUND' });
  });

  it('a batch (an operator raised maxBatchedOperations) cannot carry group prefills or group-purpose reads: each needs its own request', async () => {
    const batching = await stack.startGateway({ clientsFile: clients.file, demoClientsFile: false, watchSupergraph: false, rateLimit: GENEROUS_RATE_LIMIT, audit: audit(), limits: { maxBatchedOperations: 4 } });
    const before = registryCalls();
    const post = async (body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(batching.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${clients.keys.grp!}`, ...headers }, body: JSON.stringify(body) });
      return (await res.json()) as Array<{ data?: unknown; errors?: Array<{ extensions?: { reason?: string } }> }>;
    };
    const civil = { query: `{ citizen(personalId: "${mother.personalId}") { latestBirthNotice { number mother { spouse { fullName } } } } }` };
    for (const answers of [await post([birth(), death()]), await post([civil, civil], { 'x-purpose': BIRTH_GROUP })]) {
      expect(answers).toHaveLength(2);
      for (const one of answers) {
        expect(one.data ?? null).toBeNull();
        expect(one.errors?.[0]?.extensions?.reason).toBe('BATCHED_PURPOSE');
      }
    }
    expect(registryCalls()).toBe(before);
    await batching.close();
  });

  it('cuts nothing and prefills nothing without a subject token naming this citizen and THE GROUP (a member procedure\'s token is not enough)', async () => {
    const tokenFor = (personalId: string, procedureId: string) => eid.issueSubjectToken({ personalId, procedureId });
    await refused(() => send(plain, birth(), 'consent'), 403, { reason: 'SUBJECT_TOKEN_MISSING' });
    await refused(async () => send(plain, birth(), 'consent', { 'x-subject-token': await tokenFor(mother.personalId, 'birth-registration') }), 403, { reason: 'SUBJECT_TOKEN_INVALID' });
    await refused(async () => send(plain, birth(), 'consent', { 'x-subject-token': await tokenFor(relative.personalId, BIRTH_GROUP) }), 403, { reason: 'SUBJECT_TOKEN_INVALID' });
    // The group's token does not open a member procedure either (nor a plain query under it).
    const groupToken = await tokenFor(mother.personalId, BIRTH_GROUP);
    await refused(() => send(plain, { query: `{ citizen(personalId: "${mother.personalId}") { fullName } }` }, 'consent', { 'x-purpose': 'birth-registration', 'x-subject-token': groupToken }), 403, { reason: 'SUBJECT_TOKEN_INVALID' });
    const ok = await send(plain, birth(), 'consent', { 'x-subject-token': groupToken });
    expect(ok.status, ok.text).toBe(200);
  });
});

describe('the audit record of a group request: one, naming the group and its procedures, with every entity that left and nothing else', () => {
  /** The citizens the death group's compiled operation returns: the relative, the deceased and the deceased's household head. */
  const deathEntities = () => {
    const ids = new Set([relative.personalId, deceased.personalId]);
    const head = deceased.householdId ? ix.households.get(deceased.householdId)?.headId : undefined;
    if (head) ids.add(head);
    return [...ids].map(hmac).sort();
  };

  // Before the fix, the record also named as `related` every parent, spouse, child and household
  // member the relation check (MotlanSubjectRelations) read to decide, and listed its coordinates
  // as fields shared: the relative's children's access history said the system read their data
  // for a death registration, although their identifiers never left the gateway (docs/AUDIT.md:
  // "every entity that left is listed"; docs/SECURITY.md: relation-check identifiers "are not recorded").
  it('prefillGroup: the group, its procedures, the entities of the forms; not the identifiers the relation check read', async () => {
    const a = await send(plain, death(), 'grp');
    expect(a.status, a.text).toBe(200);
    const { record } = a;
    expect(record.procedureId).toBe(DEATH_GROUP);
    expect(record.prefill).toMatchObject({ groupId: DEATH_GROUP, procedureIds: DEATH_MEMBERS });
    expect(record.subjects.map((s) => s.hmac).sort()).toEqual(deathEntities());
    expect(record.fields.filter((f) => RELATION_ONLY.includes(f))).toEqual([]);
    expect(record.fields).toEqual(expect.arrayContaining(['DeathNotice.number', 'Query.prefillGroup']));
    // One record for the request, although the group ran a relation check and a compiled operation inside it.
    const page = await plain.services.need('audit').store.search({ requestId: record.requestId }, { limit: 10 });
    expect(page.items).toHaveLength(1);
  });

  it('a plain query under the group purpose: the two citizens it returned, not their families', async () => {
    const a = await send(plain, {
      query: `query($a: ID!, $b: ID!) { a: citizen(personalId: $a) { fullName } b: citizen(personalId: $b) { fullName deathNotice { number } } }`,
      variables: { a: relative.personalId, b: deceased.personalId },
    }, 'grp', { 'x-purpose': DEATH_GROUP });
    expect(a.status, a.text).toBe(200);
    expect(a.record.subjects.map((s) => s.hmac).sort()).toEqual([relative.personalId, deceased.personalId].map(hmac).sort());
    expect(a.record.fields.sort()).toEqual(['Citizen.deathNotice', 'Citizen.fullName', 'DeathNotice.number', 'Query.citizen']);
  });

  // Before the fix, a refused prefillGroup was recorded with no procedure at all (the audit read
  // the purpose of a refusal from `prefill(procedureId:)` only), while a refused prefill keeps the
  // procedure asked for (docs/AUDIT.md: "a refusal keeps its context"): the citizen's history of
  // attempts and the statistics of refusals per procedure lost every refused group request.
  it('a refused group request keeps its context: the group asked for, the dossier, the reason, the citizen', async () => {
    const withDossier = { ...birth(), variables: { ...birth().variables, d: 'HS-2026-REDTEAM3' } };
    for (const [client, reason] of [['consent', 'SUBJECT_TOKEN_MISSING'], ['members', 'PROCEDURE_NOT_ALLOWED'], ['popregistry', 'REGISTRY_NOT_ALLOWED']] as const) {
      const a = await refused(() => send(plain, withDossier, client), 403, { reason });
      expect(a.record, client).toMatchObject({ procedureId: BIRTH_GROUP, dossierId: 'HS-2026-REDTEAM3', outcome: 'DENIED', reasonCode: reason, fields: [], entities: {} });
      expect(a.record.subjects.map((x) => x.hmac), client).toEqual([hmac(mother.personalId)]);
    }
  });

  it('the birth group names the parent the notice names as the mother\'s spouse: an entity that left through a declared path is listed', async () => {
    const a = await send(plain, birth(), 'grp');
    expect(a.status, a.text).toBe(200);
    const notice = ix.birthNoticesByParent.get(mother.personalId)!.notices.reduce((x, y) => (y.issuedOn >= x.issuedOn ? y : x));
    const noticeMother = world.citizens.find((c) => c.personalId === notice.motherId)!;
    const expected = new Set([mother.personalId, noticeMother.personalId, ...(noticeMother.spouseId ? [noticeMother.spouseId] : [])]);
    expect(a.record.subjects.map((s) => s.hmac).sort()).toEqual([...expected].map(hmac).sort());
  });
});

describe('generated: the audit record names exactly the entities that left, whatever the relation checks read', () => {
  /** Key field of each entity type, and the kind its subject HMAC is computed with. */
  const KEYS: Record<string, { field: string; kind: string }> = {
    Citizen: { field: 'personalId', kind: 'personal' },
    Enterprise: { field: 'enterpriseCode', kind: 'enterprise' },
    LandParcel: { field: 'parcelId', kind: 'parcel' },
  };
  const subjectHmac = (kind: string, id: string) => createHmac('sha256', Buffer.from(HMAC_KEY, 'utf8')).update(`${kind}:${id}`).digest('hex');

  /** The selection of `node` on `type`, with the entity key at every entity (always allowed): the response then shows every entity that left. */
  function selection(type: GraphQLObjectType, node: PathTree, only?: readonly string[]): string {
    const parts: string[] = [];
    const key = KEYS[type.name]?.field;
    if (key) parts.push(key);
    for (const [name, child] of node.children) {
      if (only && !only.includes(name)) continue;
      const field = type.getFields()[name];
      if (!field) continue;
      const named = getNamedType(field.type);
      if (isObjectType(named)) {
        if (child.children.size > 0) parts.push(`${name} { ${selection(named, child)} }`);
      } else parts.push(name);
    }
    return parts.join(' ');
  }

  /** Every entity key in `data`, as `kind:id`. */
  function keysIn(data: unknown, out = new Set<string>()): Set<string> {
    if (Array.isArray(data)) for (const x of data) keysIn(x, out);
    else if (data && typeof data === 'object') {
      for (const [k, v] of Object.entries(data)) {
        const kind = Object.values(KEYS).find((e) => e.field === k)?.kind;
        if (kind && typeof v === 'string') out.add(`${kind}:${v}`);
        else keysIn(v, out);
      }
    }
    return out;
  }

  it('plain queries, prefill and prefillGroup under every purpose that takes a relative, for generated related pairs and selections', async () => {
    const service = plain.services.need('procedures') as unknown as ProcedureService;
    const schema = plain.supergraph.apiSchema()!;
    const citizenType = schema.getType('Citizen') as GraphQLObjectType;
    const clientProcedures = new Set([BIRTH_GROUP, ...BIRTH_MEMBERS, DEATH_GROUP, ...DEATH_MEMBERS, 'lodging-notification', FORM]);
    // Purposes of the `grp` client whose subjects are a citizen and a relative.
    const purposes = [
      ...[...service.catalog.byId.values()].map((p) => ({ id: p.def.id, group: false, subjects: p.def.subjects as readonly string[], tree: p.pathTree })),
      ...service.groups().map((g) => ({ id: g.def.id, group: true, subjects: g.subjects as readonly string[], tree: g.pathTree })),
    ].filter((p) => clientProcedures.has(p.id) && p.subjects.includes('relatedCitizen') && p.subjects.every((s) => s === 'citizen' || s === 'relatedCitizen'));
    expect(purposes.map((p) => p.id)).toEqual(expect.arrayContaining([DEATH_GROUP, ...DEATH_MEMBERS]));
    // Living citizens and a relative the population registry records (the relation check passes).
    const pairs: Array<[CitizenRecord, CitizenRecord]> = [];
    for (const c of world.citizens) {
      if (c.deceased || pairs.length >= 400) continue;
      const kin = [c.fatherId, c.motherId, c.spouseId].filter((id): id is string => !!id).map((id) => ix.citizens.get(id)).filter((r): r is CitizenRecord => !!r);
      for (const r of kin) pairs.push([c, r]);
    }
    const stats = { plain: 0, prefill: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        // Ids and indexes, so a counterexample prints short.
        fc.constantFrom(...purposes.map((p) => p.id)),
        fc.integer({ min: 0, max: pairs.length - 1 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1023 }),
        async (purposeId, pairIndex, asPrefill, pick) => {
          const purpose = purposes.find((p) => p.id === purposeId)!;
          const [c, r] = pairs[pairIndex]!;
          const citizenNode = purpose.tree.children.get('citizen');
          const relatedNode = purpose.tree.children.get('relatedCitizen')!;
          const names = [...relatedNode.children.keys()];
          // A non-empty part of what the purpose reads of the relative (all of it for the reference query).
          const only = names.filter((_, i) => (pick >> (i % 10)) & 1);
          const query = (part?: readonly string[]) => `query Q($c: ID!, $r: ID!) {
            s: citizen(personalId: $c) { ${citizenNode ? selection(citizenType, citizenNode) : 'personalId'} }
            r: citizen(personalId: $r) { ${selection(citizenType, relatedNode, part && part.length > 0 ? part : undefined)} }
          }`;
          const vars = { c: c.personalId, r: r.personalId };
          const named = new Set([`personal:${c.personalId}`, `personal:${r.personalId}`]);
          const recorded = (a: Answer) => a.record.subjects.map((x) => `${x.kind}:${x.hmac}`).sort();
          const expected = (data: unknown) => [...new Set([...named, ...keysIn(data)])].map((k) => {
            const at = k.indexOf(':');
            return `${k.slice(0, at)}:${subjectHmac(k.slice(0, at), k.slice(at + 1))}`;
          }).sort();

          const reference = await send(plain, { query: query(asPrefill ? undefined : only), variables: vars }, 'grp', { 'x-purpose': purpose.id });
          if (reference.status !== 200) {
            stats.refused++;
            return;
          }
          expect(recorded(reference), `plain query under ${purpose.id} for ${c.personalId} and ${r.personalId}`).toEqual(expected(reference.body.data));
          stats.plain++;
          if (!asPrefill) return;
          // The prefill of the same purpose and subjects reads the same tree: the same entities leave into its forms.
          const subject = { personalId: c.personalId, relatedPersonalId: r.personalId };
          const body = purpose.group
            ? { query: `query($s: SubjectInput!) { prefillGroup(groupId: "${purpose.id}", subject: $s) { summary { fieldsTotal } } }`, variables: { s: subject } }
            : { query: `query($s: SubjectInput!) { prefill(procedureId: "${purpose.id}", subject: $s) { summary { fieldsTotal } } }`, variables: { s: subject } };
          const p = await send(plain, body, 'grp');
          expect(p.status, p.text).toBe(200);
          expect(recorded(p), `${purpose.group ? 'prefillGroup' : 'prefill'} ${purpose.id} for ${c.personalId} and ${r.personalId}`).toEqual(expected(reference.body.data));
          stats.prefill++;
        },
      ),
      { numRuns: 40, seed: Number(process.env.REDTEAM3_SEED ?? 20261130) },
    );
    // Enough answered cases for the property to mean something.
    expect(stats.plain, JSON.stringify(stats)).toBeGreaterThan(20);
    expect(stats.prefill, JSON.stringify(stats)).toBeGreaterThan(5);
    // 40 cases of two or three requests each: a hang detector, sized for a machine shared with other work.
  }, 300_000);
});

describe('the response cache on a group prefill', () => {
  it('a hit needs what a miss needs: the token, the client, the group; and is audited with the entities of the miss', async () => {
    const token = await eid.issueSubjectToken({ personalId: mother.personalId, procedureId: BIRTH_GROUP });
    const miss = await send(cached, birth(), 'consent', { 'x-subject-token': token });
    expect(miss.status, miss.text).toBe(200);
    const before = registryCalls();
    const hit = await send(cached, birth(), 'consent', { 'x-subject-token': token });
    expect(hit.record.cache).toBe('hit');
    expect(registryCalls()).toBe(before);
    expect(hit.body).toEqual(miss.body);
    expect(hit.record).toMatchObject({ procedureId: BIRTH_GROUP, prefill: miss.record.prefill, entities: miss.record.entities, subjects: miss.record.subjects });
    // The same cached key, asked without the token, by a client allowed only the members, or without the group.
    await refused(() => send(cached, birth(), 'consent'), 403, { reason: 'SUBJECT_TOKEN_MISSING' });
    await refused(async () => send(cached, birth(), 'consent', { 'x-subject-token': await eid.issueSubjectToken({ personalId: mother.personalId, procedureId: 'birth-registration' }) }), 403, { reason: 'SUBJECT_TOKEN_INVALID' });
    await refused(() => send(cached, birth(), 'members'), 403, { reason: 'PROCEDURE_NOT_ALLOWED' });
    // Another client allowed the group gets its own miss, never the consent client's entry.
    const other = await send(cached, birth(), 'grp');
    expect(other.record.cache).toBeUndefined();
  });

  // Was a hole: `restoreTrace` restored registries, entities and the entity graph but not the
  // fields the miss's execution read (a prefill's registry coordinates: what the forms were filled
  // from), so a hit's record listed only the client's selection and /stats/v1/fields under-counted
  // every cached prefill. Entries now keep the miss's fields.
  it('a hit is audited with the fields the miss recorded (the registry fields the forms were filled from)', async () => {
    const miss = await send(cached, death(), 'grp');
    expect(miss.status, miss.text).toBe(200);
    const hit = await send(cached, death(), 'grp');
    expect(hit.record.cache).toBe('hit');
    expect(hit.record.fields).toEqual(miss.record.fields);
  });

  // Was a hole: a prefill's form is built by the resolver, which a hit skips, so after a reload
  // that dropped a field (data minimisation, a changed decree) the cached form kept handing out
  // its value until the entry's TTL (a scalar has no entity for the response check to catch).
  // The key now holds the version of the purpose's definition (ProcedureCatalog.version).
  it('a catalog reload that drops a field: the next prefill no longer returns it, cached or not', async () => {
    const subject = findCitizen(world, (c) => !c.deceased && !!c.religion, 'citizen with a religion');
    const prefill = { query: `query F($s: SubjectInput!) { prefill(procedureId: "${FORM}", subject: $s) { fields { key value } } }`, variables: { s: { personalId: subject.personalId } } };
    const keys = (a: Answer) => (a.body.data?.prefill?.fields ?? []).map((f: { key: string }) => f.key);
    const first = await send(cached, prefill, 'grp');
    expect(keys(first)).toEqual(['hoTen', 'tonGiao']);
    expect((await send(cached, prefill, 'grp')).record.cache).toBe('hit');
    writeFileSync(path.join(catalogDir, `${FORM}.yaml`), formFile(false));
    try {
      for (const gw of [plain, cached]) (gw.services.need('procedures') as unknown as ProcedureService).reload();
      expect(keys(await send(plain, prefill, 'grp'))).toEqual(['hoTen']);
      const after = await send(cached, prefill, 'grp');
      expect(after.text).not.toContain(subject.religion!);
      expect(keys(after)).toEqual(['hoTen']);
    } finally {
      writeFileSync(path.join(catalogDir, `${FORM}.yaml`), formFile(true));
      for (const gw of [plain, cached]) (gw.services.need('procedures') as unknown as ProcedureService).reload();
    }
  });
});

describe('statistics: staff only, and no client-chosen text in the figures, the export or the metrics', () => {
  const ENDPOINTS = ['/stats/v1/summary', '/stats/v1/fields', '/stats/v1/ranking', '/stats/v1/report?format=csv'];
  const get = (url: string, key: string | null) => fetch(`${plain.url}${url}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('a TTHC client gets 403 on every endpoint (its own figures included), anonymous 401, the monitoring role 200', async () => {
    for (const url of ENDPOINTS) {
      expect((await get(url, clients.keys.grp!)).status, url).toBe(403);
      expect((await get(`${url}${url.includes('?') ? '&' : '?'}client=grp`, clients.keys.grp!)).status, url).toBe(403);
      expect((await get(url, null)).status, url).toBe(401);
      expect((await get(url, monitorKey)).status, url).toBe(200);
    }
  });

  it('purposes and dossier ids a client makes up: refused when not in the catalog format, `unknown` otherwise; never in the CSV or a metric label', async () => {
    const q = { query: `{ citizen(personalId: "${mother.personalId}") { fullName } }` };
    const hostile = ['=HYPERLINK("http://x/?"&A1)', '+cmd|\' /C calc\'!A0', '@SUM(1+1)', '-2+3', 'Lodging Notification'];
    for (const purpose of hostile) {
      const a = await send(plain, q, 'grp', { 'x-purpose': purpose });
      expect(a.body.errors?.[0]?.extensions, purpose).toMatchObject({ reason: 'INVALID_HEADER' });
      expect(a.record.procedureId).toBeNull();
    }
    for (const dossier of ['=1+1', '-1', '@x', ' =1']) {
      const a = await send(plain, q, 'grp', { 'x-purpose': 'lodging-notification', 'x-dossier-id': dossier });
      expect(a.body.errors?.[0]?.extensions, dossier).toMatchObject({ reason: 'INVALID_HEADER' });
      expect(a.record.dossierId).toBeNull();
    }
    const madeUp = 'zz-redteam3-made-up-purpose';
    const unknown = await send(plain, q, 'grp', { 'x-purpose': madeUp });
    expect(unknown.status).toBe(403);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const csv = await (await get(`/stats/v1/report?format=csv&from=${from}&to=${to}`, monitorKey)).text();
    const summary = await (await get(`/stats/v1/summary?groupBy=procedure&from=${from}&to=${to}`, monitorKey)).text();
    const metrics = await (await fetch(`${plain.url}/metrics`)).text();
    for (const text of [csv, summary, metrics]) {
      expect(text).not.toContain(madeUp);
      for (const h of hostile) expect(text).not.toContain(h);
    }
    expect(summary).toContain('"unknown"');
    expect(metrics).toMatch(/motlan_requests_total\{[^}]*procedure="unknown"/);
    // Every CSV cell a spreadsheet would run as a formula is neutralised.
    for (const line of csv.trim().split('\n').slice(1)) for (const cell of line.split(',')) expect(cell).not.toMatch(/^[=+\-@]/);
  });
});
