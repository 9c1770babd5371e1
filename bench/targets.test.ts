import { describe, expect, it } from 'vitest';
import { evaluateTargets, formatTargets, meanOf, type ClosedRow } from './targets.js';

const row = (workload: string, contender: string, rps: number, cpuMsPerRequest: number): ClosedRow => ({ workload, contender, rps, cpuMsPerRequest });

const closed: ClosedRow[] = [
  row('W1-zipf', 'a', 600, 0.5),
  row('W1-zipf', 'a', 700, 0.7), // two rounds: means 650 req/s, 0.6 ms
  row('W1-zipf', 'c', 200, 2.5),
  row('W1-zipf', 'd2', 350, 1.2),
  row('W1-uniform', 'a', 190, 1),
  row('W1-uniform', 'b', 200, 1),
  row('W2-zipf', 'a', 500, 1.2),
  row('W2-zipf', 'c', 450, 1.4),
];

describe('issue 15 targets', () => {
  it('averages rounds and ignores non-finite figures', () => {
    expect(meanOf(closed, 'W1-zipf', 'a', 'rps')).toBe(650);
    expect(meanOf([row('W1-zipf', 'e', 900, NaN)], 'W1-zipf', 'e', 'cpuMsPerRequest')).toBeNaN();
    expect(meanOf(closed, 'W1-zipf', 'zz', 'rps')).toBeNaN();
  });

  it('judges each target with its figure', () => {
    const v = evaluateTargets({ closed, open: [{ workload: 'W1-zipf', contender: 'a', rate: 100, p99: 42.3 }], soak: { growthPct: 12.5, seconds: 300 } });
    const by = Object.fromEntries(v.map((x) => [x.target, x]));
    expect(by['W1-zipf: (a) ≥ 3× (c) in req/s']).toMatchObject({ status: 'met', figure: '3.25× (650 vs 200 req/s)' });
    expect(by['W1-zipf: (a) ≥ 2× (d2) in req/s']).toMatchObject({ status: 'missed', figure: '1.86× (650 vs 350 req/s)' });
    expect(by['W1-zipf: (a) gateway CPU per request ≤ 0.3× (c)']).toMatchObject({ status: 'met', figure: '0.24× (0.60 vs 2.50 ms)' });
    expect(by['W1-uniform: (a) ≥ 0.95× (b) in req/s']).toMatchObject({ status: 'met', figure: '0.95× (190 vs 200 req/s)' });
    expect(by['W2: prefill (a) ≥ 1.2× (c) running the compiled query, in req/s']!.status).toBe('missed');
    expect(by['Open loop at 100 req/s, W1-zipf: (a) p99 < 50 ms']).toMatchObject({ status: 'met', figure: 'p99 42.3 ms' });
    expect(by['Soak: RSS growth < 10 % after the cache is full']).toMatchObject({ status: 'missed', figure: '12.5 % over 300 s' });
    expect(v).toHaveLength(7);
  });

  it('says "not measured" when the run left out what a target needs', () => {
    const v = evaluateTargets({ closed: closed.filter((r) => r.contender !== 'd2'), open: [{ workload: 'W1-zipf', contender: 'a', rate: 200, p99: 10 }] });
    const statuses = Object.fromEntries(v.map((x) => [x.target, x.status]));
    expect(statuses['W1-zipf: (a) ≥ 2× (d2) in req/s']).toBe('not measured');
    expect(statuses['Open loop at 100 req/s, W1-zipf: (a) p99 < 50 ms']).toBe('not measured'); // measured at another rate
    expect(statuses['Soak: RSS growth < 10 % after the cache is full']).toBe('not measured');
    expect(statuses['W1-zipf: (a) ≥ 3× (c) in req/s']).toBe('met');
  });

  it('formats one markdown line per target', () => {
    const lines = formatTargets(evaluateTargets({ closed, open: [] }));
    expect(lines[0]).toBe('- W1-zipf: (a) ≥ 3× (c) in req/s: **met** — 3.25× (650 vs 200 req/s)');
    expect(lines).toHaveLength(7);
  });
});
