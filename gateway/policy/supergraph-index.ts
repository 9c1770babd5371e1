/**
 * Reads the composed supergraph's join directives to learn, for every field coordinate,
 * which subgraphs (registries) resolve it, and which fields are entity keys. Purpose
 * policy uses it for the per-client registry allow-list and to let key fields through
 * (the query planner needs them, and they carry nothing the request did not already name).
 */
import { Kind, parse, type ConstDirectiveNode, type ConstValueNode, type DefinitionNode } from 'graphql';

export interface SupergraphIndex {
  /** `Citizen.socialInsurance` → ['insurance']. Subgraph names are the join__graph names (lower case). */
  fieldOwners: ReadonlyMap<string, readonly string[]>;
  /** `Citizen.personalId`, `Enterprise.enterpriseCode`, `LandParcel.parcelId`, ... */
  keyFields: ReadonlySet<string>;
}

function arg(d: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  return d.arguments?.find((a) => a.name.value === name)?.value;
}

function str(v: ConstValueNode | undefined): string | undefined {
  return v && (v.kind === Kind.STRING || v.kind === Kind.ENUM) ? v.value : undefined;
}

export function indexSupergraph(coreSupergraphSdl: string): SupergraphIndex {
  const doc = parse(coreSupergraphSdl, { noLocation: true });
  // Enum value of join__Graph → subgraph name.
  const graphNames = new Map<string, string>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && def.name.value === 'join__Graph') {
      for (const v of def.values ?? []) {
        const d = v.directives?.find((x) => x.name.value === 'join__graph');
        graphNames.set(v.name.value, (d && str(arg(d, 'name'))) ?? v.name.value.toLowerCase());
      }
    }
  }
  const graphOf = (v: ConstValueNode | undefined) => {
    const enumValue = str(v);
    return enumValue ? graphNames.get(enumValue) ?? enumValue.toLowerCase() : undefined;
  };

  const fieldOwners = new Map<string, string[]>();
  const keyFields = new Set<string>();
  const add = (def: DefinitionNode) => {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION &&
        def.kind !== Kind.INTERFACE_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_EXTENSION) return;
    const typeName = def.name.value;
    const typeGraphs: string[] = [];
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'join__type') continue;
      const g = graphOf(arg(d, 'graph'));
      if (g && !typeGraphs.includes(g)) typeGraphs.push(g);
      const key = str(arg(d, 'key'));
      // Nested key selections (`a { b }`) only contribute their top-level names.
      if (key) for (const f of key.replace(/\{[^}]*\}/g, ' ').split(/[\s,]+/).filter(Boolean)) keyFields.add(`${typeName}.${f}`);
    }
    for (const field of def.fields ?? []) {
      const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
      let owners: string[] = [];
      for (const j of joins) {
        const external = arg(j, 'external');
        if (external && external.kind === Kind.BOOLEAN && external.value) continue;
        const g = graphOf(arg(j, 'graph'));
        if (g && !owners.includes(g)) owners.push(g);
      }
      if (owners.length === 0) owners = [...typeGraphs];
      const coordinate = `${typeName}.${field.name.value}`;
      const prev = fieldOwners.get(coordinate);
      fieldOwners.set(coordinate, prev ? [...new Set([...prev, ...owners])] : owners);
    }
  };
  for (const def of doc.definitions) add(def);
  return { fieldOwners, keyFields };
}

/**
 * The registries (subgraphs other than `exclude`) an operation selecting these coordinates
 * needs. Fields several subgraphs can resolve (shared value types such as Address, entity
 * keys) are reached through a field only one subgraph owns, so only those count: a client
 * allowed the population registry may read `Citizen.permanentResidence { fullAddress }`
 * although enterprise and land also define `Address.fullAddress`.
 */
export function registriesOf(index: SupergraphIndex, coordinates: Iterable<string>, exclude: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const c of coordinates) {
    const owners = (index.fieldOwners.get(c) ?? []).filter((g) => !exclude.has(g));
    if (owners.length === 1) out.add(owners[0]!);
  }
  return out;
}
