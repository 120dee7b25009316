import { describe, expect, it } from '@jest/globals';
import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { guarded, isPublic, requiresAdmin, requiresAuthentication } from '../../src/auth/guards.js';
import type { RuleArgs } from '../../src/auth/rules.js';
import { scopesOf, type AuthContexts, type AuthScopes } from '../../src/auth/scopes.js';
import type { Context } from '../../src/graphql/context.js';

/** A builder of its own, set up as src/graphql/builder.ts is, for schemas that must not build. */
function testBuilder() {
  const builder = new SchemaBuilder<{
    Context: Context;
    AuthScopes: AuthScopes;
    AuthContexts: AuthContexts;
    Directives: {
      auth: { locations: 'OBJECT' | 'FIELD_DEFINITION'; args: RuleArgs };
      public: { locations: 'OBJECT' | 'FIELD_DEFINITION'; args: Record<string, never> };
    };
  }>({
    plugins: [ScopeAuthPlugin, DirectivesPlugin],
    scopeAuth: { authScopes: scopesOf },
  });
  builder.queryType({ authScopes: { authenticated: true } });
  return builder;
}

type Options = Record<string, unknown>;
const field = (options: Options) => ({ resolve: () => 'x', ...options }) as never;

describe('guarded()', () => {
  it.each([
    ['authScopes', { authScopes: { authenticated: true } }],
    ['skipTypeScopes', { skipTypeScopes: true }],
    ['grantScopes', { grantScopes: ['admin'] }],
    ['its own @public', { directives: [{ name: 'public', args: {} }] }],
  ])('refuses a guarded field that also sets %s', (_name, options) => {
    const builder = testBuilder();
    builder.queryFields((t) => ({ probe: guarded(t, requiresAdmin).string(field(options)) }));
    expect(() => builder.toSchema()).toThrow(/states its access only through guarded/);
  });

  it('refuses a rule on top of a rule', () => {
    const builder = testBuilder();
    builder.queryFields((t) => ({
      probe: guarded(guarded(t, requiresAuthentication), isPublic).string(field({})),
    }));
    expect(() => builder.toSchema()).toThrow(/one rule per field/);
  });

  it('leaves the shared field builder as it was for the fields after it', () => {
    const builder = testBuilder();
    builder.queryFields((t) => ({
      open: guarded(t, isPublic).string(field({})),
      admin: guarded(t, requiresAdmin).string(field({})),
      plain: t.string(field({})),
    }));
    const fields = builder.toSchema().getQueryType()!.getFields();
    const options = (name: string) => fields[name]!.extensions.pothosOptions as Options;
    expect(options('open')).toMatchObject({ skipTypeScopes: true });
    expect(options('admin')).toMatchObject({
      authScopes: { anyRole: ['ADMIN'] },
      // Its own rule already requires a signed-in caller: the type's is not evaluated again.
      skipTypeScopes: true,
    });
    expect(options('plain').authScopes).toBeUndefined();
    expect(options('plain').skipTypeScopes).toBeUndefined();
    expect(options('plain').directives).toBeUndefined();
  });
});
