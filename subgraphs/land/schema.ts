/**
 * Land subgraph (CSDLQG về đất đai): owns LandParcel and adds Citizen.landParcels
 * and Enterprise.landParcels. Holders are Citizen / Enterprise references; the
 * holder index (`parcels-by-holder`) is keyed by personal ID or enterprise code,
 * so citizens and enterprises of one request share one batch.
 */
import type { HolderParcels, LandParcelRecord } from '../../lib/registry-records.js';
import { addressResolvers } from '../shared/address.js';
import { assertIdentifier } from '../shared/errors.js';
import { loadSdl } from '../shared/sdl.js';
import type { SubgraphContext, SubgraphDefinition } from '../shared/server.js';
import { todayInVietnam } from '../shared/today.js';

export interface LandCollections {
  parcels: LandParcelRecord;
  'parcels-by-certificate': LandParcelRecord;
  'parcels-by-holder': HolderParcels;
}
type Ctx = SubgraphContext<LandCollections>;
type Holder = LandParcelRecord['holders'][number];

export interface LandSubgraphOptions {
  /** Today's ISO date, for `LandParcel.mortgaged` (a release dated later is not yet in force). Default: the date in Vietnam. */
  today?: () => string;
}

async function parcelsOf(ctx: Ctx, holderId: string): Promise<LandParcelRecord[]> {
  const index = await ctx.loaders.of('parcels-by-holder').load(holderId);
  return index ? ctx.loaders.loadExisting('parcels', index.parcelIds) : [];
}

export function landSubgraph(opts: LandSubgraphOptions = {}): SubgraphDefinition<LandCollections> {
  const today = opts.today ?? todayInVietnam;
  return {
    name: 'land',
    typeDefs: loadSdl('land'),
    resolvers: {
      Query: {
        landParcel: (_: unknown, args: { parcelId: string }, ctx: Ctx) =>
          ctx.loaders.of('parcels').load(assertIdentifier('parcelId', args.parcelId)),
        landParcelByCertificate: async (_: unknown, args: { serial: string }, ctx: Ctx) => {
          const parcel = await ctx.loaders
            .of('parcels-by-certificate')
            .load(assertIdentifier('certificateSerial', args.serial));
          // Later references to the same parcel (e.g. through a holder) reuse it.
          if (parcel) ctx.loaders.of('parcels').prime(parcel.parcelId, parcel);
          return parcel;
        },
      },
      LandParcel: {
        __resolveReference: (ref: { parcelId: string }, ctx: Ctx) =>
          ctx.loaders.of('parcels').load(assertIdentifier('parcelId', ref.parcelId)),
        mortgaged: (p: LandParcelRecord) => {
          const now = today();
          return p.mortgages.some((m) => m.releasedOn === null || m.releasedOn > now);
        },
      },
      LandHolder: {
        citizen: (h: Holder) => (h.kind === 'CITIZEN' ? { personalId: h.personalId } : null),
        enterprise: (h: Holder) => (h.kind === 'ENTERPRISE' ? { enterpriseCode: h.enterpriseCode } : null),
      },
      Citizen: {
        __resolveReference: (ref: { personalId: string }) => ({ personalId: ref.personalId }),
        landParcels: (c: { personalId: string }, _: unknown, ctx: Ctx) =>
          parcelsOf(ctx, assertIdentifier('personalId', c.personalId)),
      },
      Enterprise: {
        __resolveReference: (ref: { enterpriseCode: string }) => ({ enterpriseCode: ref.enterpriseCode }),
        landParcels: (e: { enterpriseCode: string }, _: unknown, ctx: Ctx) =>
          parcelsOf(ctx, assertIdentifier('enterpriseCode', e.enterpriseCode)),
      },
      Address: addressResolvers,
    },
  };
}
