/**
 * Population phase: households of every shape (single, couple, nuclear, single
 * parent, three generations), with each member's citizen record, spouse and parent
 * links, and the deceased parents of household heads. Every family link is made
 * between people who exist; the phase stops when the world holds `target` citizens.
 */
import { makePersonalId } from '../../../lib/identifiers.js';
import {
  FORMER_PROVINCES,
  FORMER_PROVINCE_BY_CODE,
  PROVINCE_BY_CODE,
  PROVINCES,
  communesOfFormerProvince,
  type Commune,
  type Region,
} from '../admin-units.js';
import { PARENT_AGE } from '../check.js';
import { addYears, ageOn, formatDay, yearOf } from '../dates.js';
import { ethnicityByName, ethnicityFor, familyNameFor, fullNameFor, religionFor, type Ethnicity } from '../names.js';
import { weighted, type Random } from '../random.js';
import type { AddressRecord, CitizenRecord, Gender, HouseholdRecord } from '../types.js';
import { addressIn, hometownAddressWithDetail, ruralDetail, streetDetail } from './places.js';
import { EARLIEST_BIRTH, isFull, type Person, type WorldState } from './state.js';

type Shape = 'single' | 'couple' | 'nuclear' | 'singleParent' | 'threeGenDown' | 'threeGenUp';
const SHAPES = weighted<Shape>([
  ['single', 13], ['couple', 13], ['nuclear', 48], ['singleParent', 7], ['threeGenDown', 10], ['threeGenUp', 9],
]);

const CHILD_COUNTS = weighted<number>([[1, 25], [2, 45], [3, 22], [4, 8]]);

/** Where households are founded: provinces weighted by population. */
const PROVINCE_TABLE = weighted(PROVINCES.map((p) => [p, p.populationMillions] as const));

const SPOUSE_RELATION: Record<Gender, string> = { MALE: 'Chồng', FEMALE: 'Vợ' };
const PARENT_RELATION: Record<Gender, string> = { MALE: 'Bố', FEMALE: 'Mẹ' };
const CHILD_IN_LAW_RELATION: Record<Gender, string> = { MALE: 'Con rể', FEMALE: 'Con dâu' };

export function opposite(g: Gender): Gender {
  return g === 'MALE' ? 'FEMALE' : 'MALE';
}

/** Founds households until the world holds its target number of citizens. */
export function buildPopulation(s: WorldState, r: Random): void {
  while (!isFull(s)) buildHousehold(s, r);
}

/** A birth day giving an age in [minAge, maxAge] on asOf. */
function birthForAge(s: WorldState, r: Random, minAge: number, maxAge: number): number {
  return r.int(addYears(s.asOf, -(maxAge + 1)) + 1, addYears(s.asOf, -minAge));
}

function hometownIn(s: WorldState, r: Random, formerProvince: string): AddressRecord {
  const commune = r.pick(communesOfFormerProvince(formerProvince));
  let address = s.hometowns.get(commune.code);
  if (!address) {
    address = addressIn(commune, null);
    s.hometowns.set(commune.code, address);
  }
  return address;
}

function nextPersonalId(s: WorldState, r: Random, formerProvince: string, gender: Gender, birthYear: number): string {
  const prefix = makePersonalId(formerProvince, gender, birthYear, 0).slice(0, 6);
  const last = s.idSerials.get(prefix);
  // Random strides keep serials unique without a lookup while not looking sequential.
  const serial = last === undefined ? r.int(0, 4999) : last + r.int(1, 37);
  if (serial > 999_999) throw new Error(`Personal ID serials exhausted for prefix ${prefix}: lower the number of citizens.`);
  s.idSerials.set(prefix, serial);
  return makePersonalId(formerProvince, gender, birthYear, serial);
}

function newPerson(
  s: WorldState, r: Random,
  o: {
    gender: Gender; birth: number; familyName: string; ethnicity: Ethnicity; religion: string | null;
    formerProvince: string; hometown: AddressRecord; commune: Commune; death?: number | null;
  },
): Person | null {
  if (isFull(s)) return null;
  const birthYear = yearOf(o.birth);
  const personalId = nextPersonalId(s, r, o.formerProvince, o.gender, birthYear);
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
    phone: null,
    email: null,
  };
  const person: Person = {
    rec, birth: o.birth, birthYear, birthMonthDay: Number(rec.dateOfBirth.slice(5, 7)) * 100 + Number(rec.dateOfBirth.slice(8, 10)),
    death, spouse: null, father: null, mother: null, children: [], familyName: o.familyName, ethnicity: o.ethnicity,
    province: PROVINCE_BY_CODE.get(o.commune.provinceCode)!, commune: o.commune, urban: o.commune.urban,
  };
  s.people.push(person);
  s.byId.set(personalId, person);
  return person;
}

function marry(a: Person, b: Person, status: 'MARRIED' = 'MARRIED'): void {
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

export function linkParent(parent: Person, child: Person): void {
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

function join(household: HouseholdRecord, person: Person, relation: string): void {
  household.members.push({ personalId: person.rec.personalId, relationToHead: relation });
  person.rec.householdId = household.householdId;
  person.rec.relationToHouseholdHead = relation;
  person.rec.permanentResidence = household.address;
  person.rec.currentResidence = household.address;
}

/** Where someone living in `commune` was registered at birth: mostly there, sometimes elsewhere (migrants). */
function birthProvince(r: Random, commune: Commune, stayRate: number): string {
  return r.chance(stayRate) ? commune.formerProvinceCode : r.pick(FORMER_PROVINCES).code;
}

/** An adult founding a family line: own family name, birth province, hometown. */
function founder(
  s: WorldState, r: Random, commune: Commune, region: Region, gender: Gender, birth: number, ethnicity: Ethnicity,
  religion: string | null, death: number | null = null,
): Person | null {
  const formerProvince = birthProvince(r, commune, 0.8);
  const homeRegion = PROVINCE_BY_CODE.get(FORMER_PROVINCE_BY_CODE.get(formerProvince)!.mergedInto)!.region;
  return newPerson(s, r, {
    gender, birth, ethnicity, religion, formerProvince, commune, death,
    familyName: familyNameFor(r, ethnicity, formerProvince === commune.formerProvinceCode ? region : homeRegion),
    hometown: hometownIn(s, r, formerProvince),
  });
}

/** A child of the given parents (either may be missing), born in the household's commune. */
function child(s: WorldState, r: Random, commune: Commune, birth: number, father: Person | null, mother: Person | null, religion: string | null): Person | null {
  const lineParent = father ?? mother!;
  // Ê Đê and Gia Rai are matrilineal: children carry their mother's family name.
  const matrilineal = mother !== null && mother.ethnicity.style === 'HIGHLANDS';
  const namer = matrilineal ? mother : lineParent;
  const gender: Gender = r.chance(0.512) ? 'MALE' : 'FEMALE';
  const person = newPerson(s, r, {
    gender, birth, religion, commune,
    ethnicity: lineParent.ethnicity,
    familyName: namer.familyName,
    formerProvince: birthProvince(r, commune, 0.93),
    hometown: lineParent.rec.hometown,
  });
  if (!person) return null;
  if (father) linkParent(father, person);
  if (mother) linkParent(mother, person);
  return person;
}

/**
 * Children of a mother born between her 19th and 42nd year, spaced 1.5 to 5 years, none after asOf,
 * none once the father is past PARENT_AGE.max, none after `until` (a parent's death).
 */
function childrenBirths(
  s: WorldState, r: Random, motherBirth: number, count: number, maxAge = 30, fatherBirth?: number, until = Infinity,
): number[] {
  const births: number[] = [];
  let next = r.int(addYears(motherBirth, 19), addYears(motherBirth, 32));
  // A younger husband postpones the first child until he is an adult too.
  if (fatherBirth !== undefined) next = Math.max(next, addYears(fatherBirth, 18) + r.int(0, 3 * 365));
  const last = Math.min(s.asOf - 1, addYears(motherBirth, 42), until,
    fatherBirth === undefined ? Infinity : addYears(fatherBirth, PARENT_AGE.max));
  const earliestAtHome = addYears(s.asOf, -maxAge); // older children have moved out
  for (let i = 0; i < count; i++) {
    if (next > last) break;
    if (next >= earliestAtHome) births.push(next);
    next += r.int(540, 1800);
  }
  return births;
}

function childCount(r: Random): number {
  return r.pickWeighted(CHILD_COUNTS);
}

function deathBetween(s: WorldState, r: Random, from: number, birth: number): number | null {
  const lo = Math.max(from, addYears(birth, 1));
  const hi = Math.min(s.asOf - 1, addYears(birth, 100));
  return lo <= hi ? r.int(lo, hi) : null;
}

function newHousehold(s: WorldState, r: Random, commune: Commune, region: Region, ethnicity: Ethnicity): HouseholdRecord {
  const serial = (s.householdSerials.get(commune.code) ?? 0) + 1;
  s.householdSerials.set(commune.code, serial);
  const detail = commune.urban ? streetDetail(r) : ruralDetail(r, region, ethnicity);
  const household: HouseholdRecord = {
    householdId: `HH-${commune.code}-${String(serial).padStart(6, '0')}`,
    headId: '',
    address: addressIn(commune, detail),
    members: [],
  };
  s.households.push(household);
  return household;
}

function buildHousehold(s: WorldState, r: Random): void {
  const province = r.pickWeighted(PROVINCE_TABLE);
  const commune = r.pick(province.communes);
  const region = province.region;
  const ethnicity = ethnicityFor(r, region);
  const religion = religionFor(r);
  const shape = r.pickWeighted(SHAPES);
  const household = newHousehold(s, r, commune, region, ethnicity);
  const setHead = (p: Person): void => {
    household.headId = p.rec.personalId;
    join(household, p, 'Chủ hộ');
  };
  /** A married couple; the husband heads the household more often than not. */
  const couple = (minAge: number, maxAge: number): { husband: Person; wife: Person | null; head: Person } | null => {
    const husbandBirth = birthForAge(s, r, minAge, maxAge);
    const wifeBirth = Math.min(husbandBirth + r.int(-2 * 365, 7 * 365), addYears(s.asOf, -18));
    const husband = founder(s, r, commune, region, 'MALE', husbandBirth, ethnicity, religion);
    if (!husband) return null;
    const wifeEthnicity = r.chance(0.93) ? ethnicity : ethnicityByName('Kinh');
    const wife = founder(s, r, commune, region, 'FEMALE', wifeBirth, wifeEthnicity, religion);
    const head = wife && r.chance(0.22) ? wife : husband;
    setHead(head);
    if (wife) {
      marry(husband, wife);
      join(household, head === husband ? wife : husband, SPOUSE_RELATION[(head === husband ? wife : husband).rec.gender]);
    }
    return { husband, wife, head };
  };
  /** Children of the couple; `motherBirth` paces the births even when the mother is not recorded. */
  const addChildren = (father: Person | null, mother: Person | null, motherBirth: number, count: number, relation: string): Person[] => {
    const kids: Person[] = [];
    // Nobody is born after a parent's death (posthumous births are left out for simplicity).
    const until = Math.min(father?.death ?? Infinity, mother?.death ?? Infinity);
    for (const birth of childrenBirths(s, r, motherBirth, count, 30, father?.birth, until)) {
      const kid = child(s, r, commune, birth, father, mother, religion);
      if (!kid) break;
      join(household, kid, relation);
      kids.push(kid);
    }
    return kids;
  };
  /** Parents of the head who died before asOf: real records, linked, outside any household. */
  const deceasedParents = (head: Person): void => {
    if (!r.chance(0.45)) return;
    const fatherBirth = head.birth - r.int(22 * 365, 38 * 365);
    if (fatherBirth < EARLIEST_BIRTH) return;
    const death = deathBetween(s, r, Math.max(head.birth + 365, addYears(fatherBirth, 45)), fatherBirth);
    if (death === null) return;
    // The head inherited the family name (the father's, the mother's in matrilineal groups) and birth province.
    const matrilineal = head.ethnicity.style === 'HIGHLANDS';
    const formerProvince = head.rec.personalId.slice(0, 3);
    const father = newPerson(s, r, {
      gender: 'MALE', birth: fatherBirth, ethnicity: head.ethnicity, religion, commune, death, formerProvince,
      familyName: matrilineal ? familyNameFor(r, head.ethnicity, region) : head.familyName, hometown: head.rec.hometown,
    });
    if (!father) return;
    // Married at death, whether or not the mother's record exists.
    father.rec.maritalStatus = 'MARRIED';
    father.rec.permanentResidence = hometownAddressWithDetail(r, head.rec.hometown, region, ethnicity);
    linkParent(father, head);
    // Often the mother died too; her record is kept, married to the father.
    if (!r.chance(0.7)) return;
    const motherBirth = Math.min(Math.max(fatherBirth + r.int(-2 * 365, 6 * 365), addYears(head.birth, -42)), addYears(head.birth, -19));
    if (motherBirth < EARLIEST_BIRTH) return;
    const motherDeath = deathBetween(s, r, Math.max(head.birth + 365, addYears(motherBirth, 45)), motherBirth);
    if (motherDeath === null) return;
    const mother = newPerson(s, r, {
      gender: 'FEMALE', birth: motherBirth, ethnicity: head.ethnicity, religion, commune, death: motherDeath, formerProvince,
      familyName: matrilineal ? head.familyName : familyNameFor(r, head.ethnicity, region), hometown: hometownIn(s, r, formerProvince),
    });
    if (!mother) return;
    mother.rec.permanentResidence = father.rec.permanentResidence;
    marry(father, mother);
    linkParent(mother, head);
  };

  switch (shape) {
    case 'single': {
      const gender: Gender = r.chance(0.5) ? 'MALE' : 'FEMALE';
      const birth = birthForAge(s, r, 19, 88);
      const head = founder(s, r, commune, region, gender, birth, ethnicity, religion);
      if (!head) return;
      setHead(head);
      const age = ageOn(birth, s.asOf);
      const u = r.next();
      if (age >= 30 && u < (age >= 60 ? 0.6 : 0.25)) {
        const spouseBirth = Math.max(EARLIEST_BIRTH, birth + r.int(-6 * 365, 4 * 365));
        const death = deathBetween(s, r, addYears(Math.max(birth, spouseBirth), 25), spouseBirth);
        const spouse = death === null ? null : founder(s, r, commune, region, opposite(gender), spouseBirth, ethnicity, religion, death);
        if (spouse) {
          spouse.rec.permanentResidence = household.address;
          marry(head, spouse);
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
      addChildren(c.husband, c.wife, c.wife.birth, childCount(r), 'Con');
      if (ageOn(c.head.birth, s.asOf) >= 35) deceasedParents(c.husband);
      break;
    }
    case 'singleParent': {
      const gender: Gender = r.chance(0.8) ? 'FEMALE' : 'MALE';
      const birth = birthForAge(s, r, 25, 55);
      const head = founder(s, r, commune, region, gender, birth, ethnicity, religion);
      if (!head) return;
      setHead(head);
      const widowed = r.chance(0.35);
      let other: Person | null = null;
      if (widowed) {
        const otherBirth = birth + r.int(-5 * 365, 3 * 365);
        const death = deathBetween(s, r, addYears(birth, 30), otherBirth);
        other = death === null ? null : founder(s, r, commune, region, opposite(gender), otherBirth, ethnicity, religion, death);
        if (other) {
          other.rec.permanentResidence = household.address;
          marry(head, other);
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
      const births = childrenBirths(s, r, c.wife.birth, childCount(r) + 1, 45, c.husband.birth);
      const adults = births.filter((b) => ageOn(b, s.asOf) >= 23);
      if (adults.length === 0) break;
      const heir = child(s, r, commune, adults[0]!, c.husband, c.wife, religion);
      if (!heir) break;
      join(household, heir, 'Con');
      // Husbands are usually a few years older than their wives.
      const gap = r.int(-2 * 365, 6 * 365);
      const inLawBirth = Math.min(heir.rec.gender === 'MALE' ? heir.birth + gap : heir.birth - gap, addYears(s.asOf, -20));
      const inLaw = founder(s, r, commune, region, opposite(heir.rec.gender), inLawBirth, ethnicity, religion);
      if (!inLaw) break;
      marry(heir, inLaw);
      join(household, inLaw, CHILD_IN_LAW_RELATION[inLaw.rec.gender]);
      const [youngFather, youngMother] = heir.rec.gender === 'MALE' ? [heir, inLaw] : [inLaw, heir];
      addChildren(youngFather, youngMother, youngMother.birth, childCount(r), 'Cháu');
      break;
    }
    case 'threeGenUp': {
      // A couple with children takes in the head's elderly parent(s).
      const headBirth = birthForAge(s, r, 30, 52);
      const fatherBirth = headBirth - r.int(23 * 365, 36 * 365);
      const motherBirth = Math.min(fatherBirth + r.int(-2 * 365, 6 * 365), headBirth - 19 * 365);
      const fatherDead = r.chance(0.3);
      const fatherDeath = fatherDead ? deathBetween(s, r, headBirth + 20 * 365, fatherBirth) : null;
      const grandfather = founder(s, r, commune, region, 'MALE', fatherBirth, ethnicity, religion, fatherDeath);
      if (!grandfather) return;
      const grandmother = founder(s, r, commune, region, 'FEMALE', motherBirth, ethnicity, religion);
      if (!grandmother) {
        if (fatherDeath === null) setHead(grandfather);
        else grandfather.rec.permanentResidence = household.address;
        break;
      }
      marry(grandfather, grandmother);
      const head = child(s, r, commune, headBirth, grandfather, grandmother, religion);
      if (!head) {
        setHead(grandmother);
        if (!fatherDead) join(household, grandfather, 'Chồng');
        break;
      }
      setHead(head);
      if (fatherDead) grandfather.rec.permanentResidence = household.address;
      else join(household, grandfather, PARENT_RELATION.MALE);
      join(household, grandmother, PARENT_RELATION.FEMALE);
      const spouseBirth = Math.min(headBirth + r.int(-3 * 365, 6 * 365) * (head.rec.gender === 'MALE' ? 1 : -1), addYears(s.asOf, -20));
      const spouse = founder(s, r, commune, region, opposite(head.rec.gender), spouseBirth, ethnicity, religion);
      if (!spouse) break;
      marry(head, spouse);
      join(household, spouse, SPOUSE_RELATION[spouse.rec.gender]);
      const [father, mother] = head.rec.gender === 'MALE' ? [head, spouse] : [spouse, head];
      addChildren(father, mother, mother.birth, childCount(r), 'Con');
      break;
    }
  }
  if (household.members.length === 0) {
    // Capacity ran out before a head could be created: drop the empty household.
    s.households.pop();
  }
}
