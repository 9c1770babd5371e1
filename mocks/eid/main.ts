/**
 * Runs the mock e-ID issuer alone: `tsx mocks/eid/main.ts` (port EID_PORT, default 4199).
 * Point the gateway at it with SUBJECT_TOKEN_JWKS_URL=http://localhost:4199/.well-known/jwks.json.
 */
import { EnvReader } from '../../lib/env-options.js';
import { startEidIssuer } from './issuer.js';

// The strict reader every setting goes through (lib/env-options.ts): EID_PORT=abc stops here.
const env = new EnvReader();
const port = env.int('EID_PORT', { max: 65535 }) ?? 4199;
const issuer = await startEidIssuer({ port, host: env.string('HOST') ?? '127.0.0.1' });
console.log(`mock e-ID issuer (DEMO ONLY) at ${issuer.url}, JWKS ${issuer.jwksUrl}, issuer ${issuer.issuer}, audience ${issuer.audience}`);
const stop = () => void issuer.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
