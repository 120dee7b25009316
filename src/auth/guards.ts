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
import type { RateLimitRule } from '../rate-limit/rules.js';

/**
 * Every root field spreads exactly one guarded(...): the access rule Pothos enforces and the
 * directives that show it (and any rate limits) in the printed SDL, so they can never disagree.
 * Query and Mutation also require authentication at the type level: a field that forgets its
 * guard is denied.
 */
type Access = { readonly requires: 'AUTHENTICATED' | 'ADMIN' } | { readonly requires: 'PUBLIC' };

export const requiresAuthentication: Access = { requires: 'AUTHENTICATED' };
export const requiresAdmin: Access = { requires: 'ADMIN' };
export const isPublic: Access = { requires: 'PUBLIC' };

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

export function guarded(access: Access, ...extras: (RateLimitRule | typeof checksPassword)[]) {
  const rateLimits = extras.map(directiveFor);
  const extensions: GuardExtensions = {
    rateLimits: extras.filter((extra): extra is RateLimitRule => !('checksPassword' in extra)),
    checksPassword: extras.some((extra) => 'checksPassword' in extra),
  };
  if (access.requires === 'PUBLIC') {
    const directives: DirectiveUse[] = [{ name: 'public', args: {} }, ...rateLimits];
    return { skipTypeScopes: true, directives, extensions };
  }
  const directives: DirectiveUse[] = [
    { name: 'auth', args: { requires: access.requires } },
    ...rateLimits,
  ];
  const authScopes = access.requires === 'ADMIN' ? { admin: true } : { authenticated: true };
  return { authScopes, directives, extensions };
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
