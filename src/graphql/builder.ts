import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver } from 'graphql-scalars';
import { guardedType } from '../auth/guards.js';
import { requiresAuthentication, type RuleArgs } from '../auth/rules.js';
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
  plugins: [ScopeAuthPlugin, DirectivesPlugin, RelayPlugin],
  defaultFieldNullability: false,
  directives: { useGraphQLToolsUnorderedDirectives: true },
  // Connections only (builder.connectionObject): no Node interface, no node/nodes root fields
  // (they would be unguarded ways in), and ids stay plain ids rather than global ones.
  relay: {
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    cursorType: 'String',
    // Reached only through a guarded connection: any signed-in caller that got this far.
    pageInfoTypeOptions: {
      description: 'Where a page of a connection ends.',
      ...guardedType(requiresAuthentication),
    },
    hasNextPageFieldOptions: {
      description:
        'True until the list has been walked to its end; the page may be short or empty.',
    },
    hasPreviousPageFieldOptions: { description: 'Always false: pages go forward only.' },
    startCursorFieldOptions: { description: "The first edge's cursor (null without edges)." },
    endCursorFieldOptions: {
      description:
        'Pass as `after` for the next page: where this one stopped, maybe past its last edge.',
    },
    edgesFieldOptions: { description: 'The items of this page, in list order.' },
    pageInfoFieldOptions: { description: 'Where this page ends and whether more may follow.' },
    cursorFieldOptions: {
      description: "This item's place in the list (opaque), usable as `after`.",
    },
    nodeFieldOptions: { description: 'The item.' },
  },
  scopeAuth: {
    authScopes: scopesOf,
    unauthorizedError: (_parent, context) => refusalFor(context),
  },
});

builder.addScalarType('DateTime', DateTimeResolver);

// Deny by default: every root field needs an authenticated viewer unless it opts out explicitly.
builder.queryType({ authScopes: { authenticated: true } });
builder.mutationType({ authScopes: { authenticated: true } });
