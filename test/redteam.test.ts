/**
 * Red team reproductions (issues 10 and 11), each a claim of docs/SECURITY.md or
 * docs/AUDIT.md tried as an attacker would. Every test here failed before its fix.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { throttleSource } from '../gateway/audit/throttle.js';
import { maskIdentifiers, redactQueryString } from '../lib/redact-url.js';
import { QUIET_GATEWAY, startStack, type Stack } from './support/stack.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'motlan-redteam-'));
  dirs.push(d);
  return d;
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ citizens: 300, captureLog: 'info', gateway: QUIET_GATEWAY });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the failure throttle (issue 11, observation 8)', () => {
  it('counts an IPv6 attacker per /64: rotating addresses inside its network does not write a record per address', async () => {
    const failures = 3;
    const gw = await stack.startGateway({ audit: { dataDir: tempDir(), throttle: { failures, windowMs: 60_000 } }, ...QUIET_GATEWAY });
    try {
      const trail = gw.services.need('audit');
      const before = await trail.store.count({});
      const statuses: number[] = [];
      // One host with a /64 (what any IPv6 customer gets): 200 addresses, 2 requests each.
      for (let i = 1; i <= 200; i++) {
        for (let j = 0; j < 2; j++) {
          const r = await gw.app.inject({
            method: 'POST',
            url: '/graphql',
            remoteAddress: `2001:db8:0:1:${i.toString(16)}::${j + 1}`,
            // A spoofed X-Forwarded-For changes nothing either (no proxy is trusted).
            headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-key', 'x-forwarded-for': `203.0.113.${i}` },
            payload: { query: '{ __typename }' },
          });
          statuses.push(r.statusCode);
        }
      }
      await trail.log.flush();
      expect(statuses.filter((s) => s === 401)).toHaveLength(failures);
      expect(await trail.store.count({})).toBe(before + failures);
      // Another /64 is another source.
      const other = await gw.app.inject({ method: 'POST', url: '/graphql', remoteAddress: '2001:db8:0:2::1', headers: { 'content-type': 'application/json' }, payload: { query: '{ __typename }' } });
      expect(other.statusCode).toBe(401);
    } finally {
      await gw.close();
    }
  }, 120_000);

  it('holds many sources together to one budget: 1,000 addresses failing once each write a bounded number of records and ONE summary', async () => {
    let clock = 50_000_000;
    const gw = await stack.startGateway({ audit: { dataDir: tempDir(), now: () => clock, throttle: { failures: 3, windowMs: 60_000, maxFailures: 10 } }, ...QUIET_GATEWAY });
    try {
      const trail = gw.services.need('audit');
      const before = await trail.store.count({});
      const statuses = new Map<number, number>();
      // A /48 holds 65,536 /64 sources; a botnet as many IPv4 addresses. 1,000 here, one request each.
      for (let i = 0; i < 1000; i++) {
        const r = await gw.app.inject({
          method: 'POST',
          url: '/graphql',
          remoteAddress: `2001:db8:7:${i.toString(16)}::1`,
          headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-key' },
          payload: { query: '{ __typename }' },
        });
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      }
      expect(Object.fromEntries(statuses)).toEqual({ 401: 10, 429: 990 });
      clock += 60_001;
      trail.throttle!.sweep();
      await trail.log.flush();
      expect(await trail.store.count({})).toBe(before + 10 + 1);
      const summaries = (await trail.store.search({ outcomes: ['DENIED'] }, { limit: 20 })).items.filter((r) => r.reasonCode === 'SOURCE_THROTTLED');
      expect(summaries.map((r) => r.covers)).toEqual([990]);
    } finally {
      await gw.close();
    }
  }, 120_000);

  it('names sources: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64', () => {
    expect(throttleSource('192.0.2.7')).toBe('192.0.2.7');
    expect(throttleSource('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(throttleSource('2001:db8:0:1:abcd::1')).toBe('2001:db8:0:1::/64');
    expect(throttleSource('2001:0DB8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(throttleSource('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttleSource('::1')).toBe('0:0:0:0::/64');
    expect(throttleSource('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('the gateway log (issue 11, observation 6)', () => {
  it('names no citizen for a URL that matches no route: query values and identifiers in the path', async () => {
    const creds = stack.gateway.clients.demoCredentials();
    const auditor = creds.find((c) => c.roles.includes('auditor'))!.key;
    const pid = stack.world.citizens[5]!.personalId;
    const from = stack.logLines.length;
    const json = encodeURIComponent(JSON.stringify({ personalId: pid }));
    // An auditor's typo (record for records), a personal ID where a request id goes, a scanner.
    for (const url of [`/audit/v1/record?personalId=${pid}`, `/audit/v1/recordz?q=${json}`, `/audit/v1/requests/req-${pid}`, `/graphql/x${pid}`, `/nope?variables=${json}`]) {
      const res = await fetch(`${stack.gatewayUrl}${url}`, { headers: { authorization: `Bearer ${auditor}` } });
      await res.arrayBuffer();
      expect(res.status).toBe(404);
    }
    const lines = stack.logLines.slice(from);
    expect(lines.join('')).toContain('not found');
    const leaks = lines.filter((l) => l.includes(pid));
    expect(leaks, leaks.join('\n')).toEqual([]);
    // The root cause is fixed, not hidden by the last-line mask.
    const masked = lines.filter((l) => l.includes('[id]'));
    expect(masked, masked.join('\n')).toEqual([]);
  });

  it('the mask catches an identifier right after a percent-escape; URLs lose long digit runs of their path', () => {
    expect(maskIdentifiers('Route GET:/x?v=%7B%22personalId%22%3A%22079203001234%22%7D')).toBe('Route GET:/x?v=%7B%22personalId%22%3A%22[id]%22%7D');
    expect(maskIdentifiers('"time":1751356800123,"reqId":"4f656938-7fb2-42bb-a6ba-38151b4bab68"')).toBe('"time":1751356800123,"reqId":"4f656938-7fb2-42bb-a6ba-38151b4bab68"');
    expect(redactQueryString('/audit/v1/requests/req-079203001234?x=1')).toBe('/audit/v1/requests/req-…?x=…');
  });
});

describe('subgraph signing keys (issue 10, observation 4)', () => {
  it('refuses one key for two subgraphs: the signature does not name its subgraph, so a request signed for one could be replayed to the other', async () => {
    const keys = stack.subgraphSigningKeys;
    await expect(stack.startGateway({ subgraphSigningKeys: { ...keys, land: keys.population! } })).rejects.toThrow(/is the same key as SUBGRAPH_SIGNING_KEY_/);
  });
});

describe('a lost witness (issue 11: is a missing witness loud?)', () => {
  it('refuses to continue a chain the store holds but the witness no longer does; AUDIT_WITNESS_ADOPT=true starts it once', async () => {
    const dataDir = tempDir();
    const audit = { dataDir, instanceId: 'witness-lost', checkpointIntervalMs: 0 };
    const creds = stack.gateway.clients.demoCredentials();
    const key = creds.find((c) => c.clientId === 'demo-hcm')!.key;
    const gw = await stack.startGateway({ audit, ...QUIET_GATEWAY });
    const res = await fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-purpose': 'lodging-notification' },
      body: JSON.stringify({ query: 'query C($p: ID!) { citizen(personalId: $p) { fullName } }', variables: { p: stack.world.citizens[3]!.personalId } }),
    });
    expect(res.status).toBe(200);
    await gw.close(); // signs and witnesses the final checkpoint
    const witnessFile = path.join(dataDir, 'audit-witness.jsonl');
    expect(existsSync(witnessFile)).toBe(true);
    // The insider removes the witness (next: rewrite the store and let the gateway sign over it).
    rmSync(witnessFile);
    await expect(stack.startGateway({ audit, ...QUIET_GATEWAY })).rejects.toThrow(/witness .* holds no checkpoint of chain "witness-lost".*refuses to continue the chain unwitnessed/s);
    const adopted = await stack.startGateway({ audit: { ...audit, adoptWitness: true }, ...QUIET_GATEWAY });
    await adopted.close();
    // Witnessed again: an ordinary restart works.
    const again = await stack.startGateway({ audit, ...QUIET_GATEWAY });
    await again.close();
  }, 60_000);

  it('adopts only at the head seq it names, so an AUDIT_WITNESS_ADOPT left set cannot adopt a later removal', async () => {
    const dataDir = tempDir();
    const audit = { dataDir, instanceId: 'witness-adopt-seq', checkpointIntervalMs: 0 };
    const key = stack.gateway.clients.demoCredentials().find((c) => c.clientId === 'demo-hcm')!.key;
    const serveOne = async (gw: { graphqlUrl: string }) => {
      const res = await fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-purpose': 'lodging-notification' },
        body: JSON.stringify({ query: 'query C($p: ID!) { citizen(personalId: $p) { fullName } }', variables: { p: stack.world.citizens[4]!.personalId } }),
      });
      expect(res.status).toBe(200);
    };
    const gw = await stack.startGateway({ audit, ...QUIET_GATEWAY });
    await serveOne(gw);
    await gw.close();
    const witnessFile = path.join(dataDir, 'audit-witness.jsonl');
    rmSync(witnessFile);
    const refusal = await stack.startGateway({ audit, ...QUIET_GATEWAY }).then(
      () => null,
      (err: Error) => err.message,
    );
    const seq = Number(/AUDIT_WITNESS_ADOPT=([0-9]+)/.exec(refusal ?? '')?.[1]);
    expect(seq).toBeGreaterThan(0);
    await expect(stack.startGateway({ audit: { ...audit, adoptWitness: seq + 1 }, ...QUIET_GATEWAY })).rejects.toThrow(/names seq .*holds chain "witness-adopt-seq" up to seq/s);
    const adopted = await stack.startGateway({ audit: { ...audit, adoptWitness: seq }, ...QUIET_GATEWAY });
    await serveOne(adopted);
    await adopted.close();
    // The insider removes the witness again while the old value is still set: refused.
    rmSync(witnessFile);
    await expect(stack.startGateway({ audit: { ...audit, adoptWitness: seq }, ...QUIET_GATEWAY })).rejects.toThrow(/names seq/);
  }, 60_000);
});
