import {
  DirectiveLocation,
  GraphQLBoolean,
  GraphQLDirective,
  GraphQLEnumType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLString,
} from 'graphql';
import type { SchemaTypes } from '@pothos/core';
import type { ReplaceContext } from '@pothos/plugin-scope-auth';
import type { SignedInContext } from '../graphql/context.js';
import type { RateLimitRule } from '../rate-limit/rules.js';
import type { AuthScopes } from './scopes.js';

/**
 * Every root field is declared through exactly one guarded(t, rule, ...extras): it applies the
 * access rule Pothos enforces (the scopes in ./scopes.ts), prints the directives that show it
 * (and any rate limits) in the SDL, so the two can never disagree, and gives a signed-in field's
 * resolver a typed viewer. Query and Mutation also require authentication at the type level: a
 * field that forgets its guard is denied.
 */
type Access = { readonly requires: 'AUTHENTICATED' | 'ADMIN' } | { readonly requires: 'PUBLIC' };
type SignedInAccess = Extract<Access, { requires: 'AUTHENTICATED' | 'ADMIN' }>;

export const requiresAuthentication = { requires: 'AUTHENTICATED' } as const satisfies Access;
export const requiresAdmin = { requires: 'ADMIN' } as const satisfies Access;
export const isPublic = { requires: 'PUBLIC' } as const satisfies Access;

/** Marks a field that checks or hashes a password (see CHECKS_PASSWORD_DIRECTIVE). */
export const checksPassword = { checksPassword: true } as const;

type DirectiveUse =
  | { name: 'auth'; args: { requires: 'AUTHENTICATED' | 'ADMIN' } }
  | { name: 'public'; args: Record<string, never> }
  | { name: 'checksPassword'; args: Record<string, never> }
  | {
      name: 'rateLimit';
      args: { max: number; window: string; identityArgs?: string[]; perUser?: boolean };
    };

function directiveFor(extra: RateLimitRule | typeof checksPassword): DirectiveUse {
  if ('checksPassword' in extra) return { name: 'checksPassword', args: {} };
  const { max, window, identityArgs, perUser } = extra;
  return {
    name: 'rateLimit',
    args: {
      max,
      window,
      ...(identityArgs.length > 0 ? { identityArgs: [...identityArgs] } : {}),
      ...(perUser ? { perUser } : {}),
    },
  };
}

/**
 * What enforcement reads (src/rate-limit/enforce.ts): the same extras the directives print, as
 * field extensions, so a rule is declared once and never read back from the printed schema.
 */
export type GuardExtensions = {
  readonly rateLimits: readonly RateLimitRule[];
  readonly checksPassword: boolean;
};

/**
 * A field builder whose resolvers see the context behind a signed-in rule. Matched on `kind` and
 * the schema types: comparing whole Pothos builders is too deep for the compiler.
 */
type SignedIn<FieldBuilder> = FieldBuilder extends {
  kind: infer Kind;
  builder: PothosSchemaTypes.SchemaBuilder<infer Types>;
}
  ? Kind extends 'Query'
    ? PothosSchemaTypes.QueryFieldBuilder<SignedInTypes<Types>, Types['Root']>
    : Kind extends 'Mutation'
      ? PothosSchemaTypes.MutationFieldBuilder<SignedInTypes<Types>, Types['Root']>
      : never
  : never;
type SignedInTypes<Types extends SchemaTypes> = ReplaceContext<Types, SignedInContext>;

/** Root field builders: object-type fields get their rules with the authorization work to come. */
type RootFieldBuilder = { kind: 'Query' | 'Mutation' };

type Extra = RateLimitRule | typeof checksPassword;
type FieldOptions = {
  directives?: DirectiveUse[];
  extensions?: Record<string, unknown>;
} & Record<string, unknown>;

/** Options that would change who may call the field behind the rule's back. */
const RULE_OPTIONS = ['authScopes', 'skipTypeScopes', 'grantScopes'];
const RULE_DIRECTIVES = new Set(['auth', 'public']);
const GUARDED = Symbol('guarded');
type CreateField = (options: FieldOptions) => unknown;
interface GuardableFieldBuilder {
  createField: CreateField;
  withAuth(scopes: Partial<AuthScopes>): GuardableFieldBuilder;
}

/**
 * The fields `t` makes through the returned builder carry the rule, its directives and the
 * extras' extensions. A new builder each time: `t` is shared by every field of its callback.
 */
export function guarded<FieldBuilder extends RootFieldBuilder>(
  t: FieldBuilder,
  access: typeof isPublic,
  ...extras: Extra[]
): FieldBuilder;
export function guarded<FieldBuilder extends RootFieldBuilder>(
  t: FieldBuilder,
  access: SignedInAccess,
  ...extras: Extra[]
): SignedIn<FieldBuilder>;
export function guarded(t: unknown, access: Access, ...extras: Extra[]): unknown {
  const fieldBuilder = t as GuardableFieldBuilder;
  if (GUARDED in fieldBuilder) throw new Error('guarded(guarded(t, ...)): one rule per field');
  const extensions: GuardExtensions = {
    rateLimits: extras.filter((extra): extra is RateLimitRule => !('checksPassword' in extra)),
    checksPassword: extras.some((extra) => 'checksPassword' in extra),
  };
  const accessDirective: DirectiveUse =
    access.requires === 'PUBLIC'
      ? { name: 'public', args: {} }
      : { name: 'auth', args: { requires: access.requires } };
  const directives = [accessDirective, ...extras.map(directiveFor)];
  let guardedBuilder: GuardableFieldBuilder;
  let ruleOptions: Record<string, unknown>;
  if (access.requires === 'PUBLIC') {
    guardedBuilder = Object.create(fieldBuilder) as GuardableFieldBuilder;
    ruleOptions = { skipTypeScopes: true };
  } else {
    const scopes = access.requires === 'ADMIN' ? { admin: true } : { authenticated: true };
    // Pothos' withAuth types the resolvers' context (AuthContexts); the options below apply the
    // scopes themselves, after the field's own, so nothing the field says can replace them.
    guardedBuilder = fieldBuilder.withAuth(scopes);
    ruleOptions = { authScopes: scopes, skipTypeScopes: false };
  }
  const createField = guardedBuilder.createField;
  guardedBuilder.createField = function createGuardedField(options) {
    const overriding = RULE_OPTIONS.filter((name) => options[name] !== undefined);
    const ownRule = (options.directives ?? []).some(({ name }) => RULE_DIRECTIVES.has(name));
    if (overriding.length > 0 || ownRule) {
      throw new Error(
        'A guarded field states its access only through guarded(t, rule): no authScopes, skipTypeScopes, grantScopes, @auth or @public of its own',
      );
    }
    return createField.call(this, {
      ...options,
      ...ruleOptions,
      directives: [...directives, ...(options.directives ?? [])],
      extensions: { ...options.extensions, ...extensions },
    });
  };
  return Object.assign(guardedBuilder, { [GUARDED]: true });
}

export const AuthRequirement = new GraphQLEnumType({
  name: 'AuthRequirement',
  description: 'What a viewer needs to use a field.',
  values: {
    AUTHENTICATED: { description: 'A valid access token.' },
    ADMIN: { description: 'A valid access token whose user has the ADMIN role.' },
  },
});

export const authDirective = new GraphQLDirective({
  name: 'auth',
  description: 'The field is enforced by an auth scope: calls without it fail.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
  args: { requires: { type: new GraphQLNonNull(AuthRequirement) } },
});

export const publicDirective = new GraphQLDirective({
  name: 'public',
  description: 'The field is deliberately open to anonymous callers.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
});

export const rateLimitDirective = new GraphQLDirective({
  name: 'rateLimit',
  description:
    'At most `max` calls per `window` (such as "1m") per client address (per signed-in user with `perUser`), and per value of `identityArgs` when given; over it, RATE_LIMITED. Defaults shown; deployments may override them.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
  isRepeatable: true,
  args: {
    max: { type: new GraphQLNonNull(GraphQLInt) },
    window: { type: new GraphQLNonNull(GraphQLString) },
    identityArgs: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
    perUser: { type: GraphQLBoolean },
  },
});

export const CHECKS_PASSWORD_DIRECTIVE = 'checksPassword';

export const checksPasswordDirective = new GraphQLDirective({
  name: CHECKS_PASSWORD_DIRECTIVE,
  description:
    'The field checks or hashes a password (bcrypt): an operation may select at most one such field (TOO_MANY_PASSWORD_CHECKS), and one client address or user may have only a few running at once.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
});
