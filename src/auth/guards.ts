import {
  DirectiveLocation,
  GraphQLBoolean,
  GraphQLDirective,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLString,
} from 'graphql';
import type { SchemaTypes } from '@pothos/core';
import type { ReplaceContext } from '@pothos/plugin-scope-auth';
import type { Context, SignedInContext } from '../graphql/context.js';
import type { RateLimitRule } from '../rate-limit/rules.js';
import { parseDurationMs } from '../lib/duration.js';
import { ruleArgs, type Rule, type RuleArgs } from './rules.js';
import { SCOPES } from './scope-vocabulary.js';
import { ownsAs } from './scopes.js';

export {
  anyOf,
  isOwner,
  isPublic,
  requiresAdmin,
  requiresAuthentication,
  requiresRole,
  requiresScopes,
  type Rule,
} from './rules.js';

/**
 * Every field states its access rule once, and the rule is enforced (as Pothos scopes) and printed
 * (as @auth or @public) from that one statement, so the two can never disagree:
 * - a root field through guarded(t, rule, ...extras), which also types a signed-in resolver's
 *   context.viewer, and prints and records the extras (rate limits, password checks);
 * - an object type through guardedType(rule), the rule of each of its fields;
 * - an object field with a rule of its own through guarded(t, rule), replacing its type's.
 * Query and Mutation require authentication at the type level: a root field that forgets its
 * guard is denied, and a schema test fails on any field without a rule.
 */

/** Marks a field that checks or hashes a password (see CHECKS_PASSWORD_DIRECTIVE). */
export const checksPassword = { checksPassword: true } as const;

/**
 * Marks a field whose objects belong to whoever may use the field: the user a sign-in returns (to
 * a caller with no token yet), a user's sessions. Their fields' owner and authenticated rules
 * accept the caller.
 */
export const grantsOwner = { grantsOwner: true } as const;

/**
 * Marks a field that needs a second factor proved at most `maxAge` (such as "10m") ago, when
 * the viewer has TOTP enrolled (MFA_STEP_UP_REQUIRED otherwise; see src/modules/mfa). Checked
 * after the rule, before the resolver, so a refused call costs no password check.
 */
export const requiresRecentMfa = (maxAge: string) => {
  const maxAgeMs = parseDurationMs(maxAge);
  if (!maxAgeMs) throw new Error(`requiresRecentMfa: not a duration: ${maxAge}`);
  return { requiresRecentMfa: { maxAge, maxAgeMs } } as const;
};
type RecentMfa = ReturnType<typeof requiresRecentMfa>;

/** The step-up the sensitive account and admin fields ask of a viewer with TOTP enrolled. */
export const recentSecondFactor = requiresRecentMfa('10m');

type Extra = RateLimitRule | typeof checksPassword | typeof grantsOwner | RecentMfa;

type RuleDirective =
  { name: 'auth'; args: RuleArgs } | { name: 'public'; args: Record<string, never> };

type DirectiveUse =
  | RuleDirective
  | { name: 'checksPassword'; args: Record<string, never> }
  | { name: 'grantsOwner'; args: Record<string, never> }
  | { name: 'requiresRecentMfa'; args: { maxAge: string } }
  | {
      name: 'rateLimit';
      args: { max: number; window: string; identityArgs?: string[]; perUser?: boolean };
    };

function directiveFor(extra: Extra): DirectiveUse {
  if ('checksPassword' in extra) return { name: 'checksPassword', args: {} };
  if ('grantsOwner' in extra) return { name: 'grantsOwner', args: {} };
  if ('requiresRecentMfa' in extra) {
    return { name: 'requiresRecentMfa', args: { maxAge: extra.requiresRecentMfa.maxAge } };
  }
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

const ruleDirective = (rule: Rule): RuleDirective =>
  rule.public ? { name: 'public', args: {} } : { name: 'auth', args: ruleArgs(rule) };

/**
 * What enforcement and the tests read (src/rate-limit/enforce.ts, the authorization matrix): the
 * same rule and extras the directives print, as field extensions, so nothing is read back from
 * the printed schema.
 */
export type GuardExtensions = {
  readonly rule: Rule;
  readonly rateLimits: readonly RateLimitRule[];
  readonly checksPassword: boolean;
  /** A second factor this recent (ms) is required of a viewer with TOTP enrolled. */
  readonly recentMfaMaxAgeMs?: number;
};

/** Type extensions: the rule every field of the type has unless it states its own. */
export type TypeGuardExtensions = { readonly rule: Rule };

type ScopeMap = Record<string, unknown>;

/**
 * Set on objects a @grantsOwner field returns (a clone: the originals may be shared): they belong
 * to whoever may use that field, so owner and authenticated rules grant them to the caller.
 */
const CALLER_OWNED = Symbol('callerOwned');

const isCallerOwned = (parent: unknown) =>
  typeof parent === 'object' && parent !== null && CALLER_OWNED in parent;

function markCallerOwned(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(markCallerOwned);
  if (typeof value !== 'object' || value === null) return value;
  return Object.assign(Object.create(Object.getPrototypeOf(value) as object), value, {
    [CALLER_OWNED]: true,
  });
}

/**
 * The Pothos scopes for what in `rule` does not depend on the parent (any one of them suffices),
 * or false when nothing does. Made once per rule: Pothos caches a map's outcome per request by
 * its identity, so each is evaluated once a request however many objects it guards.
 */
function parentFreeScopes(rule: Rule): ScopeMap | false {
  const map: ScopeMap = {};
  if (rule.authenticated) map.authenticated = true;
  if (rule.roles) map.anyRole = rule.roles;
  if (rule.scopes) map.scopes = rule.scopes;
  return Object.keys(map).length > 0 ? Object.freeze(map) : false;
}

type Decide = (parent: unknown, context: Context) => ScopeMap | boolean;

/**
 * What enforces `rule` for one parent, as a Pothos authScopes value: ownership (and objects a
 * @grantsOwner field returned) is decided here from the parent, since it differs per object and
 * a map of its own per object would defeat Pothos' per-request cache; the rest is the fixed map.
 */
function decisionOf(rule: Rule): ScopeMap | Decide {
  const fixed = parentFreeScopes(rule);
  const { owner, ownerScopes } = rule;
  if (owner) {
    return (parent, { viewer }) =>
      isCallerOwned(parent) || ownsAs(viewer, owner(parent), ownerScopes) ? true : fixed;
  }
  if (!fixed) throw new Error('A rule must grant access to someone');
  if (!rule.authenticated) return fixed;
  return (parent) => (isCallerOwned(parent) ? true : fixed);
}

/** The Pothos authScopes that enforce `rule` on an object type (bench:scopes measures them). */
export const typeAuthScopesOf = (rule: Rule) => decisionOf(rule);

/** The same on a field, whose authScopes function takes the context third. */
export function fieldAuthScopesOf(rule: Rule) {
  const decide = decisionOf(rule);
  return typeof decide === 'function'
    ? (parent: unknown, _args: unknown, context: Context) => decide(parent, context)
    : decide;
}

/** A field builder whose resolvers see the context behind a signed-in rule. */
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

type RootFieldBuilder = { kind: 'Query' | 'Mutation' };
type ObjectFieldBuilder = { kind: 'Object' };
type PublicRule = Rule & { readonly public: true };

type FieldOptions = {
  directives?: DirectiveUse[];
  extensions?: Record<string, unknown>;
} & Record<string, unknown>;
type CreateField = (options: FieldOptions) => unknown;
interface GuardableFieldBuilder {
  kind: string;
  createField: CreateField;
  withAuth(scopes: ScopeMap): GuardableFieldBuilder;
}

/** Options that would change who may call the field behind the rule's back. */
const RULE_OPTIONS = ['authScopes', 'skipTypeScopes', 'grantScopes'];
const RULE_DIRECTIVES = new Set(['auth', 'public', 'grantsOwner']);
const GUARDED = Symbol('guarded');

/**
 * The fields `t` makes through the returned builder carry the rule, its directive and the extras.
 * A new builder each time: `t` is shared by every field of its callback.
 */
export function guarded<FieldBuilder extends RootFieldBuilder>(
  t: FieldBuilder,
  rule: PublicRule,
  ...extras: Extra[]
): FieldBuilder;
export function guarded<FieldBuilder extends RootFieldBuilder>(
  t: FieldBuilder,
  rule: Rule,
  ...extras: Extra[]
): SignedIn<FieldBuilder>;
export function guarded<FieldBuilder extends ObjectFieldBuilder>(
  t: FieldBuilder,
  rule: Rule,
  ...extras: Extra[]
): FieldBuilder;
export function guarded(t: unknown, rule: Rule, ...extras: Extra[]): unknown {
  const fieldBuilder = t as GuardableFieldBuilder;
  if (GUARDED in fieldBuilder) throw new Error('guarded(guarded(t, ...)): one rule per field');
  const recentMfa = extras.find((extra): extra is RecentMfa => 'requiresRecentMfa' in extra);
  if (recentMfa && rule.public) throw new Error('@requiresRecentMfa needs a signed-in rule');
  const extensions: GuardExtensions = {
    rule,
    rateLimits: extras.filter((extra): extra is RateLimitRule => 'setting' in extra),
    checksPassword: extras.some((extra) => 'checksPassword' in extra),
    ...(recentMfa ? { recentMfaMaxAgeMs: recentMfa.requiresRecentMfa.maxAgeMs } : {}),
  };
  const directives = [ruleDirective(rule), ...extras.map(directiveFor)];
  // A field's own rule replaces its type's: the type's scopes are skipped. (On Query and Mutation,
  // whose type rule is authentication, every rule but isPublic already requires a signed-in caller.)
  const ruleOptions: Record<string, unknown> = rule.public
    ? { skipTypeScopes: true }
    : { authScopes: fieldAuthScopesOf(rule), skipTypeScopes: true };
  const grants = extras.some((extra) => 'grantsOwner' in extra);
  // Pothos' withAuth types a root resolver's context (AuthContexts); the options below apply the
  // scopes themselves, after the field's own, so nothing the field says can replace them.
  const guardedBuilder =
    rule.public || fieldBuilder.kind === 'Object'
      ? (Object.create(fieldBuilder) as GuardableFieldBuilder)
      : fieldBuilder.withAuth({ authenticated: true });
  const createField = guardedBuilder.createField;
  guardedBuilder.createField = function createGuardedField(options) {
    const overriding = RULE_OPTIONS.filter((name) => options[name] !== undefined);
    const ownRule = (options.directives ?? []).some(({ name }) => RULE_DIRECTIVES.has(name));
    if (overriding.length > 0 || ownRule) {
      throw new Error(
        'A guarded field states its access only through guarded(t, rule): no authScopes, skipTypeScopes, grantScopes, @auth or @public of its own',
      );
    }
    const own = options.resolve as ((...args: unknown[]) => unknown) | undefined;
    if ((grants || recentMfa) && !own) {
      throw new Error('A @grantsOwner or @requiresRecentMfa field needs a resolver of its own');
    }
    const resolve = recentMfa ? steppedUp(own!, recentMfa.requiresRecentMfa.maxAgeMs) : own;
    const granting = grants
      ? {
          resolve: async (...args: unknown[]) => markCallerOwned(await resolve!(...args)),
        }
      : recentMfa
        ? { resolve }
        : {};
    return createField.call(this, {
      ...options,
      ...granting,
      ...ruleOptions,
      directives: [...directives, ...(options.directives ?? [])],
      extensions: { ...options.extensions, ...extensions },
    });
  };
  return Object.assign(guardedBuilder, { [GUARDED]: true });
}

/** The resolver behind a step-up check (the rule has already admitted a signed-in viewer). */
function steppedUp(resolve: (...args: unknown[]) => unknown, maxAgeMs: number) {
  return async (...args: unknown[]) => {
    const context = args[2] as Context;
    if (context.viewer.kind === 'user') {
      await context.services.mfa.requireRecent(context.viewer, maxAgeMs);
    }
    return resolve(...args);
  };
}

/** Options for an object type: the rule each of its fields has unless it states its own. */
export function guardedType(rule: Rule) {
  const extensions: TypeGuardExtensions = { rule };
  return {
    ...(rule.public ? {} : { authScopes: typeAuthScopesOf(rule) }),
    directives: [ruleDirective(rule)],
    extensions,
  };
}

export const authDirective = new GraphQLDirective({
  name: 'auth',
  description:
    "Who may use this type or field; a field without its own rule has its type's. Each argument given grants access on its own: `authenticated` any signed-in caller, `roles` a user with any of these roles (an API key only if it holds every scope the role gives), `owner` the user the object belongs to, `scopes` a caller holding every scope of at least one set (as Apollo Router's @requiresScopes). Anyone else gets null at the field with FORBIDDEN, or UNAUTHENTICATED without a token.",
  locations: [DirectiveLocation.OBJECT, DirectiveLocation.FIELD_DEFINITION],
  args: {
    authenticated: { type: GraphQLBoolean },
    roles: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
    owner: { type: GraphQLBoolean },
    ownerScopes: {
      type: new GraphQLList(new GraphQLNonNull(GraphQLString)),
      description: 'With `owner`: scopes the owner must also hold (an API key may lack them).',
    },
    scopes: {
      type: new GraphQLList(new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString)))),
      description: `Scopes: ${Object.entries(SCOPES)
        .map(([scope, covers]) => `\`${scope}\` (${covers})`)
        .join('; ')}`,
    },
  },
});

export const publicDirective = new GraphQLDirective({
  name: 'public',
  description: 'The type or field is deliberately open to anonymous callers.',
  locations: [DirectiveLocation.OBJECT, DirectiveLocation.FIELD_DEFINITION],
});

export const grantsOwnerDirective = new GraphQLDirective({
  name: 'grantsOwner',
  description:
    'The object this field returns belongs to the caller (the account a sign-in returns), so its owner-only fields answer although the request carried no token.',
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

export const requiresRecentMfaDirective = new GraphQLDirective({
  name: 'requiresRecentMfa',
  description:
    'A viewer with TOTP enrolled must have proved a second factor (login + verifyMfa) at most `maxAge` ago, or gets MFA_STEP_UP_REQUIRED. An API key proves none: its owner having TOTP enrolled refuses it. Viewers without TOTP are not asked.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
  args: { maxAge: { type: new GraphQLNonNull(GraphQLString) } },
});
