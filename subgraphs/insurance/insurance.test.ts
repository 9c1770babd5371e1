/** The insurance subgraph over the fixture registry (today fixed at 2025-09-01). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDS } from '../../mocks/fixtures/index.js';
import { entitiesQuery, startSubgraphWithStub, type SubgraphUnderTest } from '../test-support.js';

let sg: SubgraphUnderTest;
beforeAll(async () => {
  sg = await startSubgraphWithStub('insurance', { today: () => '2025-09-01' });
});
afterAll(async () => {
  await sg?.close();
});

const CITIZEN_INSURANCE = `personalId
  socialInsurance { socialInsuranceNumber status totalContributionMonths currentEmployer { enterpriseCode }
    periods { from to employerName employer { enterpriseCode } } }
  healthInsuranceCard { cardNumber validTo expired }`;

describe('insurance subgraph', () => {
  it('adds social and health insurance to citizens, employers as Enterprise references', async () => {
    const res = await sg.query<{ _entities: Array<Record<string, any>> }>(entitiesQuery('Citizen', CITIZEN_INSURANCE), {
      representations: [FIXTURE_IDS.dung, FIXTURE_IDS.an, FIXTURE_IDS.chau].map((personalId) => ({ __typename: 'Citizen', personalId })),
    });
    expect(res.errors).toBeUndefined();
    const [dung, an, chau] = res.data!._entities;
    expect(dung!.socialInsurance.currentEmployer).toEqual({ enterpriseCode: FIXTURE_IDS.saigonXanh });
    expect(dung!.socialInsurance.periods.map((p: any) => p.employer?.enterpriseCode ?? null)).toEqual([
      FIXTURE_IDS.anBinhCompany,
      FIXTURE_IDS.saigonXanh,
    ]);
    expect(dung!.healthInsuranceCard).toEqual({ cardNumber: FIXTURE_IDS.dungHealthCard, validTo: '2025-12-31', expired: false });
    // Voluntary participation, no open period: no employer.
    expect(an!.socialInsurance.currentEmployer).toBeNull();
    expect(an!.socialInsurance.periods[0].employer).toBeNull();
    expect(an!.healthInsuranceCard.expired).toBe(true);
    expect(chau).toEqual({ personalId: FIXTURE_IDS.chau, socialInsurance: null, healthInsuranceCard: null });
  });

  it('looks up by social insurance number and by health card number', async () => {
    const res = await sg.query<{ socialInsurance: { status: string }; healthInsuranceCard: { beneficiaryGroup: string; expired: boolean } }>(
      `{ socialInsurance(socialInsuranceNumber: "${FIXTURE_IDS.dungInsuranceNumber}") { status }
         healthInsuranceCard(cardNumber: "${FIXTURE_IDS.anHealthCard}") { beneficiaryGroup expired } }`,
    );
    expect(res.data).toEqual({ socialInsurance: { status: 'PARTICIPATING' }, healthInsuranceCard: { beneficiaryGroup: 'GD', expired: true } });
  });

  it('refuses malformed numbers naming the format, null for unknown ones', async () => {
    const bad = await sg.query(`{ healthInsuranceCard(cardNumber: "DN47901") { cardNumber } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('15 characters');
    const unknown = await sg.query(`{ socialInsurance(socialInsuranceNumber: "9999999999") { status } }`);
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data).toEqual({ socialInsurance: null });
  });
});
