/**
 * Cache settings: Mercurius-style policies declared in a JSON or YAML file
 * (`config/cache.json` by default, `CACHE_CONFIG` overrides), merged with the
 * gateway options and the environment. Every default is written next to its field.
 *
 * A policy is keyed by schema coordinate:
 *   "Query.citizen": { "ttl": 120, "stale": 60 }   a root field
 *   "Citizen":       { "ttl": 120, "stale": 60 }   an entity type (every field of it…)
 *   "Citizen.socialInsurance": { "ttl": 30 }       …unless a field has its own policy
 * A subgraph fetch is cached only when EVERY top-level field it selects has a policy;
 * it then lives for the smallest `ttl` (fresh) plus the smallest `stale` (served stale
 * while one background refresh runs). Fields without a policy are never cached.
 */
import { EnvError, EnvReader } from '../../lib/env-options.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { REPO_ROOT } from '../../lib/repo-root.js';
import { DEMO_REGISTRY_KEY } from '../../lib/demo.js';
import { ADMISSION_RULES, type AdmissionRule } from './admission.js';

export interface CachePolicy {
  /** Seconds an entry is fresh (served without asking the subgraph). Fractions allowed. */
  ttl: number;
  /** Seconds after `ttl` during which the stale entry is still served while ONE background refresh runs. Default 0. */
  stale: number;
}

export interface CacheSettings {
  /** Cache subgraph responses. Default true; `CACHE=off` (or `false`, `0`) turns it off. */
  enabled: boolean;
  /** The file the policies came from, or null for the built-in defaults. */
  configFile: string | null;
  /** Policies by coordinate (`Query.field`, `Type`, `Type.field`). Default: `DEFAULT_POLICIES` (= config/cache.json). */
  policies: Record<string, CachePolicy>;
  /** Bound of the in-process LRU, in bytes (approximate: 2 bytes per character of the JSON). Default 64 MiB (`CACHE_MAX_BYTES`). */
  maxSizeBytes: number;
  /** Larger single entries are not cached. Default 1 MiB. */
  maxEntryBytes: number;
  /**
   * Response fields whose values tag an entry for invalidation, besides every string in
   * the fetch's variables (entity keys, root-field arguments). Default: the registries'
   * identifiers (personalId, enterpriseCode, parcelId, householdId, socialInsuranceNumber, cardNumber).
   */
  tagFields: string[];
  /** Share the cache between replicas through Redis (local LRU in front). Default `REDIS_URL` env; unset = in process only. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key and of the pub/sub channel. Default `motlan:cache:`. */
  redisKeyPrefix: string;
  /** Redis command timeout in ms; a slower Redis counts as a miss, never as an error. Default 250. */
  redisTimeoutMs: number;
  /**
   * Registry base URLs whose change feeds (`GET <url>/api/v1/changes`, Server-Sent Events)
   * evict changed records, by registry (= subgraph) name. Default: `REGISTRY_URL_<NAME>` env
   * (e.g. REGISTRY_URL_POPULATION, set by `npm start`); none means entries live until their TTL.
   */
  changeFeeds: Partial<Record<string, string>>;
  /** Service key for the change feeds (`X-API-Key`). Default `REGISTRY_API_KEY` env, else the demo key outside production. */
  changeFeedApiKey: string | undefined;
  /** Delay before reconnecting a dropped feed, doubled up to 10 s. Default 500 ms. */
  changeFeedReconnectMs: number;
  /**
   * Answer repeats of a whole operation (same client, purpose, verified subject, document,
   * operation name and variables) from the response cache, without planning or executing
   * (response-cache.ts, docs/CACHE.md). Only with `enabled`. Default true; `CACHE_RESPONSES=off` turns it off.
   */
  responses: boolean;
  /**
   * Bound of the in-process response cache, in bytes (2 bytes per character of the stored JSON,
   * counted twice since an entry that was hit is also held decoded, plus bookkeeping). Default 32 MiB
   * (`CACHE_RESPONSE_MAX_BYTES`). Not more by default: at 128 MiB, full and churning under uniform
   * traffic, the gateway spent 3.07 against 1.90 ms of CPU per request with the cache off
   * (benchmark W1-uniform, 1 December), for a W1-zipf hit ratio of 69-74 % against 66 %.
   * Entries over `maxEntryBytes` are not kept.
   */
  responseMaxSizeBytes: number;
  /**
   * When a response is stored: `frequency`, on its key's second miss within a window of 65,536
   * misses (TinyLFU's doorkeeper: responses asked once are never encoded nor stored) and, once the
   * LRU is full, only when its key was asked more often recently than the response it would push
   * out (TinyLFU's frequency sketch); `second`, the doorkeeper alone; `first`, on its first miss.
   * Default `frequency` (`CACHE_RESPONSE_ADMISSION`).
   */
  responseAdmission: AdmissionRule;
  /**
   * When a subgraph answer (an entity, a root field) is stored in the fetch cache: the same rules
   * as `responseAdmission`. Default `first`, every miss (`CACHE_ADMISSION`): `frequency` was tried
   * against the fetch cache's churn under uniform traffic and measured no gain (docs/CACHE.md).
   */
  admission: AdmissionRule;
  /** Share one upstream call among identical in-flight subgraph fetches. Default true (`CACHE_DEDUPE=off` turns it off); independent of `enabled`. */
  dedupe: boolean;
  /** Plan the procedure catalog's operations at start (and after a supergraph reload). Default true; independent of `enabled`. */
  warmQueryPlans: boolean;
}

/** What `config/cache.json` holds; also used when the file is missing. */
export const DEFAULT_POLICIES: Readonly<Record<string, CachePolicy>> = Object.freeze({
  'Query.citizen': { ttl: 120, stale: 60 },
  'Query.citizens': { ttl: 120, stale: 60 },
  'Query.household': { ttl: 120, stale: 60 },
  'Query.enterprise': { ttl: 120, stale: 60 },
  'Query.socialInsurance': { ttl: 120, stale: 60 },
  'Query.healthInsuranceCard': { ttl: 120, stale: 60 },
  'Query.landParcel': { ttl: 120, stale: 60 },
  'Query.landParcelByCertificate': { ttl: 120, stale: 60 },
  Citizen: { ttl: 120, stale: 60 },
  Enterprise: { ttl: 120, stale: 60 },
  LandParcel: { ttl: 120, stale: 60 },
});

export const DEFAULT_TAG_FIELDS: readonly string[] = ['personalId', 'enterpriseCode', 'parcelId', 'householdId', 'socialInsuranceNumber', 'cardNumber'];
export const DEFAULT_CONFIG_FILE = 'config/cache.json';

const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const seconds = z.number().min(0).max(86_400 * 7);
const PolicySchema = z.strictObject({ ttl: seconds, stale: seconds.optional() });
const FileSchema = z.strictObject({
  $comment: z.string().optional(),
  enabled: z.boolean().optional(),
  maxSizeBytes: z.number().int().min(1024).optional(),
  maxEntryBytes: z.number().int().min(64).optional(),
  tagFields: z.array(z.string().min(1)).optional(),
  redisKeyPrefix: z.string().min(1).optional(),
  policies: z.record(z.string().regex(COORDINATE, 'a coordinate is Type or Type.field'), PolicySchema),
});

export type CacheFile = z.infer<typeof FileSchema>;

/** Reads and validates a policy file (JSON or YAML by extension); errors name the file and each wrong field. */
export function readCacheFile(file: string): CacheFile {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`Cannot read the cache policy file ${file}: ${(err as Error).message}. Fix it or point CACHE_CONFIG at a valid file.`);
  }
  const result = FileSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(`Invalid cache policy file ${file}: ${z.prettifyError(result.error).replace(/\n/g, ' ')} `
      + '(expected {"policies": {"Query.field" | "Type" | "Type.field": {"ttl": seconds, "stale": seconds}}}).');
  }
  return result.data;
}

function admissionOf(variable: 'CACHE_ADMISSION' | 'CACHE_RESPONSE_ADMISSION', raw: string | undefined, fallback: AdmissionRule): AdmissionRule {
  if (raw === undefined) return fallback;
  const known = ADMISSION_RULES.find((a) => a === raw);
  if (known) return known;
  throw new EnvError(
    variable,
    `${variable}=${raw} is not an admission rule: use frequency (stored on its second miss, and once the cache is full only when asked more often than the entry it would push out), second (on its second miss) or first (on its first miss); the default is ${fallback}.`,
  );
}

/** Settings from (in order of precedence) `given`, the environment, the policy file, the defaults. */
export function loadCacheSettings(given: Partial<CacheSettings> = {}, environment: NodeJS.ProcessEnv | EnvReader = process.env, production?: boolean): CacheSettings {
  // The strict reader (lib/env-options.ts): CACHE=maybe or CACHE_MAX_BYTES=lots stop the start.
  const env = environment instanceof EnvReader ? environment : new EnvReader(environment);
  production ??= env.string('NODE_ENV') === 'production';
  const cacheConfig = env.string('CACHE_CONFIG');
  const fileName = given.configFile !== undefined ? given.configFile : cacheConfig ?? DEFAULT_CONFIG_FILE;
  let configFile: string | null = null;
  let file: CacheFile | null = null;
  if (fileName) {
    const resolved = path.resolve(REPO_ROOT, fileName);
    if (existsSync(resolved)) {
      file = readCacheFile(resolved);
      configFile = resolved;
    } else if (cacheConfig || given.configFile) {
      throw new Error(`The cache policy file ${resolved} does not exist: create it (see docs/CACHE.md) or unset CACHE_CONFIG.`);
    }
  }
  const policies: Record<string, CachePolicy> = {};
  for (const [coord, p] of Object.entries(given.policies ?? file?.policies ?? DEFAULT_POLICIES)) policies[coord] = { ttl: p.ttl, stale: p.stale ?? 0 };
  const apiKey = given.changeFeedApiKey ?? env.string('REGISTRY_API_KEY') ?? (production ? undefined : DEMO_REGISTRY_KEY);
  return {
    enabled: given.enabled ?? (env.flag('CACHE') === false ? false : file?.enabled ?? true),
    configFile,
    policies,
    maxSizeBytes: given.maxSizeBytes ?? env.int('CACHE_MAX_BYTES', { min: 1024 }) ?? file?.maxSizeBytes ?? 64 * 1024 * 1024,
    maxEntryBytes: given.maxEntryBytes ?? file?.maxEntryBytes ?? 1024 * 1024,
    tagFields: given.tagFields ?? file?.tagFields ?? [...DEFAULT_TAG_FIELDS],
    redisUrl: 'redisUrl' in given ? given.redisUrl : env.string('REDIS_URL'),
    redisKeyPrefix: given.redisKeyPrefix ?? file?.redisKeyPrefix ?? 'motlan:cache:',
    redisTimeoutMs: given.redisTimeoutMs ?? 250,
    changeFeeds: given.changeFeeds ?? env.named('REGISTRY_URL'),
    changeFeedApiKey: apiKey,
    changeFeedReconnectMs: given.changeFeedReconnectMs ?? 500,
    responses: given.responses ?? env.flag('CACHE_RESPONSES') !== false,
    responseMaxSizeBytes: given.responseMaxSizeBytes ?? env.int('CACHE_RESPONSE_MAX_BYTES', { min: 1024 }) ?? 32 * 1024 * 1024,
    responseAdmission: given.responseAdmission ?? admissionOf('CACHE_RESPONSE_ADMISSION', env.string('CACHE_RESPONSE_ADMISSION'), 'frequency'),
    admission: given.admission ?? admissionOf('CACHE_ADMISSION', env.string('CACHE_ADMISSION'), 'first'),
    dedupe: given.dedupe ?? env.flag('CACHE_DEDUPE') !== false,
    warmQueryPlans: given.warmQueryPlans ?? true,
  };
}
