/**
 * Runs the mock e-ID issuer alone: `tsx mocks/eid/main.ts` (port EID_PORT, default 4105).
 * Point the gateway at it with SUBJECT_TOKEN_JWKS_URL=http://localhost:4105/.well-known/jwks.json.
 */
import { startEidIssuer } from './issuer.js';

const port = Number(process.env.EID_PORT ?? 4105);
const issuer = await startEidIssuer({ port, host: process.env.HOST ?? '127.0.0.1' });
console.log(`mock e-ID issuer (DEMO ONLY) at ${issuer.url}, JWKS ${issuer.jwksUrl}, issuer ${issuer.issuer}, audience ${issuer.audience}`);
const stop = () => void issuer.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
