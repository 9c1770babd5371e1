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
import { defineConcern } from '../core/concern.js';
import { prefillRelationChecks, purposePolicyPlugin } from './plugin.js';
import { prefillRefusalStatusPlugin } from './refusal-status.js';
import { createSubjectTokenVerifier, resolveSubjectTokenOptions, type SubjectTokenOptions } from './subject-token.js';

/** Settings of the concern, read from `GatewayOptions.policy`. */
export interface PolicyConcernOptions {
  /** Subject tokens (e-ID): key set, issuer, audience. Default: `SUBJECT_TOKEN_JWKS_URL`, `SUBJECT_TOKEN_ISSUER`, `SUBJECT_TOKEN_AUDIENCE` env. */
  subjectTokens?: SubjectTokenOptions;
}

export const purposePolicy = defineConcern({
  name: 'purpose-policy',
  slice: 'policy',
  options: (own: PolicyConcernOptions | undefined, { env }) => ({ subjectTokens: resolveSubjectTokenOptions(own?.subjectTokens ?? {}, env) }),
  needs: ['procedures', 'executor'],
  create: ({ own, core, logger, services }) => {
    const tokens = own.subjectTokens;
    if (!tokens.jwks && !tokens.jwksUrl) {
      logger.warn('No e-ID key set (SUBJECT_TOKEN_JWKS_URL): clients with requireSubjectToken will be refused until one is configured.');
    }
    const catalog = services.need('procedures');
    return {
      plugins: [
        purposePolicyPlugin({
          procedurePathTree: (id) => catalog.pathTree(id) ?? undefined,
          procedureFieldCoordinates: (id) => catalog.fieldCoordinates(id) ?? undefined,
          groupProcedures: (id) => catalog.groupProcedures(id),
          checkRelations: prefillRelationChecks(services.need('executor')),
          subjectTokens: createSubjectTokenVerifier(tokens, {}),
          production: core.production,
        }),
        // Prefill's refusals (resolver errors of the local subgraph) get the policy's statuses.
        prefillRefusalStatusPlugin(),
        // "Did you mean …?" would let clients map the schema field by field without introspection.
        ...(core.production ? [ApolloServerPluginDisableSuggestions()] : []),
      ],
    };
  },
});
