/**
 * Property-based test over the whole stack: fast-check generates operations from the
 * supergraph's API schema (random selections, aliases, directives, fragments, arguments
 * that are valid identifiers, malformed ones or random Unicode), then damages some of
 * them (truncation, stray characters, unknown fields, nesting). Whatever it sends, the
 * gateway must answer with JSON and a client-side status or a GraphQL error with a client
 * code, never a 5xx or an internal error, never registry data without a purpose, and it
 * must keep answering with bounded memory.
 */
import fc from 'fast-check';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from './support/stack.js';
import { GENEROUS_RATE_LIMIT, startStackForClients } from './support/client-stack.js';
import { writeClientsFile, type ClientsFixture } from './support/security-fixtures.js';
import { NO_DATA_ROOTS } from './invariant/catalog-roots.js';

const CLIENT_CODES = new Set([
  'BAD_REQUEST', 'BAD_USER_INPUT', 'LIMIT_EXCEEDED', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMITED',
]);
/** Root fields that serve catalog metadata (no purpose needed). */

let stack: Stack;
let clients: ClientsFixture;
let schema: GraphQLSchema;
let procedureIds: string[];
let knownIds: Record<string, string[]>;

beforeAll(async () => {
  clients = writeClientsFile([
    { id: 'explorer', procedures: ['*'], permissions: ['explore'] },
    { id: 'full', procedures: ['*'] },
  ]);
  stack = await startStackForClients(clients, { rateLimit: GENEROUS_RATE_LIMIT });
  schema = stack.gateway.supergraph.apiSchema()!;
  procedureIds = stack.gateway.services.need('procedures').ids();
  const w = stack.world;
  knownIds = {
    personalId: w.citizens.slice(0, 20).map((c) => c.personalId),
    enterpriseCode: w.enterprises.slice(0, 10).map((e) => e.enterpriseCode),
    parcelId: w.parcels.slice(0, 10).map((p) => p.parcelId),
    householdId: w.households.slice(0, 10).map((h) => h.householdId),
    socialInsuranceNumber: w.socialInsurance.slice(0, 10).map((s) => s.socialInsuranceNumber),
    cardNumber: w.healthInsurance.slice(0, 10).map((h) => h.cardNumber),
    serial: w.parcels.filter((p) => p.certificate).slice(0, 10).map((p) => p.certificate!.serial),
  };
});

afterAll(async () => {
  await stack?.close();
  clients?.cleanup();
});

// ── Generators ─────────────────────────────────────────────────────────────────────

/** A GraphQL literal for a JSON-like value (JSON strings are valid GraphQL strings). */
function literal(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${literal(x)}`).join(', ')} }`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const junk = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.stringMatching(/^\d{1,14}$/),
  fc.constantFrom("' OR 1=1 --", '%', '*', '0010%', '../..', '\u0000', '\u202e', '${x}', '{"$gt":""}'),
);

function identifierFor(argName: string): fc.Arbitrary<string> {
  const key = argName === 'personalIds' ? 'personalId' : argName === 'relatedPersonalId' ? 'personalId' : argName;
  const known = knownIds[key];
  return known?.length ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: junk }) : junk;
}

function valueFor(name: string, type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  const t = getNullableType(type) as GraphQLInputType;
  if (isListType(t)) return fc.array(valueFor(name, t.ofType, depth + 1), { minLength: 0, maxLength: 4 });
  if (isInputObjectType(t)) {
    const fields = Object.values(t.getFields());
    return fc.record(Object.fromEntries(fields.map((f) => [f.name, valueFor(f.name, f.type, depth + 1)])), {
      requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name),
    });
  }
  if (isEnumType(t)) return fc.constantFrom(...t.getValues().map((v) => v.name));
  switch (getNamedType(t).name) {
    case 'Int': return fc.integer();
    case 'Float': return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'Boolean': return fc.boolean();
    default:
      return name === 'procedureId' || name === 'id'
        ? fc.oneof(fc.constantFrom(...procedureIds), junk)
        : identifierFor(name);
  }
}

function argsFor(args: readonly GraphQLArgument[]): fc.Arbitrary<string> {
  if (args.length === 0) return fc.constant('');
  return fc
    .tuple(
      ...args.map((a) =>
        (isNonNullType(a.type) ? valueFor(a.name, a.type) : fc.option(valueFor(a.name, a.type), { freq: 3, nil: undefined })).map((v) => [a.name, v] as const),
      ),
    )
    .map((pairs) => {
      const given = pairs.filter(([, v]) => v !== undefined);
      return given.length ? `(${given.map(([n, v]) => `${n}: ${literal(v)}`).join(', ')})` : '';
    });
}

const alias = fc.option(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,6}$/), { freq: 5, nil: undefined });
const directive = fc.constantFrom('', '', '', ' @include(if: true)', ' @skip(if: false)', ' @skip(if: true)');

/** A selection set on `type`, built lazily (chain) so only the generated branches are constructed. */
function selection(type: GraphQLObjectType, depth: number, maxFields = 4): fc.Arbitrary<string> {
  const fields = Object.values(type.getFields());
  const usable = depth <= 0 ? fields.filter((f) => isLeafType(getNamedType(f.type))) : fields;
  const pool = usable.length ? usable : fields;
  return fc.subarray(pool, { minLength: 1, maxLength: Math.min(maxFields, pool.length) }).chain((chosen) =>
    fc.tuple(
      ...chosen.map((f) => {
        const named = getNamedType(f.type);
        const head = fc.tuple(alias, argsFor(f.args), directive).map(([a, args, d]) => `${a ? `${a}: ` : ''}${f.name}${args}${d}`);
        if (isLeafType(named)) return head;
        if (!isObjectType(named)) return head.map((h) => `${h} { __typename }`);
        return fc.tuple(head, fc.constant(null).chain(() => selection(named, depth - 1))).map(([h, sub]) => `${h} { ${sub} }`);
      }),
      fc.constantFrom('', '', ' __typename'),
    ).map((parts) => parts.join(' ')),
  );
}

const operation = fc.constant(null).chain(() => {
  const query = schema.getQueryType()!;
  return fc.tuple(fc.integer({ min: 1, max: 4 }), fc.boolean()).chain(([depth, named]) =>
    // One or two root lookups: more would mostly test the one-subject rule.
    selection(query, depth, 2).map((sel) => (named ? `query Fuzz { ${sel} }` : `{ ${sel} }`)),
  );
});

/** Damage that turns a valid operation into an invalid one, sometimes. */
const damaged = fc.tuple(operation, fc.nat(), fc.nat(), fc.constantFrom('none', 'none', 'none', 'none', 'none', 'none', 'truncate', 'insert', 'unknown-field', 'nest', 'fragment-cycle', 'garbage')).map(
  ([op, a, b, kind]) => {
    switch (kind) {
      case 'truncate': return op.slice(0, a % Math.max(1, op.length));
      case 'insert': {
        const at = a % (op.length + 1);
        return op.slice(0, at) + '{}()[]:$@!"\\#…\u0000'.charAt(b % 15) + op.slice(at);
      }
      case 'unknown-field': return op.replace(/\{ /, '{ notAField ');
      case 'nest': return `{ citizen(personalId: "001090000001") { ${'father { '.repeat(5 + (a % 40))}fullName${' }'.repeat(5 + (a % 40))} } }`;
      case 'fragment-cycle': return `${op} fragment A on Citizen { ...B } fragment B on Citizen { ...A }`;
      case 'garbage': return String.fromCharCode(...Array.from({ length: 1 + (a % 40) }, (_, i) => 32 + ((a * (i + 7) + b) % 95)));
      default: return op;
    }
  },
);

const request = fc.record({
  query: damaged,
  client: fc.constantFrom('explorer', 'full'),
  purpose: fc.option(fc.oneof(fc.constant(null).chain(() => fc.constantFrom(...procedureIds)), junk.filter((s) => /^[\x20-\x7e]*$/.test(s))), { nil: undefined }),
});

// ── The property ──────────────────────────────────────────────────────────────────

function rootNames(query: string): string[] | null {
  try {
    const doc = parse(query);
    return doc.definitions.flatMap((d) => (d.kind === 'OperationDefinition' ? d.selectionSet.selections.map((s) => (s.kind === 'Field' ? s.name.value : '…')) : []));
  } catch {
    return null;
  }
}

describe('fuzzing the gateway with generated operations', () => {
  it('answers every generated operation with a client-side outcome, never a 5xx or internal error', async () => {
    const heap = () => process.memoryUsage().heapUsed;
    const before = heap();
    const seen = { data: 0, status: new Map<number, number>() };
    await fc.assert(
      fc.asyncProperty(request, async ({ query, client, purpose }) => {
        const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${clients.keys[client]}` };
        if (purpose !== undefined) headers['x-purpose'] = purpose;
        const res = await fetch(stack.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query }) });
        const text = await res.text();
        seen.status.set(res.status, (seen.status.get(res.status) ?? 0) + 1);
        expect([200, 400, 403, 404, 413, 429], text.slice(0, 300)).toContain(res.status);
        const body = JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
        expect(body.data !== undefined || body.errors !== undefined).toBe(true);
        if (res.status === 200 && body.data && Object.values(body.data).some((v) => v !== null)) seen.data++;
        for (const e of body.errors ?? []) {
          expect(typeof e.message).toBe('string');
          const code = e.extensions?.code;
          // At HTTP 200 errors come from execution (e.g. an unknown subject) and must be client codes too.
          expect(CLIENT_CODES, `${code}: ${e.message}`).toContain(code);
        }
        // No registry data without a purpose unless the client explores (development only).
        if (client === 'full' && purpose === undefined && res.status === 200 && body.data) {
          const roots = rootNames(query) ?? [];
          expect(roots.filter((r) => !NO_DATA_ROOTS.has(r) && r !== 'prefill' && r !== 'prefillGroup'), query).toEqual([]);
        }
      }),
      { numRuns: 250, seed: Number(process.env.FUZZ_SEED ?? 20250701), endOnFailure: true },
    );
    // The generator must exercise both sides: real data served, and refusals of several kinds.
    console.info(`fuzz: ${seen.data} responses with data; statuses ${JSON.stringify(Object.fromEntries(seen.status))}`);
    expect(seen.data).toBeGreaterThan(10);
    expect(seen.status.get(400) ?? 0).toBeGreaterThan(10);
    expect(seen.status.get(403) ?? 0).toBeGreaterThan(10);
    const health = await fetch(`${stack.gatewayUrl}/health`);
    expect(health.status).toBe(200);
    expect(heap() - before).toBeLessThan(128 * 1024 * 1024);
  }, 300_000);
});
