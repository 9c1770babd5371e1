/**
 * Purpose policy and subject binding as a gateway concern: one Apollo plugin
 * (plugin.ts) fed with the procedure catalog (gateway/procedures), prefill's relation
 * checks run through the gateway's own pipeline, and the e-ID key set for subject tokens.
 *
 * In production it also strips field suggestions from validation errors (introspection is
 * off there, and suggestions would let a client rebuild the schema by guessing).
 *
 * Settings: GatewayOptions.policy.subjectTokens, else the environment:
 * SUBJECT_TOKEN_JWKS_URL (the identity provider's JWKS), SUBJECT_TOKEN_ISSUER
 * (default urn:motlan:mock-eid), SUBJECT_TOKEN_AUDIENCE (default motlan-gateway).
 */
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import type { ConcernFactory } from '../core/concern.js';
import { apolloExecutor } from '../core/inner-execution.js';
import { procedureFieldCoordinates, procedurePathTree } from '../procedures/service.js';
import { prefillRelationChecks, purposePolicyPlugin } from './plugin.js';
import { prefillRefusalStatusPlugin } from './refusal-status.js';
import { createSubjectTokenVerifier, subjectTokensConfigured, type SubjectTokenOptions } from './subject-token.js';

export interface PolicyConcernOptions {
  /** How subject tokens are verified. Default: from SUBJECT_TOKEN_* env (see subject-token.ts). */
  subjectTokens?: SubjectTokenOptions;
}

export const purposePolicy: ConcernFactory = ({ options, logger, apollo }) => {
  const own = (options.gateway as { policy?: PolicyConcernOptions }).policy ?? {};
  const tokens = own.subjectTokens ?? {};
  if (!subjectTokensConfigured(tokens, options.env)) {
    logger.warn('No e-ID key set (SUBJECT_TOKEN_JWKS_URL): clients with requireSubjectToken will be refused until one is configured.');
  }
  return {
    name: 'purpose-policy',
    plugins: [
      purposePolicyPlugin({
        procedurePathTree: (id) => procedurePathTree(id) ?? undefined,
        procedureFieldCoordinates: (id) => procedureFieldCoordinates(id) ?? undefined,
        checkRelations: prefillRelationChecks(apolloExecutor(() => apollo())),
        subjectTokens: createSubjectTokenVerifier(tokens, options.env),
        production: options.production,
      }),
      // Prefill's refusals (resolver errors of the local subgraph) get the policy's statuses.
      prefillRefusalStatusPlugin(),
      // "Did you mean …?" would let clients map the schema field by field without introspection.
      ...(options.production ? [ApolloServerPluginDisableSuggestions()] : []),
    ],
  };
};
