/**
 * Whole stack: the catalog is data. A procedure file dropped into the extra folder
 * (PROCEDURES_DIR_EXTRA) is served and prefilled without code changes or a restart; an
 * invalid file is refused on reload (the previous catalog keeps serving) and stops a
 * gateway start with a message naming the file, the procedure and the bad path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../gateway/app.js';
import { findCitizen, isAdult } from '../mocks/world/generate.js';
import { startStack } from './support/stack.js';
import { ddMMyyyy, postPrefill } from './support/prefill-support.js';

type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
const extra = mkdtempSync(path.join(tmpdir(), 'motlan-extra-procedures-'));
const broken = mkdtempSync(path.join(tmpdir(), 'motlan-broken-procedures-'));

const NEW_PROCEDURE = `id: civil-status-confirmation
name: Cấp Giấy xác nhận tình trạng hôn nhân
agency: UBND cấp xã
subjects: [citizen]
fields:
  - { key: hoTen, label: 'Họ, chữ đệm và tên', source: citizen.fullName }
  - { key: ngaySinh, label: 'Ngày, tháng, năm sinh', source: citizen.dateOfBirth, format: date }
  - { key: mucDich, label: Mục đích sử dụng, citizen: true }
dossierComponents:
  - { code: GIAY_TO_TUY_THAN, name: Bản sao giấy tờ tùy thân, replacedBy: citizen.identityCard.number }
timeSaved: { formPages: 1 }
`;

async function graphql<T>(query: string): Promise<{ data?: T; errors?: Array<{ message: string }> }> {
  const res = await fetch(stack.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.demoKey}` },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: T; errors?: Array<{ message: string }> };
}

/** Polls until `check` passes (the catalog watcher debounces changes); bounded. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  stack = await startStack({ citizens: 1000, gateway: { env: { ...process.env, PROCEDURES_DIR_EXTRA: extra } } });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  rmSync(extra, { recursive: true, force: true });
  rmSync(broken, { recursive: true, force: true });
});

describe('adding a procedure needs no code change', () => {
  it('a file dropped into PROCEDURES_DIR_EXTRA is served and prefilled', async () => {
    const before = await graphql<{ procedures: Array<{ id: string }> }>('{ procedures { id } }');
    expect(before.data!.procedures.map((p) => p.id)).not.toContain('civil-status-confirmation');

    writeFileSync(path.join(extra, 'civil-status-confirmation.yaml'), NEW_PROCEDURE);
    await eventually(async () => (await graphql<{ procedure: unknown }>('{ procedure(id: "civil-status-confirmation") { id } }')).data?.procedure != null, 'the new procedure');

    const citizen = findCitizen(stack.world, (c) => isAdult(stack.world, c) && !!c.identityCard, 'adult with an identity card');
    const { body } = await postPrefill(stack.graphqlUrl, stack.demoKey, 'civil-status-confirmation', { personalId: citizen.personalId });
    expect(body.errors).toBeUndefined();
    const form = body.data!.prefill;
    expect(form.fields.map((f) => [f.key, f.value])).toEqual([
      ['hoTen', citizen.fullName],
      ['ngaySinh', ddMMyyyy(citizen.dateOfBirth)],
      ['mucDich', null],
    ]);
    expect(form.dossierComponents[0]!.status).toBe('CUT');
  });

  it('an invalid file is refused on reload and the previous catalog keeps serving', async () => {
    writeFileSync(path.join(extra, 'zz-broken.yaml'), NEW_PROCEDURE.replace('civil-status-confirmation', 'broken-one').replace('citizen.fullName', 'citizen.fulName'));
    // Give the watcher time to try (and refuse) the reload, then check nothing changed.
    await new Promise((r) => setTimeout(r, 800));
    const after = await graphql<{ procedures: Array<{ id: string }> }>('{ procedures { id } }');
    const ids = after.data!.procedures.map((p) => p.id);
    expect(ids).toContain('civil-status-confirmation');
    expect(ids).not.toContain('broken-one');
    expect(ids).toContain('judicial-record-certificate');
  });
});

describe('an invalid catalog stops the gateway start', () => {
  it('with a message naming the file, the procedure and the bad path', async () => {
    writeFileSync(
      path.join(broken, 'bad-types.yaml'),
      NEW_PROCEDURE.replace('civil-status-confirmation', 'bad-types').replace('source: citizen.dateOfBirth, format: date', 'source: citizen.gender, format: date'),
    );
    const outcome = await buildGateway({ port: 0, logLevel: 'silent', watchSupergraph: false, env: { ...process.env, PROCEDURES_DIR_EXTRA: broken } }).then(
      async (gw) => {
        await gw.close();
        return new Error('the gateway started');
      },
      (err: Error) => err,
    );
    expect(outcome.message).toMatch(/bad-types\.yaml: procedure bad-types: fields\[1\] \(ngaySinh\): path citizen\.gender: format date needs a String \(ISO\) field, but the field is Gender/);
  });
});
