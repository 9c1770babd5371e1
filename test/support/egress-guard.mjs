/**
 * Egress guard (docs/SECURITY.md, "No egress"): preloaded into a Node process
 * (`node --import ./test/support/egress-guard.mjs`, or NODE_OPTIONS), it records
 * and BLOCKS every attempt to reach a non-loopback address: TCP/TLS connects
 * (net.Socket#connect underlies http, https, undici, pg, ioredis), UDP sends, and
 * DNS lookups/resolutions of any name but `localhost`. Loopback addresses and
 * Unix sockets pass.
 *
 * Each attempt is appended as one JSON line to $EGRESS_GUARD_LOG (when set; plus one
 * `{"kind":"loaded"}` line per process that loaded the guard) and
 * kept in `globalThis[Symbol.for('motlan.egressAttempts')]`, so a test can fail on
 * any. Blocking means no packet leaves even when a dependency tries: the caller
 * gets an ordinary connection/lookup error (`EGRESS_BLOCKED`).
 *
 * Plain .mjs with no dependency: it must load before anything else, in any process.
 */
import { appendFileSync } from 'node:fs';
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';

const KEY = Symbol.for('motlan.egressAttempts');
if (!globalThis[KEY]) {
  const attempts = [];
  globalThis[KEY] = attempts;
  const logFile = process.env.EGRESS_GUARD_LOG;

  const isLoopback = (host) => {
    if (host === undefined || host === null || host === '') return true; // net defaults to localhost
    const h = String(host).toLowerCase().replace(/^\[|\]$/g, '');
    if (h === 'localhost' || h.endsWith('.localhost')) return true;
    if (h === '::1' || h === '0:0:0:0:0:0:0:1' || h === '::' || h === '0.0.0.0') return true;
    if (/^127\.\d+\.\d+\.\d+$/.test(h)) return true;
    if (/^::ffff:127\.\d+\.\d+\.\d+$/.test(h)) return true;
    return false;
  };

  const record = (kind, target) => {
    const entry = { pid: process.pid, kind, target: String(target), at: new Date().toISOString(), stack: (new Error().stack ?? '').split('\n').slice(3, 9).map((l) => l.trim()) };
    attempts.push(entry);
    if (logFile) {
      try {
        appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
      } catch {
        // The log is best effort; the in-memory list still has it.
      }
    }
    return entry;
  };

  // One `loaded` line per process, so a test can check that every process of a stack ran the guard.
  if (logFile) {
    try {
      appendFileSync(logFile, `${JSON.stringify({ pid: process.pid, kind: 'loaded', argv: process.argv.slice(1) })}\n`);
    } catch {
      // best effort
    }
  }

  const blocked = (what) => {
    const err = new Error(`egress blocked by the test guard: ${what}`);
    err.code = 'EGRESS_BLOCKED';
    return err;
  };

  /** Host of net.Socket#connect's many signatures; null for Unix sockets. */
  const targetOf = (args) => {
    let a = args[0];
    if (Array.isArray(a)) a = a[0]; // internal normalized form: [options, cb]
    if (a && typeof a === 'object') {
      if (a.path) return null;
      return { host: a.host ?? 'localhost', port: a.port };
    }
    if (typeof a === 'string' && !/^\d+$/.test(a)) return null; // a pipe path
    return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: a };
  };

  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const t = targetOf(args);
    if (t && !isLoopback(t.host)) {
      record('connect', `${t.host}:${t.port}`);
      const err = blocked(`connect ${t.host}:${t.port}`);
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return originalConnect.apply(this, args);
  };

  const originalTlsConnect = tls.connect;
  tls.connect = function guardedTlsConnect(...args) {
    const o = args.find((x) => x && typeof x === 'object') ?? {};
    const host = o.host ?? (typeof args[1] === 'string' ? args[1] : undefined) ?? o.servername;
    if (!o.socket && !o.path && !isLoopback(host)) record('tls', `${host}:${o.port ?? args[0]}`);
    return originalTlsConnect.apply(this, args);
  };

  const guardLookup = (owner, name, promised) => {
    const original = owner[name];
    if (typeof original !== 'function') return;
    owner[name] = function guardedLookup(host, ...rest) {
      if (!isLoopback(host) && net.isIP(String(host)) === 0) {
        record(`dns.${name}`, host);
        const err = blocked(`${name} ${host}`);
        err.code = 'ENOTFOUND';
        err.hostname = host;
        if (promised) return Promise.reject(err);
        const cb = rest.find((x) => typeof x === 'function');
        if (cb) process.nextTick(() => cb(err));
        return undefined;
      }
      if (!isLoopback(host) && net.isIP(String(host)) !== 0 && name !== 'lookup') record(`dns.${name}`, host);
      return original.call(this, host, ...rest);
    };
  };
  const RESOLVE = ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveMx', 'resolveNs', 'resolveTxt', 'resolveSrv', 'resolvePtr', 'resolveNaptr', 'resolveSoa', 'resolveCaa', 'reverse'];
  for (const n of RESOLVE) guardLookup(dns, n, false);
  for (const n of RESOLVE) guardLookup(dns.promises, n, true);
  for (const n of RESOLVE) guardLookup(dns.Resolver.prototype, n, false);
  for (const n of RESOLVE) guardLookup(dns.promises.Resolver.prototype, n, true);

  const originalSend = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function guardedSend(...args) {
    // send(msg, [offset, length,] port, address, cb): the address is the first string after a number.
    const i = args.findIndex((x, k) => k > 0 && typeof x === 'number' && typeof args[k + 1] === 'string');
    const address = i >= 0 ? args[i + 1] : undefined;
    if (address !== undefined && !isLoopback(address)) {
      record('udp', address);
      const cb = args.find((x) => typeof x === 'function');
      if (cb) process.nextTick(() => cb(blocked(`udp ${address}`)));
      return;
    }
    return originalSend.apply(this, args);
  };
}
