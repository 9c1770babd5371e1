/**
 * Contender (d): Hive Gateway's runtime over the same supergraph and subgraphs.
 * Env: BENCH_SUPERGRAPH (file), PORT.
 */
import { serveHiveGateway } from './hive-serve.js';

serveHiveGateway({}, 4201);
