/**
 * What the response cache's admission rules do to the hit ratio and the stores, simulated:
 * `npx tsx bench/admission-sim.ts` (seconds, no servers). The benchmark's subject draw
 * (bench/subjects.ts: Zipf s = 1 or uniform over 86,141 living citizens), one response key per
 * subject, a 180 s lifetime (ttl 120 + stale 60), an LRU of N responses, and the real Doorkeeper
 * and FrequencySketch (gateway/cache/). Each request looks its key up (the sketch counts it); a
 * miss asks the rule whether to store. Measured over the last 200 s of 400 s.
 */
import { Admission, type AdmissionRule } from '../gateway/cache/admission.js';
import { makeSubjectPicker } from './subjects.js';

const SUBJECTS = 86_141;
const LIFETIME_S = 180;

function simulate(rate: number, capacity: number, rule: AdmissionRule, distribution: 'zipf' | 'uniform'): { hits: number; stores: number } {
  const pick = makeSubjectPicker(SUBJECTS, distribution, 20250701);
  const cache = new Map<string, number>();
  const admission = new Admission(rule);
  let hits = 0, stores = 0, measured = 0;
  for (let i = 0; i < rate * 400; i++) {
    const now = i / rate;
    const k = String(pick());
    const measure = now >= 200;
    if (measure) measured++;
    admission.seen(k);
    const storedAt = cache.get(k);
    cache.delete(k);
    if (storedAt !== undefined && now - storedAt < LIFETIME_S) {
      if (measure) hits++;
      cache.set(k, storedAt);
      continue;
    }
    // The LRU's victim when full, unless it has expired (then there is room), as LocalStore.victimIfFull.
    const tail = cache.size >= capacity ? cache.keys().next().value! : undefined;
    const victim = tail !== undefined && now - cache.get(tail)! < LIFETIME_S ? tail : undefined;
    if (!admission.admit(k, () => victim)) continue;
    if (measure) stores++;
    cache.set(k, now);
    if (tail !== undefined) cache.delete(tail);
  }
  return { hits: hits / measured, stores: stores / measured };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const rules: AdmissionRule[] = ['first', 'second', 'frequency'];
console.log(`| traffic | LRU responses | hit ratio: ${rules.join(' / ')} | stores per request: ${rules.join(' / ')} |`);
console.log('|---|---:|---:|---:|');
for (const [distribution, rate] of [['zipf', 600], ['uniform', 300]] as const) {
  for (const capacity of [3_000, 6_000, 13_000]) {
    const r = rules.map((rule) => simulate(rate, capacity, rule, distribution));
    console.log(`| W1-${distribution}, ${rate} req/s | ${capacity} | ${r.map((x) => pct(x.hits)).join(' / ')} | ${r.map((x) => x.stores.toFixed(2)).join(' / ')} |`);
  }
}
