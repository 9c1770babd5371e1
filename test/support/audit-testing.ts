/**
 * Helpers for the audit tests (unit and whole-stack): a throwaway signing key,
 * sample entries, and a PostgreSQL probe that skips visibly when the server is
 * unreachable, except under CI where a missing server is a failure.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { keyIdOf, type Signer } from '../../gateway/audit/keys.js';
import { sign as edSign } from 'node:crypto';
import type { AuditEntry } from '../../gateway/audit/record.js';
import { latestByChain, type CheckpointWitness, type WitnessedCheckpoint } from '../../gateway/audit/witness.js';

export function testSigner(): Signer & { privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    sign: (m) => edSign(null, m, privateKey).toString('base64'),
  };
}

export function sampleEntry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    ts: Date.now(),
    requestId: randomBytes(8).toString('hex'),
    clientId: 'hcm-dvc',
    agency: 'UBND TP. Hồ Chí Minh',
    operationName: 'Prefill',
    operationType: 'query',
    documentHash: 'a'.repeat(64),
    procedureId: 'lodging-notification',
    dossierId: null,
    subjects: [],
    registries: ['population'],
    fields: ['Citizen.fullName', 'Query.citizen'],
    entities: { population: 1 },
    outcome: 'OK',
    errorCodes: [],
    httpStatus: 200,
    durationMs: 12.345,
    responseBytes: 321,
    prefill: null,
    ...over,
  };
}

export const PG_TEST_URL = process.env.AUDIT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Resolves null when PostgreSQL answers, else the reason. Under CI (process.env.CI)
 * an unreachable server throws, so the suite fails instead of skipping.
 */
export async function postgresUnavailable(url = PG_TEST_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    const reason = `PostgreSQL unreachable at ${url} (${(err as Error).message})`;
    if (process.env.CI) throw new Error(`${reason}: CI requires it (database "test" on 127.0.0.1:5432).`);
    console.warn(`[audit tests] skipping PostgreSQL tests: ${reason}`);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema name no other test run uses. */
export function uniqueSchema(prefix = 'audit_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A witness kept in memory (tests): what a witness file would hold. */
export class MemoryWitness implements CheckpointWitness {
  readonly location = '(memory witness)';
  readonly all: WitnessedCheckpoint[] = [];
  append(checkpoints: WitnessedCheckpoint[]): void {
    this.all.push(...checkpoints.map((c) => ({ ...c })));
  }
  latest(): Map<string, WitnessedCheckpoint> {
    return latestByChain(this.all);
  }
}
