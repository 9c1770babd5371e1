/**
 * The deterministic synthetic world behind the mock registries.
 *
 * `generateWorld({ seed, citizens, asOf })` builds households first (so every
 * family link is made between people who exist), links most citizens still without
 * recorded parents to older citizens (as the population database records them), then
 * enterprises whose owners and representatives are adults of that population, then
 * insurance and land records that point at both. Every phase draws from its own seeded stream, so the same seed
 * always gives the same world and a change in one phase does not reshuffle the rest.
 *
 * Realistic gaps are deliberate: people without insurance or land, deceased
 * citizens, children under 6 still waiting for a health card, expired cards,
 * dissolved or suspended enterprises, mortgaged parcels, temporary residents.
 */
import {
  enterpriseCheckDigit,
  makePersonalId,
} from '../../lib/identifiers.js';
import { MIN_BIRTH_SPACING_DAYS, PARENT_AGE } from './check.js';
import {
  COMMUNE_BY_CODE,
  FORMER_PROVINCES,
  FORMER_PROVINCE_BY_CODE,
  PROVINCE_BY_CODE,
  PROVINCES,
  communesOfFormerProvince,
  type Commune,
  type Province,
  type Region,
} from './admin-units.js';
import {
  BANKS,
  BRAND_WORDS,
  ENTERPRISE_TYPES,
  HAMLET_NAMES,
  LAND_USES,
  SECTORS,
  STREETS,
  type LandUse,
  type Sector,
} from './catalogs.js';
import {
  addYears,
  ageOn,
  dayOf,
  formatDay,
  monthIndex,
  monthIndexToDay,
  monthIndexToString,
  parseDay,
  yearOf,
} from './dates.js';
import {
  ethnicityByName,
  ethnicityFor,
  familyNameFor,
  fullNameFor,
  religionFor,
  toAscii,
  type Ethnicity,
} from './names.js';
import { createRandom, weighted, type Random, type WeightedTable } from './random.js';
import type {
  AddressRecord,
  CitizenRecord,
  EnterpriseRecord,
  EnterpriseStatus,
  Gender,
  HealthInsuranceCardRecord,
  HouseholdRecord,
  LandParcelRecord,
  SocialInsuranceRecord,
  World,
} from './types.js';

export { indexWorld, type WorldIndex } from './index-world.js';
export * from './find.js';

export interface GenerateOptions {
  /** PRNG seed: the same seed gives the same world. Default 20250701 (env MOCK_SEED in the registries). */
  seed?: number;
  /** Number of citizens (living and deceased), 1 to 1,000,000. Default 10,000. */
  citizens?: number;
  /** The world's "today" (yyyy-MM-dd): ages, expired cards and open periods are relative to it. Default 2026-11-01. */
  asOf?: string;
}

export const DEFAULT_SEED = 20250701;
export const DEFAULT_CITIZENS = 10_000;
export const DEFAULT_AS_OF = '2026-11-01';
export const MAX_CITIZENS = 1_000_000;

/** Statutory retirement ages, simplified (the 2021-2035 roadmap raises them gradually). */
const RETIREMENT_AGE: Record<Gender, number> = { MALE: 61, FEMALE: 57 };
/** BHXH Việt Nam was founded in 1995: the first recorded contribution month. */
const FIRST_INSURANCE_MONTH = monthIndex(dayOf(1995, 1, 1));
/** Voluntary social insurance exists since 2008. */
const FIRST_VOLUNTARY_MONTH = monthIndex(dayOf(2008, 1, 1));
/** Chip-based CCCD cards since 2021; since 1 July 2024 they are "thẻ căn cước" issued by the Ministry. */
const CCCD_START = dayOf(2021, 1, 1);
const CAN_CUOC_START = dayOf(2024, 7, 1);
const MERGER_DAY = dayOf(2025, 7, 1);
const EARLIEST_BIRTH = dayOf(1900, 1, 1);

/** Internal view of a citizen while the world is built (the record plus facts not exposed as fields). */
interface Person {
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

interface EnterpriseInfo {
  rec: EnterpriseRecord;
  sector: Sector;
  registered: number;
  /** Month after which nobody can be employed any more (suspension, dissolution), or null. */
  endMonth: number | null;
}

type Shape = 'single' | 'couple' | 'nuclear' | 'singleParent' | 'threeGenDown' | 'threeGenUp';
const SHAPES = weighted<Shape>([
  ['single', 13], ['couple', 13], ['nuclear', 48], ['singleParent', 7], ['threeGenDown', 10], ['threeGenUp', 9],
]);

const STATUSES = weighted<EnterpriseStatus>([
  ['ACTIVE', 77], ['SUSPENDED', 7], ['DISSOLVING', 4], ['DISSOLVED', 9], ['REVOKED', 3],
]);

/**
 * Share of citizens still lacking a parent after the households are built whom the
 * parent post-pass tries to link. The rest stay unrecorded, as some are in the real
 * register (foundlings, undeclared fathers, lost paper records); the oldest citizens
 * also stay without parents when nobody old enough exists in the world.
 */
const PARENT_LINK_RATE = 0.96;

/** Parent's age at a birth, PARENT_AGE.min to .max, weighted like Vietnamese birth statistics (peak in the late twenties). */
function parentAges(peak: number, spread: number): WeightedTable<number> {
  const entries: Array<[number, number]> = [];
  for (let age = PARENT_AGE.min; age <= PARENT_AGE.max; age++) entries.push([age, Math.exp(-(((age - peak) / spread) ** 2) / 2) + 0.03]);
  return weighted(entries);
}
const PARENT_AGES: Record<Gender, WeightedTable<number>> = { MALE: parentAges(29, 6), FEMALE: parentAges(26, 5) };

/** Most children a parent may have, by the parent's birth year: completed fertility fell from about 6 (born before 1950) to about 2. */
function maxChildren(birthYear: number): number {
  return birthYear < 1950 ? 7 : birthYear < 1965 ? 5 : birthYear < 1980 ? 4 : 3;
}

const SPOUSE_RELATION: Record<Gender, string> = { MALE: 'Chồng', FEMALE: 'Vợ' };
const PARENT_RELATION: Record<Gender, string> = { MALE: 'Bố', FEMALE: 'Mẹ' };
const CHILD_IN_LAW_RELATION: Record<Gender, string> = { MALE: 'Con rể', FEMALE: 'Con dâu' };

function opposite(g: Gender): Gender {
  return g === 'MALE' ? 'FEMALE' : 'MALE';
}

/** "Tỉnh An Giang" → "tỉnh An Giang", as written inside an agency's name. */
function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function shortName(unitName: string): string {
  return unitName.replace(/^(Phường|Xã|Thành phố|Tỉnh) /, '');
}

class WorldBuilder {
  readonly asOf: number;
  readonly asOfMonth: number;
  readonly people: Person[] = [];
  readonly byId = new Map<string, Person>();
  readonly households: HouseholdRecord[] = [];
  readonly enterprises: EnterpriseInfo[] = [];
  readonly socialInsurance: SocialInsuranceRecord[] = [];
  readonly healthInsurance: HealthInsuranceCardRecord[] = [];
  readonly parcels: LandParcelRecord[] = [];

  private readonly idSerials = new Map<string, number>();
  private readonly householdSerials = new Map<string, number>();
  private readonly insuranceSerials = new Map<string, number>();
  private readonly insuranceNumbers = new Map<string, string>();
  private readonly hometowns = new Map<string, AddressRecord>();
  private readonly provinceTable = weighted(PROVINCES.map((p) => [p, p.populationMillions] as const));
  private readonly businessTable = weighted(PROVINCES.map((p) => [p, p.populationMillions * (p.kind === 'CITY' ? 2.5 : 1)] as const));
  private readonly migrationTargets = ['01', '79', '24', '48', '75', '31'].map((c) => PROVINCE_BY_CODE.get(c)!);

  constructor(readonly seed: number, readonly target: number, asOf: string) {
    this.asOf = parseDay(asOf);
    this.asOfMonth = monthIndex(this.asOf);
  }

  build(): World {
    this.buildPopulation(createRandom(this.seed).fork('population'));
    this.linkMissingParents(createRandom(this.seed).fork('parents'));
    this.assignResidenceAndCards(createRandom(this.seed).fork('residence'));
    this.buildEnterprises(createRandom(this.seed).fork('enterprises'));
    this.buildSocialInsurance(createRandom(this.seed).fork('social-insurance'));
    this.buildHealthInsurance(createRandom(this.seed).fork('health-insurance'));
    this.buildLand(createRandom(this.seed).fork('land'));
    return {
      seed: this.seed,
      asOf: formatDay(this.asOf),
      citizens: this.people.map((p) => p.rec),
      households: this.households,
      enterprises: this.enterprises.map((e) => e.rec),
      socialInsurance: this.socialInsurance,
      healthInsurance: this.healthInsurance,
      parcels: this.parcels,
    };
  }

  // ---------------------------------------------------------------- population

  private get full(): boolean {
    return this.people.length >= this.target;
  }

  private buildPopulation(r: Random): void {
    while (!this.full) this.buildHousehold(r);
  }

  /** A birth day giving an age in [minAge, maxAge] on asOf. */
  private birthForAge(r: Random, minAge: number, maxAge: number): number {
    return r.int(addYears(this.asOf, -(maxAge + 1)) + 1, addYears(this.asOf, -minAge));
  }

  private hometownIn(r: Random, formerProvince: string): AddressRecord {
    const commune = r.pick(communesOfFormerProvince(formerProvince));
    let address = this.hometowns.get(commune.code);
    if (!address) {
      address = this.addressIn(commune, null);
      this.hometowns.set(commune.code, address);
    }
    return address;
  }

  private addressIn(commune: Commune, detail: string | null): AddressRecord {
    const province = PROVINCE_BY_CODE.get(commune.provinceCode)!;
    return { provinceCode: province.code, province: province.name, communeCode: commune.code, commune: commune.name, detail };
  }

  private streetDetail(r: Random): string {
    const street = r.pick(STREETS);
    return r.chance(0.4) ? `Số ${r.int(1, 80)} ngõ ${r.int(2, 400)} ${street}` : `Số ${r.int(1, 450)} ${street}`;
  }

  private ruralDetail(r: Random, region: Region, ethnicity: Ethnicity): string {
    const hamlet = r.chance(0.3) ? String(r.int(1, 12)) : r.pick(HAMLET_NAMES);
    if (region === 'MEKONG_DELTA' || region === 'SOUTHEAST') return `Ấp ${hamlet}`;
    if (region === 'CENTRAL_HIGHLANDS' && ethnicity.style === 'HIGHLANDS') return `Buôn ${hamlet}`;
    if (region === 'NORTHERN_MOUNTAINS' && ethnicity.name !== 'Kinh') return `Bản ${hamlet}`;
    return r.chance(0.2) ? `Xóm ${hamlet}` : `Thôn ${hamlet}`;
  }

  private nextPersonalId(r: Random, formerProvince: string, gender: Gender, birthYear: number): string {
    const prefix = makePersonalId(formerProvince, gender, birthYear, 0).slice(0, 6);
    const last = this.idSerials.get(prefix);
    // Random strides keep serials unique without a lookup while not looking sequential.
    const serial = last === undefined ? r.int(0, 4999) : last + r.int(1, 37);
    if (serial > 999_999) throw new Error(`Personal ID serials exhausted for prefix ${prefix}: lower the number of citizens.`);
    this.idSerials.set(prefix, serial);
    return makePersonalId(formerProvince, gender, birthYear, serial);
  }

  private newPerson(
    r: Random,
    o: {
      gender: Gender; birth: number; familyName: string; ethnicity: Ethnicity; religion: string | null;
      formerProvince: string; hometown: AddressRecord; commune: Commune; death?: number | null;
    },
  ): Person | null {
    if (this.full) return null;
    const birthYear = yearOf(o.birth);
    const personalId = this.nextPersonalId(r, o.formerProvince, o.gender, birthYear);
    const death = o.death ?? null;
    const rec: CitizenRecord = {
      personalId,
      fullName: fullNameFor(r, o.gender, birthYear, o.familyName, o.ethnicity),
      gender: o.gender,
      dateOfBirth: formatDay(o.birth),
      placeOfBirth: FORMER_PROVINCE_BY_CODE.get(o.formerProvince)!.name,
      ethnicity: o.ethnicity.name,
      religion: o.religion,
      nationality: 'Việt Nam',
      hometown: o.hometown,
      permanentResidence: null,
      temporaryResidence: null,
      currentResidence: null,
      maritalStatus: 'SINGLE',
      identityCard: null,
      deceased: death !== null,
      dateOfDeath: death === null ? null : formatDay(death),
      fatherId: null,
      motherId: null,
      spouseId: null,
      childrenIds: [],
      householdId: null,
      relationToHouseholdHead: null,
    };
    const person: Person = {
      rec, birth: o.birth, birthYear, birthMonthDay: Number(rec.dateOfBirth.slice(5, 7)) * 100 + Number(rec.dateOfBirth.slice(8, 10)),
      death, spouse: null, father: null, mother: null, children: [], familyName: o.familyName, ethnicity: o.ethnicity,
      province: PROVINCE_BY_CODE.get(o.commune.provinceCode)!, commune: o.commune, urban: o.commune.urban,
    };
    this.people.push(person);
    this.byId.set(personalId, person);
    return person;
  }

  private marry(a: Person, b: Person, status: 'MARRIED' = 'MARRIED'): void {
    a.rec.spouseId = b.rec.personalId;
    b.rec.spouseId = a.rec.personalId;
    a.spouse = b;
    b.spouse = a;
    a.rec.maritalStatus = a.death === null ? status : 'MARRIED';
    b.rec.maritalStatus = b.death === null ? status : 'MARRIED';
    // The survivor of a deceased spouse is widowed.
    if (a.death !== null && b.death === null) b.rec.maritalStatus = 'WIDOWED';
    if (b.death !== null && a.death === null) a.rec.maritalStatus = 'WIDOWED';
  }

  private linkParent(parent: Person, child: Person): void {
    if (parent.rec.gender === 'MALE') {
      child.rec.fatherId = parent.rec.personalId;
      child.father = parent;
    } else {
      child.rec.motherId = parent.rec.personalId;
      child.mother = parent;
    }
    parent.rec.childrenIds.push(child.rec.personalId);
    parent.children.push(child);
  }

  private join(household: HouseholdRecord, person: Person, relation: string): void {
    household.members.push({ personalId: person.rec.personalId, relationToHead: relation });
    person.rec.householdId = household.householdId;
    person.rec.relationToHouseholdHead = relation;
    person.rec.permanentResidence = household.address;
    person.rec.currentResidence = household.address;
  }

  /** Where someone living in `commune` was registered at birth: mostly there, sometimes elsewhere (migrants). */
  private birthProvince(r: Random, commune: Commune, stayRate: number): string {
    return r.chance(stayRate) ? commune.formerProvinceCode : r.pick(FORMER_PROVINCES).code;
  }

  /** An adult founding a family line: own family name, birth province, hometown. */
  private founder(
    r: Random, commune: Commune, region: Region, gender: Gender, birth: number, ethnicity: Ethnicity,
    religion: string | null, death: number | null = null,
  ): Person | null {
    const formerProvince = this.birthProvince(r, commune, 0.8);
    const homeRegion = PROVINCE_BY_CODE.get(FORMER_PROVINCE_BY_CODE.get(formerProvince)!.mergedInto)!.region;
    return this.newPerson(r, {
      gender, birth, ethnicity, religion, formerProvince, commune, death,
      familyName: familyNameFor(r, ethnicity, formerProvince === commune.formerProvinceCode ? region : homeRegion),
      hometown: this.hometownIn(r, formerProvince),
    });
  }

  /** A child of the given parents (either may be missing), born in the household's commune. */
  private child(r: Random, commune: Commune, birth: number, father: Person | null, mother: Person | null, religion: string | null): Person | null {
    const lineParent = father ?? mother!;
    // Ê Đê and Gia Rai are matrilineal: children carry their mother's family name.
    const matrilineal = mother !== null && mother.ethnicity.style === 'HIGHLANDS';
    const namer = matrilineal ? mother : lineParent;
    const gender: Gender = r.chance(0.512) ? 'MALE' : 'FEMALE';
    const person = this.newPerson(r, {
      gender, birth, religion, commune,
      ethnicity: lineParent.ethnicity,
      familyName: namer.familyName,
      formerProvince: this.birthProvince(r, commune, 0.93),
      hometown: lineParent.rec.hometown,
    });
    if (!person) return null;
    if (father) this.linkParent(father, person);
    if (mother) this.linkParent(mother, person);
    return person;
  }

  /**
   * Children of a mother born between her 19th and 42nd year, spaced 1.5 to 5 years, none after asOf,
   * none once the father is past PARENT_AGE.max, none after `until` (a parent's death).
   */
  private childrenBirths(
    r: Random, motherBirth: number, count: number, maxAge = 30, fatherBirth?: number, until = Infinity,
  ): number[] {
    const births: number[] = [];
    let next = r.int(addYears(motherBirth, 19), addYears(motherBirth, 32));
    // A younger husband postpones the first child until he is an adult too.
    if (fatherBirth !== undefined) next = Math.max(next, addYears(fatherBirth, 18) + r.int(0, 3 * 365));
    const last = Math.min(this.asOf - 1, addYears(motherBirth, 42), until,
      fatherBirth === undefined ? Infinity : addYears(fatherBirth, PARENT_AGE.max));
    const earliestAtHome = addYears(this.asOf, -maxAge); // older children have moved out
    for (let i = 0; i < count; i++) {
      if (next > last) break;
      if (next >= earliestAtHome) births.push(next);
      next += r.int(540, 1800);
    }
    return births;
  }

  private childCount(r: Random): number {
    return r.pickWeighted(CHILD_COUNTS);
  }

  private deathBetween(r: Random, from: number, birth: number): number | null {
    const lo = Math.max(from, addYears(birth, 1));
    const hi = Math.min(this.asOf - 1, addYears(birth, 100));
    return lo <= hi ? r.int(lo, hi) : null;
  }

  private newHousehold(r: Random, commune: Commune, region: Region, ethnicity: Ethnicity): HouseholdRecord {
    const serial = (this.householdSerials.get(commune.code) ?? 0) + 1;
    this.householdSerials.set(commune.code, serial);
    const detail = commune.urban ? this.streetDetail(r) : this.ruralDetail(r, region, ethnicity);
    const household: HouseholdRecord = {
      householdId: `HH-${commune.code}-${String(serial).padStart(6, '0')}`,
      headId: '',
      address: this.addressIn(commune, detail),
      members: [],
    };
    this.households.push(household);
    return household;
  }

  private buildHousehold(r: Random): void {
    const province = r.pickWeighted(this.provinceTable);
    const commune = r.pick(province.communes);
    const region = province.region;
    const ethnicity = ethnicityFor(r, region);
    const religion = religionFor(r);
    const shape = r.pickWeighted(SHAPES);
    const household = this.newHousehold(r, commune, region, ethnicity);
    const setHead = (p: Person): void => {
      household.headId = p.rec.personalId;
      this.join(household, p, 'Chủ hộ');
    };
    /** A married couple; the husband heads the household more often than not. */
    const couple = (minAge: number, maxAge: number): { husband: Person; wife: Person | null; head: Person } | null => {
      const husbandBirth = this.birthForAge(r, minAge, maxAge);
      const wifeBirth = Math.min(husbandBirth + r.int(-2 * 365, 7 * 365), addYears(this.asOf, -18));
      const husband = this.founder(r, commune, region, 'MALE', husbandBirth, ethnicity, religion);
      if (!husband) return null;
      const wifeEthnicity = r.chance(0.93) ? ethnicity : ethnicityByName('Kinh');
      const wife = this.founder(r, commune, region, 'FEMALE', wifeBirth, wifeEthnicity, religion);
      const head = wife && r.chance(0.22) ? wife : husband;
      setHead(head);
      if (wife) {
        this.marry(husband, wife);
        this.join(household, head === husband ? wife : husband, SPOUSE_RELATION[(head === husband ? wife : husband).rec.gender]);
      }
      return { husband, wife, head };
    };
    /** Children of the couple; `motherBirth` paces the births even when the mother is not recorded. */
    const addChildren = (father: Person | null, mother: Person | null, motherBirth: number, count: number, relation: string): Person[] => {
      const kids: Person[] = [];
      // Nobody is born after a parent's death (posthumous births are left out for simplicity).
      const until = Math.min(father?.death ?? Infinity, mother?.death ?? Infinity);
      for (const birth of this.childrenBirths(r, motherBirth, count, 30, father?.birth, until)) {
        const kid = this.child(r, commune, birth, father, mother, religion);
        if (!kid) break;
        this.join(household, kid, relation);
        kids.push(kid);
      }
      return kids;
    };
    /** Parents of the head who died before asOf: real records, linked, outside any household. */
    const deceasedParents = (head: Person): void => {
      if (!r.chance(0.45)) return;
      const fatherBirth = head.birth - r.int(22 * 365, 38 * 365);
      if (fatherBirth < EARLIEST_BIRTH) return;
      const death = this.deathBetween(r, Math.max(head.birth + 365, addYears(fatherBirth, 45)), fatherBirth);
      if (death === null) return;
      // The head inherited the family name (the father's, the mother's in matrilineal groups) and birth province.
      const matrilineal = head.ethnicity.style === 'HIGHLANDS';
      const formerProvince = head.rec.personalId.slice(0, 3);
      const father = this.newPerson(r, {
        gender: 'MALE', birth: fatherBirth, ethnicity: head.ethnicity, religion, commune, death, formerProvince,
        familyName: matrilineal ? familyNameFor(r, head.ethnicity, region) : head.familyName, hometown: head.rec.hometown,
      });
      if (!father) return;
      // Married at death, whether or not the mother's record exists.
      father.rec.maritalStatus = 'MARRIED';
      father.rec.permanentResidence = this.hometownAddressWithDetail(r, head.rec.hometown, region, ethnicity);
      this.linkParent(father, head);
      // Often the mother died too; her record is kept, married to the father.
      if (!r.chance(0.7)) return;
      const motherBirth = Math.min(Math.max(fatherBirth + r.int(-2 * 365, 6 * 365), addYears(head.birth, -42)), addYears(head.birth, -19));
      if (motherBirth < EARLIEST_BIRTH) return;
      const motherDeath = this.deathBetween(r, Math.max(head.birth + 365, addYears(motherBirth, 45)), motherBirth);
      if (motherDeath === null) return;
      const mother = this.newPerson(r, {
        gender: 'FEMALE', birth: motherBirth, ethnicity: head.ethnicity, religion, commune, death: motherDeath, formerProvince,
        familyName: matrilineal ? head.familyName : familyNameFor(r, head.ethnicity, region), hometown: this.hometownIn(r, formerProvince),
      });
      if (!mother) return;
      mother.rec.permanentResidence = father.rec.permanentResidence;
      this.marry(father, mother);
      this.linkParent(mother, head);
    };

    switch (shape) {
      case 'single': {
        const gender: Gender = r.chance(0.5) ? 'MALE' : 'FEMALE';
        const birth = this.birthForAge(r, 19, 88);
        const head = this.founder(r, commune, region, gender, birth, ethnicity, religion);
        if (!head) return;
        setHead(head);
        const age = ageOn(birth, this.asOf);
        const u = r.next();
        if (age >= 30 && u < (age >= 60 ? 0.6 : 0.25)) {
          const spouseBirth = Math.max(EARLIEST_BIRTH, birth + r.int(-6 * 365, 4 * 365));
          const death = this.deathBetween(r, addYears(Math.max(birth, spouseBirth), 25), spouseBirth);
          const spouse = death === null ? null : this.founder(r, commune, region, opposite(gender), spouseBirth, ethnicity, religion, death);
          if (spouse) {
            spouse.rec.permanentResidence = household.address;
            this.marry(head, spouse);
          }
        } else if (age >= 28 && u < 0.55) {
          head.rec.maritalStatus = 'DIVORCED';
        }
        deceasedParents(head);
        break;
      }
      case 'couple': {
        // Young couples before children, or older couples whose children moved out.
        const c = r.chance(0.4) ? couple(22, 32) : couple(55, 85);
        if (c) deceasedParents(c.husband);
        break;
      }
      case 'nuclear': {
        const c = couple(24, 58);
        if (!c || !c.wife) break;
        addChildren(c.husband, c.wife, c.wife.birth, this.childCount(r), 'Con');
        if (ageOn(c.head.birth, this.asOf) >= 35) deceasedParents(c.husband);
        break;
      }
      case 'singleParent': {
        const gender: Gender = r.chance(0.8) ? 'FEMALE' : 'MALE';
        const birth = this.birthForAge(r, 25, 55);
        const head = this.founder(r, commune, region, gender, birth, ethnicity, religion);
        if (!head) return;
        setHead(head);
        const widowed = r.chance(0.35);
        let other: Person | null = null;
        if (widowed) {
          const otherBirth = birth + r.int(-5 * 365, 3 * 365);
          const death = this.deathBetween(r, addYears(birth, 30), otherBirth);
          other = death === null ? null : this.founder(r, commune, region, opposite(gender), otherBirth, ethnicity, religion, death);
          if (other) {
            other.rec.permanentResidence = household.address;
            this.marry(head, other);
          }
        } else {
          head.rec.maritalStatus = 'DIVORCED';
        }
        const mother = gender === 'FEMALE' ? head : other;
        const father = gender === 'MALE' ? head : other;
        // A divorced father's former wife is not in the register: her age is only assumed for the births.
        addChildren(father, mother, mother?.birth ?? head.birth + r.int(0, 4 * 365), r.int(1, 3), 'Con');
        break;
      }
      case 'threeGenDown': {
        // Grandparents head the household; a married child lives with them with the grandchildren.
        const c = couple(52, 82);
        if (!c || !c.wife) break;
        const births = this.childrenBirths(r, c.wife.birth, this.childCount(r) + 1, 45, c.husband.birth);
        const adults = births.filter((b) => ageOn(b, this.asOf) >= 23);
        if (adults.length === 0) break;
        const heir = this.child(r, commune, adults[0]!, c.husband, c.wife, religion);
        if (!heir) break;
        this.join(household, heir, 'Con');
        // Husbands are usually a few years older than their wives.
        const gap = r.int(-2 * 365, 6 * 365);
        const inLawBirth = Math.min(heir.rec.gender === 'MALE' ? heir.birth + gap : heir.birth - gap, addYears(this.asOf, -20));
        const inLaw = this.founder(r, commune, region, opposite(heir.rec.gender), inLawBirth, ethnicity, religion);
        if (!inLaw) break;
        this.marry(heir, inLaw);
        this.join(household, inLaw, CHILD_IN_LAW_RELATION[inLaw.rec.gender]);
        const [youngFather, youngMother] = heir.rec.gender === 'MALE' ? [heir, inLaw] : [inLaw, heir];
        addChildren(youngFather, youngMother, youngMother.birth, this.childCount(r), 'Cháu');
        break;
      }
      case 'threeGenUp': {
        // A couple with children takes in the head's elderly parent(s).
        const headBirth = this.birthForAge(r, 30, 52);
        const fatherBirth = headBirth - r.int(23 * 365, 36 * 365);
        const motherBirth = Math.min(fatherBirth + r.int(-2 * 365, 6 * 365), headBirth - 19 * 365);
        const fatherDead = r.chance(0.3);
        const fatherDeath = fatherDead ? this.deathBetween(r, headBirth + 20 * 365, fatherBirth) : null;
        const grandfather = this.founder(r, commune, region, 'MALE', fatherBirth, ethnicity, religion, fatherDeath);
        if (!grandfather) return;
        const grandmother = this.founder(r, commune, region, 'FEMALE', motherBirth, ethnicity, religion);
        if (!grandmother) {
          if (fatherDeath === null) setHead(grandfather);
          else grandfather.rec.permanentResidence = household.address;
          break;
        }
        this.marry(grandfather, grandmother);
        const head = this.child(r, commune, headBirth, grandfather, grandmother, religion);
        if (!head) {
          setHead(grandmother);
          if (!fatherDead) this.join(household, grandfather, 'Chồng');
          break;
        }
        setHead(head);
        if (fatherDead) grandfather.rec.permanentResidence = household.address;
        else this.join(household, grandfather, PARENT_RELATION.MALE);
        this.join(household, grandmother, PARENT_RELATION.FEMALE);
        const spouseBirth = Math.min(headBirth + r.int(-3 * 365, 6 * 365) * (head.rec.gender === 'MALE' ? 1 : -1), addYears(this.asOf, -20));
        const spouse = this.founder(r, commune, region, opposite(head.rec.gender), spouseBirth, ethnicity, religion);
        if (!spouse) break;
        this.marry(head, spouse);
        this.join(household, spouse, SPOUSE_RELATION[spouse.rec.gender]);
        const [father, mother] = head.rec.gender === 'MALE' ? [head, spouse] : [spouse, head];
        addChildren(father, mother, mother.birth, this.childCount(r), 'Con');
        break;
      }
    }
    if (household.members.length === 0) {
      // Capacity ran out before a head could be created: drop the empty household.
      this.households.pop();
    }
  }

  // ------------------------------------------------------------------- parents

  /**
   * Households only link the parents who live (or died) with their children, so most
   * adults would have no recorded parents, unlike the real population database. This
   * pass links them to existing older citizens: a married couple whose line (father's,
   * or mother's for matrilineal groups) carries the child's family name and ethnicity
   * when one fits, else a father and a mother picked separately. Candidates are drawn
   * from buckets by birth year at plausible parent ages, so the pass stays linear.
   */
  private linkMissingParents(r: Random): void {
    // Candidate lists in order of birth year (filled from the people sorted by year), so the
    // people of plausible parent ages are an index range. Keys are objects and interned
    // strings, not concatenations, to keep 100,000 citizens fast.
    const byGender: Record<Gender, BirthList> = { MALE: new BirthList(), FEMALE: new BirthList() };
    const lines: Record<Gender, LineIndex> = { MALE: new Map(), FEMALE: new Map() }; // people of each line
    const names: Record<Gender, Map<string, BirthList>> = { MALE: new Map(), FEMALE: new Map() }; // any ethnicity
    const wives: LineIndex = new Map(); // by the line of the couple's children; the husband is her spouse
    for (const p of sortedByBirthYear(this.people)) {
      const gender = p.rec.gender;
      byGender[gender].add(p);
      listOf(lineMap(lines[gender], p.ethnicity), p.familyName).add(p);
      listOf(names[gender], p.familyName).add(p);
      if (gender === 'FEMALE' && p.spouse !== null) {
        const line = p.ethnicity.style === 'HIGHLANDS' ? p : p.spouse;
        listOf(lineMap(wives, line.ethnicity), line.familyName).add(p);
      }
    }
    for (const list of [byGender.MALE, byGender.FEMALE]) list.seal();
    for (const index of [lines.MALE, lines.FEMALE, wives]) for (const byName of index.values()) for (const list of byName.values()) list.seal();
    for (const index of [names.MALE, names.FEMALE]) for (const list of index.values()) list.seal();
    // The child being linked; the tests below are created once (not per child) for speed.
    let child = this.people[0]!;
    let kin: Kin = { people: [], parents: [] };
    const fits = (p: Person): boolean => this.canParent(p, child, kin);
    const coupleFits = (wife: Person): boolean => fits(wife) && fits(wife.spouse!);
    const pick = (list: BirthList | undefined, gender: Gender, test: (p: Person) => boolean): Person | null =>
      list ? pickParent(r, list, child, PARENT_AGES[gender], test) : null;
    /** The parent who passes on the family name: same line, else same name in another ethnic group (mixed marriages). */
    const pickLine = (gender: Gender): Person | null =>
      pick(lines[gender].get(child.ethnicity)?.get(child.familyName), gender, fits)
      ?? pick(names[gender].get(child.familyName), gender, fits);

    for (const c of this.people) {
      if ((c.father !== null && c.mother !== null) || !r.chance(PARENT_LINK_RATE)) continue;
      child = c;
      kin = this.kinOf(c);
      // Vietnamese children carry their father's family name; Ê Đê and Gia Rai children their mother's.
      const lineGender: Gender = c.ethnicity.style === 'HIGHLANDS' ? 'FEMALE' : 'MALE';
      if (c.father === null && c.mother === null) {
        const wife = pick(wives.get(c.ethnicity)?.get(c.familyName), 'FEMALE', coupleFits);
        if (wife) {
          this.linkParent(wife.spouse!, c);
          this.linkParent(wife, c);
          continue;
        }
        const first = pickLine(lineGender);
        if (first) {
          this.linkParent(first, c);
          kin = this.kinOf(c);
        }
      }
      // With no parent of the line found, the other parent alone is still recorded (as for an undeclared father).
      const missing: Gender = c.father !== null ? 'FEMALE' : c.mother !== null ? 'MALE' : opposite(lineGender);
      const known = missing === 'MALE' ? c.mother : c.father;
      // The known parent's spouse first; else someone of the child's line (for the name), or anyone for the other parent.
      const spouse = known?.spouse;
      const parent = spouse && spouse.rec.gender === missing && fits(spouse)
        ? spouse
        : missing === lineGender ? pickLine(missing) : pick(byGender[missing], missing, fits);
      if (parent) this.linkParent(parent, c);
    }
  }

  /**
   * Whether `p` may be recorded as `child`'s (missing) parent: right age gap, alive at
   * the birth, room for one more child spaced from the others, and no close kinship
   * that would make spouses, co-parents or a parent and child also siblings or parents.
   */
  private canParent(p: Person, child: Person, kin: Kin): boolean {
    const age = child.birthYear - p.birthYear - (child.birthMonthDay < p.birthMonthDay ? 1 : 0);
    if (age < PARENT_AGE.min || age > PARENT_AGE.max) return false;
    if (p.death !== null && p.death < child.birth) return false;
    if (p.children.length >= maxChildren(p.birthYear)) return false;
    // Spacing holds for fathers too, so that no father has two children born months apart by different mothers.
    for (const c of p.children) if (Math.abs(c.birth - child.birth) < MIN_BIRTH_SPACING_DAYS) return false;
    if (kin.people.includes(p)) return false;
    return !(p.father !== null && kin.parents.includes(p.father)) && !(p.mother !== null && kin.parents.includes(p.mother));
  }

  /** The people around `child` that a new parent must not be, or be a child of (see Kin). */
  private kinOf(child: Person): Kin {
    const partners: Person[] = [];
    if (child.spouse) partners.push(child.spouse);
    for (const c of child.children) {
      const other = child.rec.gender === 'MALE' ? c.mother : c.father;
      if (other && !partners.includes(other)) partners.push(other);
    }
    const people: Person[] = [child, ...partners];
    const parents: Person[] = [];
    if (child.father) parents.push(child.father);
    if (child.mother) parents.push(child.mother);
    // In-laws and grandparents: neither they nor their children may become the child's parent.
    for (const q of [...partners, ...parents]) {
      for (const elder of [q.father, q.mother]) {
        if (elder) {
          people.push(elder);
          parents.push(elder);
        }
      }
    }
    return { people, parents };
  }

  private hometownAddressWithDetail(r: Random, hometown: AddressRecord, region: Region, ethnicity: Ethnicity): AddressRecord {
    const commune = COMMUNE_BY_CODE.get(hometown.communeCode)!;
    return this.addressIn(commune, commune.urban ? this.streetDetail(r) : this.ruralDetail(r, region, ethnicity));
  }

  /** Temporary residence for migrant workers and students, and identity cards (CCCD / thẻ căn cước). */
  private assignResidenceAndCards(r: Random): void {
    for (const p of this.people) {
      const end = p.death ?? this.asOf;
      const age = ageOn(p.birth, end);
      if (p.death === null && p.rec.householdId !== null && age >= 18 && age <= 45 && r.chance(0.1)) {
        const province = r.pick(this.migrationTargets);
        const choices = province.communes.filter((c) => c.code !== p.commune.code && c.urban);
        const commune = r.pick(choices.length > 0 ? choices : province.communes);
        // Rented rooms are typical for migrant workers.
        const detail = r.chance(0.5) ? `Phòng ${r.int(1, 6)}0${r.int(1, 9)}, ${this.streetDetail(r)}` : this.streetDetail(r);
        p.rec.temporaryResidence = this.addressIn(commune, detail);
        p.rec.currentResidence = p.rec.temporaryResidence;
      }
      if (p.death !== null) p.rec.currentResidence = null;
      // Cards are compulsory from 14; a few children hold one since 2024, a few adults never renewed.
      const fourteen = addYears(p.birth, 14);
      const hasCard = age >= 14 ? r.chance(0.97) : age >= 6 && r.chance(0.08);
      if (!hasCard) continue;
      const earliest = Math.max(age >= 14 ? fourteen : CAN_CUOC_START, r.chance(0.25) ? dayOf(2016, 1, 1) : CCCD_START);
      const latest = end - 1;
      if (earliest > latest) continue;
      const issued = r.int(earliest, latest);
      const ageAtIssue = ageOn(p.birth, issued);
      // Cards must be renewed at 14, 25, 40 and 60; one issued within 2 years of a milestone lasts to the next.
      const milestone = ageAtIssue < 14 ? 14 : ageAtIssue < 23 ? 25 : ageAtIssue < 38 ? 40 : ageAtIssue < 58 ? 60 : null;
      p.rec.identityCard = {
        number: p.rec.personalId,
        issuedOn: formatDay(issued),
        expiresOn: milestone === null ? null : formatDay(addYears(p.birth, milestone)),
        issuedBy: issued >= CAN_CUOC_START ? 'Bộ Công an' : 'Cục Cảnh sát quản lý hành chính về trật tự xã hội',
      };
    }
  }

  // --------------------------------------------------------------- enterprises

  private buildEnterprises(r: Random): void {
    const count = Math.max(1, Math.round(this.target / 20));
    const adults = this.people.filter((p) => p.death === null && ageOn(p.birth, this.asOf) >= 21 && ageOn(p.birth, this.asOf) <= 72);
    if (adults.length === 0) return;
    const adultsByProvince = new Map<string, Person[]>();
    for (const p of adults) {
      const list = adultsByProvince.get(p.province.code) ?? [];
      list.push(p);
      adultsByProvince.set(p.province.code, list);
    }
    const codes = new Set<string>();
    const names = new Set<string>();
    for (let i = 0; i < count; i++) {
      const status = r.pickWeighted(STATUSES);
      const e = this.newEnterprise(r, status, adults, adultsByProvince, codes, names);
      if (e) this.enterprises.push(e);
    }
    // Small worlds still show every status, so each one can be tested.
    const seen = new Set(this.enterprises.map((e) => e.rec.status));
    for (const status of ['SUSPENDED', 'DISSOLVING', 'DISSOLVED', 'REVOKED'] as const) {
      if (seen.has(status) || this.enterprises.length < 10) continue;
      const target = this.enterprises.find((e) => e.rec.status === 'ACTIVE' && e.registered <= this.asOf - 800);
      if (!target) continue;
      target.rec.status = status;
      const changed = r.int(Math.max(target.registered + 400, this.asOf - 700), this.asOf - 30);
      target.rec.lastChangedOn = formatDay(changed);
      target.endMonth = monthIndex(changed);
      seen.add(status);
    }
  }

  private newEnterprise(
    r: Random, status: EnterpriseStatus, adults: Person[], adultsByProvince: Map<string, Person[]>,
    codes: Set<string>, names: Set<string>,
  ): EnterpriseInfo | null {
    const type = r.pickWeighted(ENTERPRISE_TYPES);
    const sector = r.pick(SECTORS);
    const province = r.pickWeighted(this.businessTable);
    const pool = adultsByProvince.get(province.code) ?? adults;
    const ended = status === 'DISSOLVED' || status === 'REVOKED';
    // Registration years lean recent, as most enterprises alive in the register are young.
    const latestRegistration = this.asOf - (status === 'ACTIVE' ? 30 : 400);
    const registered = Math.max(dayOf(1995, 1, 1), latestRegistration - Math.floor(r.next() ** 1.7 * 30 * 365));
    // Owners were adults when they registered the enterprise.
    const eligible = (p: Person): boolean => addYears(p.birth, 18) <= registered;
    const pickPerson = (taken: Set<Person>): Person | null => {
      for (let attempt = 0; attempt < 30; attempt++) {
        const p = r.pick(attempt < 20 ? pool : adults);
        if (eligible(p) && !taken.has(p)) return p;
      }
      return null;
    };
    const taken = new Set<Person>();
    const memberCount = r.int(type.members[0], type.members[1]);
    const members: Person[] = [];
    for (let i = 0; i < memberCount; i++) {
      const p = pickPerson(taken);
      if (!p) break;
      taken.add(p);
      members.push(p);
    }
    if (members.length === 0) return null;
    // The representative is usually an owner; a single-member company may hire a director.
    const reps: Person[] = [members[0]!];
    if (type.members[1] === 1 && type.prefix !== 'DOANH NGHIỆP TƯ NHÂN' && r.chance(0.2)) {
      const hired = pickPerson(taken);
      if (hired) reps[0] = hired;
    }
    if (type.prefix === 'CÔNG TY CỔ PHẦN' && r.chance(0.25) && members.length > 1) reps.push(members[1]!);
    if (type.prefix === 'CÔNG TY HỢP DANH') reps.splice(0, reps.length, ...members);

    const commune = r.chance(0.5) && reps[0]!.province.code === province.code ? reps[0]!.commune : r.pick(province.communes);
    const code = this.enterpriseCode(r, commune, codes);
    const brand = r.pick(BRAND_WORDS);
    let core = `${sector.vi} ${brand}`;
    if (names.has(`${type.prefix} ${core}`)) core = `${core} ${shortName(province.name).toUpperCase()}`;
    if (names.has(`${type.prefix} ${core}`)) core = `${core} ${names.size + 1}`;
    const name = `${type.prefix} ${core}`;
    names.add(name);
    const asciiBrand = toAscii(brand);

    const charterCapital = roundCapital(type.capital[0] * (type.capital[1] / type.capital[0]) ** r.next());
    const shares = splitShares(r, members.length);
    const lineCount = Math.min(sector.lines.length, r.int(1, 4));
    const lineStart = r.int(0, sector.lines.length - 1);
    const businessLines = Array.from({ length: lineCount }, (_, i) => {
      const line = sector.lines[(lineStart + i) % sector.lines.length]!;
      return { code: line.code, name: line.name, main: i === 0 };
    });
    let lastChanged: number | null = null;
    if (status === 'ACTIVE') lastChanged = r.chance(0.5) && registered < this.asOf - 60 ? r.int(registered + 30, this.asOf - 1) : null;
    else if (ended) lastChanged = r.int(registered + 365, this.asOf - 30);
    else lastChanged = r.int(Math.max(registered + 180, this.asOf - 730), this.asOf - 1);
    if (lastChanged !== null && lastChanged <= registered) lastChanged = null;
    const branches: EnterpriseRecord['branches'] = [];
    if (status === 'ACTIVE' && r.chance(0.15)) {
      const n = r.int(1, 3);
      for (let i = 1; i <= n; i++) {
        const where = r.pickWeighted(this.businessTable);
        const branchCommune = r.pick(where.communes);
        branches.push({
          branchCode: `${code}-${String(i).padStart(3, '0')}`,
          name: `CHI NHÁNH ${shortName(where.name).toUpperCase()} - ${name}`,
          address: this.addressIn(branchCommune, branchCommune.urban ? this.streetDetail(r) : `Cụm công nghiệp ${r.pick(HAMLET_NAMES)}`),
        });
      }
    }
    const rec: EnterpriseRecord = {
      enterpriseCode: code,
      name,
      foreignName: type.foreignSuffix ? `${asciiBrand} ${sector.en} ${type.foreignSuffix}` : null,
      shortName: type.shortSuffix ? `${asciiBrand} ${type.shortSuffix}` : null,
      type: type.name,
      status,
      registeredOn: formatDay(registered),
      lastChangedOn: lastChanged === null ? null : formatDay(lastChanged),
      headOffice: this.addressIn(commune, commune.urban ? this.streetDetail(r) : `${this.ruralDetail(r, province.region, ethnicityByName('Kinh'))}`),
      charterCapital,
      businessLines,
      legalRepresentatives: reps.map((p, i) => ({
        personalId: p.rec.personalId,
        fullName: p.rec.fullName,
        title: type.representativeTitles[Math.min(i, type.representativeTitles.length - 1)]!,
      })),
      members: members.map((p, i) => ({
        personalId: p.rec.personalId,
        fullName: p.rec.fullName,
        capitalContribution: Math.round((charterCapital * shares[i]!) / 10_000),
        sharePercent: shares[i]! / 100,
      })),
      branches,
    };
    return { rec, sector, registered, endMonth: status === 'ACTIVE' || lastChanged === null ? null : monthIndex(lastChanged) };
  }

  /** 10-digit code: tax-office prefix of the province, 7 digits, check digit; unique. */
  private enterpriseCode(r: Random, commune: Commune, codes: Set<string>): string {
    const prefix = FORMER_PROVINCE_BY_CODE.get(commune.formerProvinceCode)!.taxPrefix;
    for (;;) {
      const first9 = `${prefix}${String(r.int(0, 9_999_999)).padStart(7, '0')}`;
      const check = enterpriseCheckDigit(first9);
      if (check === null) continue;
      const code = `${first9}${check}`;
      if (codes.has(code)) continue;
      codes.add(code);
      return code;
    }
  }

  // --------------------------------------------------------- social insurance

  /** One 10-digit BHXH number per person: 2-digit province of first registration + 8 digits. */
  private insuranceNumberOf(r: Random, p: Person): string {
    const existing = this.insuranceNumbers.get(p.rec.personalId);
    if (existing) return existing;
    const prefix = p.province.code;
    const last = this.insuranceSerials.get(prefix);
    const serial = last === undefined ? r.int(0, 99_999) : last + r.int(1, 61);
    if (serial > 99_999_999) throw new Error(`Social insurance numbers exhausted for province ${prefix}.`);
    this.insuranceSerials.set(prefix, serial);
    const number = `${prefix}${String(serial).padStart(8, '0')}`;
    this.insuranceNumbers.set(p.rec.personalId, number);
    return number;
  }

  private buildSocialInsurance(r: Random): void {
    const sorted = [...this.enterprises].sort((a, b) => a.registered - b.registered);
    const regMonths = sorted.map((e) => monthIndex(e.registered));
    const memberOf = new Set<string>();
    for (const e of this.enterprises) for (const m of e.rec.members) memberOf.add(m.personalId);
    const pickEmployer = (month: number): EnterpriseInfo | null => {
      // Enterprises registered before that month (binary search on the sorted list).
      let lo = 0;
      let hi = regMonths.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (regMonths[mid]! <= month) lo = mid + 1;
        else hi = mid;
      }
      for (let attempt = 0; attempt < 4 && lo > 0; attempt++) {
        const e = sorted[r.int(0, lo - 1)]!;
        if (e.endMonth === null || e.endMonth > month + 2) return e;
      }
      return null;
    };
    for (const p of this.people) {
      const end = p.death ?? this.asOf;
      const age = ageOn(p.birth, end);
      if (age < 18) continue;
      const retireAge = RETIREMENT_AGE[p.rec.gender];
      let rate: number;
      if (p.death !== null) rate = 0.35;
      else if (age <= 22) rate = 0.2;
      else if (age < retireAge) rate = p.urban ? 0.62 : 0.4;
      else rate = 0.45;
      if (memberOf.has(p.rec.personalId)) rate += 0.2;
      if (!r.chance(rate)) continue;

      const retirement = monthIndex(addYears(p.birth, retireAge));
      let target: 'PARTICIPATING' | 'PAUSED' | 'LUMP_SUM_PAID' | 'RETIRED';
      let stop: number; // first month not contributed
      if (p.death !== null) {
        target = 'PAUSED';
        stop = Math.min(monthIndex(p.death) - r.int(0, 24), retirement);
        if (stop === retirement) target = 'RETIRED';
      } else if (age >= retireAge) {
        target = 'RETIRED';
        stop = retirement;
      } else {
        const u = r.next();
        target = u < 0.78 ? 'PARTICIPATING' : u < 0.93 ? 'PAUSED' : 'LUMP_SUM_PAID';
        stop = target === 'PARTICIPATING' ? this.asOfMonth + 1
          : target === 'PAUSED' ? this.asOfMonth - r.int(2, 30) : this.asOfMonth - r.int(13, 72);
      }
      const start = Math.max(FIRST_INSURANCE_MONTH, monthIndex(addYears(p.birth, r.int(18, 27))));
      if (stop - start < 3) continue;

      const periods: SocialInsuranceRecord['periods'] = [];
      let cursor = start;
      let open = false;
      while (cursor < stop) {
        const employer = r.chance(0.9) ? pickEmployer(cursor) : null;
        if (!employer && cursor < FIRST_VOLUNTARY_MONTH) {
          cursor += r.int(6, 18);
          continue;
        }
        let last = Math.min(cursor + r.int(6, 96) - 1, stop - 1);
        if (employer?.endMonth != null) last = Math.min(last, employer.endMonth);
        const reachesToday = last >= this.asOfMonth && target === 'PARTICIPATING';
        const year = Math.floor(cursor / 12);
        const inflation = 1.07 ** (year - 2026);
        const base = employer ? r.int(5_300, 38_000) : r.int(1_500, 8_000);
        periods.push({
          from: monthIndexToString(cursor),
          to: reachesToday ? null : monthIndexToString(Math.min(last, this.asOfMonth)),
          employerCode: employer ? employer.rec.enterpriseCode : null,
          employerName: employer ? employer.rec.name : 'Tham gia BHXH tự nguyện',
          salary: Math.max(300_000, Math.round((base * inflation) ) * 1000),
          position: employer ? r.pick(employer.sector.positions) : 'Lao động tự do',
        });
        if (reachesToday) {
          open = true;
          break;
        }
        cursor = last + 1 + (r.chance(0.5) ? 0 : r.int(1, 10));
      }
      if (periods.length === 0) continue;
      let months = 0;
      for (const period of periods) {
        const from = monthFromString(period.from);
        const to = period.to === null ? this.asOfMonth : monthFromString(period.to);
        months += to - from + 1;
      }
      let status: SocialInsuranceRecord['status'];
      if (open) status = 'PARTICIPATING';
      else if (target === 'RETIRED') status = months >= 180 ? 'RETIRED' : 'LUMP_SUM_PAID';
      else if (target === 'LUMP_SUM_PAID') status = 'LUMP_SUM_PAID';
      else status = 'PAUSED';
      this.socialInsurance.push({
        socialInsuranceNumber: this.insuranceNumberOf(r, p),
        personalId: p.rec.personalId,
        status,
        totalContributionMonths: months,
        periods,
      });
    }
  }

  // ---------------------------------------------------------- health insurance

  private buildHealthInsurance(r: Random): void {
    const participation = new Map(this.socialInsurance.map((s) => [s.personalId, s]));
    for (const p of this.people) {
      const age = ageOn(p.birth, p.death ?? this.asOf);
      const si = participation.get(p.rec.personalId);
      let group: string;
      let level: number;
      let validFrom: number;
      let validTo: number;
      if (p.death !== null) {
        if (!r.chance(0.5)) continue;
        group = si?.status === 'RETIRED' ? 'HT' : 'GD';
        level = group === 'HT' ? 3 : 4;
        validTo = p.death;
        validFrom = Math.max(p.birth, validTo - r.int(30, 330));
      } else if (age < 6) {
        // Children under 6 are covered free (TE) until the day before their 6th birthday; some newborns wait for the card.
        if (!r.chance(0.7)) continue;
        group = 'TE';
        level = 1;
        validFrom = p.birth + r.int(0, 60);
        if (validFrom > this.asOf) validFrom = p.birth;
        validTo = addYears(p.birth, 6) - 1;
      } else {
        const expired = r.chance(0.09);
        const employed = si?.status === 'PARTICIPATING' && si.periods[si.periods.length - 1]!.employerCode !== null;
        if (employed) [group, level] = ['DN', 4];
        else if (si?.status === 'RETIRED') [group, level] = ['HT', 3];
        else if (age < 18) [group, level] = ['HS', 4];
        else if (age <= 22 && r.chance(0.6)) [group, level] = ['SV', 4];
        else if (age >= 80) [group, level] = ['BT', 2];
        else if (p.ethnicity.name !== 'Kinh' && p.province.region !== 'RED_RIVER_DELTA' && r.chance(0.6)) [group, level] = ['DT', 2];
        else {
          const u = r.next();
          if (u < 0.14) continue; // no card: many self-employed adults do not buy household insurance
          [group, level] = u < 0.2 ? ['HN', 2] : u < 0.27 ? ['CN', 3] : ['GD', 4];
        }
        validTo = expired ? this.asOf - r.int(1, 500) : this.asOf + r.int(20, 400);
        validFrom = Math.max(p.birth, validTo - 364);
      }
      const number = this.insuranceNumberOf(r, p);
      const residence = p.rec.currentResidence ?? p.rec.permanentResidence;
      const provinceCode = residence?.provinceCode ?? p.province.code;
      this.healthInsurance.push({
        cardNumber: `${group}${level}${provinceCode}${number}`,
        personalId: p.rec.personalId,
        beneficiaryGroup: group,
        benefitLevel: level,
        provinceCode,
        registeredFacility: this.facility(r, residence, age),
        validFrom: formatDay(validFrom),
        validTo: formatDay(validTo),
      });
    }
    // A small world still has at least one expired card.
    if (!this.healthInsurance.some((c) => c.validTo < formatDay(this.asOf))) {
      const card = this.healthInsurance.find((c) => c.beneficiaryGroup === 'GD' || c.beneficiaryGroup === 'DN');
      if (card) {
        const validTo = this.asOf - r.int(10, 200);
        card.validTo = formatDay(validTo);
        card.validFrom = formatDay(Math.max(parseDay(this.byId.get(card.personalId)!.rec.dateOfBirth), validTo - 364));
      }
    }
  }

  private facility(r: Random, residence: AddressRecord | null, age: number): string {
    if (!residence) return 'Trạm Y tế';
    const commune = shortName(residence.commune);
    const province = shortName(residence.province);
    const u = r.next();
    if (u < (age < 18 ? 0.6 : 0.35)) return `Trạm Y tế ${residence.commune}`;
    if (u < 0.7) return `Trung tâm Y tế khu vực ${commune}`;
    return residence.province.startsWith('Thành phố') ? `Bệnh viện Đa khoa ${province}` : `Bệnh viện Đa khoa tỉnh ${province}`;
  }

  // ---------------------------------------------------------------------- land

  private buildLand(r: Random): void {
    const parcelIds = new Set<string>();
    const serials = new Set<string>();
    for (const h of this.households) {
      const head = this.byId.get(h.headId);
      if (!head || head.death !== null) continue;
      const commune = COMMUNE_BY_CODE.get(h.address.communeCode)!;
      const spouse = head.rec.spouseId ? this.byId.get(head.rec.spouseId) : undefined;
      const livingSpouse = spouse && spouse.death === null ? spouse : undefined;
      const holdersFor = (): Person[] => (livingSpouse && r.chance(0.45) ? [head, livingSpouse] : [head]);
      if (r.chance(commune.urban ? 0.38 : 0.68)) {
        this.addParcel(r, commune, LAND_USES[commune.urban ? 'ODT' : 'ONT']!, holdersFor(), parcelIds, serials, h.address.detail);
      }
      if (!commune.urban && r.chance(0.45)) {
        const region = PROVINCE_BY_CODE.get(commune.provinceCode)!.region;
        const use = region === 'MEKONG_DELTA' ? (r.chance(0.25) ? 'NTS' : 'LUC')
          : region === 'CENTRAL_HIGHLANDS' || region === 'SOUTHEAST' ? 'CLN'
            : region === 'NORTHERN_MOUNTAINS' ? (r.chance(0.5) ? 'BHK' : 'CLN') : 'LUC';
        this.addParcel(r, commune, LAND_USES[use]!, holdersFor(), parcelIds, serials, null);
      }
    }
    for (const e of this.enterprises) {
      if (e.rec.status === 'DISSOLVED' || e.rec.status === 'REVOKED' || !r.chance(0.25)) continue;
      const commune = COMMUNE_BY_CODE.get(e.rec.headOffice.communeCode)!;
      this.addParcel(r, commune, LAND_USES[e.sector.landUse]!, e, parcelIds, serials, e.rec.headOffice.detail);
    }
    // A small world still has a parcel under a mortgage in force.
    if (!this.parcels.some((p) => p.mortgages.some((m) => m.releasedOn === null))) {
      const parcel = this.parcels.find((p) => p.certificate !== null);
      if (parcel) {
        const from = parseDay(parcel.certificate!.issuedOn) + 1;
        parcel.mortgages.push({ mortgagee: r.pick(BANKS), registeredOn: formatDay(r.int(Math.min(from, this.asOf - 1), this.asOf - 1)), releasedOn: null });
      }
    }
  }

  private addParcel(
    r: Random, commune: Commune, use: LandUse, holders: Person[] | EnterpriseInfo,
    parcelIds: Set<string>, serials: Set<string>, detail: string | null,
  ): void {
    let parcelId: string;
    let mapSheet: number;
    let parcelNumber: number;
    do {
      mapSheet = r.int(1, 60);
      parcelNumber = r.int(1, 1500);
      parcelId = `${commune.code}-${mapSheet}-${parcelNumber}`;
    } while (parcelIds.has(parcelId));
    parcelIds.add(parcelId);

    const isEnterprise = !Array.isArray(holders);
    // Rights are acquired once the holder exists: adulthood for people, registration for enterprises.
    const earliest = Math.max(
      dayOf(1995, 1, 1),
      isEnterprise ? holders.registered + 30 : Math.max(...holders.map((p) => addYears(p.birth, 18))),
    );
    const acquired = earliest < this.asOf - 10 ? r.int(earliest, this.asOf - 10) : this.asOf - 10;
    const certified = earliest < this.asOf - 10 && r.chance(0.92);
    let certificate: LandParcelRecord['certificate'] = null;
    if (certified) {
      const issued = Math.min(this.asOf - 1, acquired + r.int(30, 400));
      const year = yearOf(issued);
      // Certificate series change with each national form: B… until 2013, C… to 2018, D… to mid-2025, A… after.
      const series = year < 2014 ? 'B' : year < 2019 ? 'C' : issued < MERGER_DAY ? 'D' : 'A';
      let serial: string;
      do serial = `${series}${String.fromCharCode(65 + r.int(0, 11))} ${String(r.int(0, 999_999)).padStart(6, '0')}`;
      while (serials.has(serial));
      serials.add(serial);
      const former = FORMER_PROVINCE_BY_CODE.get(commune.formerProvinceCode)!;
      const province = PROVINCE_BY_CODE.get(commune.provinceCode)!;
      certificate = {
        serial,
        bookEntryNumber: `${year < 2014 ? 'CH' : 'CS'} ${String(r.int(1, 99_999)).padStart(5, '0')}`,
        issuedOn: formatDay(issued),
        issuedBy: issued >= MERGER_DAY ? `Sở Nông nghiệp và Môi trường ${lowerFirst(province.name)}` : `Sở Tài nguyên và Môi trường ${lowerFirst(former.name)}`,
      };
    }
    const mortgages: LandParcelRecord['mortgages'] = [];
    if (certificate && r.chance(0.2)) {
      let from = parseDay(certificate.issuedOn) + r.int(30, 1500);
      const n = r.int(1, 2);
      for (let i = 0; i < n && from < this.asOf - 1; i++) {
        const release = r.chance(i < n - 1 ? 1 : 0.45) ? from + r.int(180, 2000) : null;
        const released = release !== null && release < this.asOf ? release : null;
        mortgages.push({ mortgagee: r.pick(BANKS), registeredOn: formatDay(from), releasedOn: released === null ? null : formatDay(released) });
        if (released === null) break;
        from = released + r.int(10, 400);
      }
    }
    const area = Math.round(r.int(use.area[0] * 10, use.area[1] * 10)) / 10;
    const shares = isEnterprise ? [10_000] : splitSharesEqual(holders.length);
    this.parcels.push({
      parcelId,
      mapSheetNumber: mapSheet,
      parcelNumber,
      address: this.addressIn(commune, detail),
      area,
      landUseCode: use.code,
      landUsePurpose: use.purpose,
      usageTerm: use.termYears === null ? 'Lâu dài' : formatDay(addYears(acquired, use.termYears)),
      origin: r.pick(use.origins),
      holders: isEnterprise
        ? [{ kind: 'ENTERPRISE', enterpriseCode: holders.rec.enterpriseCode, name: holders.rec.name, sharePercent: 100 }]
        : holders.map((p, i) => ({ kind: 'CITIZEN' as const, personalId: p.rec.personalId, name: p.rec.fullName, sharePercent: shares[i]! / 100 })),
      certificate,
      mortgages,
    });
  }
}

const CHILD_COUNTS = weighted<number>([[1, 25], [2, 45], [3, 22], [4, 8]]);

/**
 * Close kin of a child who gets a new parent P. P may not be in `people` (the child,
 * spouse and co-parents, their parents, the child's grandparents), and P's parents
 * may not be in `parents` (P would be a sibling of the child, of a partner or of the
 * other parent, or a child of the other parent).
 */
interface Kin {
  people: Person[];
  parents: Person[];
}

/** The people grouped by birth year, oldest first (generation order within a year). */
function sortedByBirthYear(people: readonly Person[]): Person[] {
  if (people.length === 0) return [];
  let minYear = Infinity;
  let maxYear = -Infinity;
  for (const p of people) {
    minYear = Math.min(minYear, p.birthYear);
    maxYear = Math.max(maxYear, p.birthYear);
  }
  // A counting sort: stable, linear.
  const starts = new Int32Array(Math.max(0, maxYear - minYear) + 2);
  for (const p of people) starts[p.birthYear - minYear + 1]!++;
  for (let y = 1; y < starts.length; y++) starts[y]! += starts[y - 1]!;
  const sorted = new Array<Person>(people.length);
  for (const p of people) sorted[starts[p.birthYear - minYear]!++] = p;
  return sorted;
}

/** People in order of birth year, with where each year starts, so an age range is an index range. */
class BirthList {
  readonly people: Person[] = [];
  private firstOfYear = new Int32Array(0);
  private minYear = 0;

  /** People must be added in order of birth year. */
  add(p: Person): void {
    this.people.push(p);
  }

  /** Builds the year table once every person was added. */
  seal(): void {
    const n = this.people.length;
    if (n === 0) return;
    this.minYear = this.people[0]!.birthYear;
    const span = this.people[n - 1]!.birthYear - this.minYear + 1;
    this.firstOfYear = new Int32Array(span + 1).fill(n);
    for (let i = n - 1; i >= 0; i--) this.firstOfYear[this.people[i]!.birthYear - this.minYear] = i;
    for (let y = span - 1; y >= 0; y--) this.firstOfYear[y] = Math.min(this.firstOfYear[y]!, this.firstOfYear[y + 1]!);
  }

  /** Index of the first person born in `year` or later. */
  start(year: number): number {
    const y = year - this.minYear;
    if (y <= 0) return 0;
    return y >= this.firstOfYear.length ? this.people.length : this.firstOfYear[y]!;
  }
}

/**
 * A parent for a child, out of `list`: first random picks at ages drawn from `ages`,
 * then, when those miss (sparse lines, old children), every candidate born in the
 * plausible years of a small range, or random ones of a large range. `accept` checks
 * the exact age gap and every other rule.
 */
function pickParent(r: Random, list: BirthList, child: Person, ages: WeightedTable<number>, accept: (p: Person) => boolean): Person | null {
  const people = list.people;
  // A parent born in year Y is childYear - Y or one year less at the birth.
  const lo = list.start(child.birthYear - PARENT_AGE.max - 1);
  const hi = list.start(child.birthYear - PARENT_AGE.min + 1);
  const size = hi - lo;
  if (size <= 0) return null;
  for (let attempt = 0; attempt < 12; attempt++) {
    const year = child.birthYear - r.pickWeighted(ages);
    const from = list.start(year);
    const to = list.start(year + 1);
    if (from >= to) continue;
    const p = people[r.int(from, to - 1)]!;
    if (accept(p)) return p;
  }
  if (size <= 48) {
    const offset = r.int(0, size - 1);
    for (let i = 0; i < size; i++) {
      const p = people[lo + ((offset + i) % size)]!;
      if (accept(p)) return p;
    }
    return null;
  }
  for (let attempt = 0; attempt < 24; attempt++) {
    const p = people[r.int(lo, hi - 1)]!;
    if (accept(p)) return p;
  }
  return null;
}

/** People by family line: ethnicity, then family name (the two things a child inherits from the line). */
type LineIndex = Map<Ethnicity, Map<string, BirthList>>;

function lineMap(index: LineIndex, ethnicity: Ethnicity): Map<string, BirthList> {
  let byName = index.get(ethnicity);
  if (!byName) index.set(ethnicity, (byName = new Map()));
  return byName;
}

function listOf(index: Map<string, BirthList>, key: string): BirthList {
  let list = index.get(key);
  if (!list) index.set(key, (list = new BirthList()));
  return list;
}

function monthFromString(yyyyMM: string): number {
  return Number(yyyyMM.slice(0, 4)) * 12 + Number(yyyyMM.slice(5, 7)) - 1;
}

/** Random shares in basis points (1/100 of a percent) summing to exactly 10,000. */
function splitShares(r: Random, n: number): number[] {
  if (n <= 1) return [10_000];
  const weights = Array.from({ length: n }, (_, i) => (i === 0 ? 2 : 1) * (0.3 + r.next()));
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.floor((w / total) * 10_000));
  shares[0]! += 10_000 - shares.reduce((a, b) => a + b, 0);
  return shares;
}

/** Charter capital rounded to two significant digits, as registered amounts usually are. */
function roundCapital(amount: number): number {
  const unit = 10 ** Math.max(6, Math.floor(Math.log10(amount)) - 1);
  return Math.round(amount / unit) * unit;
}

function splitSharesEqual(n: number): number[] {
  const each = Math.floor(10_000 / n);
  const shares = Array.from({ length: n }, () => each);
  shares[0]! += 10_000 - each * n;
  return shares;
}

/**
 * Builds the whole synthetic world. Deterministic: the same options always give
 * deep-equal results. 100,000 citizens take a few seconds.
 */
export function generateWorld(opts: GenerateOptions = {}): World {
  const seed = opts.seed ?? DEFAULT_SEED;
  const citizens = opts.citizens ?? DEFAULT_CITIZENS;
  const asOf = opts.asOf ?? DEFAULT_AS_OF;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new Error(`Invalid seed ${String(seed)}: expected an integer from 0 to 4294967295, e.g. ${DEFAULT_SEED}.`);
  }
  if (!Number.isInteger(citizens) || citizens < 1 || citizens > MAX_CITIZENS) {
    throw new Error(`Invalid number of citizens ${String(citizens)}: expected an integer from 1 to ${MAX_CITIZENS.toLocaleString('en')}.`);
  }
  const asOfDay = parseDay(asOf);
  if (asOfDay < MERGER_DAY || yearOf(asOfDay) > 2090) {
    throw new Error(`Invalid asOf ${asOf}: the world uses the administrative units in force since 2025-07-01, so asOf must be from then to 2090.`);
  }
  return new WorldBuilder(seed, citizens, asOf).build();
}
