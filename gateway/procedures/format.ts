/**
 * Display formats of prefilled values, as a Vietnamese paper form shows them:
 * dates dd/MM/yyyy, months MM/yyyy, addresses on one line, numbers with dot thousands.
 */
import type { FieldFormat } from './catalog-format.js';

const NUMBER = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 });

/** ISO `yyyy-MM-dd` (or a timestamp starting with it) → `dd/MM/yyyy`; anything else is returned as is. */
export function formatDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
}

/** ISO month `yyyy-MM` → `MM/yyyy`. */
export function formatMonth(iso: string): string {
  const m = /^(\d{4})-(\d{2})/.exec(iso);
  return m ? `${m[2]}/${m[1]}` : iso;
}

/** One value in the field's format. */
export function formatValue(value: unknown, format: FieldFormat, labels?: Record<string, string>): string {
  switch (format) {
    case 'date':
      return formatDate(String(value));
    case 'month':
      return formatMonth(String(value));
    case 'number':
      return typeof value === 'number' ? NUMBER.format(value) : String(value);
    case 'boolean':
      return value === true ? 'Có' : value === false ? 'Không' : String(value);
    case 'label':
      return labels?.[String(value)] ?? String(value);
    case 'address':
    case 'text':
      return String(value);
  }
}

/** All values of a path (several when it crosses a list), formatted and joined with "; ". */
export function formatValues(values: readonly unknown[], format: FieldFormat, labels?: Record<string, string>): string {
  return values.map((v) => formatValue(v, format, labels)).join('; ');
}
