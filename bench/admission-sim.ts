/**
 * What the response cache's admission rule does to the hit ratio and the stores, simulated:
 * `npx tsx bench/admission-sim.ts` (a few seconds, no servers). The benchmark's subject draw
 * (bench/subjects.ts: Zipf s = 1 or uniform over 86,141 living citizens), one response key per
 * subject, a 180 s lifetime (ttl 120 + stale 60), an LRU of N responses, and the real Doorkeeper
 * (gateway/cache/response-cache.ts). Measured over the last 200 s of 400 s.
 */
import { Doorkeeper } from '../gateway/cache/response-cache.js';
import { makeSubjectPicker } from './subjects.js';

const SUBJECTS = 86_141;
const LIFETIME_S = 180;

function simulate(rate: number, capacity: number, door: boolean, distribution: 'zipf' | 'uniform'): { hits: number; stores: number } {
  const pick = makeSubjectPicker(SUBJECTS, distribution, 20250701);
  const cache = new Map<number, number>();
  const keeper = door ? new Doorkeeper(65_536) : null;
  let hits = 0, stores = 0, measured = 0;
  for (let i = 0; i < rate * 400; i++) {
    const now = i / rate;
    const k = pick();
    const measure = now >= 200;
    if (measure) measured++;
    const storedAt = cache.get(k);
    cache.delete(k);
    if (storedAt !== undefined && now - storedAt < LIFETIME_S) {
      if (measure) hits++;
      cache.set(k, storedAt);
      continue;
    }
    if (keeper && !keeper.admit(String(k))) continue;
    if (measure) stores++;
    cache.set(k, now);
    if (cache.size > capacity) cache.delete(cache.keys().next().value!);
  }
  return { hits: hits / measured, stores: stores / measured };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.log('| traffic | LRU responses | hit ratio: first miss → second miss | stores per request: first → second |');
console.log('|---|---:|---:|---:|');
for (const [distribution, rate] of [['zipf', 600], ['uniform', 300]] as const) {
  for (const capacity of [3_000, 13_000]) {
    const a = simulate(rate, capacity, false, distribution);
    const b = simulate(rate, capacity, true, distribution);
    console.log(`| W1-${distribution}, ${rate} req/s | ${capacity} | ${pct(a.hits)} → ${pct(b.hits)} | ${a.stores.toFixed(2)} → ${b.stores.toFixed(2)} |`);
  }
}
