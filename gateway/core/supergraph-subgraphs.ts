/**
 * The subgraphs a supergraph routes to, read from its `join__Graph` enum
 * (`@join__graph(name: "population", url: "http://…")`).
 */
import { Kind, parse, type ConstValueNode } from 'graphql';

export interface SubgraphInfo {
  name: string;
  /** URL the gateway calls: the override when one is given, else the supergraph's. */
  url: string;
}

function stringValue(v: ConstValueNode | undefined): string | undefined {
  return v && v.kind === Kind.STRING ? v.value : undefined;
}

export function subgraphsOfSupergraph(sdl: string, overrides: Partial<Record<string, string>> = {}): SubgraphInfo[] {
  const out: SubgraphInfo[] = [];
  for (const def of parse(sdl).definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const value of def.values ?? []) {
      const dir = value.directives?.find((d) => d.name.value === 'join__graph');
      const name = stringValue(dir?.arguments?.find((a) => a.name.value === 'name')?.value) ?? value.name.value.toLowerCase();
      const url = stringValue(dir?.arguments?.find((a) => a.name.value === 'url')?.value) ?? '';
      out.push({ name, url: overrides[name] ?? url });
    }
  }
  return out;
}
