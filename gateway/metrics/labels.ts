/**
 * Label values for Prometheus series. Every distinct label value is a new time
 * series kept forever by Prometheus, so values must come from small, bounded sets
 * (client ids of the clients file, procedure ids of the catalog, registry names)
 * and must never carry personal data. A value that does not fit is replaced by
 * `other` rather than dropped, so totals still add up.
 */

export interface LabelGuardOptions {
  /** Distinct values kept per label before new ones fold into `other`. Default: 200. */
  maxValuesPerLabel?: number;
}

/** Shape of an acceptable label value: short, starts with a letter, no spaces or quotes. */
const SAFE_VALUE = /^[A-Za-z][A-Za-z0-9_.:\-/]{0,63}$/;
/**
 * Runs of 9 or more digits look like a personal ID (12), an enterprise code (10),
 * a BHXH number (10) or a health card (15 with letters): never let one through,
 * even embedded in a procedure id typed by a careless client.
 */
const LONG_DIGITS = /\d{9,}/;

export const OTHER = 'other';

/** Folds unsafe or overflowing label values into `other`; one guard per label name. */
export class LabelGuard {
  private readonly seen = new Map<string, Set<string>>();
  private readonly max: number;

  constructor(opts: LabelGuardOptions = {}) {
    this.max = opts.maxValuesPerLabel ?? 200;
  }

  value(label: string, raw: string | null | undefined, fallback = 'none'): string {
    if (raw === null || raw === undefined || raw === '') return fallback;
    if (!SAFE_VALUE.test(raw) || LONG_DIGITS.test(raw)) return OTHER;
    let values = this.seen.get(label);
    if (!values) {
      values = new Set();
      this.seen.set(label, values);
    }
    if (values.has(raw)) return raw;
    if (values.size >= this.max) return OTHER;
    values.add(raw);
    return raw;
  }
}

/** True when a label value could be a national identifier (used by tests and by the guard). */
export function looksLikeIdentifier(value: string): boolean {
  return LONG_DIGITS.test(value);
}
