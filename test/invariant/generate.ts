/**
 * Generator of hostile-but-valid operations for the invariant test: built from the
 * gateway's API schema (no `_entities`), seeded and reproducible. Each case is one
 * HTTP request a TTHC client with a valid key could send: a document, variables,
 * `X-Purpose`, a subject token request, and sometimes an operationName among decoys.
 *
 * What it varies (issue 10, "How to prove it"): nested relations several levels deep,
 * aliases (also one field aliased under another field's name), named and inline
 * fragments on every object type, @include/@skip with literals and variables, nullable
 * variables with and without defaults sent as null, absent or a list, several root
 * fields (also the same root with different arguments), `citizens(personalIds:)` with
 * mixed identifiers, and `prefill` with various subjects.
 *
 * Cases come from `fc.sample` over a seed arbitrary (fast-check drives reproducibility:
 * the run's seed and a case index replay exactly one case); each seed feeds a small
 * PRNG so ten thousand cases build in well under a second per thousand.
 */
import fc from 'fast-check';
import {
  getNamedType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  validate,
  type DocumentNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { PathTree } from '../../gateway/procedures/compile.js';
import { createRandom, type Random } from '../../mocks/world/random.js';
import type { WorldOracle } from './world-oracle.js';
import { CATALOG_ROOTS } from './catalog-roots.js';

/** A client of the test's clients file, as the generator needs it. */
export interface GenClient {
  id: string;
  procedures: string[];
  requireSubjectToken: boolean;
  /** Subjects this client's cases are about (chosen from the world for the client's procedures). */
  subjects: string[];
}

/** Identifiers of one subject's neighbourhood in the world, by how they relate. */
export interface Neighbourhood {
  citizen: string;
  relatives: string[];
  secondDegree: string[];
  enterprisesRep: string[];
  enterprisesMember: string[];
  parcelsOwn: string[];
  parcelsViaEnterprise: string[];
  householdId: string | null;
  socialInsuranceNumber: string | null;
  cardNumber: string | null;
  certificateSerials: string[];
}

export interface Pools {
  neighbourhoods: Map<string, Neighbourhood>;
  unrelated: { personal: string[]; enterprise: string[]; parcel: string[]; household: string[]; si: string[]; card: string[]; serial: string[] };
  unknown: { personal: string[]; enterprise: string[]; parcel: string[] };
  malformed: string[];
  procedures: string[];
}

export interface GeneratedCase {
  /** Position in the run (with the seed, replays the case). */
  index: number;
  client: string;
  /** The citizen the case is built around (the token's subject when a token is sent). */
  subject: string;
  purpose: string | undefined;
  /** Subject token to mint: for whom and which procedure; undefined sends none. */
  token: { personalId: string; procedureId: string } | undefined;
  query: string;
  /** `query` parsed (and validated) once, for the checker; dropped (null) once checked, to keep memory flat. */
  document: DocumentNode | null;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
  /** Features the case uses (for the coverage figures). */
  features: Set<string>;
}

/** Builds the identifier pools from the world: subjects with rich neighbourhoods, strangers, unknown and malformed ids. */
export function buildPools(oracle: WorldOracle, procedures: string[]): Pools {
  const { index, world } = oracle;
  const neighbourhoods = new Map<string, Neighbourhood>();
  const of = (id: string): Neighbourhood => {
    const c = index.citizens.get(id)!;
    const relatives = [...oracle.family(id)];
    const second = new Set<string>();
    for (const r of relatives) for (const x of oracle.family(r)) if (x !== id && !relatives.includes(x)) second.add(x);
    const roles = index.rolesByPerson.get(id)?.roles ?? [];
    const parcelsOwn = index.parcelsByHolder.get(id)?.parcelIds ?? [];
    const parcelsVia = [...oracle.parcelsOf(id)].filter((p) => !parcelsOwn.includes(p));
    const serials = [...parcelsOwn, ...parcelsVia].map((p) => index.parcels.get(p)?.certificate?.serial).filter((s): s is string => !!s);
    return {
      citizen: id,
      relatives,
      secondDegree: [...second].slice(0, 8),
      enterprisesRep: roles.filter((r) => r.role === 'LEGAL_REPRESENTATIVE').map((r) => r.enterpriseCode),
      enterprisesMember: roles.filter((r) => r.role === 'MEMBER').map((r) => r.enterpriseCode),
      parcelsOwn,
      parcelsViaEnterprise: parcelsVia,
      householdId: c.householdId,
      socialInsuranceNumber: index.socialInsurance.get(id)?.socialInsuranceNumber ?? null,
      cardNumber: index.healthInsurance.get(id)?.cardNumber ?? null,
      certificateSerials: serials,
    };
  };
  for (const c of world.citizens) neighbourhoods.set(c.personalId, of(c.personalId));
  const unknownPersonal: string[] = [];
  for (const c of world.citizens.slice(0, 40)) {
    const id = c.personalId.slice(0, 6) + String(900000 + unknownPersonal.length).padStart(6, '0');
    if (!index.citizens.has(id)) unknownPersonal.push(id);
  }
  const unknownEnterprise = world.enterprises.slice(0, 10).map((e) => `${e.enterpriseCode}-999`);
  const unknownParcel = world.parcels.slice(0, 10).map((p) => `${p.parcelId.split('-')[0]}-999-99999`).filter((p) => !index.parcels.has(p));
  return {
    neighbourhoods,
    unrelated: {
      personal: world.citizens.slice(-60).map((c) => c.personalId),
      enterprise: world.enterprises.slice(-10).map((e) => e.enterpriseCode),
      parcel: world.parcels.slice(-10).map((p) => p.parcelId),
      household: world.households.slice(-10).map((h) => h.householdId),
      si: world.socialInsurance.slice(-10).map((s) => s.socialInsuranceNumber),
      card: world.healthInsurance.slice(-10).map((h) => h.cardNumber),
      serial: world.parcels.filter((p) => p.certificate).slice(-10).map((p) => p.certificate!.serial),
    },
    unknown: { personal: unknownPersonal, enterprise: unknownEnterprise, parcel: unknownParcel },
    malformed: ['0010%', '001*', '12345', '', ' ', '00109000000_', "' OR 1=1 --", '９９９', '0'.repeat(13), 'ABCDEFGHIJKL'],
    procedures,
  };
}

/** Relative weights of the fields of each type (unlisted fields weigh 1). Relations weigh more: they are where leaks hide. */
const FIELD_WEIGHTS: Record<string, Record<string, number>> = {
  Query: { citizen: 40, citizens: 12, enterprise: 9, landParcel: 8, landParcelByCertificate: 3, household: 4, socialInsurance: 3, healthInsuranceCard: 2, prefill: 10, procedure: 2, procedures: 1 },
  Citizen: { personalId: 4, fullName: 5, dateOfBirth: 3, father: 6, mother: 5, spouse: 6, children: 5, household: 4, enterprises: 3, landParcels: 3, identityCard: 3, permanentResidence: 3, socialInsurance: 3, religion: 2 },
  Household: { members: 5, head: 4, householdId: 2 },
  HouseholdMember: { citizen: 6 },
  Enterprise: { legalRepresentatives: 5, members: 4, landParcels: 4, enterpriseCode: 3, name: 3 },
  EnterpriseRole: { enterprise: 6, role: 2 },
  LegalRepresentative: { citizen: 6 },
  EnterpriseMember: { citizen: 6 },
  LandParcel: { holders: 6, parcelId: 3, address: 2, certificate: 2 },
  LandHolder: { citizen: 6, enterprise: 5 },
  SocialInsurance: { currentEmployer: 4, periods: 3 },
  InsurancePeriod: { employer: 4 },
  PrefilledForm: { fields: 6, summary: 3 },
};

const KEY_FIELDS: Record<string, string> = { Citizen: 'personalId', Enterprise: 'enterpriseCode', LandParcel: 'parcelId' };
/** Root fields and the path-tree root a legitimate client would use them for. */
const TREE_ROOTS: Record<string, string> = { citizen: 'citizen', citizens: 'citizen', enterprise: 'enterprise', landParcel: 'parcel', landParcelByCertificate: 'parcel' };

interface VarDef {
  name: string;
  type: string;
  defaultLiteral?: string;
  /** What the client sends: a value, or `absent`. */
  send: unknown | typeof ABSENT;
}
const ABSENT = Symbol('absent');

/** One document under construction. */
class Builder {
  vars: VarDef[] = [];
  fragments: string[] = [];
  features = new Set<string>();
  /** Off-tree steps left in this document: most documents stay on the tree, some step off once. */
  offTree = 0;
  guided = false;
  /**
   * Whether the document uses the undecidable tricks (nullable variables with defaults sent
   * null or absent, lists for scalars, variables in directives). The others are written as
   * a careful client would, so that a deny-by-default gateway still answers many of them.
   */
  tricky = true;
  namedSubject = false;
  private n = 0;

  constructor(
    readonly rng: Random,
    readonly schema: GraphQLSchema,
    readonly pools: Pools,
    readonly hood: Neighbourhood,
    readonly ownProcedures: string[],
  ) {}

  fresh(prefix: string): string {
    return `${prefix}${++this.n}`;
  }

  addVar(type: string, send: unknown, defaultLiteral?: string): string {
    const name = this.fresh('v');
    this.vars.push({ name, type, defaultLiteral, send });
    return `$${name}`;
  }

  // ── Identifiers ──

  personalId(): string {
    const r = this.rng;
    const h = this.hood;
    // A careful client names its citizen first; the attack is in what follows.
    if (this.guided && !this.namedSubject && r.chance(0.9)) {
      this.namedSubject = true;
      return h.citizen;
    }
    const roll = r.int(0, 99);
    if (roll < 40 || (h.relatives.length === 0 && roll < 70)) return h.citizen;
    if (roll < 70 && h.relatives.length) { this.features.add('id:relative'); return r.pick(h.relatives); }
    if (roll < 78 && h.secondDegree.length) { this.features.add('id:second-degree'); return r.pick(h.secondDegree); }
    if (roll < 88) { this.features.add('id:unrelated'); return r.pick(this.pools.unrelated.personal); }
    if (roll < 95) { this.features.add('id:unknown'); return r.pick(this.pools.unknown.personal); }
    this.features.add('id:malformed');
    return r.pick(this.pools.malformed);
  }

  enterpriseCode(): string {
    const r = this.rng;
    const h = this.hood;
    const roll = this.guided ? r.int(0, 70) : r.int(0, 99);
    if (roll < 45 && h.enterprisesRep.length) return r.pick(h.enterprisesRep);
    if (roll < 60 && h.enterprisesMember.length) return r.pick(h.enterprisesMember);
    if (roll < 85) { this.features.add('id:unrelated'); return r.pick(this.pools.unrelated.enterprise); }
    if (roll < 95) { this.features.add('id:unknown'); return r.pick(this.pools.unknown.enterprise); }
    this.features.add('id:malformed');
    return r.pick(this.pools.malformed);
  }

  parcelId(): string {
    const r = this.rng;
    const h = this.hood;
    const roll = this.guided ? r.int(0, 70) : r.int(0, 99);
    if (roll < 40 && h.parcelsOwn.length) return r.pick(h.parcelsOwn);
    if (roll < 60 && h.parcelsViaEnterprise.length) return r.pick(h.parcelsViaEnterprise);
    if (roll < 85) { this.features.add('id:unrelated'); return r.pick(this.pools.unrelated.parcel); }
    if (roll < 95) { this.features.add('id:unknown'); return r.pick(this.pools.unknown.parcel); }
    this.features.add('id:malformed');
    return r.pick(this.pools.malformed);
  }

  identifierFor(arg: string): string {
    const r = this.rng;
    const h = this.hood;
    switch (arg) {
      case 'personalId':
      case 'personalIds':
      case 'relatedPersonalId':
        return this.personalId();
      case 'enterpriseCode': return this.enterpriseCode();
      case 'parcelId': return this.parcelId();
      case 'householdId': return h.householdId && r.chance(0.6) ? h.householdId : r.pick(this.pools.unrelated.household);
      case 'socialInsuranceNumber': return h.socialInsuranceNumber && r.chance(0.6) ? h.socialInsuranceNumber : r.pick(this.pools.unrelated.si);
      case 'cardNumber': return h.cardNumber && r.chance(0.6) ? h.cardNumber : r.pick(this.pools.unrelated.card);
      case 'serial': return h.certificateSerials.length && r.chance(0.6) ? r.pick(h.certificateSerials) : r.pick(this.pools.unrelated.serial);
      case 'id':
      case 'procedureId': return r.chance(0.7) ? r.pick(this.ownProcedures) : r.pick(this.pools.procedures);
      default: return this.personalId();
    }
  }

  /** An ID! argument: a literal, a non-null variable, or a nullable variable with a default sent as value/null/absent/list. */
  idArgument(arg: string): string {
    const r = this.rng;
    const value = this.identifierFor(arg);
    const roll = r.int(0, 99);
    if (roll < 55) return JSON.stringify(value);
    if (roll < 75 || !this.tricky) {
      this.features.add('var:non-null');
      const send = this.tricky && r.chance(0.05) ? [value] : value;
      if (Array.isArray(send)) this.features.add('var:list-for-scalar');
      return this.addVar('ID!', send);
    }
    // Nullable variable with a default, in a non-null position (valid GraphQL).
    const def = this.identifierFor(arg);
    const how = r.int(0, 9);
    const send = how < 3 ? value : how < 6 ? null : how < 9 ? ABSENT : [value, def];
    this.features.add(send === null ? 'var:default-sent-null' : send === ABSENT ? 'var:default-absent' : Array.isArray(send) ? 'var:list-for-scalar' : 'var:default-given');
    return this.addVar('ID', send, JSON.stringify(def));
  }

  /** `personalIds:` of `citizens`: mixed identifiers as a literal list, a list variable, variables inside a list, or one value (list coercion). */
  idListArgument(): string {
    const r = this.rng;
    this.features.add('root:citizens');
    const ids = Array.from({ length: r.int(1, 4) }, () => this.personalId());
    const roll = r.int(0, 99);
    if (roll < 40) return `[${ids.map((v) => JSON.stringify(v)).join(', ')}]`;
    if (roll < 55 || (!this.tricky && roll < 70)) { this.features.add('var:list'); return this.addVar('[ID!]!', ids); }
    if (roll < 70) {
      const how = r.int(0, 2);
      this.features.add(how === 0 ? 'var:default-sent-null' : how === 1 ? 'var:default-absent' : 'var:list');
      return this.addVar('[ID!]', how === 0 ? null : how === 1 ? ABSENT : ids, `[${ids.slice(0, 1).map((v) => JSON.stringify(v)).join(', ')}]`);
    }
    if (roll < 85) {
      this.features.add('var:in-list');
      return `[${ids.map((v) => (r.chance(0.5) ? this.addVar('ID!', v) : JSON.stringify(v))).join(', ')}]`;
    }
    this.features.add('list-coercion');
    return JSON.stringify(ids[0]);
  }

  subjectArgument(procedureId: string): string {
    const r = this.rng;
    const fields: Array<[string, string]> = [['personalId', r.chance(0.85) ? this.hood.citizen : this.personalId()]];
    if (r.chance(0.3)) fields.push(['relatedPersonalId', this.personalId()]);
    if (r.chance(0.3)) fields.push(['enterpriseCode', this.enterpriseCode()]);
    if (r.chance(0.3)) fields.push(['parcelId', this.parcelId()]);
    void procedureId;
    const roll = r.int(0, 99);
    if (roll < 50) return `{ ${fields.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`;
    if (roll < 75 || !this.tricky) {
      this.features.add('var:input-object');
      return this.addVar('SubjectInput!', Object.fromEntries(fields));
    }
    // Variables inside the object; the optional ones nullable, sometimes null or absent.
    this.features.add('var:in-object');
    return `{ ${fields
      .map(([k, v]) => {
        if (k === 'personalId') return `${k}: ${this.addVar('ID!', v)}`;
        const how = r.int(0, 2);
        return `${k}: ${this.addVar('ID', how === 0 ? v : how === 1 ? null : ABSENT)}`;
      })
      .join(', ')} }`;
  }

  directive(): string {
    const r = this.rng;
    if (!r.chance(0.1)) return '';
    const name = r.chance(0.5) ? 'include' : 'skip';
    this.features.add(`directive:${name}`);
    const roll = r.int(0, 9);
    if (roll < 5 || !this.tricky) return ` @${name}(if: ${r.chance(0.5)})`;
    this.features.add('directive:variable');
    const how = r.int(0, 3);
    if (how === 0) return ` @${name}(if: ${this.addVar('Boolean!', r.chance(0.5))})`;
    const send = how === 1 ? null : how === 2 ? ABSENT : r.chance(0.5);
    if (send === null) this.features.add('var:default-sent-null');
    return ` @${name}(if: ${this.addVar('Boolean', send, String(r.chance(0.5)))})`;
  }

  alias(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): string {
    const r = this.rng;
    const roll = r.int(0, 99);
    if (roll < 12) { this.features.add('alias'); return `${this.fresh('a')}: `; }
    if (roll < 18) {
      // Another field's name of the same type: the response key lies about the field.
      const others = Object.values(type.getFields()).filter((f) => f.name !== field.name && !f.name.startsWith('_'));
      if (others.length) { this.features.add('alias:as-other-field'); return `${r.pick(others).name}: `; }
    }
    return '';
  }

  args(field: GraphQLField<unknown, unknown>): string {
    if (field.args.length === 0) return '';
    const parts: string[] = [];
    for (const a of field.args) {
      if (a.name === 'personalIds') parts.push(`${a.name}: ${this.idListArgument()}`);
      else if (a.name === 'subject') parts.push(`${a.name}: ${this.subjectArgument('')}`);
      else if (a.name === 'dossierId') {
        const roll = this.rng.int(0, 9);
        if (roll < 6) continue;
        parts.push(`${a.name}: ${roll < 8 || !this.tricky ? '"HS-2025-0001"' : this.addVar('String', this.rng.chance(0.5) ? null : ABSENT)}`);
      } else if (isNonNullType(a.type) || this.rng.chance(0.5)) parts.push(`${a.name}: ${this.idArgument(a.name)}`);
    }
    return parts.length ? `(${parts.join(', ')})` : '';
  }

  pickFields(type: GraphQLObjectType, depth: number, max: number): Array<GraphQLField<unknown, unknown>> {
    const r = this.rng;
    const all = Object.values(type.getFields()).filter((f) => !f.name.startsWith('_'));
    const usable = all.filter((f) => depth > 0 || isLeafType(getNamedType(f.type)));
    const pool = usable.length ? usable : all;
    const weights = FIELD_WEIGHTS[type.name] ?? {};
    const count = r.int(1, Math.min(max, pool.length));
    const chosen: Array<GraphQLField<unknown, unknown>> = [];
    for (let i = 0; i < count; i++) {
      let total = 0;
      for (const f of pool) total += weights[f.name] ?? 1;
      let x = r.next() * total;
      for (const f of pool) {
        x -= weights[f.name] ?? 1;
        if (x <= 0) { chosen.push(f); break; }
      }
    }
    return chosen;
  }

  /**
   * Fields on the purpose's path tree at `node` (the selections a legitimate client makes),
   * plus, sometimes, one field just off the tree: the boundary is where leaks are.
   */
  treeFields(type: GraphQLObjectType, node: PathTree, depth: number): Array<GraphQLField<unknown, unknown>> {
    const r = this.rng;
    const fields = type.getFields();
    const on = [...node.children.keys()].map((n) => fields[n]).filter((f): f is GraphQLField<unknown, unknown> => !!f);
    const key = KEY_FIELDS[type.name];
    if (key && fields[key]) on.push(fields[key]);
    const chosen = on.filter(() => r.chance(0.6));
    if (chosen.length === 0 && on.length) chosen.push(r.pick(on));
    if ((this.offTree > 0 && r.chance(0.35)) || chosen.length === 0) {
      this.offTree--;
      this.features.add('tree:one-step-off');
      chosen.push(...this.pickFields(type, depth, 1));
    }
    return chosen;
  }

  /** A selection set body on `type`, wrapped sometimes in inline or named fragments. */
  selection(type: GraphQLObjectType, depth: number, node?: PathTree): string {
    const r = this.rng;
    if (r.chance(0.04)) { this.features.add('typename-only'); return '__typename'; }
    const onTree = node !== undefined && node.children.size > 0 && r.chance(this.guided ? 0.97 : 0.6);
    if (onTree) this.features.add('tree:guided');
    const picked = onTree ? this.treeFields(type, node!, depth) : this.pickFields(type, depth, 4);
    const parts = picked.map((f) => this.fieldSelection(type, f, depth, onTree ? node!.children.get(f.name) : undefined));
    if (r.chance(0.1)) parts.push('__typename');
    const body = parts.join(' ');
    const roll = r.int(0, 99);
    if (roll < 10) {
      this.features.add(`inline-fragment:${type.name}`);
      const cond = r.chance(0.7) ? ` on ${type.name}` : '';
      return `...${cond}${this.directive()} { ${body} }`;
    }
    if (roll < 20) {
      this.features.add(`named-fragment:${type.name}`);
      const name = this.fresh('F');
      this.fragments.push(`fragment ${name} on ${type.name} { ${body} }`);
      // Sometimes the fragment is spread twice, once under a directive.
      return r.chance(0.2) ? `...${name} ...${name}${this.directive()}` : `...${name}${this.directive()}`;
    }
    return body;
  }

  fieldSelection(parent: GraphQLObjectType, f: GraphQLField<unknown, unknown>, depth: number, node?: PathTree): string {
    const named = getNamedType(f.type);
    const head = `${this.alias(parent, f)}${f.name}${this.args(f)}${this.directive()}`;
    if (isLeafType(named)) return head;
    if (!isObjectType(named)) return `${head} { __typename }`;
    if (['father', 'mother', 'spouse', 'children', 'members', 'holders', 'legalRepresentatives', 'enterprises', 'landParcels', 'head'].includes(f.name)) {
      this.features.add(`relation:${parent.name}.${f.name}`);
    }
    return `${head} { ${this.selection(named, Math.max(depth - 1, node && node.children.size ? 1 : 0), node)} }`;
  }
}

export interface GenerateOptions {
  schema: GraphQLSchema;
  pools: Pools;
  clients: GenClient[];
  seed: number;
  count: number;
  /** The purpose's path tree (generation leans on it so that many requests are answered). */
  pathTree(procedureId: string): PathTree | null;
}

export interface Generated {
  cases: GeneratedCase[];
  /** Candidates refused by graphql-js validation and regenerated. */
  discarded: number;
}

/** The per-case seeds of a run: fast-check draws them from the run's seed, so (seed, index) replays a case. */
export function caseSeeds(seed: number, count: number): number[] {
  return fc.sample(fc.noShrink(fc.integer({ min: 0, max: 0x7fffffff })), { seed, numRuns: count });
}

/** One valid case (graphql-js `validate` passes) from its seed; `discarded` counts candidates regenerated. */
export function generateCase(opts: Omit<GenerateOptions, 'seed' | 'count'>, caseSeed: number, index: number, stats: { discarded: number }): GeneratedCase {
  for (let attempt = 0; ; attempt++) {
    const c = generateOne(opts, createRandom(caseSeed + attempt * 0x9e3779b1), index);
    if (c) return c;
    stats.discarded++;
    if (attempt > 50) throw new Error(`case ${index}: no valid operation in 50 attempts (generator bug)`);
  }
}

/** Generates `count` valid cases from the run's seed. */
export function generateCases(opts: GenerateOptions): Generated {
  const stats = { discarded: 0 };
  const cases = caseSeeds(opts.seed, opts.count).map((s, index) => generateCase(opts, s, index, stats));
  return { cases, discarded: stats.discarded };
}

function generateOne(opts: Omit<GenerateOptions, 'seed' | 'count'>, rng: Random, index: number): GeneratedCase | null {
  const { schema, pools } = opts;
  const client = rng.pick(opts.clients);
  const subject = rng.pick(client.subjects);
  const hood = pools.neighbourhoods.get(subject)!;
  const b = new Builder(rng, schema, pools, hood, client.procedures);
  b.offTree = rng.chance(0.45) ? 1 : 0;
  b.tricky = rng.chance(0.45);
  if (b.tricky) b.features.add('tricky-document');
  // Most documents are what a purpose-bound client would write (on its path tree, stepping off at most once).
  b.guided = rng.chance(0.7);
  if (b.guided) b.features.add('tree:guided-document');
  const query = schema.getQueryType()!;

  // Purpose: mostly one the client may run; sometimes another, none, or one that does not exist.
  const own = rng.pick(client.procedures);
  const pRoll = rng.int(0, 99);
  const purpose = pRoll < 78 ? own : pRoll < 86 ? rng.pick(pools.procedures) : pRoll < 94 ? undefined : pRoll < 97 ? 'no-such-procedure' : own.toUpperCase();
  if (purpose === undefined) b.features.add('purpose:absent');

  // Roots: one to three, the same root twice with other arguments under aliases.
  const rootCount = rng.chance(0.5) ? 1 : rng.chance(0.7) ? 2 : 3;
  const used = new Set<string>();
  const roots: string[] = [];
  const fields = Object.values(query.getFields());
  for (let i = 0; i < rootCount; i++) {
    let [f] = b.pickFields(query, 1, 1);
    // Guided documents mostly look up the roots their purpose reads.
    if (b.guided && f && !TREE_ROOTS[f.name] && rng.chance(0.8)) f = query.getFields()[rng.chance(0.8) ? 'citizen' : rng.pick(['citizens', 'enterprise', 'landParcel'])];
    if (!f) continue;
    const named = getNamedType(f.type) as GraphQLObjectType;
    const depth = rng.int(1, 4);
    let alias = '';
    if (used.has(f.name) || rng.chance(0.2)) {
      // Sometimes under another root's name (`citizen: enterprise(…)`).
      const other = rng.chance(0.3) ? rng.pick(fields).name : null;
      alias = other && !used.has(other) && other !== f.name ? `${other}: ` : `${b.fresh('r')}: `;
      b.features.add('alias:root');
    }
    used.add(alias ? alias.slice(0, -2) : f.name);
    if (f.name === 'prefill') b.features.add('root:prefill');
    if (CATALOG_ROOTS.has(f.name)) b.features.add('root:catalog');
    const treeRoot = TREE_ROOTS[f.name];
    const tree = purpose ? opts.pathTree(purpose.toLowerCase()) : null;
    const node = treeRoot && tree && (b.guided || rng.chance(0.6)) ? tree.children.get(rng.chance(0.9) ? treeRoot : 'relatedCitizen') ?? tree.children.get(treeRoot) : undefined;
    const sub = isLeafType(named) ? '' : ` { ${b.selection(named, node ? Math.max(depth - 1, 1) : depth - 1, node)} }`;
    roots.push(`${alias}${f.name}${b.args(f)}${b.directive()}${sub}`);
  }
  if (rootCount > 1) b.features.add('roots:several');

  const defs = b.vars.map((v) => `$${v.name}: ${v.type}${v.defaultLiteral !== undefined ? ` = ${v.defaultLiteral}` : ''}`);
  const named = defs.length > 0 || rng.chance(0.5);
  const opName = named ? b.fresh('Op') : '';
  const main = `${named ? `query ${opName}${defs.length ? `(${defs.join(', ')})` : ''} ` : ''}{ ${roots.join(' ')} }`;
  const docs = [main, ...b.fragments];
  let operationName: string | undefined = named && rng.chance(0.5) ? opName : undefined;
  if (named && rng.chance(0.08)) {
    // A decoy operation in the same document; operationName picks which one runs.
    b.features.add('operation:decoy');
    docs.push(rng.chance(0.5) ? 'query Decoy { __typename }' : `query Decoy { procedures { id } }`);
    operationName = rng.chance(0.9) ? opName : 'Decoy';
  }
  const text = docs.join('\n');

  const variables: Record<string, unknown> = {};
  for (const v of b.vars) if (v.send !== ABSENT) variables[v.name] = v.send;

  let doc;
  try {
    doc = parse(text);
  } catch {
    return null;
  }
  if (validate(schema, doc).length > 0) return null;

  let token: GeneratedCase['token'];
  if (client.requireSubjectToken) {
    const tRoll = rng.int(0, 99);
    const procedureId = purpose && client.procedures.includes(purpose) ? purpose : own;
    if (tRoll < 78) token = { personalId: subject, procedureId };
    else if (tRoll < 86 && hood.relatives.length) { token = { personalId: rng.pick(hood.relatives), procedureId }; b.features.add('token:relative'); }
    else if (tRoll < 92) { token = { personalId: subject, procedureId: rng.pick(pools.procedures) }; b.features.add('token:other-procedure'); }
    else b.features.add('token:none');
    // A prefill's token names the prefill's procedure (else every prefill would be refused).
    const prefillProc = /prefill\(procedureId: "([a-z-]+)"/.exec(text)?.[1];
    if (token && prefillProc && rng.chance(0.7)) token = { ...token, procedureId: prefillProc };
  }
  return {
    index,
    client: client.id,
    subject,
    purpose,
    token,
    query: text,
    document: doc,
    variables: b.vars.length || rng.chance(0.2) ? variables : undefined,
    operationName,
    features: b.features,
  };
}

/** Type guard used by the checker: list types in the API schema are single-level. */
export const isListField = (f: GraphQLField<unknown, unknown>) => isListType(isNonNullType(f.type) ? f.type.ofType : f.type);
