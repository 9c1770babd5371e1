/**
 * A prefill is answered without the gateway's executor (gateway/procedures/local-shortcut.ts):
 * the client's selection is projected onto the form directly. Generated test: for random
 * selections (subsets of every object's fields, aliases, __typename), procedures (every one in the
 * catalog, whatever subjects it needs, and an unknown id) and subjects (recorded or not, and variables the executor refuses), the
 * shortcut's answer — status and body — equals the gateway's for the same selection. The gateway's
 * path is forced by wrapping the selection in an inline fragment, which the shortcut never takes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let procedureIds: string[];

beforeAll(async () => {
  stack = await startStack({ citizens: 300, gateway: QUIET_GATEWAY });
  procedureIds = stack.gateway.services.need('procedures').ids();
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

/**
 * The selectable fields of the prefill form, per object. `retrievedAt` is left out: it is the time
 * of each request's own registry read, so two requests never agree on it.
 */
const FORM: Record<string, readonly string[] | Record<string, readonly string[]>> = {
  procedure: ['id', 'name'],
  fields: ['key', 'label', 'value', 'source', 'registry', 'unavailable'],
  dossierComponents: ['code', 'name', 'status', 'registry', 'reason'],
  summary: ['fieldsTotal', 'fieldsPrefilled', 'fieldsForCitizen', 'componentsTotal', 'componentsCut', 'hoursSaved'],
};

const alias = fc.option(fc.constantFrom('a', 'b2', 'x_y'), { nil: undefined });
const leaves = (names: readonly string[]) =>
  fc.subarray([...names, '__typename'], { minLength: 1 }).chain((picked) =>
    fc.tuple(...picked.map((n) => alias.map((a) => (a ? `${a}_${n}: ${n}` : n)))).map((xs) => xs.join(' ')),
  );
const selection = fc
  .subarray(Object.keys(FORM), { minLength: 1 })
  .chain((objects) => fc.tuple(...objects.map((o) => fc.tuple(alias, leaves(FORM[o] as readonly string[])).map(([a, inner]) => `${a ? `${a}_${o}: ` : ''}${o} { ${inner} }`))))
  .map((xs) => xs.join(' '));

const document = (rootAlias: string | undefined, body: string) =>
  `query P($procedureId: ID!, $subject: SubjectInput!, $dossierId: String) { ${rootAlias ? `${rootAlias}: ` : ''}prefill(procedureId: $procedureId, subject: $subject, dossierId: $dossierId) { ${body} } }`;

async function post(query: string, variables: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.demoKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
  // Outside production an error carries its stack, which names the code path taken: not part of the answer.
  for (const e of body.errors ?? []) delete e.extensions?.stacktrace;
  return { status: res.status, body };
}

describe('prefill without the executor (local shortcut)', () => {
  it('answers exactly as the gateway does, for any selection, procedure and subject', async () => {
    const citizens = stack.world.citizens;
    let runs = 0;
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(
        selection,
        alias,
        fc.oneof(fc.constantFrom(...procedureIds), fc.constant('no-such-procedure')),
        fc.oneof(
          fc.integer({ min: 0, max: citizens.length - 1 }).map((i) => ({ personalId: citizens[i]!.personalId })),
          fc.constantFrom({ personalId: '000000000000' }, { personalId: '079199999999' }),
          // Variables the executor refuses: a missing required field, a wrong type, an unknown field.
          fc.constantFrom({}, { personalId: 5 }, { personalId: '079199999999', spouseId: 'x' }),
        ),
        async (body, rootAlias, procedureId, subject) => {
          const variables = { procedureId, subject, dossierId: 'H01.01-SHORTCUT' };
          const before = stack.gateway.executorGateway.shortcuts;
          const direct = await post(document(rootAlias, body), variables);
          const afterDirect = stack.gateway.executorGateway.shortcuts;
          const planned = await post(document(rootAlias, `... { ${body} }`), variables);
          // The plain document takes the shortcut unless the policy refused it before execution; the fragment never does.
          expect(afterDirect - before).toBeLessThanOrEqual(1);
          expect(stack.gateway.executorGateway.shortcuts).toBe(afterDirect);
          expect(direct).toEqual(planned);
          runs++;
          taken += afterDirect - before;
        },
      ),
      { numRuns: 60, seed: 20261201 },
    );
    // Most generated requests execute (a recorded citizen, a known procedure taking only a citizen).
    expect(taken).toBeGreaterThan(runs / 3);
  }, 300_000);

  it('never takes the shortcut for a second root field or a directive, wherever it stands (generated)', async () => {
    const c = stack.world.citizens[0]!;
    const variables = { procedureId: 'lodging-notification', subject: { personalId: c.personalId } };
    const prefill = (directive: string, body: string) =>
      `prefill(procedureId: $procedureId, subject: $subject, dossierId: $dossierId)${directive} { ${body} }`;
    let executed = 0;
    const shape = fc.oneof(
      // A second root field beside prefill.
      fc.tuple(selection, fc.constantFrom('__typename', 'procedures { id }')).map(([body, extra]) => `${prefill('', body)} ${extra}`),
      // A directive on the root field.
      fc.tuple(selection, fc.constantFrom('@include(if: true)', '@skip(if: false)')).map(([body, d]) => prefill(` ${d}`, body)),
      // A directive inside the selection.
      selection.map((body) => prefill('', body.replace(/ \}/, ' __typename @include(if: true) }'))),
    );
    await fc.assert(
      fc.asyncProperty(shape, async (root) => {
        const before = stack.gateway.executorGateway.shortcuts;
        const r = await post(`query P($procedureId: ID!, $subject: SubjectInput!, $dossierId: String) { ${root} }`, variables);
        expect(stack.gateway.executorGateway.shortcuts).toBe(before);
        // Many aliases are refused by the document limits before execution; the rest executed without the shortcut.
        if (r.status === 200) executed++;
      }),
      { numRuns: 30, seed: 20261201 },
    );
    expect(executed).toBeGreaterThan(0);
  }, 300_000);

  it('takes the shortcut for the documented prefill operation and returns the form', async () => {
    const c = stack.world.citizens[0]!;
    const before = stack.gateway.executorGateway.shortcuts;
    const r = await post(document(undefined, 'procedure { id } summary { fieldsTotal }'), { procedureId: 'lodging-notification', subject: { personalId: c.personalId } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ data: { prefill: { procedure: { id: 'lodging-notification' } } } });
    expect(stack.gateway.executorGateway.shortcuts).toBe(before + 1);
  });

  it('leaves every other operation to the executor', async () => {
    const c = stack.world.citizens[0]!;
    const before = stack.gateway.executorGateway.shortcuts;
    // Citizen data from a remote subgraph, and the catalog read (a local field that is not plain).
    const remote = await post('query C($id: ID!) { citizen(personalId: $id) { fullName } }', { id: c.personalId });
    expect(remote.status).toBe(200);
    const catalog = await post('{ procedures { id } }', {});
    expect(catalog.status).toBe(200);
    expect(stack.gateway.executorGateway.shortcuts).toBe(before);
  });
});
