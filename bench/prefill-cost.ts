/**
 * What prefill costs on top of its own compiled operation, in one process: the whole stack
 * in-process (test/support/stack.ts), requests one at a time, CPU time of this process per
 * request for (1) prefill of judicial-record-certificate and (2) the same procedure's
 * compiled operation sent as a plain query under its purpose. Registries and subgraphs do
 * the same work for both, so the difference is the procedure layer (the second pass through
 * the gateway pipeline, the form). Sequential requests and CPU time (not wall time) keep it
 * steady on a busy machine; it is a profiling aid, not a pass/fail figure.
 *
 * Usage: npx tsx bench/prefill-cost.ts [requests per batch, default 400] [batches, default 5]
 * Profile one kind: PREFILL_COST_ONLY=prefill node --cpu-prof --import tsx bench/prefill-cost.ts
 * (then the same with =query, and compare the two profiles' last seconds).
 */
import { startStack } from '../test/support/stack.js';
import { W2_PREFILL, w2Query } from './workloads.js';

const PER_BATCH = Number(process.argv[2] ?? 400);
const BATCHES = Number(process.argv[3] ?? 5);

const stack = await startStack({ citizens: 300 });
try {
  const ids = stack.world.citizens.filter((c) => !c.deceased).map((c) => c.personalId);
  const w2 = w2Query();
  const kinds = {
    prefill: (id: string) => stack.query({ query: W2_PREFILL, variables: { id } }),
    query: (id: string) => stack.query({ query: w2.query, variables: w2.variables(id) }, { headers: { 'x-purpose': 'judicial-record-certificate' } }),
  };
  const check = async (name: keyof typeof kinds) => {
    const r = await kinds[name](ids[0]!);
    if (r.status !== 200 || r.body.errors) throw new Error(`${name} failed: ${JSON.stringify(r.body).slice(0, 400)}`);
  };
  await check('prefill');
  await check('query');
  const batch = async (name: keyof typeof kinds, n: number): Promise<number> => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await kinds[name](ids[i % ids.length]!);
    const d = process.cpuUsage(t0);
    return (d.user + d.system) / n;
  };
  await batch('prefill', PER_BATCH); // warm-up
  await batch('query', PER_BATCH);
  // PREFILL_COST_ONLY=prefill|query: only that kind, for a CPU profile of one (node --cpu-prof).
  const only = process.env.PREFILL_COST_ONLY;
  if (only === 'prefill' || only === 'query') {
    const t = await batch(only, PER_BATCH * BATCHES);
    process.stdout.write(`${only}: ${(t / 1000).toFixed(3)} ms CPU per request\n`);
  } else {
    const us: Record<string, number[]> = { prefill: [], query: [] };
    for (let b = 0; b < BATCHES; b++) for (const k of ['prefill', 'query'] as const) us[k]!.push(await batch(k, PER_BATCH));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const p = median(us.prefill!);
    const q = median(us.query!);
    process.stdout.write(
      `CPU per request, whole stack in one process (median of ${BATCHES} batches of ${PER_BATCH}):\n` +
        `  prefill judicial-record-certificate   ${(p / 1000).toFixed(3)} ms\n` +
        `  its compiled operation as a query     ${(q / 1000).toFixed(3)} ms\n` +
        `  procedure layer (difference)          ${((p - q) / 1000).toFixed(3)} ms\n`,
    );
  }
} finally {
  await stack.close();
}
