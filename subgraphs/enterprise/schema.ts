/**
 * Enterprise subgraph (CSDLQG về đăng ký doanh nghiệp): owns Enterprise and adds
 * Citizen.enterprises. People appear here only as `Citizen` references (key
 * `personalId`); the population subgraph resolves them, so this registry never
 * serves identity data it does not own.
 */
import type { EnterpriseRecord, PersonEnterpriseRoles } from '../../lib/registry-records.js';
import { addressResolvers } from '../shared/address.js';
import { assertIdentifier } from '../shared/errors.js';
import { loadSdl } from '../shared/sdl.js';
import type { SubgraphContext, SubgraphDefinition } from '../shared/server.js';

export interface EnterpriseCollections {
  enterprises: EnterpriseRecord;
  'roles-by-person': PersonEnterpriseRoles;
}
type Ctx = SubgraphContext<EnterpriseCollections>;

type Role = PersonEnterpriseRoles['roles'][number];

async function requireEnterprise(ctx: Ctx, code: string): Promise<EnterpriseRecord> {
  const e = await ctx.loaders.of('enterprises').load(code);
  if (!e) throw new Error('The enterprise registry has no enterprise for a linked enterprise code');
  return e;
}

export function enterpriseSubgraph(): SubgraphDefinition<EnterpriseCollections> {
  return {
    name: 'enterprise',
    typeDefs: loadSdl('enterprise'),
    resolvers: {
      Query: {
        enterprise: (_: unknown, args: { enterpriseCode: string }, ctx: Ctx) =>
          ctx.loaders.of('enterprises').load(assertIdentifier('enterpriseCode', args.enterpriseCode)),
      },
      Enterprise: {
        __resolveReference: (ref: { enterpriseCode: string }, ctx: Ctx) =>
          ctx.loaders.of('enterprises').load(assertIdentifier('enterpriseCode', ref.enterpriseCode)),
      },
      LegalRepresentative: {
        citizen: (r: EnterpriseRecord['legalRepresentatives'][number]) => ({ personalId: r.personalId }),
      },
      EnterpriseMember: {
        citizen: (m: EnterpriseRecord['members'][number]) => ({ personalId: m.personalId }),
      },
      Citizen: {
        // Only the key: the roles are fetched when `enterprises` is asked for.
        __resolveReference: (ref: { personalId: string }) => ({ personalId: ref.personalId }),
        enterprises: async (c: { personalId: string }, _: unknown, ctx: Ctx): Promise<Role[]> => {
          const roles = await ctx.loaders.of('roles-by-person').load(assertIdentifier('personalId', c.personalId));
          return roles?.roles ?? [];
        },
      },
      EnterpriseRole: {
        enterprise: (r: Role, _: unknown, ctx: Ctx) => requireEnterprise(ctx, r.enterpriseCode),
      },
      Address: addressResolvers,
    },
  };
}
