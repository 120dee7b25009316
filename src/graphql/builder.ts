import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver } from 'graphql-scalars';
import type { Context } from './context.js';
import { notAuthenticated, notAuthorized } from '../errors.js';

/** The one schema builder: context, scopes and plugins. Types live in src/modules/<domain>. */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { authenticated: boolean; admin: boolean };
  Scalars: { DateTime: { Input: Date; Output: Date } };
  Directives: {
    auth: { locations: 'FIELD_DEFINITION'; args: { requires: 'AUTHENTICATED' | 'ADMIN' } };
    public: { locations: 'FIELD_DEFINITION'; args: Record<string, never> };
    checksPassword: { locations: 'FIELD_DEFINITION'; args: Record<string, never> };
    rateLimit: {
      locations: 'FIELD_DEFINITION';
      args: { max: number; window: string; identityArgs?: string[]; perUser?: boolean };
    };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, DirectivesPlugin],
  defaultFieldNullability: false,
  directives: { useGraphQLToolsUnorderedDirectives: true },
  scopeAuth: {
    authScopes: ({ viewer }) => ({
      authenticated: viewer.kind === 'user',
      admin: viewer.kind === 'user' && viewer.roles.includes('ADMIN'),
    }),
    unauthorizedError: (_parent, { viewer }) =>
      viewer.kind === 'anonymous' ? notAuthenticated() : notAuthorized(),
  },
});

builder.addScalarType('DateTime', DateTimeResolver);

// Deny by default: every root field needs an authenticated viewer unless it opts out explicitly.
builder.queryType({ authScopes: { authenticated: true } });
builder.mutationType({ authScopes: { authenticated: true } });
