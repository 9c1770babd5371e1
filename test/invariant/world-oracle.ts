/**
 * The mocked world as the oracle of the generated-query invariant test: what object sits
 * at a path of the supergraph (`citizen(X).father.children[2]` → a citizen record), and
 * which entities (Citizen, Enterprise, LandParcel) a purpose allows for a subject.
 *
 * Computed from mocks/world only, never from the gateway's own checks: the test must
 * still see a leak when the gateway's checks are wrong.
 */
import type { PathTree } from '../../gateway/procedures/compile.js';
import { indexWorld, type WorldIndex } from '../../mocks/world/index-world.js';
import type { World } from '../../mocks/world/types.js';

/** Entity types and the field holding their key. */
export const ENTITY_KEYS: Readonly<Record<string, string>> = { Citizen: 'personalId', Enterprise: 'enterpriseCode', LandParcel: 'parcelId' };

/** `Citizen:001090000001`. */
export type EntityId = string;
export const entityId = (type: string, key: string): EntityId => `${type}:${key}`;

/** A world object at a position of a response: its GraphQL type and the record behind it. */
export interface WorldNode {
  type: string;
  rec: unknown;
}

type Obj = Record<string, unknown>;

export class WorldOracle {
  readonly index: WorldIndex;

  constructor(readonly world: World) {
    this.index = indexWorld(world);
  }

  citizen(id: unknown): WorldNode | null {
    const c = typeof id === 'string' ? this.index.citizens.get(id) : undefined;
    return c ? { type: 'Citizen', rec: c } : null;
  }

  enterprise(code: unknown): WorldNode | null {
    const e = typeof code === 'string' ? this.index.enterprises.get(code) : undefined;
    return e ? { type: 'Enterprise', rec: e } : null;
  }

  parcel(id: unknown): WorldNode | null {
    const p = typeof id === 'string' ? this.index.parcels.get(id) : undefined;
    return p ? { type: 'LandParcel', rec: p } : null;
  }

  /** The world object a root field returns for its (coerced) arguments; arrays for list roots. */
  root(field: string, args: Obj): WorldNode | Array<WorldNode | null> | null {
    switch (field) {
      case 'citizen':
        return this.citizen(args['personalId']);
      case 'citizens':
        return Array.isArray(args['personalIds']) ? args['personalIds'].map((id) => this.citizen(id)) : null;
      case 'enterprise':
        return this.enterprise(args['enterpriseCode']);
      case 'landParcel':
        return this.parcel(args['parcelId']);
      case 'landParcelByCertificate': {
        const p = typeof args['serial'] === 'string' ? this.index.parcelsByCertificate.get(args['serial']) : undefined;
        return p ? { type: 'LandParcel', rec: p } : null;
      }
      case 'household': {
        const h = typeof args['householdId'] === 'string' ? this.index.households.get(args['householdId']) : undefined;
        return h ? { type: 'Household', rec: h } : null;
      }
      case 'socialInsurance': {
        const s = typeof args['socialInsuranceNumber'] === 'string' ? this.index.socialInsuranceByNumber.get(args['socialInsuranceNumber']) : undefined;
        return s ? { type: 'SocialInsurance', rec: s } : null;
      }
      case 'healthInsuranceCard': {
        const h = typeof args['cardNumber'] === 'string' ? this.index.healthInsuranceByCard.get(args['cardNumber']) : undefined;
        return h ? { type: 'HealthInsuranceCard', rec: h } : null;
      }
      default:
        return null;
    }
  }

  /**
   * The world object(s) behind `field` of `node`, as the subgraphs resolve it (same order
   * for lists); undefined when the field is not an object (a scalar, an address…) or
   * the world cannot tell.
   */
  step(node: WorldNode, field: string): WorldNode | Array<WorldNode | null> | null | undefined {
    const r = node.rec as Obj;
    const list = <T>(items: T[], f: (t: T) => WorldNode | null) => items.map(f);
    const existing = (ids: string[], f: (id: string) => WorldNode | null) => ids.map(f).filter((n): n is WorldNode => n !== null);
    switch (`${node.type}.${field}`) {
      case 'Citizen.father': return this.citizen(r['fatherId']);
      case 'Citizen.mother': return this.citizen(r['motherId']);
      case 'Citizen.spouse': return this.citizen(r['spouseId']);
      case 'Citizen.children': return existing(r['childrenIds'] as string[], (id) => this.citizen(id));
      case 'Citizen.household': {
        const h = typeof r['householdId'] === 'string' ? this.index.households.get(r['householdId']) : undefined;
        return h ? { type: 'Household', rec: h } : null;
      }
      case 'Citizen.enterprises': {
        const roles = this.index.rolesByPerson.get(r['personalId'] as string)?.roles ?? [];
        return roles.map((role) => ({ type: 'EnterpriseRole', rec: role }));
      }
      case 'Citizen.landParcels':
        return existing(this.index.parcelsByHolder.get(r['personalId'] as string)?.parcelIds ?? [], (id) => this.parcel(id));
      case 'Citizen.socialInsurance': {
        const s = this.index.socialInsurance.get(r['personalId'] as string);
        return s ? { type: 'SocialInsurance', rec: s } : null;
      }
      case 'EnterpriseRole.enterprise': return this.enterprise(r['enterpriseCode']);
      case 'Household.head': return this.citizen(r['headId']);
      case 'Household.members': return list(r['members'] as Obj[], (m) => ({ type: 'HouseholdMember', rec: m }));
      case 'HouseholdMember.citizen': return this.citizen(r['personalId']);
      case 'Enterprise.legalRepresentatives': return list(r['legalRepresentatives'] as Obj[], (m) => ({ type: 'LegalRepresentative', rec: m }));
      case 'Enterprise.members': return list(r['members'] as Obj[], (m) => ({ type: 'EnterpriseMember', rec: m }));
      case 'Enterprise.landParcels':
        return existing(this.index.parcelsByHolder.get(r['enterpriseCode'] as string)?.parcelIds ?? [], (id) => this.parcel(id));
      case 'LegalRepresentative.citizen':
      case 'EnterpriseMember.citizen':
        return this.citizen(r['personalId']);
      case 'LandParcel.holders': return list(r['holders'] as Obj[], (h) => ({ type: 'LandHolder', rec: h }));
      case 'LandHolder.citizen': return r['kind'] === 'CITIZEN' ? this.citizen(r['personalId']) : null;
      case 'LandHolder.enterprise': return r['kind'] === 'ENTERPRISE' ? this.enterprise(r['enterpriseCode']) : null;
      case 'SocialInsurance.currentEmployer': {
        const open = (r['periods'] as Obj[]).find((p) => p['to'] === null);
        return this.enterprise(open?.['employerCode']);
      }
      case 'SocialInsurance.periods': return list(r['periods'] as Obj[], (p) => ({ type: 'InsurancePeriod', rec: p }));
      case 'InsurancePeriod.employer': return this.enterprise(r['employerCode']);
      // The civil registry: registrations name parents and spouse as the population registry does.
      case 'Citizen.civilStatus': {
        const e = this.index.civilStatus.get(r['personalId'] as string);
        return e ? { type: 'CivilStatus', rec: e } : null;
      }
      case 'CivilStatus.birth': return r['birth'] ? { type: 'BirthRegistration', rec: r['birth'] } : null;
      case 'CivilStatus.marriage': return r['marriage'] ? { type: 'MarriageRegistration', rec: r['marriage'] } : null;
      case 'CivilStatus.death': return r['death'] ? { type: 'DeathRegistration', rec: r['death'] } : null;
      case 'BirthRegistration.father': return this.citizen(r['fatherId']);
      case 'BirthRegistration.mother': return this.citizen(r['motherId']);
      case 'MarriageRegistration.spouse': return this.citizen(r['spouseId']);
      case 'Citizen.latestBirthNotice': {
        let newest: Obj | null = null;
        for (const n of (this.index.birthNoticesByParent.get(r['personalId'] as string)?.notices ?? []) as unknown as Obj[]) {
          if (newest === null || (n['issuedOn'] as string) >= (newest['issuedOn'] as string)) newest = n;
        }
        return newest ? { type: 'BirthNotice', rec: newest } : null;
      }
      case 'BirthNotice.mother': return this.citizen(r['motherId']);
      default: return undefined;
    }
  }

  /** The entity id of a world node, or null when it is not a Citizen/Enterprise/LandParcel. */
  entityOf(node: WorldNode | null | undefined): EntityId | null {
    if (!node) return null;
    const key = ENTITY_KEYS[node.type];
    return key ? entityId(node.type, String((node.rec as Obj)[key])) : null;
  }

  // ── Relations the registries record (the oracle's own reading of docs/SECURITY.md) ──

  /** Parent, child, spouse or household member of `personalId` (the relation checks' family). */
  family(personalId: string): Set<string> {
    const c = this.index.citizens.get(personalId);
    const out = new Set<string>();
    if (!c) return out;
    for (const id of [c.fatherId, c.motherId, c.spouseId, ...c.childrenIds]) if (id && this.index.citizens.has(id)) out.add(id);
    const h = c.householdId ? this.index.households.get(c.householdId) : undefined;
    for (const m of h?.members ?? []) out.add(m.personalId);
    out.delete(personalId);
    return out;
  }

  /** Enterprises the citizen is legal representative or member of. */
  enterprisesOf(personalId: string): Set<string> {
    return new Set((this.index.rolesByPerson.get(personalId)?.roles ?? []).map((r) => r.enterpriseCode));
  }

  /** Parcels held by the citizen or by an enterprise the citizen is legal representative of. */
  parcelsOf(personalId: string): Set<string> {
    const out = new Set(this.index.parcelsByHolder.get(personalId)?.parcelIds ?? []);
    for (const r of this.index.rolesByPerson.get(personalId)?.roles ?? []) {
      if (r.role !== 'LEGAL_REPRESENTATIVE') continue;
      for (const p of this.index.parcelsByHolder.get(r.enterpriseCode)?.parcelIds ?? []) out.add(p);
    }
    return out;
  }

  /**
   * Where each allowed entity may appear: entity id → the path-tree nodes at which the
   * purpose lets it out. Starts at the subject roots (`citizen` for the citizen, and
   * `relatedCitizen`/`enterprise`/`parcel` for the other named subjects the registries
   * relate to the citizen) and follows the tree through the world, so `citizen.father`
   * allows exactly the subject's father, at that node.
   */
  allowedPositions(tree: PathTree, roots: Array<{ root: string; node: WorldNode }>): Map<EntityId, Set<PathTree>> {
    const out = new Map<EntityId, Set<PathTree>>();
    const add = (node: WorldNode, at: PathTree) => {
      const id = this.entityOf(node);
      if (!id) return;
      let s = out.get(id);
      if (!s) out.set(id, (s = new Set()));
      s.add(at);
    };
    const walk = (node: WorldNode, at: PathTree, depth: number) => {
      if (depth > 12) return;
      for (const [field, sub] of at.children) {
        const next = this.step(node, field);
        if (!next) continue;
        for (const n of Array.isArray(next) ? next : [next]) {
          if (!n) continue;
          add(n, sub);
          walk(n, sub, depth + 1);
        }
      }
    };
    for (const { root, node } of roots) {
      const at = tree.children.get(root);
      if (!at) continue;
      add(node, at);
      walk(node, at, 0);
    }
    return out;
  }
}
