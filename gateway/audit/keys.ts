/**
 * The two audit keys:
 * - the Ed25519 signing key of checkpoints (`AUDIT_SIGNING_KEY`: path to a PKCS#8 PEM);
 * - the HMAC key that turns personal IDs into searchable pseudonyms (`AUDIT_HMAC_KEY`,
 *   or `AUDIT_HMAC_KEY_FILE`).
 * Outside production, missing keys are generated once under the data directory as
 * `*.dev.*` files so `npm start` works on a fresh clone; production refuses them,
 * because a key lying next to the data it protects proves nothing.
 */
import { createHmac, createPrivateKey, createSecretKey, createPublicKey, generateKeyPairSync, randomBytes, sign as edSign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readOrCreateKeyFile } from '../../lib/dev-key-file.js';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { sha256Hex } from './canonical.js';
import type { SubjectKind } from './record.js';

export const DEV_SIGNING_KEY_FILE = 'audit-signing-key.dev.pem';
export const DEV_HMAC_KEY_FILE = 'audit-hmac.dev.key';

export interface AuditKeyOptions {
  /** Where development keys are generated. Default (in config.ts): `DATA_DIR` env, else `./data`. */
  dataDir: string;
  /** Path of the Ed25519 private key (PEM). Default: `AUDIT_SIGNING_KEY` env; none → development key. */
  signingKeyPath?: string;
  /** The HMAC key itself (at least 32 characters). Default: `AUDIT_HMAC_KEY` env. */
  hmacKey?: string;
  /** A file holding the HMAC key. Default: `AUDIT_HMAC_KEY_FILE` env. */
  hmacKeyFile?: string;
  /** Refuse development keys. Default: `NODE_ENV === 'production'`. */
  production: boolean;
}

/** Signs checkpoints; knows its public half so verifiers can be given it. */
export interface Signer {
  keyId: string;
  publicKeyPem: string;
  sign(message: Buffer): string;
}

/** First 16 hex digits of the SHA-256 of the public key's DER (SPKI) form. */
export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/** Reads a PEM that holds an Ed25519 public key, or a private key (its public half is taken). */
export function publicKeyFromPem(pem: string, source = 'key'): KeyObject {
  let key: KeyObject;
  try {
    key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  } catch (err) {
    throw new Error(`${source} is not a PEM Ed25519 key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${source} is a ${key.asymmetricKeyType} key; audit checkpoints use Ed25519.`);
  return key;
}

/** Writes a new Ed25519 key pair: `file` (private, mode 600) and `file` with `.pub.pem` (public). */
export function generateSigningKey(file: string): { privatePath: string; publicPath: string; keyId: string } {
  if (existsSync(file)) throw new Error(`${file} already exists: refusing to overwrite a signing key (its checkpoints would no longer verify with it).`);
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const publicPath = file.replace(/(\.pem)?$/, '.pub.pem');
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privatePath: file, publicPath, keyId: keyIdOf(publicKey) };
}

function signerFromPrivateKey(privateKey: KeyObject): Signer {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (message) => edSign(null, message, privateKey).toString('base64'),
  };
}

/** Where the signing key is read from, honouring development defaults. */
export function signingKeyPath(opts: AuditKeyOptions): { file: string; dev: boolean } {
  if (opts.signingKeyPath) return { file: path.resolve(opts.signingKeyPath), dev: opts.signingKeyPath.endsWith('.dev.pem') };
  return { file: path.resolve(opts.dataDir, DEV_SIGNING_KEY_FILE), dev: true };
}

export function loadSigner(opts: AuditKeyOptions): { signer: Signer; file: string; generated: boolean } {
  const { file, dev } = signingKeyPath(opts);
  if (opts.production && dev) {
    throw new Error(
      'The audit trail refuses a development signing key in production: set AUDIT_SIGNING_KEY to the path of an Ed25519 private key ' +
        '(create one with `npx motlan audit keygen --out /secure/path/audit-signing.pem`, keep it outside the data directory).',
    );
  }
  let generated = false;
  if (!existsSync(file)) {
    if (!dev) throw new Error(`AUDIT_SIGNING_KEY=${file} does not exist: create it with \`npx motlan audit keygen --out ${file}\`.`);
    generateSigningKey(file);
    generated = true;
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the audit signing key ${file}: ${(err as Error).message}. It must be a PKCS#8 PEM Ed25519 private key.`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`The audit signing key ${file} is ${privateKey.asymmetricKeyType}; it must be Ed25519.`);
  return { signer: signerFromPrivateKey(privateKey), file, generated };
}

/** The HMAC key bytes; development: a random key generated once under the data directory. */
export function loadHmacKey(opts: AuditKeyOptions): { key: Buffer; source: string; generated: boolean } {
  if (opts.hmacKey !== undefined && opts.hmacKey !== '') {
    if (opts.hmacKey.length < 32) throw new Error('AUDIT_HMAC_KEY is shorter than 32 characters: use a random key, e.g. `openssl rand -hex 32`.');
    return { key: Buffer.from(opts.hmacKey, 'utf8'), source: 'AUDIT_HMAC_KEY', generated: false };
  }
  if (opts.hmacKeyFile) {
    const raw = readFileSync(opts.hmacKeyFile, 'utf8').trim();
    if (raw.length < 32) throw new Error(`The HMAC key file ${opts.hmacKeyFile} holds fewer than 32 characters: put a random key in it (openssl rand -hex 32).`);
    return { key: Buffer.from(raw, 'utf8'), source: opts.hmacKeyFile, generated: false };
  }
  if (opts.production) {
    throw new Error(
      'The audit trail needs an HMAC key in production (it pseudonymises personal IDs): set AUDIT_HMAC_KEY (at least 32 random characters) ' +
        'or AUDIT_HMAC_KEY_FILE. Keep it stable: records are searched by personal ID through it.',
    );
  }
  const file = path.resolve(opts.dataDir, DEV_HMAC_KEY_FILE);
  const { text, generated } = readOrCreateKeyFile(file, () => randomBytes(32).toString('hex'));
  return { key: Buffer.from(text, 'utf8'), source: file, generated };
}

/** Keyed pseudonym of an identifier; domain-separated so a parcel id never collides with a personal ID. */
export type SubjectHasher = (kind: SubjectKind, identifier: string) => string;

/** Pseudonyms remembered per process (the same citizens come back; an HMAC costs more than a lookup). */
const HASHER_MEMO_ENTRIES = 20_000;

export function subjectHasher(key: Buffer): SubjectHasher {
  const secret = createSecretKey(key);
  const memo = new LRUCache<string, string>({ max: HASHER_MEMO_ENTRIES });
  return (kind, identifier) => {
    const text = `${kind}:${identifier.trim()}`;
    let hmac = memo.get(text);
    if (hmac === undefined) {
      hmac = createHmac('sha256', secret).update(text).digest('hex');
      memo.set(text, hmac);
    }
    return hmac;
  };
}
