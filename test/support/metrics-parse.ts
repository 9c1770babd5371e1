/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for
 * the tests: every line must be a HELP, a TYPE or a sample of a declared family,
 * label values must be properly quoted and escaped, values must be numbers.
 * Throws naming the line otherwise.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL_PAIR_RE = new RegExp(`^(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"(,|$)`);

function parseLabels(text: string, lineNo: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL_PAIR_RE.exec(rest);
    if (!m) throw new Error(`line ${lineNo}: malformed labels {${text}}`);
    if (m[1]! in labels) throw new Error(`line ${lineNo}: label ${m[1]} repeated`);
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function parseValue(s: string, lineNo: number): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  // Prometheus parses floats as Go does (case-insensitive): prom-client writes NaN as `Nan`
  // (an event-loop lag gauge scraped again before any new sample).
  if (/^nan$/i.test(s)) return NaN;
  const n = Number(s);
  if (s === '' || Number.isNaN(n)) throw new Error(`line ${lineNo}: value ${JSON.stringify(s)} is not a number`);
  return n;
}

/** The family a sample belongs to (histogram/summary samples carry suffixes). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const f = families.get(name.slice(0, -suffix.length));
      if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the exposition must end with a newline');
  lines.pop();
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line === '') return;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      const f = families.get(m[1]!) ?? { name: m[1]!, type: 'untyped' as const, help: '', samples: [] };
      f.help = m[2]!;
      families.set(f.name, f);
      return;
    }
    if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      const f = families.get(m[1]!) ?? { name: m[1]!, type: 'untyped' as const, help: '', samples: [] };
      if (f.samples.length > 0) throw new Error(`line ${lineNo}: TYPE after samples of ${f.name}`);
      f.type = m[2] as Family['type'];
      families.set(f.name, f);
      return;
    }
    if (line.startsWith('#')) return; // other comments are allowed
    m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`line ${lineNo}: not a sample: ${JSON.stringify(line)}`);
    const family = familyOf(m[1]!, families);
    if (!family) throw new Error(`line ${lineNo}: sample ${m[1]} has no TYPE/HELP declared before it`);
    family.samples.push({ name: m[1]!, labels: parseLabels(m[2] ?? '', lineNo), value: parseValue(m[3]!, lineNo) });
  });
  return families;
}
