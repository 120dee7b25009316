import {
  DirectiveLocation,
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

type DirectiveUse =
  | { name: 'auth'; args: { requires: 'AUTHENTICATED' | 'ADMIN' } }
  | { name: 'public'; args: Record<string, never> }
  | { name: 'rateLimit'; args: { max: number; window: string; identityArgs?: string[] } };

export function guarded(access: Access, ...limits: RateLimitRule[]) {
  const rateLimits: DirectiveUse[] = limits.map(({ max, window, identityArgs }) => ({
    name: 'rateLimit',
    args:
      identityArgs.length > 0 ? { max, window, identityArgs: [...identityArgs] } : { max, window },
  }));
  if (access.requires === 'PUBLIC') {
    const directives: DirectiveUse[] = [{ name: 'public', args: {} }, ...rateLimits];
    return { skipTypeScopes: true, directives };
  }
  const directives: DirectiveUse[] = [
    { name: 'auth', args: { requires: access.requires } },
    ...rateLimits,
  ];
  const authScopes = access.requires === 'ADMIN' ? { admin: true } : { authenticated: true };
  return { authScopes, directives };
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
    'At most `max` calls per `window` (such as "1m") per client address, and per value of `identityArgs` when given; over it, RATE_LIMITED. Defaults shown; deployments may override them.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
  isRepeatable: true,
  args: {
    max: { type: new GraphQLNonNull(GraphQLInt) },
    window: { type: new GraphQLNonNull(GraphQLString) },
    identityArgs: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
  },
});
