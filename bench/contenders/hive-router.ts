/**
 * Contender (d2): Hive Gateway's runtime with Hive Router's Rust query planner
 * (`@graphql-hive/router-runtime`, a native npm binary) instead of the JavaScript one,
 * over the same supergraph and subgraphs. Otherwise the same as (d), hive-gateway.ts.
 * Env: BENCH_SUPERGRAPH (file), PORT.
 */
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import { serveHiveGateway } from './hive-serve.js';

serveHiveGateway({ unifiedGraphHandler }, 4202);
