import { describe, expect, it } from 'vitest';
import { validateEnterpriseCode, validateParcelId, validatePersonalId } from '../../lib/identifiers.js';
import { PLACEHOLDER_SUBJECTS } from '../../gateway/sandbox/examples.js';
import { pickExampleSubjects } from './examples.js';
import { generateWorld } from './generate.js';

describe('sandbox example subjects of a demo world', () => {
  const world = generateWorld({ seed: 424242, citizens: 400 });

  it('picks a living citizen known to all four registries, and real enterprise and parcel records', () => {
    const s = pickExampleSubjects(world);
    expect(validatePersonalId(s.personalId)).toBeNull();
    expect(validateEnterpriseCode(s.enterpriseCode)).toBeNull();
    expect(validateParcelId(s.parcelId)).toBeNull();
    const citizen = world.citizens.find((c) => c.personalId === s.personalId);
    expect(citizen?.deceased).toBe(false);
    expect(world.socialInsurance.some((r) => r.personalId === s.personalId)).toBe(true);
    expect(world.healthInsurance.some((r) => r.personalId === s.personalId)).toBe(true);
    expect(world.parcels.some((p) => p.holders.some((h) => h.kind === 'CITIZEN' && h.personalId === s.personalId))).toBe(true);
    expect(world.enterprises.some((e) => [...e.legalRepresentatives, ...e.members].some((p) => p.personalId === s.personalId))).toBe(true);
    expect(world.enterprises.some((e) => e.enterpriseCode === s.enterpriseCode)).toBe(true);
    expect(world.parcels.some((p) => p.parcelId === s.parcelId)).toBe(true);
  });

  it('picks group subjects the relation checks accept: a parent holding a birth notice; a living relative of a deceased citizen with a death notice', () => {
    // npm start's default size: a 400-citizen world may hold no newborn awaiting registration.
    const world = generateWorld({ seed: 20250701, citizens: 2000 });
    const { groups } = pickExampleSubjects(world);
    const birth = groups?.['birth-registration-group'];
    expect(world.birthNotices.find((b) => b.personalId === birth?.personalId)?.notices.length).toBeGreaterThan(0);
    const death = groups?.['death-registration-group'];
    const deceased = world.citizens.find((c) => c.personalId === death?.relatedPersonalId);
    const relative = world.citizens.find((c) => c.personalId === death?.personalId);
    expect(deceased?.deceased).toBe(true);
    expect(world.deathNotices.some((n) => n.personalId === deceased?.personalId)).toBe(true);
    expect(relative?.deceased).toBe(false);
    expect([relative?.fatherId, relative?.motherId, relative?.spouseId]).toContain(deceased?.personalId);
  });

  it('is deterministic for a given world', () => {
    expect(pickExampleSubjects(generateWorld({ seed: 424242, citizens: 400 }))).toEqual(pickExampleSubjects(world));
  });

  it('still gives runnable subjects in a world too small for enterprises or parcels', () => {
    const tiny = generateWorld({ seed: 5, citizens: 1 });
    const s = pickExampleSubjects(tiny);
    expect(s.personalId).toBe(tiny.citizens[0]!.personalId);
    expect(s.enterpriseCode).toBe(tiny.enterprises[0]?.enterpriseCode ?? PLACEHOLDER_SUBJECTS.enterpriseCode);
    expect(s.parcelId).toBe(tiny.parcels[0]?.parcelId ?? PLACEHOLDER_SUBJECTS.parcelId);
  });
});
