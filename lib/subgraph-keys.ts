/**
 * The key a gateway and one subgraph share to sign subgraph requests
 * (lib/subgraph-signature.ts):
 * - on the gateway, one per subgraph: `SUBGRAPH_SIGNING_KEY_<NAME>` (e.g. `SUBGRAPH_SIGNING_KEY_POPULATION`);
 * - on a subgraph, its own: `GATEWAY_SIGNING_KEY`.
 * Outside production a missing key is generated once as `<DATA_DIR>/subgraph-signing-<name>.dev.key`,
 * so a gateway and subgraphs on one machine (same DATA_DIR) agree without any setup.
 * Development keys start with `dev-`; production refuses them and refuses to run without a key,
 * like the audit keys (gateway/audit/keys.ts).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DEV_KEY_PREFIX, MIN_KEY_LENGTH } from './subgraph-signature.js';
import { readOrCreateKeyFile } from './dev-key-file.js';

export const GATEWAY_KEY_ENV = 'GATEWAY_SIGNING_KEY';
export const gatewayKeyEnvOf = (subgraph: string): string => `SUBGRAPH_SIGNING_KEY_${subgraph.toUpperCase()}`;
export const devKeyFileOf = (dataDir: string, subgraph: string): string => path.resolve(dataDir, `subgraph-signing-${subgraph}.dev.key`);

export interface SubgraphKeyOptions {
  /** Subgraph (= registry) name, e.g. `population`. */
  subgraph: string;
  /** The key as configured (env value), if any. */
  value?: string;
  /** The variable the value comes from, for error messages. */
  envName: string;
  /** Where development keys live. Default: `DATA_DIR` env, else `./data` (resolved by the caller). */
  dataDir: string;
  /** Refuse development keys and missing keys. */
  production: boolean;
}

/** The key bytes, and where they came from; throws with what to configure. */
export function loadSubgraphKey(opts: SubgraphKeyOptions): { key: Buffer; source: string; generated: boolean } {
  if (opts.value !== undefined && opts.value !== '') {
    const value = opts.value.trim();
    if (value.length < MIN_KEY_LENGTH) {
      throw new Error(`${opts.envName} is shorter than ${MIN_KEY_LENGTH} characters: use a random key, e.g. \`openssl rand -hex 32\`.`);
    }
    if (opts.production && value.startsWith(DEV_KEY_PREFIX)) {
      throw new Error(`${opts.envName} holds a development key (it starts with "${DEV_KEY_PREFIX}"): production needs a key of its own (openssl rand -hex 32).`);
    }
    return { key: Buffer.from(value, 'utf8'), source: opts.envName, generated: false };
  }
  if (opts.production) {
    throw new Error(
      `${opts.envName} must be set when NODE_ENV=production: the ${opts.subgraph} subgraph accepts only requests the gateway signed with it. ` +
        `Generate one (openssl rand -hex 32) and give the same value to the gateway as ${gatewayKeyEnvOf(opts.subgraph)} and to the subgraph as ${GATEWAY_KEY_ENV}.`,
    );
  }
  const file = devKeyFileOf(opts.dataDir, opts.subgraph);
  const { text: key, generated } = readOrCreateKeyFile(file, () => `${DEV_KEY_PREFIX}${randomBytes(32).toString('hex')}`);
  if (key.length < MIN_KEY_LENGTH) throw new Error(`The development key file ${file} is damaged (too short): delete it, it will be generated again.`);
  return { key: Buffer.from(key, 'utf8'), source: file, generated };
}
