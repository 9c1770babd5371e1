/**
 * The sandbox in a real browser with no internet: Debian's Chromium (never a
 * downloaded one) driven by playwright-core, every request to a host other than
 * this machine aborted and recorded. Loading the page and running the first
 * example tab must show the citizen's data, with no external request attempted,
 * no script error and no Content-Security-Policy violation.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickExampleSubjects } from '../mocks/world/examples.js';
import { startStack, type Stack } from './support/stack.js';

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
});
