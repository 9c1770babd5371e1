/**
 * Lookup maps over a generated world, one per registry collection of
 * docs/ARCHITECTURE.md. The mock registries serve from them, and tests use them to
 * find the values a response must contain.
 */
import type {
  CitizenDigitisedResults,
  CitizenRecord,
  CivilStatusRecord,
  DeathNoticeRecord,
  EnterpriseRecord,
  HealthInsuranceCardRecord,
  HolderParcels,
  HouseholdRecord,
  LandParcelRecord,
  ParentBirthNotices,
  PersonEnterpriseRoles,
  SocialInsuranceRecord,
  World,
} from './types.js';

export interface WorldIndex {
  /** population `citizens`, by personalId */
  citizens: Map<string, CitizenRecord>;
  /** population `households`, by householdId */
  households: Map<string, HouseholdRecord>;
  /** enterprise `enterprises`, by enterpriseCode */
  enterprises: Map<string, EnterpriseRecord>;
  /** enterprise `roles-by-person`, by personalId (only people who hold a role; the registry answers empty roles for others) */
  rolesByPerson: Map<string, PersonEnterpriseRoles>;
  /** insurance `social-insurance`, by personalId */
  socialInsurance: Map<string, SocialInsuranceRecord>;
  /** insurance `social-insurance-by-number`, by socialInsuranceNumber */
  socialInsuranceByNumber: Map<string, SocialInsuranceRecord>;
  /** insurance `health-insurance`, by personalId */
  healthInsurance: Map<string, HealthInsuranceCardRecord>;
  /** insurance `health-insurance-by-card`, by cardNumber */
  healthInsuranceByCard: Map<string, HealthInsuranceCardRecord>;
  /** land `parcels`, by parcelId */
  parcels: Map<string, LandParcelRecord>;
  /** land `parcels-by-certificate`, by certificate serial */
  parcelsByCertificate: Map<string, LandParcelRecord>;
  /** land `parcels-by-holder`, by personalId or enterpriseCode (only holders; the registry answers an empty list for others) */
  parcelsByHolder: Map<string, HolderParcels>;
  /** civil `civil-status`, by personalId (only people the civil-status database holds something for) */
  civilStatus: Map<string, CivilStatusRecord>;
  /** civil `birth-notices-by-parent`, by the mother's or father's personalId (only parents with notices; the registry answers an empty list for others) */
  birthNoticesByParent: Map<string, ParentBirthNotices>;
  /** civil `death-notices`, by the deceased's personalId */
  deathNotices: Map<string, DeathNoticeRecord>;
  /** civil `digitised-results`, by personalId (only holders of a result; the registry answers an empty list for others) */
  digitisedResults: Map<string, CitizenDigitisedResults>;
}

function byKey<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) map.set(key(item), item);
  return map;
}

const cache = new WeakMap<World, WorldIndex>();

/** Builds (once per world object, then cached) the lookup maps of every collection. */
export function indexWorld(world: World): WorldIndex {
  const cached = cache.get(world);
  if (cached) return cached;
  const rolesByPerson = new Map<string, PersonEnterpriseRoles>();
  const addRole = (personalId: string, enterpriseCode: string, role: 'LEGAL_REPRESENTATIVE' | 'MEMBER'): void => {
    let entry = rolesByPerson.get(personalId);
    if (!entry) {
      entry = { personalId, roles: [] };
      rolesByPerson.set(personalId, entry);
    }
    entry.roles.push({ enterpriseCode, role });
  };
  for (const e of world.enterprises) {
    for (const rep of e.legalRepresentatives) addRole(rep.personalId, e.enterpriseCode, 'LEGAL_REPRESENTATIVE');
    for (const m of e.members) addRole(m.personalId, e.enterpriseCode, 'MEMBER');
  }
  const parcelsByHolder = new Map<string, HolderParcels>();
  const parcelsByCertificate = new Map<string, LandParcelRecord>();
  for (const p of world.parcels) {
    if (p.certificate) parcelsByCertificate.set(p.certificate.serial, p);
    for (const h of p.holders) {
      const holderId = h.kind === 'CITIZEN' ? h.personalId : h.enterpriseCode;
      let entry = parcelsByHolder.get(holderId);
      if (!entry) {
        entry = { holderId, parcelIds: [] };
        parcelsByHolder.set(holderId, entry);
      }
      entry.parcelIds.push(p.parcelId);
    }
  }
  const index: WorldIndex = {
    citizens: byKey(world.citizens, (c) => c.personalId),
    households: byKey(world.households, (h) => h.householdId),
    enterprises: byKey(world.enterprises, (e) => e.enterpriseCode),
    rolesByPerson,
    socialInsurance: byKey(world.socialInsurance, (s) => s.personalId),
    socialInsuranceByNumber: byKey(world.socialInsurance, (s) => s.socialInsuranceNumber),
    healthInsurance: byKey(world.healthInsurance, (h) => h.personalId),
    healthInsuranceByCard: byKey(world.healthInsurance, (h) => h.cardNumber),
    parcels: byKey(world.parcels, (p) => p.parcelId),
    parcelsByCertificate,
    parcelsByHolder,
    civilStatus: byKey(world.civilStatus, (c) => c.personalId),
    birthNoticesByParent: byKey(world.birthNotices, (b) => b.personalId),
    deathNotices: byKey(world.deathNotices, (d) => d.personalId),
    digitisedResults: byKey(world.digitisedResults, (d) => d.personalId),
  };
  cache.set(world, index);
  return index;
}
