/**
 * Civil subgraph (CSDL hộ tịch điện tử toàn quốc và Kho kết quả giải quyết TTHC số hóa):
 * adds Citizen.civilStatus, latestBirthNotice, deathNotice and digitisedResults (contract C1).
 * Parents, spouse and a notice's mother are Citizen references, resolved by the population
 * subgraph; an id the population registry does not hold resolves to null there, as land's
 * holders and enterprise's representatives do. Every collection is keyed by personal ID, so
 * the citizens of one request share one batch per collection.
 */
import type {
  BirthNoticeRecord,
  CitizenDigitisedResults,
  CivilStatusRecord,
  DeathNoticeRecord,
  DigitisedResultRecord,
  ParentBirthNotices,
} from '../../lib/registry-records.js';
import { digitisedResultStatus, newestResult as newest } from '../../lib/digitised-result-status.js';
import { assertIdentifier } from '../shared/errors.js';
import { loadSdl } from '../shared/sdl.js';
import type { SubgraphContext, SubgraphDefinition } from '../shared/server.js';
import { todayInVietnam } from '../shared/today.js';

export interface CivilCollections {
  'civil-status': CivilStatusRecord;
  'birth-notices-by-parent': ParentBirthNotices;
  'death-notices': DeathNoticeRecord;
  'digitised-results': CitizenDigitisedResults;
}
type Ctx = SubgraphContext<CivilCollections>;
type Birth = NonNullable<CivilStatusRecord['birth']>;
type Marriage = NonNullable<CivilStatusRecord['marriage']>;

export interface CivilSubgraphOptions {
  /** Today's ISO date, for `DigitisedResult.status` (expired after validUntil, revoked from revokedOn). Default: the date in Vietnam. */
  today?: () => string;
}

/** Status of a result on `today` (lib/digitised-result-status.ts). */
export { digitisedResultStatus as resultStatus } from '../../lib/digitised-result-status.js';

const ref = (personalId: string | null): { personalId: string } | null => (personalId ? { personalId } : null);

export function civilSubgraph(opts: CivilSubgraphOptions = {}): SubgraphDefinition<CivilCollections> {
  const today = opts.today ?? todayInVietnam;
  const personalId = (c: { personalId: string }): string => assertIdentifier('personalId', c.personalId);
  return {
    name: 'civil',
    typeDefs: loadSdl('civil'),
    resolvers: {
      Citizen: {
        __resolveReference: (r: { personalId: string }) => ({ personalId: r.personalId }),
        civilStatus: (c: { personalId: string }, _: unknown, ctx: Ctx) => ctx.loaders.of('civil-status').load(personalId(c)),
        latestBirthNotice: async (c: { personalId: string }, _: unknown, ctx: Ctx) => {
          const entry = await ctx.loaders.of('birth-notices-by-parent').load(personalId(c));
          let best: BirthNoticeRecord | null = null;
          for (const n of entry?.notices ?? []) if (best === null || n.issuedOn >= best.issuedOn) best = n;
          return best;
        },
        deathNotice: (c: { personalId: string }, _: unknown, ctx: Ctx) => ctx.loaders.of('death-notices').load(personalId(c)),
        digitisedResults: async (c: { personalId: string }, _: unknown, ctx: Ctx) => {
          const entry = await ctx.loaders.of('digitised-results').load(personalId(c));
          return entry?.results ?? [];
        },
      },
      BirthRegistration: {
        father: (b: Birth) => ref(b.fatherId),
        mother: (b: Birth) => ref(b.motherId),
      },
      MarriageRegistration: {
        spouse: (m: Marriage) => ref(m.spouseId),
      },
      BirthNotice: {
        mother: (n: BirthNoticeRecord) => ref(n.motherId),
      },
      DigitisedResults: {
        birthExtract: (rs: DigitisedResultRecord[]) => newest(rs, 'BIRTH_EXTRACT'),
        marriageCertificate: (rs: DigitisedResultRecord[]) => newest(rs, 'MARRIAGE_CERTIFICATE'),
        deathExtract: (rs: DigitisedResultRecord[]) => newest(rs, 'DEATH_EXTRACT'),
        maritalStatusConfirmation: (rs: DigitisedResultRecord[]) => newest(rs, 'MARITAL_STATUS_CONFIRMATION'),
        judicialRecordCertificate: (rs: DigitisedResultRecord[]) => newest(rs, 'JUDICIAL_RECORD_CERTIFICATE'),
        drivingLicence: (rs: DigitisedResultRecord[]) => newest(rs, 'DRIVING_LICENCE'),
        driverHealthCertificate: (rs: DigitisedResultRecord[]) => newest(rs, 'DRIVER_HEALTH_CERTIFICATE'),
        all: (rs: DigitisedResultRecord[]) => rs,
      },
      DigitisedResult: {
        status: (r: DigitisedResultRecord) => digitisedResultStatus(r, today()),
      },
    },
  };
}
