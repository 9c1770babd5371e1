/**
 * The console in a real browser with no internet: Debian's Chromium driven by
 * playwright-core, every request to a host other than this machine aborted and
 * recorded as a failure. After a mix of traffic through the whole stack an
 * auditor signs in, sees the dashboard's charts drawn with the API's figures,
 * filters the audit log, opens a record, exports CSV and JSON Lines, reads the
 * verification status and a citizen's access history, switches to English; an
 * operator sees the statistics only; client keys and anonymous callers are
 * refused. No script error, no CSP violation, no external request.
 *
 * As an auditor reads it (issue 16): procedure names (Vietnamese, English in the English view),
 * client display names, every day of the period on the time axis with zeros, dd/mm/yyyy dates,
 * an error-code column, the verification panel in the reader's language, dossier and field
 * figures, the tier/province view and the ranking — each checked against the API's figures.
 *
 * UPDATE_SCREENSHOTS=1 also saves the main screens to docs/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../gateway/audit/record.js';
import type { AuditStore } from '../gateway/audit/store.js';
import { REPO_ROOT } from '../lib/repo-root.js';
import { startStack, type Stack } from './support/stack.js';
import { allRecords } from './support/stats-recount.js';
import { sendMixedTraffic, staffKeys, writeHistory, type StaffKeys } from './support/stats-traffic.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must run the browser test (apt-get install chromium).`);
const title = haveChromium ? 'console in headless Chromium, offline' : `console in headless Chromium — SKIPPED: ${CHROMIUM} not found (apt-get install chromium)`;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(REPO_ROOT, 'docs', 'screenshots') : null;

describe.skipIf(!haveChromium)(title, () => {
  let stack: Stack;
  let keys: StaffKeys;
  let dataDir: string;
  let records: AuditRecord[];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const external: string[] = [];
  const problems: string[] = [];

  const shot = async (name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };
  const api = async (url: string, key: string | null, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.gatewayUrl}${url}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const catalog = () => stack.gateway.services.need('procedures');
  const clientNameOf = (id: string) => stack.gateway.clients.clients.find((c) => c.id === id)?.name ?? id;
  /** Chart.js labels may be wrapped into arrays of lines. */
  const joined = (l: string | string[]) => (Array.isArray(l) ? l.join(' ') : l);
  /** Every Vietnamese day of [from, to) as dd/mm. */
  const vnDays = (from: number, to: number) => {
    const out: string[] = [];
    for (let d = from; d < to; d += 86_400_000) {
      const iso = new Date(d + 7 * 3600_000).toISOString();
      out.push(`${iso.slice(8, 10)}/${iso.slice(5, 7)}`);
    }
    return out;
  };
  const signIn = async (key: string) => {
    await page.fill('#apikey', key);
    await page.click('#signin-submit');
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'motlan-console-'));
    stack = await startStack({ gateway: { audit: { dataDir } } });
    keys = staffKeys(stack);
    await sendMixedTraffic(stack, { rounds: 16 });
    await writeHistory(stack, dataDir);
    records = await allRecords(stack.gateway.services.need('audit').store);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--lang=vi-VN'],
    });
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    // A closed government network: only this machine answers.
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && LOCAL_HOSTS.has(url.hostname)) return route.continue();
      if (url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
      external.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 40[13]/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
    });
    page.on('requestfailed', (req) => {
      if (!req.url().startsWith('blob:')) problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the sign-in page and refuses client and unknown keys', async () => {
    await page.goto(`${stack.gatewayUrl}/console/`);
    await page.waitForSelector('#view-signin:not([hidden])');
    expect(await page.textContent('h1')).toBe('Đăng nhập');
    await shot('console-signin');

    await signIn(keys.clients[0]!);
    await page.waitForSelector('#signin-error:not([hidden])');
    expect(await page.textContent('#signin-error')).toMatch(/không có vai trò/);
    await signIn('this-is-not-a-key-0000000000');
    await page.waitForFunction(() => /không hợp lệ/.test(document.querySelector('#signin-error')?.textContent ?? ''));
    expect(await page.isHidden('#tabs')).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('signs an auditor in and draws the dashboard charts with the API figures', async () => {
    await signIn(keys.auditor);
    await page.waitForSelector('#view-dashboard:not([hidden])');
    await page.waitForFunction(() => {
      const C = (window as unknown as { Chart: { getChart(id: string): { data: { datasets: Array<{ data: number[] }> } } | undefined } }).Chart;
      return ['chart-day', 'chart-registry', 'chart-procedure', 'chart-clients', 'chart-outcomes', 'chart-savings', 'chart-fields', 'chart-latency'].every(
        (id) => (C.getChart(id)?.data.datasets[0]?.data.length ?? 0) > 0,
      );
    });
    const drawn = await page.evaluate(() => {
      const C = (window as unknown as { Chart: { getChart(id: string): { data: { labels: string[]; datasets: Array<{ data: number[] }> } } } }).Chart;
      const ids = ['chart-day', 'chart-registry', 'chart-procedure', 'chart-clients', 'chart-outcomes', 'chart-savings', 'chart-fields', 'chart-latency'];
      const painted = (id: string) => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      };
      return Object.fromEntries(
        ids.map((id) => [id, { labels: C.getChart(id).data.labels, first: C.getChart(id).data.datasets[0]!.data, painted: painted(id) }]),
      );
    });
    for (const [id, c] of Object.entries(drawn)) expect(c.painted, `${id} has pixels`).toBeGreaterThan(500);

    // The charts show the statistics API's numbers for the same period.
    const to = Date.now() + 86_400_000;
    const from = Date.now() - 40 * 86_400_000;
    const outcomes = (await api(`/stats/v1/summary?from=${from}&to=${to}&groupBy=outcome`, keys.auditor)).body as {
      total: { requests: { total: number } };
      groups: Array<{ key: string; requests: { total: number } }>;
    };
    expect(drawn['chart-day']!.first.reduce((a, b) => a + b, 0)).toBe(records.length);
    expect(outcomes.total.requests.total).toBe(records.length);
    expect(Object.fromEntries(drawn['chart-outcomes']!.labels.map((l, i) => [l, drawn['chart-outcomes']!.first[i]]))).toEqual(
      Object.fromEntries(outcomes.groups.map((g) => [g.key, g.requests.total])),
    );
    const kpiRequests = await page.textContent('#kpis .kpi:first-child .value');
    expect(Number(kpiRequests!.replace(/\D/g, ''))).toBe(records.length);

    // The same period as the page: the last 30 Vietnamese days, today included.
    const today = Math.floor((Date.now() + 7 * 3600_000) / 86_400_000) * 86_400_000 - 7 * 3600_000;
    const period = { from: today - 29 * 86_400_000, to: today + 86_400_000 };
    const q = (groupBy: string, limit = 1000) => `/stats/v1/summary?from=${period.from}&to=${period.to}&groupBy=${groupBy}&limit=${limit}`;
    type Group = { key: string | null; label?: string; requests: { total: number }; dossiers?: { served: number; withComponentsCut: number; requestsWithoutDossier: number } };
    type Summary = { total: Group & { fields?: { prefilled: number } }; groups: Group[] };
    // Every day of the period on the time axis, those without traffic as zeros.
    const byDay = (await api(q('day'), keys.auditor)).body as unknown as Summary;
    expect(drawn['chart-day']!.labels).toEqual(vnDays(period.from, period.to));
    expect(drawn['chart-day']!.first.filter((n) => n > 0)).toHaveLength(byDay.groups.length);
    expect(byDay.groups.length).toBeLessThan(30); // the history leaves a day out: a zero is drawn
    expect(drawn['chart-day']!.first).toContain(0);
    // Procedures by their Vietnamese names, clients by their display names, never ids.
    const byProcedure = (await api(q('procedure'), keys.auditor)).body as unknown as Summary;
    expect(drawn['chart-procedure']!.labels.map(joined)).toEqual(
      byProcedure.groups.map((g) => (g.key === null ? '(không khai mục đích)' : g.key === 'unknown' ? '(mục đích không thuộc danh mục thủ tục)' : catalog().name(g.key)!)),
    );
    expect(drawn['chart-procedure']!.labels.map(joined)).toContain(catalog().name('judicial-record-certificate'));
    const byClient = (await api(q('client', 10), keys.auditor)).body as unknown as Summary;
    expect(drawn['chart-clients']!.labels.map(joined)).toEqual(byClient.groups.map((g) => (g.key === 'anonymous' || g.key === null ? '(chưa xác thực)' : clientNameOf(g.key))));
    // Dossier figures on the dashboard, as the API counts them.
    const kpis = await page.$$eval('#kpis .kpi', (ks) => Object.fromEntries(ks.map((k) => [k.querySelector('.label')!.textContent, k.querySelector('.value')!.textContent])));
    const digits = (s: string | undefined) => Number((s ?? '').replace(/\D/g, ''));
    expect(digits(kpis['Hồ sơ được phục vụ'])).toBe(byDay.total.dossiers?.served ?? 0);
    expect(digits(kpis['Hồ sơ được cắt giảm thành phần'])).toBe(byDay.total.dossiers?.withComponentsCut ?? 0);
    expect(digits(kpis['Yêu cầu không có mã hồ sơ'])).toBe(byDay.total.dossiers?.requestsWithoutDossier ?? 0);
    expect(digits(kpis['Trường được điền sẵn'])).toBe(byDay.total.fields?.prefilled ?? 0);
    // The period in dd/mm/yyyy.
    expect(await page.textContent('#dash-status')).toMatch(/^Kỳ: \d{2}\/\d{2}\/\d{4} – \d{2}\/\d{2}\/\d{4}/);
    await shot('console-dashboard');
    // Dates are typed as dd/mm/yyyy (a date picker would follow the browser's locale); a bad one is said so.
    const typedFrom = await page.inputValue('#d-from');
    expect(typedFrom).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    await page.fill('#d-from', '31/02/2026');
    await page.click('#period-form button[type="submit"]');
    expect(await page.textContent('#global-error')).toBe('Ngày "31/02/2026" không hợp lệ: nhập theo dạng ngày/tháng/năm, ví dụ 01/07/2025.');
    await page.fill('#d-from', typedFrom);
  });

  it('filters the audit log, opens a record and shows the verification status', async () => {
    await page.click('.tab[data-view="log"]');
    await page.waitForSelector('#view-log:not([hidden])');
    await page.waitForSelector('#verify.ok .title');
    expect(await page.textContent('#verify .title')).toBe('Chuỗi nhật ký toàn vẹn');
    // The panel speaks Vietnamese: every warning of the report is shown, none in its English CLI wording.
    const verification = (await api('/audit/v1/verify', keys.auditor)).body as { warnings: string[]; notices: Array<{ code: string }> };
    expect(verification.notices.length).toBe(verification.warnings.length);
    expect(verification.warnings.length).toBeGreaterThan(0);
    const notices = await page.$$eval('#verify .notice', (ns) => ns.map((n) => n.textContent ?? ''));
    expect(notices).toHaveLength(verification.warnings.length);
    for (const w of verification.warnings) expect(notices.join('\n')).not.toContain(w.slice(2, 40));
    expect(notices.join('\n')).not.toMatch(/\b(the|was|were|records?|checked)\b/);

    const client = 'demo-hcm';
    await page.fill('#log-form input[name="client"]', client);
    await page.selectOption('#log-form select[name="outcome"]', 'OK');
    await page.click('#log-form button[type="submit"]');
    const expected = records.filter((r) => r.clientId === client && r.outcome === 'OK');
    // Wait for the filtered table itself (the unfiltered one may already hold as many rows).
    await page.waitForFunction(
      ({ n, client }) => {
        const trs = [...document.querySelectorAll('#log-table tbody tr')];
        return trs.length === Math.min(n, 50) && trs.every((tr) => tr.querySelectorAll('td')[2]?.getAttribute('data-id') === client && tr.querySelectorAll('td')[6]?.textContent === 'OK');
      },
      { n: expected.length, client },
    );
    const rows = await page.$$eval('#log-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.length).toBeGreaterThan(0);
    const sorted = [...expected].sort((a, b) => b.ts - a.ts || b.seq - a.seq);
    rows.forEach((r, i) => {
      expect(r[1]).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/); // dd/mm/yyyy, Vietnam time
      expect(r[2]).toBe(clientNameOf(client)); // the display name, not the id
      expect(r[4]).toBe(sorted[i]!.procedureId ? catalog().name(sorted[i]!.procedureId!) : '—');
      expect(r[6]).toBe('OK');
      expect(r[7]).toBe(sorted[i]!.errorCodes.join(', ') || '—');
    });
    await page.waitForFunction((n) => (document.querySelector('#log-count')?.textContent ?? '').includes(String(n)), expected.length);

    // The error-code column: refusals show their codes.
    await page.fill('#log-form input[name="client"]', '');
    await page.selectOption('#log-form select[name="outcome"]', 'DENIED');
    await page.click('#log-form button[type="submit"]');
    const denied = records.filter((r) => r.outcome === 'DENIED').sort((a, b) => b.ts - a.ts || b.seq - a.seq).slice(0, 50);
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('#log-table tbody tr')].length === n && [...document.querySelectorAll('#log-table tbody tr td:nth-child(7)')].every((td) => td.textContent === 'DENIED'),
      denied.length,
    );
    const codes = await page.$$eval('#log-table tbody tr td:nth-child(8)', (tds) => tds.map((td) => td.textContent));
    expect(codes).toEqual(denied.map((r) => r.errorCodes.join(', ') || '—'));
    expect(codes.some((c) => c !== '—')).toBe(true);
    await page.fill('#log-form input[name="client"]', client);
    await page.selectOption('#log-form select[name="outcome"]', 'OK');
    await page.click('#log-form button[type="submit"]');
    await page.waitForFunction(
      ({ n, client }) => [...document.querySelectorAll('#log-table tbody tr')].length === Math.min(n, 50) && [...document.querySelectorAll('#log-table tbody tr td:nth-child(3)')].every((td) => td.getAttribute('data-id') === client),
      { n: expected.length, client },
    );

    await page.click('#log-table tbody tr:first-child');
    await page.waitForSelector('#record:not([hidden])');
    const shown = JSON.parse((await page.textContent('#record-json'))!) as AuditRecord;
    const newest = [...expected].sort((a, b) => b.ts - a.ts || b.seq - a.seq)[0]!;
    expect(shown.requestId).toBe(newest.requestId);
    expect(shown.hash).toBe(newest.hash);
    expect(await page.textContent('#record-fields')).toMatch(/băm khớp nội dung/);
    await shot('console-log');
  });

  it('searches by personal ID (sent in a header, never in the URL)', async () => {
    const withSubject = records.find((r) => r.outcome === 'OK' && r.subjects.some((s) => s.kind === 'personal' && s.role === 'subject'))!;
    // Which citizen: the one whose HMAC the record holds; the traffic used the first adults of the world.
    const adults = stack.world.citizens.filter((c) => c.dateOfBirth < '2005-01-01' && !c.dateOfDeath).slice(0, 40);
    const urls: string[] = [];
    page.on('request', (req) => urls.push(req.url()));
    let found: string | null = null;
    for (const c of adults.slice(0, 5)) {
      const r = await api('/audit/v1/count', keys.auditor, { 'x-subject-personal-id': c.personalId });
      if ((r.body.count as number) > 0) {
        found = c.personalId;
        break;
      }
    }
    expect(withSubject).toBeDefined();
    expect(found).not.toBeNull();
    await page.click('#log-form button[type="reset"]');
    await page.fill('#log-form input[name="personalId"]', found!);
    await page.click('#log-form button[type="submit"]');
    const count = (await api('/audit/v1/count', keys.auditor, { 'x-subject-personal-id': found! })).body.count as number;
    await page.waitForFunction((n) => document.querySelectorAll('#log-table tbody tr').length === Math.min(n, 50), count);
    expect(urls.some((u) => u.includes(found!))).toBe(false);
    await page.click('#log-form button[type="reset"]');
  });

  it('exports the current filter as CSV and JSON Lines', async () => {
    await page.selectOption('#log-form select[name="outcome"]', 'PARTIAL');
    await page.click('#log-form button[type="submit"]');
    const partial = records.filter((r) => r.outcome === 'PARTIAL');
    await page.waitForFunction((n) => document.querySelectorAll('#log-table tbody tr').length === Math.min(n, 50), partial.length);

    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    const csvText = readFileSync((await csv.path())!, 'utf8');
    const csvLines = csvText.trim().split('\n');
    expect(csvLines[0]!.startsWith('type,instanceId,seq')).toBe(true);
    expect(csvLines.filter((l) => l.startsWith('record,')).length).toBe(partial.length);
    for (const r of partial) expect(csvText).toContain(r.requestId);

    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.click('#export-jsonl')]);
    expect(jsonl.suggestedFilename()).toMatch(/\.jsonl$/);
    const lines = readFileSync((await jsonl.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; outcome?: string });
    const exported = lines.filter((l) => l.type === 'record');
    expect(exported.length).toBe(partial.length);
    expect(exported.every((l) => l.outcome === 'PARTIAL')).toBe(true);
  });

  it("shows a citizen's access history", async () => {
    const adults = stack.world.citizens.filter((c) => c.dateOfBirth < '2005-01-01' && !c.dateOfDeath).slice(0, 40);
    let personalId = '';
    let items: Array<{ agency: string }> = [];
    for (const c of adults) {
      const r = await api('/audit/v1/citizen-history', keys.auditor, { 'x-subject-personal-id': c.personalId });
      items = r.body.items as Array<{ agency: string }>;
      if (items.length > 0) {
        personalId = c.personalId;
        break;
      }
    }
    expect(items.length).toBeGreaterThan(0);
    await page.click('.tab[data-view="citizen"]');
    await page.fill('#citizen-form input[name="personalId"]', personalId);
    await page.click('#citizen-form button[type="submit"]');
    await page.waitForFunction((n) => document.querySelectorAll('#citizen-table tbody tr').length === n, items.length);
    const agencies = await page.$$eval('#citizen-table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    expect(agencies).toEqual(items.map((i) => i.agency));
    await shot('console-citizen');
  });

  it('shows the tiers, the provinces and the ranking, as the API computes them', async () => {
    await page.click('.tab[data-view="provinces"]');
    await page.waitForSelector('#view-provinces:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#rank-dossiers table').length === 2 || document.querySelector('#rank-dossiers p') !== null);
    const today = Math.floor((Date.now() + 7 * 3600_000) / 86_400_000) * 86_400_000 - 7 * 3600_000;
    const period = { from: today - 6 * 86_400_000, to: today + 86_400_000 };
    type Entry = { provinceCode: string; label: string; dossiers: number; withComponentsCut: number; cutShare: number };
    const tiers = (await api(`/stats/v1/summary?from=${period.from}&to=${period.to}&groupBy=tier`, keys.auditor)).body as { groups: Array<{ key: string | null; requests: { total: number }; dossiers: { served: number } }> };
    const tierRows = await page.$$eval('#tier-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const tierName = (key: string | null) => (key === 'ministry' ? 'Khối bộ, ngành' : key === 'province' ? 'Khối địa phương' : '(chưa khai báo)');
    expect(tierRows.map((r) => [r[0], Number(r[1]!.replace(/\D/g, '')), Number(r[2]!.replace(/\D/g, ''))])).toEqual(
      tiers.groups.map((g) => [tierName(g.key), g.requests.total, g.dossiers.served]),
    );
    expect(tiers.groups.some((g) => g.key === 'province')).toBe(true);
    for (const [by, box] of [['dossiers', '#rank-dossiers'], ['cutShare', '#rank-cut']] as const) {
      const r = (await api(`/stats/v1/ranking?from=${period.from}&to=${period.to}&by=${by}&limit=5`, keys.auditor)).body as { top: Entry[]; bottom: Entry[] };
      for (const part of ['top', 'bottom'] as const) {
        const shown = await page.$$eval(`${box} table.${part} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
        expect(shown.map((row) => [row[1], Number(row[2]!.replace(/\D/g, '')), Number(row[3]!.replace(/\D/g, ''))])).toEqual(
          r[part].map((e) => [e.label, e.dossiers, e.withComponentsCut]),
        );
        expect(r[part].length).toBeGreaterThan(0);
      }
    }
    expect(await page.$$eval('#rank-cut table.top tbody tr td:nth-child(5)', (tds) => tds.every((td) => /^\d+(,\d)? %$/.test(td.textContent ?? '')))).toBe(true);
    await page.waitForFunction(() => {
      const C = (window as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } | undefined } }).Chart;
      return (C.getChart('chart-province')?.data.labels.length ?? 0) > 0;
    });
    await shot('console-provinces');
  });

  it('switches to English', async () => {
    await page.selectOption('#lang', 'en');
    await page.click('.tab[data-view="dashboard"]');
    expect(await page.textContent('.tab[data-view="dashboard"]')).toBe('Statistics');
    expect(await page.textContent('#view-dashboard h2')).toBe('Requests, dossiers and data shared per day');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.waitForFunction(() => (document.querySelector('#kpis .kpi .label')?.textContent ?? '') === 'Requests');
    // Procedure names in English where the catalog has them.
    const labels = await page.evaluate(() => {
      const C = (window as unknown as { Chart: { getChart(id: string): { data: { labels: Array<string | string[]> } } } }).Chart;
      return C.getChart('chart-procedure').data.labels.map((l) => (Array.isArray(l) ? l.join(' ') : l));
    });
    const ids = (await api(`/stats/v1/summary?groupBy=procedure&limit=1000`, keys.auditor)).body.groups as Array<{ key: string | null }>;
    expect(labels).toEqual(
      ids.map((g) => (g.key === null ? '(no purpose declared)' : g.key === 'unknown' ? '(purpose not in the procedure catalog)' : catalog().nameEn?.(g.key) ?? catalog().name(g.key))),
    );
    await shot('console-dashboard-en');

    // The verification panel, fully in English too; commands stay as typed.
    await page.click('.tab[data-view="log"]');
    await page.waitForSelector('#verify.ok .title');
    expect(await page.textContent('#verify .title')).toBe('The log chain is intact');
    const notices = await page.$$eval('#verify .notice', (ns) => ns.map((n) => n.textContent ?? ''));
    expect(notices.length).toBeGreaterThan(0);
    expect(notices.join('\n')).not.toMatch(/[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/i);
    expect(await page.textContent('#log-table thead')).toContain('Error codes');
    await page.click('.tab[data-view="provinces"]');
    await page.waitForFunction(() => (document.querySelector('#rank-dossiers table.top caption')?.textContent ?? '') === 'Top');
    await shot('console-provinces-en');
    await page.click('.tab[data-view="dashboard"]');
    await page.selectOption('#lang', 'vi');
  });

  it('an operator sees the statistics but not the audit log', async () => {
    await page.click('#signout');
    await page.waitForSelector('#view-signin:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await signIn(keys.operator);
    await page.waitForSelector('#view-dashboard:not([hidden])');
    expect(await page.isVisible('.tab[data-view="dashboard"]')).toBe(true);
    expect(await page.isVisible('.tab[data-view="provinces"]')).toBe(true);
    expect(await page.isHidden('.tab[data-view="log"]')).toBe(true);
    expect(await page.isHidden('.tab[data-view="citizen"]')).toBe(true);
  });

  it('the console APIs refuse anonymous callers and client keys', async () => {
    expect((await api('/console/api/session', null)).status).toBe(401);
    expect((await api('/console/api/session', keys.clients[0]!)).status).toBe(403);
    expect((await api('/stats/v1/summary', null)).status).toBe(401);
    expect((await api('/stats/v1/summary', keys.clients[1]!)).status).toBe(403);
    expect((await api('/audit/v1/records', null)).status).toBe(401);
    expect((await api('/audit/v1/records', keys.clients[0]!)).status).toBe(403);
    expect((await api('/audit/v1/records', keys.operator)).status).toBe(403);
    const page = await fetch(`${stack.gatewayUrl}/console/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it('made no external request and had no script error or CSP violation', () => {
    expect(external).toEqual([]);
    expect(problems).toEqual([]);
  });
});
