/**
 * The fifth source (registry `civil`) under the purpose policy, over the whole stack:
 * its fields are denied by default like any other; a parent's marriage record is
 * reachable only through a purpose whose procedure declares that very path; statuses of
 * digitised results are computed by the subgraph; a civil outage leaves the rest of the
 * answer standing (REGISTRY_UNAVAILABLE naming the registry).
 *
 * The two test purposes live in a temporary catalog folder next to schema/procedures/,
 * so the test does not depend on which shipped procedures declare civil paths.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digitisedResultStatus, newestResult } from '../lib/digitised-result-status.js';
import type { RunningGateway } from '../gateway/app.js';
import { indexWorld, type WorldIndex } from '../mocks/world/index-world.js';
import { findChildOfRegisteredMarriage, findCitizen } from '../mocks/world/find.js';
import { REGISTRIES, type CitizenRecord, type World } from '../mocks/world/types.js';
import { startStack, type Stack } from './support/stack.js';
import { writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';
import { testProcedureYaml } from './support/test-procedure.js';

const PARENTS_MARRIAGE = 'civil-test-parents-marriage';
const OWN_CERTIFICATE = 'civil-test-own-certificate';

const procedureFile = (id: string, sources: string[]) => testProcedureYaml(id, sources.map((source, i) => ({ key: `truong${i}`, label: `Trường ${i}`, source })));

let stack: Stack;
let gateway: RunningGateway;
let clients: ClientsFixture;
let catalogDir: string;
let world: World;
let ix: WorldIndex;
/** A living citizen whose birth entry names both parents, the father's marriage registered. */
let child: CitizenRecord;
/** A living citizen holding a judicial-record certificate. */
let holder: CitizenRecord;

beforeAll(async () => {
  stack = await startStack({ citizens: 600, today: 'asOf' });
  world = stack.world;
  ix = indexWorld(world);
  child = findChildOfRegisteredMarriage(world);
  holder = findCitizen(world, (c, index) => !c.deceased && !!newestResult(index.digitisedResults.get(c.personalId)?.results ?? [], 'JUDICIAL_RECORD_CERTIFICATE'));
  catalogDir = mkdtempSync(path.join(tmpdir(), 'motlan-civil-catalog-'));
  writeFileSync(path.join(catalogDir, `${PARENTS_MARRIAGE}.yaml`), procedureFile(PARENTS_MARRIAGE, [
    'citizen.father.civilStatus.marriage.registrationNumber',
    'citizen.father.civilStatus.marriage.registeredOn',
  ]));
  writeFileSync(path.join(catalogDir, `${OWN_CERTIFICATE}.yaml`), procedureFile(OWN_CERTIFICATE, [
    'citizen.digitisedResults.judicialRecordCertificate.number',
    'citizen.digitisedResults.judicialRecordCertificate.status',
  ]));
  clients = writeClientsFile([{ id: 'civil', procedures: [PARENTS_MARRIAGE, OWN_CERTIFICATE, 'lodging-notification', 'judicial-record-certificate'] }]);
  gateway = await stack.startGateway({
    clientsFile: clients.file,
    demoClientsFile: false,
    watchSupergraph: false,
    procedures: { dirs: [path.join(import.meta.dirname, '..', 'schema', 'procedures'), catalogDir], watch: false },
  });
}, 180_000);

afterAll(async () => {
  await stack?.close();
  clients?.cleanup();
  if (catalogDir) rmSync(catalogDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

const registryCalls = (only?: string) =>
  REGISTRIES.filter((r) => !only || r === only).reduce((n, r) => n + Object.values(stack.registries.stats(r).requests).reduce((a, b) => a + b, 0), 0);

async function send(query: string, purpose: string): Promise<Answer> {
  const res = await fetch(gateway.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${clients.keys.civil}`, 'x-purpose': purpose },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Answer['body'] };
}

/** Asserts a FIELDS_NOT_ALLOWED refusal naming `fields`, with no data and no registry called. */
async function refused(query: string, purpose: string, fields: string[]): Promise<void> {
  const before = registryCalls();
  const a = await send(query, purpose);
  expect(a.status, a.text).toBe(403);
  expect(a.body.data ?? null, a.text).toBeNull();
  expect(a.body.errors?.[0]?.extensions, a.text).toMatchObject({ code: 'FORBIDDEN', reason: 'FIELDS_NOT_ALLOWED', fields });
  expect(registryCalls(), `registries called for ${query}`).toBe(before);
}

describe('the civil registry under the purpose policy', () => {
  it("serves a parent's marriage record through the purpose that declares that path", async () => {
    const marriage = ix.civilStatus.get(child.fatherId!)!.marriage!;
    const before = registryCalls('civil');
    const a = await send(
      `{ citizen(personalId: "${child.personalId}") { fullName father { civilStatus { marriage { registrationNumber registeredOn } } } } }`,
      PARENTS_MARRIAGE,
    );
    expect(a.status, a.text).toBe(200);
    expect(a.body.errors, a.text).toBeUndefined();
    expect(a.body.data!.citizen).toEqual({
      fullName: child.fullName,
      father: { civilStatus: { marriage: { registrationNumber: marriage.registrationNumber, registeredOn: marriage.registeredOn } } },
    });
    expect(registryCalls('civil')).toBeGreaterThan(before);
  });

  it('refuses the same record through a purpose that does not declare it, and every civil field by default', async () => {
    const q = (inner: string) => `{ citizen(personalId: "${child.personalId}") { fullName ${inner} } }`;
    const marriage = 'father { civilStatus { marriage { registrationNumber } } }';
    await refused(q(marriage), 'lodging-notification', ['citizen.father']);
    await refused(q(marriage), 'judicial-record-certificate', ['citizen.father.civilStatus']);
    await refused(q(marriage), OWN_CERTIFICATE, ['citizen.father']);
    for (const [inner, field] of [
      ['civilStatus { birth { extractNumber } }', 'citizen.civilStatus'],
      ['latestBirthNotice { number }', 'citizen.latestBirthNotice'],
      ['deathNotice { number }', 'citizen.deathNotice'],
      ['digitisedResults { all { number verificationCode } }', 'citizen.digitisedResults'],
    ] as const) {
      await refused(q(inner), 'lodging-notification', [field]);
    }
  });

  it('allows the declared path only: not the citizen\'s own marriage, not the parent\'s birth, not a walk to the spouse', async () => {
    const q = (inner: string) => `{ citizen(personalId: "${child.personalId}") { ${inner} } }`;
    await refused(q('civilStatus { marriage { registrationNumber } }'), PARENTS_MARRIAGE, ['citizen.civilStatus']);
    await refused(q('father { civilStatus { birth { extractNumber } } }'), PARENTS_MARRIAGE, ['citizen.father.civilStatus.birth']);
    await refused(q('father { civilStatus { marriage { extractNumber } } }'), PARENTS_MARRIAGE, ['citizen.father.civilStatus.marriage.extractNumber']);
    await refused(q('father { civilStatus { marriage { spouse { fullName } } } }'), PARENTS_MARRIAGE, ['citizen.father.civilStatus.marriage.spouse']);
    await refused(q('father { civilStatus { mm: marriage { ... on MarriageRegistration { spouse { personalId } } } } }'), PARENTS_MARRIAGE, ['citizen.father.civilStatus.marriage.spouse']);
    await refused(q('mother { civilStatus { marriage { registrationNumber } } }'), PARENTS_MARRIAGE, ['citizen.mother']);
  });

  it('answers a digitised result with the status the subgraph computes on its today', async () => {
    const newest = newestResult(ix.digitisedResults.get(holder.personalId)!.results, 'JUDICIAL_RECORD_CERTIFICATE')!;
    const a = await send(`{ citizen(personalId: "${holder.personalId}") { digitisedResults { judicialRecordCertificate { number status } } } }`, OWN_CERTIFICATE);
    expect(a.status, a.text).toBe(200);
    expect(a.body.data!.citizen.digitisedResults.judicialRecordCertificate).toEqual({ number: newest.number, status: digitisedResultStatus(newest, world.asOf) });
    await refused(`{ citizen(personalId: "${holder.personalId}") { digitisedResults { judicialRecordCertificate { verificationCode } } } }`, OWN_CERTIFICATE,
      ['citizen.digitisedResults.judicialRecordCertificate.verificationCode']);
  });

  it('keeps the rest of the answer when the civil registry is down, naming it', async () => {
    stack.setFaults('civil', { outage: true });
    try {
      const a = await send(`{ citizen(personalId: "${child.personalId}") { fullName father { civilStatus { marriage { registrationNumber } } } } }`, PARENTS_MARRIAGE);
      expect(a.status, a.text).toBe(200);
      expect(a.body.data!.citizen, a.text).toEqual({ fullName: child.fullName, father: { civilStatus: null } });
      expect(a.body.errors?.[0]?.extensions, a.text).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', registry: 'civil' });
      expect(a.body.errors?.[0]?.message).toContain('CSDL hộ tịch điện tử toàn quốc');
      // digitisedResults is nullable: an outage nulls that field alone, never the citizen it hangs on.
      const results = await send(`{ citizen(personalId: "${holder.personalId}") { fullName digitisedResults { judicialRecordCertificate { number status } } } }`, OWN_CERTIFICATE);
      expect(results.body.data?.citizen, results.text).toEqual({ fullName: holder.fullName, digitisedResults: null });
      expect(results.body.errors?.[0]?.extensions, results.text).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', registry: 'civil' });
    } finally {
      stack.setFaults('civil', { outage: false });
    }
  });
});
