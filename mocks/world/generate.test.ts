import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { personalIdMatches } from '../../lib/identifiers.js';
import { checkWorldConsistency } from './check.js';
import {
  ageOf,
  ageOn,
  findChildOfRegisteredMarriage,
  findChildUnder6,
  findCitizen,
  findCitizenWithoutCivilRecord,
  findCitizenWithResult,
  findDeceasedWithDeathNotice,
  findParentWithBirthNotice,
  findCitizenWithoutInsurance,
  findCitizenWithoutLand,
  findDeceasedCitizen,
  findEnterprise,
  findEnterpriseParcel,
  findExpiredHealthCard,
  findFullProfileCitizen,
  findJointParcel,
  findMarriedWithChildren,
  findMortgagedParcel,
  findTemporaryResident,
  isMortgaged,
} from './find.js';
import { generateWorld } from './generate.js';
import { indexWorld } from './index-world.js';
import type { World } from './types.js';

const world = generateWorld({ citizens: 2000 });

describe('generateWorld: determinism', () => {
  it('gives an identical world for the same options', () => {
    expect(JSON.stringify(generateWorld({ citizens: 2000 }))).toBe(JSON.stringify(world));
  });

  it('gives a different world for a different seed', () => {
    const other = generateWorld({ citizens: 2000, seed: 7 });
    expect(other.seed).toBe(7);
    const ids = new Set(world.citizens.map((c) => c.personalId));
    const shared = other.citizens.filter((c) => ids.has(c.personalId)).length;
    expect(shared).toBeLessThan(other.citizens.length / 10);
  });

  it('produces exactly the requested number of citizens', () => {
    for (const n of [1, 7, 333]) expect(generateWorld({ citizens: n, seed: n }).citizens).toHaveLength(n);
    expect(world.citizens).toHaveLength(2000);
    expect(world.asOf).toBe('2026-11-01');
    expect(world.seed).toBe(20250701);
  });

  it('rejects invalid options with a message naming the expected value', () => {
    expect(() => generateWorld({ citizens: 0 })).toThrow(/from 1 to 1,000,000/);
    expect(() => generateWorld({ citizens: 2.5 })).toThrow(/integer/);
    expect(() => generateWorld({ asOf: '01/11/2026' })).toThrow(/yyyy-MM-dd/);
    expect(() => generateWorld({ asOf: '2024-01-01' })).toThrow(/2025-07-01/);
    expect(() => generateWorld({ seed: -1 })).toThrow(/seed/);
  });
});

describe('generateWorld: cross-references', () => {
  it('is consistent: valid unique identifiers, every reference resolves, links are symmetric', () => {
    expect(checkWorldConsistency(world)).toEqual([]);
  });

  it('stays consistent for other seeds, sizes and dates', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 400 }), fc.constantFrom('2025-07-01', '2026-11-01', '2031-02-28'),
        (seed, citizens, asOf) => {
          expect(checkWorldConsistency(generateWorld({ seed, citizens, asOf }))).toEqual([]);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('the consistency check detects broken worlds', () => {
    const broken: World = JSON.parse(JSON.stringify(world));
    const married = broken.citizens.find((c) => c.spouseId !== null)!;
    married.spouseId = broken.citizens.find((c) => c.spouseId === null && c.personalId !== married.personalId)!.personalId;
    broken.healthInsurance[0]!.cardNumber = `${broken.healthInsurance[0]!.cardNumber.slice(0, 5)}0000000000`;
    const e = broken.enterprises[0]!;
    e.enterpriseCode = `${e.enterpriseCode.slice(0, 9)}${(Number(e.enterpriseCode[9]) + 1) % 10}`;
    const problems = checkWorldConsistency(broken, 1000).join('\n');
    expect(problems).toMatch(/does not point back/);
    expect(problems).toMatch(/invalid enterprise code/);
    expect(problems).toMatch(/health card .*(embeds|also belongs)/);
  });

  it('gives personal IDs that agree with gender and birth year, and keep the old birth province code', () => {
    for (const c of world.citizens) expect(personalIdMatches(c.personalId, c.gender, Number(c.dateOfBirth.slice(0, 4)))).toBe(true);
    // Codes of provinces that no longer exist still appear, as they do in real IDs.
    const codes = new Set(world.citizens.map((c) => c.personalId.slice(0, 3)));
    expect([...codes].some((code) => ['036', '074', '030', '094'].includes(code))).toBe(true);
  });

  it('builds families: households with a head, spouses, children and grandchildren', () => {
    const relations = new Set(world.households.flatMap((h) => h.members.map((m) => m.relationToHead)));
    for (const r of ['Chủ hộ', 'Vợ', 'Chồng', 'Con', 'Bố', 'Mẹ', 'Cháu']) expect(relations, r).toContain(r);
    const parent = findMarriedWithChildren(world);
    const spouse = indexWorld(world).citizens.get(parent.spouseId!)!;
    expect(spouse.spouseId).toBe(parent.personalId);
    for (const childId of parent.childrenIds) {
      const child = indexWorld(world).citizens.get(childId)!;
      expect([child.fatherId, child.motherId]).toContain(parent.personalId);
    }
  });

  it('looks Vietnamese: names with diacritics, common family names first, mostly Kinh', () => {
    const familyNames = new Map<string, number>();
    for (const c of world.citizens) familyNames.set(c.fullName.split(' ')[0]!, (familyNames.get(c.fullName.split(' ')[0]!) ?? 0) + 1);
    const top = [...familyNames.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    expect(top).toBe('Nguyễn');
    expect(world.citizens.filter((c) => c.fullName.split(' ').includes('Thị')).every((c) => c.gender === 'FEMALE')).toBe(true);
    expect(world.citizens.filter((c) => c.ethnicity === 'Kinh').length).toBeGreaterThan(world.citizens.length * 0.7);
    expect(new Set(world.citizens.map((c) => c.ethnicity)).size).toBeGreaterThan(3);
  });

  it('indexes every collection by its key', () => {
    const ix = indexWorld(world);
    expect(ix.citizens.size).toBe(world.citizens.length);
    expect(ix.socialInsuranceByNumber.size).toBe(world.socialInsurance.length);
    expect(ix.healthInsuranceByCard.size).toBe(world.healthInsurance.length);
    expect(ix.parcels.size).toBe(world.parcels.length);
    for (const e of world.enterprises) {
      for (const rep of e.legalRepresentatives) {
        expect(ix.rolesByPerson.get(rep.personalId)?.roles).toContainEqual({ enterpriseCode: e.enterpriseCode, role: 'LEGAL_REPRESENTATIVE' });
      }
    }
    for (const p of world.parcels) {
      for (const h of p.holders) {
        expect(ix.parcelsByHolder.get(h.kind === 'CITIZEN' ? h.personalId : h.enterpriseCode)?.parcelIds).toContain(p.parcelId);
      }
      if (p.certificate) expect(ix.parcelsByCertificate.get(p.certificate.serial)).toBe(p);
    }
  });
});

describe('generateWorld: recorded parents', () => {
  const ix = indexWorld(world);
  const withBoth = world.citizens.filter((c) => c.fatherId !== null && c.motherId !== null);
  const adultsUnder60 = world.citizens.filter((c) => ageOn(c.dateOfBirth, world.asOf) >= 18 && ageOn(c.dateOfBirth, world.asOf) < 60);

  it('records both parents of most citizens, including adults living apart from them, and leaves a few without', () => {
    expect(withBoth.length).toBeGreaterThan(world.citizens.length * 0.75);
    const adultsWithBoth = adultsUnder60.filter((c) => c.fatherId !== null && c.motherId !== null);
    expect(adultsWithBoth.length).toBeGreaterThan(adultsUnder60.length * 0.85);
    expect(adultsWithBoth.some((c) => ix.citizens.get(c.fatherId!)!.householdId !== c.householdId)).toBe(true);
    expect(adultsWithBoth.length).toBeLessThan(adultsUnder60.length);
  });

  it('prefers married couples whose line carries the child\'s family name', () => {
    const couples = withBoth.filter((c) => ix.citizens.get(c.fatherId!)!.spouseId === c.motherId);
    expect(couples.length).toBeGreaterThan(withBoth.length * 0.8);
    const familyName = (fullName: string): string => fullName.split(' ')[0]!;
    const kinh = withBoth.filter((c) => c.ethnicity === 'Kinh');
    const sameName = kinh.filter((c) => familyName(ix.citizens.get(c.fatherId!)!.fullName) === familyName(c.fullName));
    expect(sameName.length).toBeGreaterThan(kinh.length * 0.95);
  });

  it('records parents who died after the birth, never before it, aged 18 to 45 at the birth', () => {
    const parentsOf = (c: (typeof world.citizens)[number]) =>
      [c.fatherId, c.motherId].flatMap((id) => (id === null ? [] : [ix.citizens.get(id)!]));
    expect(world.citizens.some((c) => parentsOf(c).some((p) => p.deceased))).toBe(true);
    for (const c of world.citizens) {
      for (const p of parentsOf(c)) {
        expect(p.dateOfDeath === null || p.dateOfDeath >= c.dateOfBirth, `${c.personalId} ← ${p.personalId}`).toBe(true);
        expect(ageOn(p.dateOfBirth, c.dateOfBirth)).toBeGreaterThanOrEqual(18);
        expect(ageOn(p.dateOfBirth, c.dateOfBirth)).toBeLessThanOrEqual(45);
      }
    }
  });

  it('the consistency check detects impossible parent links', () => {
    const broken: World = JSON.parse(JSON.stringify(world));
    const byId = new Map(broken.citizens.map((c) => [c.personalId, c]));
    const relink = (child: World['citizens'][number], father: World['citizens'][number]): void => {
      const old = byId.get(child.fatherId!)!;
      old.childrenIds = old.childrenIds.filter((id) => id !== child.personalId);
      child.fatherId = father.personalId;
      father.childrenIds.push(child.personalId);
    };
    // A father younger than his child, and one who died years before the birth.
    const [a, b] = broken.citizens.filter((c) => c.fatherId !== null && ageOn(c.dateOfBirth, broken.asOf) >= 40);
    const young = broken.citizens.find((c) => c.gender === 'MALE' && ageOn(c.dateOfBirth, broken.asOf) < 30)!;
    relink(a!, young);
    const father = byId.get(b!.fatherId!)!;
    father.deceased = true;
    father.dateOfDeath = `${Number(b!.dateOfBirth.slice(0, 4)) - 2}${b!.dateOfBirth.slice(4)}`;
    const problems = checkWorldConsistency(broken, 1000).join('\n');
    expect(problems).toMatch(new RegExp(`${a!.personalId}: father ${young.personalId} was not yet born`));
    expect(problems).toMatch(new RegExp(`${b!.personalId}: father ${father.personalId} died before the birth`));
  });
});

describe('generateWorld: realistic gaps and states', () => {
  const ix = indexWorld(world);

  it('has deceased citizens with a date of death', () => {
    const dead = findDeceasedCitizen(world);
    expect(dead.dateOfDeath).not.toBeNull();
    expect(world.citizens.some((c) => c.maritalStatus === 'WIDOWED')).toBe(true);
  });

  it('has enterprises in every status, branches, and parcels held by enterprises', () => {
    for (const s of ['ACTIVE', 'SUSPENDED', 'DISSOLVING', 'DISSOLVED', 'REVOKED'] as const) expect(findEnterprise(world, s).status).toBe(s);
    expect(world.enterprises.some((e) => e.branches.length > 0)).toBe(true);
    expect(findEnterpriseParcel(world).holders[0]!.kind).toBe('ENTERPRISE');
  });

  it('has expired health cards, children under 6 with and without a card, and uninsured adults', () => {
    expect(findExpiredHealthCard(world).validTo < world.asOf).toBe(true);
    const child = findChildUnder6(world, { withCard: true });
    expect(ix.healthInsurance.get(child.personalId)?.beneficiaryGroup).toBe('TE');
    expect(ageOf(world, findChildUnder6(world, { withCard: false }))).toBeLessThan(6);
    const uninsured = findCitizenWithoutInsurance(world);
    expect(ix.socialInsurance.has(uninsured.personalId)).toBe(false);
    expect(world.socialInsurance.some((s) => s.periods.some((p) => p.employerCode === null))).toBe(true);
    expect(new Set(world.socialInsurance.map((s) => s.status))).toEqual(new Set(['PARTICIPATING', 'PAUSED', 'LUMP_SUM_PAID', 'RETIRED']));
  });

  it('has mortgaged and jointly held parcels, and adults without land', () => {
    expect(isMortgaged(findMortgagedParcel(world))).toBe(true);
    const joint = findJointParcel(world);
    const [a, b] = joint.holders;
    if (a?.kind !== 'CITIZEN' || b?.kind !== 'CITIZEN') throw new Error('joint parcel should be held by two citizens');
    expect(ix.citizens.get(a.personalId)?.spouseId).toBe(b.personalId);
    expect(ix.parcelsByHolder.has(findCitizenWithoutLand(world).personalId)).toBe(false);
  });

  it('has temporary residents whose current residence is the temporary one', () => {
    const c = findTemporaryResident(world);
    expect(c.currentResidence).toEqual(c.temporaryResidence);
    expect(c.temporaryResidence?.communeCode).not.toBe(c.permanentResidence?.communeCode);
  });

  it('has a citizen present in all four registries', () => {
    const c = findFullProfileCitizen(world);
    expect(ix.rolesByPerson.get(c.personalId)?.roles.length).toBeGreaterThan(0);
    expect(ix.socialInsurance.get(c.personalId)).toBeDefined();
    expect(ix.healthInsurance.get(c.personalId)?.cardNumber.slice(5)).toBe(ix.socialInsurance.get(c.personalId)?.socialInsuranceNumber);
    expect(ix.parcelsByHolder.get(c.personalId)?.parcelIds.length).toBeGreaterThan(0);
  });

  it('has civil-status entries that follow the population: parents, spouses, deaths; and citizens with none', () => {
    const child = findChildOfRegisteredMarriage(world);
    const birth = ix.civilStatus.get(child.personalId)!.birth!;
    expect([birth.fatherId, birth.motherId]).toEqual([child.fatherId, child.motherId]);
    const marriage = ix.civilStatus.get(birth.fatherId!)!.marriage!;
    expect(ix.civilStatus.get(marriage.spouseId)!.marriage!.registrationNumber).toBe(marriage.registrationNumber);
    const dead = findDeceasedWithDeathNotice(world);
    expect(ix.deathNotices.get(dead.personalId)!.dateOfDeath).toBe(dead.dateOfDeath);
    expect(ix.civilStatus.has(findCitizenWithoutCivilRecord(world).personalId)).toBe(false);
    const mother = findParentWithBirthNotice(world);
    const notice = ix.birthNoticesByParent.get(mother.personalId)!.notices[0]!;
    expect(notice.motherId).toBe(mother.personalId);
    if (notice.fatherId) expect(ix.birthNoticesByParent.get(notice.fatherId)!.notices).toContainEqual(notice);
  });

  it('has digitised results valid, expired and revoked', () => {
    for (const status of ['VALID', 'EXPIRED', 'REVOKED'] as const) findCitizenWithResult(world, 'JUDICIAL_RECORD_CERTIFICATE', status);
    findCitizenWithResult(world, 'MARITAL_STATUS_CONFIRMATION', 'VALID');
    findCitizenWithResult(world, 'MARITAL_STATUS_CONFIRMATION', 'EXPIRED');
    for (const kind of ['BIRTH_EXTRACT', 'MARRIAGE_CERTIFICATE', 'DEATH_EXTRACT'] as const) findCitizenWithResult(world, kind, 'VALID');
  });

  it('the consistency check detects a civil-status entry that contradicts the population', () => {
    const broken: World = JSON.parse(JSON.stringify(world));
    const withBirth = broken.civilStatus.find((e) => e.birth?.fatherId)!;
    withBirth.birth!.fatherId = broken.citizens.find((c) => c.gender === 'MALE' && c.personalId !== withBirth.birth!.fatherId)!.personalId;
    const withMarriage = broken.civilStatus.find((e) => e.marriage)!;
    withMarriage.marriage!.registrationNumber = '999999/1900';
    const result = broken.digitisedResults.find((d) => d.results.some((r) => r.kind === 'BIRTH_EXTRACT'))!;
    result.results.find((r) => r.kind === 'BIRTH_EXTRACT')!.number = 'TLKS-00000-1900-000000';
    const problems = checkWorldConsistency(broken, 1000).join('\n');
    expect(problems).toMatch(new RegExp(`civil status ${withBirth.personalId}: birth entry names other parents`));
    expect(problems).toMatch(/the spouse does not hold the same marriage registration/);
    expect(problems).toMatch(/number differs from the registration's/);
  });

  it('findCitizen throws a clear error when nothing matches', () => {
    expect(() => findCitizen(world, () => false, 'citizen aged 200')).toThrow(/No citizen aged 200 .*seed 20250701, 2000 citizens/);
  });
});

describe('generateWorld: scale', () => {
  it('generates 100,000 consistent citizens', () => {
    const big = generateWorld({ citizens: 100_000, seed: 3 });
    expect(big.citizens).toHaveLength(100_000);
    expect(new Set(big.citizens.map((c) => c.personalId)).size).toBe(100_000);
    expect(checkWorldConsistency(big)).toEqual([]);
    expect(big.citizens.filter((c) => c.fatherId !== null && c.motherId !== null).length).toBeGreaterThan(80_000);
  }, 120_000);
});
