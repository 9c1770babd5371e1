/**
 * Insurance subgraph (CSDL bảo hiểm: BHXH and BHYT): adds Citizen.socialInsurance
 * and Citizen.healthInsuranceCard. Employers are `Enterprise` references
 * (resolvable: false here), resolved by the enterprise subgraph.
 */
import type { HealthInsuranceCardRecord, SocialInsuranceRecord } from '../../lib/registry-records.js';
import { assertIdentifier } from '../shared/errors.js';
import { loadSdl } from '../shared/sdl.js';
import type { SubgraphContext, SubgraphDefinition } from '../shared/server.js';
import { todayInVietnam } from '../shared/today.js';

export interface InsuranceCollections {
  'social-insurance': SocialInsuranceRecord;
  'social-insurance-by-number': SocialInsuranceRecord;
  'health-insurance': HealthInsuranceCardRecord;
  'health-insurance-by-card': HealthInsuranceCardRecord;
}
type Ctx = SubgraphContext<InsuranceCollections>;
type Period = SocialInsuranceRecord['periods'][number];

export interface InsuranceSubgraphOptions {
  /** Today's ISO date, for `HealthInsuranceCard.expired`. Default: the date in Vietnam (UTC+7). */
  today?: () => string;
}

function employerRef(code: string | null): { enterpriseCode: string } | null {
  return code ? { enterpriseCode: code } : null;
}

export function insuranceSubgraph(opts: InsuranceSubgraphOptions = {}): SubgraphDefinition<InsuranceCollections> {
  const today = opts.today ?? todayInVietnam;
  return {
    name: 'insurance',
    typeDefs: loadSdl('insurance'),
    resolvers: {
      Query: {
        socialInsurance: (_: unknown, args: { socialInsuranceNumber: string }, ctx: Ctx) =>
          ctx.loaders
            .of('social-insurance-by-number')
            .load(assertIdentifier('socialInsuranceNumber', args.socialInsuranceNumber)),
        healthInsuranceCard: (_: unknown, args: { cardNumber: string }, ctx: Ctx) =>
          ctx.loaders.of('health-insurance-by-card').load(assertIdentifier('healthInsuranceCard', args.cardNumber)),
      },
      Citizen: {
        __resolveReference: (ref: { personalId: string }) => ({ personalId: ref.personalId }),
        socialInsurance: (c: { personalId: string }, _: unknown, ctx: Ctx) =>
          ctx.loaders.of('social-insurance').load(assertIdentifier('personalId', c.personalId)),
        healthInsuranceCard: (c: { personalId: string }, _: unknown, ctx: Ctx) =>
          ctx.loaders.of('health-insurance').load(assertIdentifier('personalId', c.personalId)),
      },
      SocialInsurance: {
        currentEmployer: (s: SocialInsuranceRecord) => {
          const open = s.periods.find((p) => p.to === null);
          return employerRef(open?.employerCode ?? null);
        },
        // Periods are oldest first: the last one is the most recent contract.
        lastEmployerName: (s: SocialInsuranceRecord) => s.periods.at(-1)?.employerName ?? null,
      },
      InsurancePeriod: {
        employer: (p: Period) => employerRef(p.employerCode),
      },
      HealthInsuranceCard: {
        // validTo is the last valid day, so the card expires the day after.
        expired: (h: HealthInsuranceCardRecord) => h.validTo < today(),
      },
    },
  };
}
