/**
 * The sandbox in a real browser with no internet: Debian's Chromium (never a
 * downloaded one) driven by playwright-core, every request to a host other than
 * this machine aborted and recorded. Loading the page and running the first
 * example tab must show the citizen's data, with no external request attempted,
 * no script error and no Content-Security-Policy violation.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickExampleSubjects } from '../mocks/world/examples.js';
import { startStack, type Stack } from './support/stack.js';
import { GROUP_TABS, PREFILL_EXAMPLE_PROCEDURE } from '../gateway/sandbox/examples.js';
import { findParentWithBirthNotice } from '../mocks/world/generate.js';
import { MONO_FONT_FAMILY } from '../gateway/sandbox/assets.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`${CHROMIUM} is missing: CI must run the browser test (apt-get install chromium).`);
}
const title = haveChromium
  ? 'sandbox in headless Chromium, offline'
  : `sandbox in headless Chromium, offline — SKIPPED: ${CHROMIUM} not found (apt-get install chromium)`;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

describe.skipIf(!haveChromium)(title, () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  const external: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext();
    // A closed government network: only this machine answers.
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && LOCAL_HOSTS.has(url.hostname)) return route.continue();
      external.push(route.request().url());
      return route.abort('blockedbyclient');
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  /** Opens the sandbox in a fresh tab, recording script errors and failed requests. */
  async function openSandbox(problems: string[]) {
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('response', async (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}: ${(await r.text().catch(() => '')).slice(0, 300)}`);
    });
    return page;
  }

  /**
   * Runs the current tab until the request names `operation`. After a tab switch GraphiQL
   * updates the editor's operation name in a debounced change handler, so a click right
   * after the switch may still send the previous tab's name (answered 400
   * OPERATION_RESOLUTION_FAILURE); a user clicking later never sees it.
   */
  async function runUntilOperation(page: Page, operation: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const answer = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' && !(r.request().postData() ?? '').includes('IntrospectionQuery'));
      await page.locator('.graphiql-execute-button').click();
      const res = await answer;
      const sent = JSON.parse(res.request().postData() ?? '{}') as { operationName?: string };
      if (sent.operationName === operation || attempt >= 20) return res;
      await page.locator('.graphiql-execute-button:not([disabled])').waitFor();
    }
  }

  const isGraphQL = (r: Response, operation: string) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes(operation);

  it('runs the four-registry example query and shows the citizen, with nothing leaving the machine', async () => {
    const subjects = pickExampleSubjects(stack.world);
    const citizen = stack.world.citizens.find((c) => c.personalId === subjects.personalId)!;
    const social = stack.world.socialInsurance.find((s) => s.personalId === citizen.personalId);
    const parcel = stack.world.parcels.find((p) => p.holders.some((h) => h.kind === 'CITIZEN' && h.personalId === citizen.personalId));
    const problems: string[] = [];
    const page = await openSandbox(problems);

    const response = await page.goto(`${stack.gatewayUrl}/`);
    expect(response?.status()).toBe(200);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 20_000 });
    // The first tab is the dossier on a citizen of the world the registries serve.
    await expect.poll(() => page.locator('.graphiql-editor-tool .CodeMirror').first().textContent(), { timeout: 10_000 }).toContain(citizen.personalId);

    const answer = page.waitForResponse((r) => isGraphQL(r, 'CitizenDossier'));
    await page.locator('.graphiql-execute-button').click();
    const body = (await (await answer).json()) as { data?: { citizen?: Record<string, unknown> }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data?.citizen?.fullName).toBe(citizen.fullName);
    // Data from the other registries travelled through the same request.
    if (social) expect(JSON.stringify(body.data)).toContain(social.socialInsuranceNumber);
    if (parcel) expect(JSON.stringify(body.data)).toContain(parcel.parcelId);

    // And the user sees it in the result pane.
    await expect.poll(() => page.locator('.result-window').textContent(), { timeout: 10_000 }).toContain(citizen.fullName);
    expect(external, 'requests that tried to leave this machine').toEqual([]);
    expect(problems.filter((p) => p.startsWith('page error') || p.includes('Content Security Policy'))).toEqual([]);
    await page.close();
  });

  it('loads the schema for docs and autocompletion, without any error', async () => {
    const problems: string[] = [];
    const page = await openSandbox(problems);
    const introspection = page.waitForResponse((r) => isGraphQL(r, 'IntrospectionQuery'));
    await page.goto(`${stack.gatewayUrl}/`);
    const res = await introspection;
    expect(res.status(), `GraphiQL's introspection query was refused: ${await res.text()}`).toBe(200);
    const body = (await res.json()) as { data?: { __schema?: { queryType?: { name: string } } } };
    expect(body.data?.__schema?.queryType?.name).toBe('Query');
    // The documentation explorer lists the supergraph's types once the schema is in.
    await page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click();
    await expect.poll(() => page.locator('.graphiql-doc-explorer').textContent(), { timeout: 10_000 }).toContain('LandParcel');
    expect(external, 'requests that tried to leave this machine').toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
  it('shows a Vietnamese prefill result in JetBrains Mono served by the gateway itself, with stack traces collapsed', async () => {
    // A citizen whose name carries stacked diacritics ("Đỗ"): GraphiQL's Fira Code draws it as "Đỗ˜".
    const citizen = stack.world.citizens.find((c) => !c.deceased && c.fullName.startsWith('Đỗ ') && c.dateOfBirth < '2005-01-01');
    expect(citizen, 'the test world has an adult named Đỗ').toBeDefined();
    const subjects = { ...pickExampleSubjects(stack.world), personalId: citizen!.personalId };
    const gw = await stack.startGateway({ sandbox: { exampleSubjects: subjects } });
    const problems: string[] = [];
    const page = await openSandbox(problems);
    // Tall enough that the result pane shows the name, a "Số …" label and the registry's
    // title ("CSDLQG về dân cư") at once (CodeMirror renders only the visible lines).
    await page.setViewportSize({ width: 1280, height: 1750 });
    const fontRequests: Array<{ url: string; status: number }> = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'font') fontRequests.push({ url: r.url(), status: r.status() });
    });
    await page.goto(`${gw.url}/`);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 20_000 });

    // The prefill tab the README promises, on the example citizen.
    const tab = page.locator('.graphiql-tab', { hasText: 'Prefill' });
    await tab.first().click();
    await expect.poll(() => page.locator('.graphiql-query-editor .CodeMirror').first().textContent(), { timeout: 10_000 }).toContain('prefill(');
    await expect.poll(() => page.locator('.graphiql-editor-tool .CodeMirror').first().textContent(), { timeout: 10_000 }).toContain(PREFILL_EXAMPLE_PROCEDURE);

    const res = await runUntilOperation(page, 'Prefill');
    const text = await res.text();
    expect(res.status(), text).toBe(200);
    for (const word of ['Đỗ', 'Số', 'về']) expect(text, `the prefill answer contains "${word}"`).toContain(word);

    const result = page.locator('.result-window');
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toContain(citizen!.fullName);
    const shown = (await result.textContent()) ?? '';
    for (const word of ['Đỗ', 'Số', 'về']) expect(shown).toContain(word);

    // The font really renders the result: declared on the pane, loaded by the browser for
    // the Vietnamese range, and fetched from this gateway (no CDN, no data: fallback).
    const family = await page.locator('.result-window .CodeMirror').first().evaluate((el) => getComputedStyle(el).fontFamily);
    expect(family.split(',')[0]!.trim().replace(/['"]/g, '')).toBe(MONO_FONT_FAMILY);
    await page.evaluate(() => document.fonts.ready);
    const loaded = await page.evaluate((f) => ({
      vietnamese: document.fonts.check(`14px "${f}"`, 'Đỗ Số về'),
      faces: [...document.fonts].filter((face) => face.family.replace(/['"]/g, '') === f && face.status === 'loaded').map((face) => face.unicodeRange),
    }), MONO_FONT_FAMILY);
    expect(loaded.vietnamese).toBe(true);
    expect(loaded.faces.some((range) => /1EA0-1EF9/i.test(range)), `loaded faces: ${JSON.stringify(loaded.faces)}`).toBe(true);
    const vietnameseFont = fontRequests.find((r) => r.url.includes('jetbrains-mono-vietnamese-'));
    expect(vietnameseFont, `font requests: ${JSON.stringify(fontRequests)}`).toBeDefined();
    expect(new URL(vietnameseFont!.url).origin).toBe(new URL(gw.url).origin);
    expect(vietnameseFont!.status).toBe(200);

    const dir = path.join(import.meta.dirname, '..', 'docs', 'screenshots');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'sandbox-vietnamese-prefill.png'), fullPage: false });

    // Development stack traces are collapsed until the banner's toggle is ticked.
    await page.locator('.graphiql-editor-tool .CodeMirror').first().evaluate((el, v) => {
      (el as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(v);
    }, JSON.stringify({ procedureId: PREFILL_EXAMPLE_PROCEDURE, personalId: '12345' }));
    const badBody = (await (await runUntilOperation(page, 'Prefill')).json()) as { errors?: Array<{ extensions?: { stacktrace?: unknown } }> };
    // The stack's gateway runs in development: the answer carries the trace, the pane hides it.
    expect(badBody.errors?.some((e) => Array.isArray(e.extensions?.stacktrace))).toBe(true);
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toContain('lines hidden');
    const stackFrame = /\bat \S+ \(/; // "at badInput (/…/prefill.ts:100:10)"
    expect(await result.textContent()).not.toMatch(stackFrame);
    await page.locator('#motlan-show-stacktraces').check();
    await runUntilOperation(page, 'Prefill');
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toMatch(stackFrame);
    expect(await result.textContent()).not.toContain('lines hidden');
    expect(external, 'requests that tried to leave this machine').toEqual([]);
    expect(problems.filter((p) => p.startsWith('page error') || p.includes('Content Security Policy'))).toEqual([]);
    await page.close();
    await gw.close();
  });

  it('offers a tab per interconnected group; the birth group tab fills the three forms in one request', async () => {
    const mother = findParentWithBirthNotice(stack.world);
    const subjects = { ...pickExampleSubjects(stack.world), groups: { 'birth-registration-group': { personalId: mother.personalId } } };
    const gw = await stack.startGateway({ sandbox: { exampleSubjects: subjects } });
    const problems: string[] = [];
    const page = await openSandbox(problems);
    await page.goto(`${gw.url}/`);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 20_000 });
    // GraphiQL names a tab after its operation: one PrefillGroup tab per group, in GROUP_TABS order.
    const groupTabs = page.locator('.graphiql-tab', { hasText: 'PrefillGroup' });
    await expect.poll(() => groupTabs.count(), { timeout: 10_000 }).toBe(GROUP_TABS.length);

    await groupTabs.first().click();
    await expect.poll(() => page.locator('.graphiql-query-editor .CodeMirror').first().textContent(), { timeout: 10_000 }).toContain('prefillGroup(');
    await expect.poll(() => page.locator('.graphiql-editor-tool .CodeMirror').first().textContent(), { timeout: 10_000 }).toContain(mother.personalId);
    const res = await runUntilOperation(page, 'PrefillGroup');
    const body = (await res.json()) as { data?: { prefillGroup?: { summary: { forms: number }; dossierComponents: Array<{ code: string; status: string }> } }; errors?: unknown[] };
    expect(res.status(), JSON.stringify(body.errors)).toBe(200);
    expect(body.data?.prefillGroup?.summary.forms).toBe(3);
    expect(body.data?.prefillGroup?.dossierComponents.find((c) => c.code === 'GIAY_CHUNG_SINH')?.status).toBe('CUT');
    // The pane shows the answer (CodeMirror renders the visible lines only: the group comes first).
    await expect.poll(() => page.locator('.result-window').textContent(), { timeout: 10_000 }).toContain('birth-registration-group');
    expect(external, 'requests that tried to leave this machine').toEqual([]);
    expect(problems.filter((p) => p.startsWith('page error') || p.includes('Content Security Policy'))).toEqual([]);
    await page.close();
    await gw.close();
  });
});
