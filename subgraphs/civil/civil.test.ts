/** The civil subgraph over the fixture registry (today fixed at 2025-09-01 unless a test says otherwise). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDS } from '../../mocks/fixtures/index.js';
import { entitiesQuery, startSubgraphWithStub, type SubgraphUnderTest } from '../test-support.js';
import { resultStatus } from './schema.js';

let sg: SubgraphUnderTest;
let today = '2025-09-01';
beforeAll(async () => {
  sg = await startSubgraphWithStub('civil', { today: () => today });
});
afterAll(async () => {
  await sg?.close();
});

const RESULT = 'kind number issuingAgency issuedOn validUntil status revokedOn verificationCode procedureName';
const CIVIL = `personalId
  civilStatus {
    birth { registrationNumber extractNumber registeredOn registeringAgency placeOfBirth father { personalId } mother { personalId } }
    marriage { registrationNumber extractNumber registeredOn spouse { personalId } }
    death { extractNumber dateOfDeath placeOfDeath }
  }
  latestBirthNotice { number childFullName childDateOfBirth childSex mother { personalId } }
  deathNotice { number issuer dateOfDeath causeCategory }
  digitisedResults {
    birthExtract { ${RESULT} } marriageCertificate { ${RESULT} } deathExtract { ${RESULT} }
    maritalStatusConfirmation { ${RESULT} } judicialRecordCertificate { ${RESULT} } all { kind status }
  }`;

type Entity = Record<string, any>;
async function citizens(ids: string[]): Promise<Entity[]> {
  const res = await sg.query<{ _entities: Entity[] }>(entitiesQuery('Citizen', CIVIL), {
    representations: ids.map((personalId) => ({ __typename: 'Citizen', personalId })),
  });
  expect(res.errors).toBeUndefined();
  return res.data!._entities;
}

describe('civil subgraph', () => {
  it('returns registrations with parents and spouse as Citizen references', async () => {
    const [an, dung] = await citizens([FIXTURE_IDS.an, FIXTURE_IDS.dung]);
    expect(an!.civilStatus.birth).toMatchObject({ registrationNumber: '45/1970', father: { personalId: FIXTURE_IDS.hung }, mother: null });
    expect(an!.civilStatus.marriage).toEqual({
      registrationNumber: '112/1996', extractNumber: 'TLKH-00004-2021-000044', registeredOn: '1996-05-18', spouse: { personalId: FIXTURE_IDS.binh },
    });
    expect(an!.civilStatus.death).toBeNull();
    expect(dung!.civilStatus.birth).toMatchObject({ father: { personalId: FIXTURE_IDS.an }, mother: { personalId: FIXTURE_IDS.binh } });
  });

  it('gives a deceased citizen the death registration, the death notice and the death extract', async () => {
    const [hung] = await citizens([FIXTURE_IDS.hung]);
    expect(hung!.civilStatus).toEqual({
      birth: null, marriage: null, death: { extractNumber: 'TLKT-09001-2019-000027', dateOfDeath: '2019-12-01', placeOfDeath: 'Bệnh viện Đa khoa tỉnh Thái Bình' },
    });
    expect(hung!.deathNotice).toEqual({ number: 'GBT-34-2019-000871', issuer: 'Bệnh viện Đa khoa tỉnh Thái Bình', dateOfDeath: '2019-12-01', causeCategory: 'Bệnh tật' });
    expect(hung!.digitisedResults.deathExtract).toMatchObject({ kind: 'DEATH_EXTRACT', status: 'VALID', validUntil: null });
  });

  it("gives a parent the newest health facility's birth notice of a child not yet registered", async () => {
    const [chau, an] = await citizens([FIXTURE_IDS.chau, FIXTURE_IDS.an]);
    expect(chau!.latestBirthNotice).toEqual({
      number: 'GCS-01-2025-004321', childFullName: null, childDateOfBirth: '2025-08-18', childSex: 'FEMALE', mother: { personalId: FIXTURE_IDS.chau },
    });
    expect(an!.latestBirthNotice).toBeNull();
    expect(an!.deathNotice).toBeNull();
  });

  it('computes VALID, EXPIRED and REVOKED at read time from the subgraph\'s today', async () => {
    const [an, binh, dung] = await citizens([FIXTURE_IDS.an, FIXTURE_IDS.binh, FIXTURE_IDS.dung]);
    expect(dung!.digitisedResults.judicialRecordCertificate).toMatchObject({ number: '3390/2025/LLTP', status: 'VALID', validUntil: '2026-01-31' });
    expect(an!.digitisedResults.judicialRecordCertificate).toMatchObject({ status: 'EXPIRED', validUntil: '2024-07-09', revokedOn: null });
    expect(binh!.digitisedResults.judicialRecordCertificate).toMatchObject({ status: 'REVOKED', revokedOn: '2025-05-12' });
    // A result without validUntil never expires; the newest of each kind is offered, `all` holds every one.
    expect(an!.digitisedResults.marriageCertificate).toMatchObject({ status: 'VALID', issuingAgency: 'UBND Phường Ba Đình, Thành phố Hà Nội' });
    expect(an!.digitisedResults.all.map((r: Entity) => r.kind)).toEqual([
      'MARITAL_STATUS_CONFIRMATION', 'MARRIAGE_CERTIFICATE', 'BIRTH_EXTRACT', 'JUDICIAL_RECORD_CERTIFICATE',
    ]);
    // Dũng's certificate is valid through 2026-01-31 and expired the day after.
    today = '2026-01-31';
    try {
      expect((await citizens([FIXTURE_IDS.dung]))[0]!.digitisedResults.judicialRecordCertificate.status).toBe('VALID');
      today = '2026-02-01';
      expect((await citizens([FIXTURE_IDS.dung]))[0]!.digitisedResults.judicialRecordCertificate.status).toBe('EXPIRED');
    } finally {
      today = '2025-09-01';
    }
  });

  it('answers nothing recorded: null registrations and notices, empty results, never an error', async () => {
    const [chau, unknown] = await citizens([FIXTURE_IDS.chau, FIXTURE_IDS.unknownPersonalId]);
    expect(chau!.digitisedResults).toEqual({
      birthExtract: null, marriageCertificate: null, deathExtract: null, maritalStatusConfirmation: null, judicialRecordCertificate: null, all: [],
    });
    expect(unknown).toMatchObject({ personalId: FIXTURE_IDS.unknownPersonalId, civilStatus: null, latestBirthNotice: null, deathNotice: null });
    expect(unknown!.digitisedResults.all).toEqual([]);
  });

  it('returns a link the population registry does not hold as a reference (population resolves it to null)', async () => {
    const [chau] = await citizens([FIXTURE_IDS.chau]);
    expect(chau!.civilStatus.birth.mother).toEqual({ personalId: '001175999999' });
  });

  it('looks many citizens up with one registry call per collection', async () => {
    sg.registry.calls.length = 0;
    await citizens([FIXTURE_IDS.an, FIXTURE_IDS.binh, FIXTURE_IDS.dung, FIXTURE_IDS.chau, FIXTURE_IDS.hung]);
    const byCollection = new Map<string, number>();
    for (const c of sg.registry.calls) byCollection.set(c.collection, (byCollection.get(c.collection) ?? 0) + 1);
    expect(Object.fromEntries(byCollection)).toEqual({ 'civil-status': 1, 'birth-notices-by-parent': 1, 'death-notices': 1, 'digitised-results': 1 });
    expect(sg.registry.calls.every((c) => c.method === 'POST' && c.keys.length === 5)).toBe(true);
  });

  it('refuses a malformed personal ID naming the format', async () => {
    const res = await sg.query(entitiesQuery('Citizen', 'civilStatus { birth { extractNumber } }'), {
      representations: [{ __typename: 'Citizen', personalId: '12345' }],
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('12 digits');
  });

  it('names the registry when it is down, with REGISTRY_UNAVAILABLE', async () => {
    sg.registry.failWith = 503;
    try {
      const res = await sg.query(entitiesQuery('Citizen', 'digitisedResults { all { kind } }'), {
        representations: [{ __typename: 'Citizen', personalId: FIXTURE_IDS.an }],
      });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', registry: 'civil' });
      expect(res.errors?.[0]?.message).toContain('CSDL hộ tịch điện tử toàn quốc');
    } finally {
      sg.registry.failWith = null;
    }
  });
});

describe('resultStatus', () => {
  it('lets a revocation in force win, counts validUntil as the last valid day', () => {
    expect(resultStatus({ validUntil: null, revokedOn: null }, '2099-01-01')).toBe('VALID');
    expect(resultStatus({ validUntil: '2025-01-01', revokedOn: null }, '2025-01-01')).toBe('VALID');
    expect(resultStatus({ validUntil: '2025-01-01', revokedOn: null }, '2025-01-02')).toBe('EXPIRED');
    expect(resultStatus({ validUntil: '2025-01-01', revokedOn: '2024-12-01' }, '2025-06-01')).toBe('REVOKED');
    expect(resultStatus({ validUntil: null, revokedOn: '2025-03-01' }, '2025-02-28')).toBe('VALID');
  });
});
