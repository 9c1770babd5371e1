/**
 * Parents phase (population registry): households only link the parents who live
 * (or died) with their children, so this pass links most citizens still without
 * recorded parents to existing older citizens, as the population database records
 * them, without ever creating a kinship loop.
 */
import { MIN_BIRTH_SPACING_DAYS, PARENT_AGE } from '../check.js';
import type { Ethnicity } from '../names.js';
import { weighted, type Random, type WeightedTable } from '../random.js';
import type { Gender } from '../types.js';
import { linkParent, opposite } from './population.js';
import type { Person, WorldState } from './state.js';

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

/**
 * Households only link the parents who live (or died) with their children, so most
 * adults would have no recorded parents, unlike the real population database. This
 * pass links them to existing older citizens: a married couple whose line (father's,
 * or mother's for matrilineal groups) carries the child's family name and ethnicity
 * when one fits, else a father and a mother picked separately. Candidates are drawn
 * from buckets by birth year at plausible parent ages, so the pass stays linear.
 */
export function linkMissingParents(s: WorldState, r: Random): void {
  // Candidate lists in order of birth year (filled from the people sorted by year), so the
  // people of plausible parent ages are an index range. Keys are objects and interned
  // strings, not concatenations, to keep 100,000 citizens fast.
  const byGender: Record<Gender, BirthList> = { MALE: new BirthList(), FEMALE: new BirthList() };
  const lines: Record<Gender, LineIndex> = { MALE: new Map(), FEMALE: new Map() }; // people of each line
  const names: Record<Gender, Map<string, BirthList>> = { MALE: new Map(), FEMALE: new Map() }; // any ethnicity
  const wives: LineIndex = new Map(); // by the line of the couple's children; the husband is her spouse
  for (const p of sortedByBirthYear(s.people)) {
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
  let child = s.people[0]!;
  let kin: Kin = { people: [], parents: [] };
  const fits = (p: Person): boolean => canParent(p, child, kin);
  const coupleFits = (wife: Person): boolean => fits(wife) && fits(wife.spouse!);
  const pick = (list: BirthList | undefined, gender: Gender, test: (p: Person) => boolean): Person | null =>
    list ? pickParent(r, list, child, PARENT_AGES[gender], test) : null;
  /** The parent who passes on the family name: same line, else same name in another ethnic group (mixed marriages). */
  const pickLine = (gender: Gender): Person | null =>
    pick(lines[gender].get(child.ethnicity)?.get(child.familyName), gender, fits)
    ?? pick(names[gender].get(child.familyName), gender, fits);

  for (const c of s.people) {
    if ((c.father !== null && c.mother !== null) || !r.chance(PARENT_LINK_RATE)) continue;
    child = c;
    kin = kinOf(c);
    // Vietnamese children carry their father's family name; Ê Đê and Gia Rai children their mother's.
    const lineGender: Gender = c.ethnicity.style === 'HIGHLANDS' ? 'FEMALE' : 'MALE';
    if (c.father === null && c.mother === null) {
      const wife = pick(wives.get(c.ethnicity)?.get(c.familyName), 'FEMALE', coupleFits);
      if (wife) {
        linkParent(wife.spouse!, c);
        linkParent(wife, c);
        continue;
      }
      const first = pickLine(lineGender);
      if (first) {
        linkParent(first, c);
        kin = kinOf(c);
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
    if (parent) linkParent(parent, c);
  }
}

/**
 * Whether `p` may be recorded as `child`'s (missing) parent: right age gap, alive at
 * the birth, room for one more child spaced from the others, and no close kinship
 * that would make spouses, co-parents or a parent and child also siblings or parents.
 */
function canParent(p: Person, child: Person, kin: Kin): boolean {
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
function kinOf(child: Person): Kin {
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
