import { notAuthenticated, notAuthorized } from '../errors.js';
import type { Context, SignedInContext } from '../graphql/context.js';

/**
 * What a viewer may do, as Pothos auth scopes: each request's viewer is checked against the rule
 * a field declares with guarded() (./guards.ts), and refused with UNAUTHENTICATED when there is no
 * viewer, FORBIDDEN when there is one without the scope.
 */
export interface AuthScopes {
  authenticated: boolean;
  admin: boolean;
}

/** The context a resolver gets behind each scope: behind both, a signed-in viewer. */
export interface AuthContexts {
  authenticated: SignedInContext;
  admin: SignedInContext;
}

export const scopesOf = ({ viewer }: Context): AuthScopes => ({
  authenticated: viewer.kind === 'user',
  admin: viewer.kind === 'user' && viewer.roles.includes('ADMIN'),
});

export const refusalFor = ({ viewer }: Context) =>
  viewer.kind === 'anonymous' ? notAuthenticated() : notAuthorized();
