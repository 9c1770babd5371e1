/** The land subgraph over the fixture registry (today fixed at 2025-09-01). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDS } from '../../mocks/fixtures/index.js';
import { entitiesQuery, startSubgraphWithStub, type SubgraphUnderTest } from '../test-support.js';

let sg: SubgraphUnderTest;
beforeAll(async () => {
  sg = await startSubgraphWithStub('land');
});
afterAll(async () => {
  await sg?.close();
});

const PARCEL = `parcelId area mortgaged address { fullAddress }
  holders { kind name sharePercent citizen { personalId } enterprise { enterpriseCode } }
  certificate { serial }`;

describe('land subgraph', () => {
  it('returns a parcel with its holders as references and mortgaged while a mortgage is not released', async () => {
    const res = await sg.query<{ landParcel: Record<string, any> }>(`{ landParcel(parcelId: "${FIXTURE_IDS.homeParcel}") { ${PARCEL} } }`);
    expect(res.errors).toBeUndefined();
    const p = res.data!.landParcel;
    expect(p.mortgaged).toBe(true);
    expect(p.address.fullAddress).toBe('Số 12 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội');
    expect(p.holders).toEqual([
      { kind: 'CITIZEN', name: 'Nguyễn Văn An', sharePercent: 50, citizen: { personalId: FIXTURE_IDS.an }, enterprise: null },
      { kind: 'CITIZEN', name: 'Trần Thị Bình', sharePercent: 50, citizen: { personalId: FIXTURE_IDS.binh }, enterprise: null },
    ]);
  });

  it('finds a parcel by certificate serial; a released mortgage does not count', async () => {
    const res = await sg.query<{ landParcelByCertificate: Record<string, any> }>(`{ landParcelByCertificate(serial: "DB 654321") { ${PARCEL} } }`);
    expect(res.data!.landParcelByCertificate).toMatchObject({
      parcelId: FIXTURE_IDS.officeParcel,
      mortgaged: false,
      holders: [{ kind: 'ENTERPRISE', citizen: null, enterprise: { enterpriseCode: FIXTURE_IDS.saigonXanh } }],
    });
  });

  it('refuses a malformed parcel id or serial naming the format, null for unknown ones', async () => {
    const bad = await sg.query(`{ landParcel(parcelId: "12-345") { parcelId } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('commune code');
    const badSerial = await sg.query(`{ landParcelByCertificate(serial: "123456") { parcelId } }`);
    expect(badSerial.errors?.[0]?.message).toContain('certificate serial');
    const unknown = await sg.query(`{ landParcel(parcelId: "00004-99-1") { parcelId } }`);
    expect(unknown.data).toEqual({ landParcel: null });
  });

  it('adds landParcels to citizens and enterprises, empty when they hold none', async () => {
    const citizens = await sg.query<{ _entities: Array<{ landParcels: Array<{ parcelId: string }> }> }>(
      entitiesQuery('Citizen', 'landParcels { parcelId }'),
      { representations: [FIXTURE_IDS.binh, FIXTURE_IDS.chau].map((personalId) => ({ __typename: 'Citizen', personalId })) },
    );
    expect(citizens.data!._entities).toEqual([{ landParcels: [{ parcelId: FIXTURE_IDS.homeParcel }] }, { landParcels: [] }]);
    const enterprises = await sg.query<{ _entities: Array<{ landParcels: Array<{ parcelId: string }> }> }>(
      entitiesQuery('Enterprise', 'landParcels { parcelId }'),
      { representations: [{ __typename: 'Enterprise', enterpriseCode: FIXTURE_IDS.saigonXanh }] },
    );
    expect(enterprises.data!._entities).toEqual([{ landParcels: [{ parcelId: FIXTURE_IDS.officeParcel }] }]);
  });
});
