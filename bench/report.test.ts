import { describe, expect, it } from 'vitest';
import { closedTable, openTable, type ClosedResult, type OpenResult } from './report.js';

const load = { requests: 100, errors: 0, p90: 0, p95: 0, max: 0 };
const closed = (contender: string, rps: number, cpu: number, warmupRps: number[], warmupStable: boolean, round = 0): ClosedResult => ({
  ...load,
  workload: 'W1-zipf',
  contender,
  label: `label ${contender}`,
  round,
  rps,
  p50: 10,
  p99: 20,
  memMiB: contender === 'e' ? NaN : 300,
  cpuMsPerRequest: cpu,
  warmupRps,
  warmupStable,
});

describe('bench report tables', () => {
  it('averages rounds (showing each round\'s req/s), compares with (c), shows warm-up windows and – for what a floor cannot have', () => {
    const table = closedTable([
      closed('a', 600, 0.5, [98, 500, 520], true),
      closed('a', 700, 0.7, [690], true, 1),
      closed('c', 200, 2.5, [100, 150, 200, 260, 300, 330], false),
      closed('e', 900, NaN, [880, 900], true),
    ]).split('\n');
    expect(table[2]).toBe('| W1-zipf | a: label a | 650 (600 / 700) | 10.0 | 20.0 | 0 | 0.60 | 300 | 3.25 | – | 98→500→520 |');
    expect(table[3]).toBe('| W1-zipf | c: label c | 200 | 10.0 | 20.0 | 0 | 2.50 | 300 | 1.00 | – | 100→150→200→260→300→330 (not stable) |');
    expect(table[4]).toBe('| W1-zipf | e: label e | 900 | 10.0 | 20.0 | 0 | – | – | 4.50 | – | 880→900 |');
  });

  it('shortens a long warm-up and shows the cache hit ratio of the warm-up and of the measurement', () => {
    const a: ClosedResult = { ...closed('a', 800, 1.1, [166, 377, 531, 659, 700, 740, 757, 760], true), warmupHitRatios: [0.31, 0.6, 0.7, 0.75, 0.78, 0.8, 0.81, 0.815], hitRatio: 0.824 };
    expect(closedTable([a]).split('\n')[2]).toBe('| W1-zipf | a: label a | 800 | 10.0 | 20.0 | 0 | 1.10 | 300 | – | 82 % | 166→377→…→740→757→760 (8 windows), cache hits 31 % → 82 % |');
  });

  it('prints the open loop with its rate and p50/p95/p99', () => {
    const row: OpenResult = { ...load, workload: 'W1-zipf', contender: 'a', label: 'Motlan', rate: 100, rps: 99.6, p50: 4.2, p95: 9.87, p99: 31.5, memMiB: 300, cpuMsPerRequest: 0.81 };
    expect(openTable([row]).split('\n')[2]).toBe('| W1-zipf | a: Motlan | 100 | 100 | 4.2 | 9.9 | 31.5 | 0 | 0.81 | – |');
    expect(openTable([{ ...row, hitRatio: 0.8 }]).split('\n')[2]).toBe('| W1-zipf | a: Motlan | 100 | 100 | 4.2 | 9.9 | 31.5 | 0 | 0.81 | 80 % |');
  });
});
