/**
 * The one state every generation phase reads and extends: the world's records as
 * built so far, the internal view of each citizen (facts not exposed as fields),
 * and the counters that keep identifiers unique across phases. Phases are plain
 * functions `(state, random)` run in order by generateWorld; each draws from its own
 * seeded stream, so the same seed gives the same world.
 */
import { formatDay, monthIndex, dayOf } from '../dates.js';
import type { Commune, Province } from '../admin-units.js';
import type { Sector } from '../catalogs.js';
import type { Ethnicity } from '../names.js';
import type {
  AddressRecord,
  CitizenDigitisedResults,
  CitizenRecord,
  CivilStatusRecord,
  DeathNoticeRecord,
  EnterpriseRecord,
  HealthInsuranceCardRecord,
  HouseholdRecord,
  LandParcelRecord,
  ParentBirthNotices,
  SocialInsuranceRecord,
  World,
} from '../types.js';

/** The provinces merged on 1 July 2025: the world's administrative units are those in force since. */
export const MERGER_DAY = dayOf(2025, 7, 1);
export const EARLIEST_BIRTH = dayOf(1900, 1, 1);

/** Internal view of a citizen while the world is built (the record plus facts not exposed as fields). */
export interface Person {
  rec: CitizenRecord;
  birth: number;
  /** Year and month*100+day of birth, so ages compare without calendar arithmetic. */
  birthYear: number;
  birthMonthDay: number;
  death: number | null;
  /** Recorded spouse, parents and children, mirroring spouseId/fatherId/motherId/childrenIds (see marry, linkParent). */
  spouse: Person | null;
  father: Person | null;
  mother: Person | null;
  children: Person[];
  familyName: string;
  ethnicity: Ethnicity;
  /** Current province of residence (for insurance numbers, cards). */
  province: Province;
  commune: Commune;
  urban: boolean;
}

export interface EnterpriseInfo {
  rec: EnterpriseRecord;
  sector: Sector;
  registered: number;
  /** Month after which nobody can be employed any more (suspension, dissolution), or null. */
  endMonth: number | null;
}

export interface WorldState {
  readonly seed: number;
  /** Number of citizens to create: the population phase stops there. */
  readonly target: number;
  /** The world's "today", as a day number (see dates.ts), and its month index. */
  readonly asOf: number;
  readonly asOfMonth: number;
  readonly people: Person[];
  readonly byId: Map<string, Person>;
  readonly households: HouseholdRecord[];
  readonly enterprises: EnterpriseInfo[];
  readonly socialInsurance: SocialInsuranceRecord[];
  readonly healthInsurance: HealthInsuranceCardRecord[];
  readonly parcels: LandParcelRecord[];
  readonly civilStatus: CivilStatusRecord[];
  readonly birthNotices: ParentBirthNotices[];
  readonly deathNotices: DeathNoticeRecord[];
  readonly digitisedResults: CitizenDigitisedResults[];
  /** Last personal-ID serial per 6-digit prefix (province, century-gender, year). */
  readonly idSerials: Map<string, number>;
  /** Last household serial per commune code. */
  readonly householdSerials: Map<string, number>;
  /** Last BHXH serial per province code, and each person's BHXH number once given. */
  readonly insuranceSerials: Map<string, number>;
  readonly insuranceNumbers: Map<string, string>;
  /** One hometown address per commune code, shared by everyone from there. */
  readonly hometowns: Map<string, AddressRecord>;
}

/** An empty world to be built; `asOf` is a parsed day. */
export function createWorldState(seed: number, target: number, asOf: number): WorldState {
  return {
    seed,
    target,
    asOf,
    asOfMonth: monthIndex(asOf),
    people: [],
    byId: new Map(),
    households: [],
    enterprises: [],
    socialInsurance: [],
    healthInsurance: [],
    parcels: [],
    civilStatus: [],
    birthNotices: [],
    deathNotices: [],
    digitisedResults: [],
    idSerials: new Map(),
    householdSerials: new Map(),
    insuranceSerials: new Map(),
    insuranceNumbers: new Map(),
    hometowns: new Map(),
  };
}

/** Whether the population reached its target size (no more people may be created). */
export function isFull(s: WorldState): boolean {
  return s.people.length >= s.target;
}

/** The public world: the records, without the builder's internal views. */
export function worldOf(s: WorldState): World {
  return {
    seed: s.seed,
    asOf: formatDay(s.asOf),
    citizens: s.people.map((p) => p.rec),
    households: s.households,
    enterprises: s.enterprises.map((e) => e.rec),
    socialInsurance: s.socialInsurance,
    healthInsurance: s.healthInsurance,
    parcels: s.parcels,
    civilStatus: s.civilStatus,
    birthNotices: s.birthNotices,
    deathNotices: s.deathNotices,
    digitisedResults: s.digitisedResults,
  };
}
