/**
 * THE reader of settings from environment variables, shared by the gateway's concerns, the
 * mock registries and the subgraphs, so every variable is parsed the same strict way:
 *
 * - unset or empty → the default;
 * - a value that does not parse (`LIMIT_MAX_DEPTH=twelve`, `PORT=-1`) stops the start with an
 *   `EnvError` naming the variable, the value, what was expected and the default;
 * - every name read is remembered, so `unknownVariables()` can report at start the variables
 *   with a known prefix that nobody reads (a typo such as `LIMIT_MAX_DEPHT` would otherwise be
 *   silently ignored).
 */

export class EnvError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'EnvError';
  }
}

export interface IntRule {
  /** Smallest accepted value. Default 0. */
  min?: number;
  /** Largest accepted value. Default none. */
  max?: number;
}

export interface NumberRule {
  /** Smallest accepted value. Default 0. */
  min?: number;
  /** True: `min` itself is refused (e.g. a rate must be > 0). Default false. */
  exclusiveMin?: boolean;
}

const OFF = /^(off|false|0|no|disabled?)$/i;
const ON = /^(on|true|1|yes|enabled?)$/i;

export class EnvReader {
  /** Every variable name read through this reader (set or not). */
  readonly read = new Set<string>();
  /** Every prefix read through `named()`. */
  readonly readPrefixes = new Set<string>();

  constructor(readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The raw value; undefined when unset or empty. */
  string(name: string): string | undefined {
    this.read.add(name);
    const raw = this.env[name];
    return raw === undefined || raw === '' ? undefined : raw;
  }

  /** An integer within `rule` (default ≥ 0), or undefined when unset. */
  int(name: string, rule: IntRule = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const min = rule.min ?? 0;
    const n = Number(raw.trim());
    if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || (rule.max !== undefined && n > rule.max)) {
      const range = rule.max !== undefined ? `between ${min} and ${rule.max}` : `>= ${min}`;
      throw new EnvError(name, `${name}=${JSON.stringify(raw)} is not an integer ${range}: fix or unset it.`);
    }
    return n;
  }

  /** A finite number within `rule` (default ≥ 0), or undefined when unset. */
  number(name: string, rule: NumberRule = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const min = rule.min ?? 0;
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || (rule.exclusiveMin && n === min)) {
      throw new EnvError(name, `${name}=${JSON.stringify(raw)} is not a number ${rule.exclusiveMin ? '>' : '>='} ${min}: fix or unset it.`);
    }
    return n;
  }

  /** `on/true/1/yes` → true, `off/false/0/no/disabled` → false, unset → undefined; anything else stops the start. */
  flag(name: string): boolean | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (OFF.test(raw.trim())) return false;
    if (ON.test(raw.trim())) return true;
    throw new EnvError(name, `${name}=${JSON.stringify(raw)} is neither on nor off (use on/off, true/false, 1/0): fix or unset it.`);
  }

  /**
   * `<PREFIX>_POPULATION=http://…` → `{ population: 'http://…' }`: per-registry or per-subgraph
   * values (SUBGRAPH_URL_*, REGISTRY_URL_*, SUBGRAPH_SIGNING_KEY_*).
   */
  named(prefix: string): Partial<Record<string, string>> {
    this.readPrefixes.add(`${prefix}_`);
    const out: Partial<Record<string, string>> = {};
    const pattern = new RegExp(`^${prefix}_([A-Z0-9_]+)$`);
    for (const [name, value] of Object.entries(this.env)) {
      const m = pattern.exec(name);
      if (m && value) out[m[1]!.toLowerCase()] = value;
    }
    return out;
  }

  /** Marks names as known without reading them (variables read elsewhere in the process). */
  know(...names: string[]): void {
    for (const n of names) this.read.add(n);
  }
}

export interface UnknownVariable {
  name: string;
  /** The closest known name, when one is close (a typo). */
  suggestion: string | null;
  message: string;
}

/**
 * Variables set in the environment whose name starts with one of `prefixes` but that nobody
 * read: each with the closest known name, for a warning at start.
 */
export function unknownVariables(reader: EnvReader, prefixes: readonly string[]): UnknownVariable[] {
  const known = [...reader.read];
  const out: UnknownVariable[] = [];
  for (const name of Object.keys(reader.env).sort()) {
    if (!prefixes.some((p) => name.startsWith(p))) continue;
    if (reader.read.has(name) || [...reader.readPrefixes].some((p) => name.startsWith(p))) continue;
    let best: string | null = null;
    let bestDistance = 3;
    for (const k of known) {
      const d = distance(name, k);
      if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    out.push({
      name,
      suggestion: best,
      message: `${name} is set but nothing in the gateway reads it${best ? `: did you mean ${best}?` : '; remove it or check its spelling.'}`,
    });
  }
  return out;
}

/** Damerau-free edit distance (insert, delete, substitute; a swap of two letters counts 2). */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
