/**
 * The performance targets of issue 15, judged on one run's results: each is met, missed,
 * or not measured (a contender or workload left out of the run), with the figure.
 * Ratios are within one run, so a busy machine moves both sides.
 */

export interface ClosedRow {
  workload: string;
  contender: string;
  rps: number;
  /** Gateway CPU per request, ms (NaN for the no-gateway floor). */
  cpuMsPerRequest: number;
}

export interface OpenRow {
  workload: string;
  contender: string;
  /** Arrival rate, req/s. */
  rate: number;
  p99: number;
}

export interface SoakFigure {
  growthPct: number;
  seconds: number;
}

export type TargetStatus = 'met' | 'missed' | 'not measured';

export interface TargetVerdict {
  target: string;
  status: TargetStatus;
  /** The figure that decided it (or what was missing). */
  figure: string;
}

/** Mean of a field over the rows (rounds) of one contender on one workload; NaN when none. */
export function meanOf(rows: readonly ClosedRow[], workload: string, contender: string, key: 'rps' | 'cpuMsPerRequest'): number {
  const xs = rows.filter((r) => r.workload === workload && r.contender === contender).map((r) => r[key]).filter(Number.isFinite);
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

const f0 = (x: number) => x.toFixed(0);
const f2 = (x: number) => x.toFixed(2);

/** A ratio target: `num / den` compared with `bound` (≥ or ≤). */
function ratioVerdict(target: string, num: number, den: number, op: '>=' | '<=', bound: number, describe: (ratio: number) => string): TargetVerdict {
  if (!Number.isFinite(num) || !Number.isFinite(den) || den <= 0) {
    return { target, status: 'not measured', figure: 'a contender or workload it needs was not in this run' };
  }
  const ratio = num / den;
  const met = op === '>=' ? ratio >= bound : ratio <= bound;
  return { target, status: met ? 'met' : 'missed', figure: describe(ratio) };
}

export interface TargetInputs {
  closed: readonly ClosedRow[];
  open: readonly OpenRow[];
  soak?: SoakFigure;
  /** The open-loop rate the p99 target is stated at. Default: 100 req/s. */
  openRate?: number;
}

export function evaluateTargets({ closed, open, soak, openRate = 100 }: TargetInputs): TargetVerdict[] {
  const rps = (w: string, c: string) => meanOf(closed, w, c, 'rps');
  const cpu = (w: string, c: string) => meanOf(closed, w, c, 'cpuMsPerRequest');
  const verdicts: TargetVerdict[] = [
    ratioVerdict('W1-zipf: (a) ≥ 3× (c) in req/s', rps('W1-zipf', 'a'), rps('W1-zipf', 'c'), '>=', 3, (r) => `${f2(r)}× (${f0(rps('W1-zipf', 'a'))} vs ${f0(rps('W1-zipf', 'c'))} req/s)`),
    ratioVerdict('W1-zipf: (a) ≥ 2× (d2) in req/s', rps('W1-zipf', 'a'), rps('W1-zipf', 'd2'), '>=', 2, (r) => `${f2(r)}× (${f0(rps('W1-zipf', 'a'))} vs ${f0(rps('W1-zipf', 'd2'))} req/s)`),
    ratioVerdict('W1-zipf: (a) gateway CPU per request ≤ 0.3× (c)', cpu('W1-zipf', 'a'), cpu('W1-zipf', 'c'), '<=', 0.3, (r) => `${f2(r)}× (${f2(cpu('W1-zipf', 'a'))} vs ${f2(cpu('W1-zipf', 'c'))} ms)`),
    ratioVerdict('W1-uniform: (a) ≥ 0.95× (b) in req/s', rps('W1-uniform', 'a'), rps('W1-uniform', 'b'), '>=', 0.95, (r) => `${f2(r)}× (${f0(rps('W1-uniform', 'a'))} vs ${f0(rps('W1-uniform', 'b'))} req/s)`),
    ratioVerdict('W2: prefill (a) ≥ 1.2× (c) running the compiled query, in req/s', rps('W2-zipf', 'a'), rps('W2-zipf', 'c'), '>=', 1.2, (r) => `${f2(r)}× (${f0(rps('W2-zipf', 'a'))} vs ${f0(rps('W2-zipf', 'c'))} req/s; gateway CPU ${f2(cpu('W2-zipf', 'a'))} vs ${f2(cpu('W2-zipf', 'c'))} ms/request)`),
  ];
  const o = open.find((r) => r.workload === 'W1-zipf' && r.contender === 'a' && r.rate === openRate);
  verdicts.push(
    o
      ? { target: `Open loop at ${openRate} req/s, W1-zipf: (a) p99 < 50 ms`, status: o.p99 < 50 ? 'met' : 'missed', figure: `p99 ${o.p99.toFixed(1)} ms` }
      : { target: `Open loop at ${openRate} req/s, W1-zipf: (a) p99 < 50 ms`, status: 'not measured', figure: `no open-loop run of (a) on W1-zipf at ${openRate} req/s` },
  );
  verdicts.push(
    soak
      ? { target: 'Soak: RSS growth < 10 % after the cache is full', status: soak.growthPct < 10 ? 'met' : 'missed', figure: `${soak.growthPct.toFixed(1)} % over ${soak.seconds} s` }
      : { target: 'Soak: RSS growth < 10 % after the cache is full', status: 'not measured', figure: 'no soak in this run (--soak 0)' },
  );
  return verdicts;
}

/** Markdown lines, one per target. */
export function formatTargets(verdicts: readonly TargetVerdict[]): string[] {
  const mark: Record<TargetStatus, string> = { met: '**met**', missed: '**missed**', 'not measured': 'not measured' };
  return verdicts.map((v) => `- ${v.target}: ${mark[v.status]} — ${v.figure}`);
}
