/**
 * Ports browsers and `fetch` refuse to connect to: the WHATWG Fetch standard's "bad ports"
 * (https://fetch.spec.whatwg.org/#port-blocking). A service on one of them looks dead to
 * every browser and to Node's own `fetch` (undici applies the same list), so `npm start`
 * would wait for a health answer that can never come: refuse such a port at once instead.
 */
export const BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115,
  117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587,
  601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679,
  6697, 10080,
]);

/** True when browsers and fetch refuse `port` (port 0, "any free port", is not a bad port: it never reaches a client). */
export function isBadPort(port: number): boolean {
  return port !== 0 && BAD_PORTS.has(port);
}

/** Why `port`, used for `what` (e.g. `PORT=6666 (the gateway)`), cannot work, and what to do; null when it can. */
export function badPortMessage(port: number, what: string): string | null {
  if (!isBadPort(port)) return null;
  return (
    `${what} is port ${port}, which browsers and fetch refuse to connect to (the WHATWG "bad ports" list: 6000, 6665–6669, 5060, …; ` +
    `https://fetch.spec.whatwg.org/#port-blocking): nothing could reach it. Choose another port.`
  );
}

/**
 * Throws at once when `port` is one browsers and fetch refuse: every server entry point (gateway,
 * subgraphs, mock registries, mock e-ID platform) calls it before it opens anything, so a bad port
 * is a start error with this message, not a service that looks dead to every client.
 */
export function assertUsablePort(port: number, what: string): void {
  const bad = badPortMessage(port, what);
  if (bad) throw new Error(bad);
}
