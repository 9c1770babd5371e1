/**
 * Development keys generated once under the data directory (audit HMAC key, subgraph signing
 * keys), so `npm start` works on a fresh clone. Production never reaches this: its callers
 * refuse to run without a configured key.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The trimmed content of `file`, written first (mode 600) with `create()` when absent.
 * `generated` is true when this call wrote it. Exclusive create ('wx'): when two processes
 * start together (a gateway and a subgraph), the first writes and the other reads.
 */
export function readOrCreateKeyFile(file: string, create: () => string): { text: string; generated: boolean } {
  let generated = false;
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, `${create()}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      generated = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return { text: readFileSync(file, 'utf8').trim(), generated };
}
