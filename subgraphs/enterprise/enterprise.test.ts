/** The enterprise subgraph over the fixture registry. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterpriseCheckDigit } from '../../lib/identifiers.js';
import { FIXTURE_IDS } from '../../mocks/fixtures/index.js';
import { entitiesQuery, startSubgraphWithStub, type SubgraphUnderTest } from '../test-support.js';

let sg: SubgraphUnderTest;
beforeAll(async () => {
  sg = await startSubgraphWithStub('enterprise');
});
afterAll(async () => {
  await sg?.close();
});

/** A code with a valid check digit that the fixtures do not hold. */
function unknownEnterpriseCode(): string {
  for (let n = 100000000; ; n++) {
    const first9 = String(n).padStart(9, '0');
    const check = enterpriseCheckDigit(first9);
    const code = `${first9}${check}`;
    if (check !== null && code !== FIXTURE_IDS.anBinhCompany && code !== FIXTURE_IDS.saigonXanh) return code;
  }
}

describe('enterprise subgraph', () => {
  it('returns an enterprise with its people as Citizen references', async () => {
    const res = await sg.query<{ enterprise: Record<string, any> }>(`{ enterprise(enterpriseCode: "${FIXTURE_IDS.anBinhCompany}") {
      name status charterCapital headOffice { fullAddress }
      businessLines { code main }
      legalRepresentatives { title fullName citizen { personalId } }
      members { sharePercent citizen { personalId } }
      branches { branchCode address { fullAddress } }
    } }`);
    expect(res.errors).toBeUndefined();
    const e = res.data!.enterprise;
    expect(e.status).toBe('ACTIVE');
    expect(e.headOffice.fullAddress).toBe('Số 45 phố Kim Mã, Phường Ba Đình, Thành phố Hà Nội');
    expect(e.legalRepresentatives).toEqual([{ title: 'Giám đốc', fullName: 'Nguyễn Văn An', citizen: { personalId: FIXTURE_IDS.an } }]);
    expect(e.members.map((m: any) => m.citizen.personalId)).toEqual([FIXTURE_IDS.an, FIXTURE_IDS.binh]);
    expect(e.branches[0].branchCode).toBe(`${FIXTURE_IDS.anBinhCompany}-001`);
  });

  it('answers null for an unknown code and BAD_USER_INPUT for a wrong check digit', async () => {
    const unknown = await sg.query(`{ enterprise(enterpriseCode: "${unknownEnterpriseCode()}") { name } }`);
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data).toEqual({ enterprise: null });
    const wrong = FIXTURE_IDS.anBinhCompany.slice(0, 9) + String((Number(FIXTURE_IDS.anBinhCompany[9]) + 1) % 10);
    const bad = await sg.query(`{ enterprise(enterpriseCode: "${wrong}") { name } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('check digit');
  });

  it('adds Citizen.enterprises with the role, empty for citizens without any', async () => {
    const res = await sg.query<{ _entities: Array<{ enterprises: Array<{ role: string; enterprise: { name: string } }> }> }>(
      entitiesQuery('Citizen', 'personalId enterprises { role enterprise { enterpriseCode name status } }'),
      {
        representations: [FIXTURE_IDS.an, FIXTURE_IDS.dung, FIXTURE_IDS.chau].map((personalId) => ({ __typename: 'Citizen', personalId })),
      },
    );
    expect(res.errors).toBeUndefined();
    const [an, dung, chau] = res.data!._entities;
    expect(an!.enterprises.map((r) => r.role).sort()).toEqual(['LEGAL_REPRESENTATIVE', 'MEMBER']);
    expect(dung!.enterprises).toEqual([
      { role: 'LEGAL_REPRESENTATIVE', enterprise: { enterpriseCode: FIXTURE_IDS.saigonXanh, name: 'Công ty Cổ phần Công nghệ Sài Gòn Xanh', status: 'SUSPENDED' } },
    ]);
    expect(chau!.enterprises).toEqual([]);
  });

  it('names the registry when it is down', async () => {
    sg.registry.failWith = 500;
    try {
      const res = await sg.query(`{ enterprise(enterpriseCode: "${FIXTURE_IDS.saigonXanh}") { name } }`);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', registry: 'enterprise' });
      expect(res.errors?.[0]?.message).toContain('CSDLQG về đăng ký doanh nghiệp');
    } finally {
      sg.registry.failWith = null;
    }
  });
});
