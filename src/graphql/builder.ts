import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver } from 'graphql-scalars';
import type { RuleArgs } from '../auth/rules.js';
import { refusalFor, scopesOf, type AuthContexts, type AuthScopes } from '../auth/scopes.js';
import type { Context } from './context.js';

/**
 * The one schema builder: context, scopes (src/auth/scopes.ts) and plugins. Types live in
 * src/modules/<domain>; each field declares its access rule with guarded() (src/auth/guards.ts).
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  AuthContexts: AuthContexts;
  Scalars: { DateTime: { Input: Date; Output: Date } };
  Directives: {
    auth: { locations: 'OBJECT' | 'FIELD_DEFINITION'; args: RuleArgs };
    public: { locations: 'OBJECT' | 'FIELD_DEFINITION'; args: Record<string, never> };
    grantsOwner: { locations: 'FIELD_DEFINITION'; args: Record<string, never> };
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
    authScopes: scopesOf,
    unauthorizedError: (_parent, context) => refusalFor(context),
  },
});

builder.addScalarType('DateTime', DateTimeResolver);

// Deny by default: every root field needs an authenticated viewer unless it opts out explicitly.
builder.queryType({ authScopes: { authenticated: true } });
builder.mutationType({ authScopes: { authenticated: true } });
