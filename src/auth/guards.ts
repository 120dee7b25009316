import { GraphQLDirective, GraphQLEnumType, GraphQLNonNull, DirectiveLocation } from 'graphql';

/**
 * Every root field spreads exactly one of these. Each declares the scope Pothos enforces and the
 * directive that shows it in the printed SDL, so the two can never disagree. Query and Mutation
 * also require authentication at the type level: a field that forgets its guard is denied.
 */
export const requiresAuthentication = {
  authScopes: { authenticated: true },
  directives: { auth: { requires: 'AUTHENTICATED' } },
} as const;

export const requiresAdmin = {
  authScopes: { admin: true },
  directives: { auth: { requires: 'ADMIN' } },
} as const;

export const isPublic = {
  skipTypeScopes: true,
  directives: { public: {} },
} as const;

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
