import { notAuthenticated, notAuthorized } from '../errors.js';
import type { Context, SignedInContext } from '../graphql/context.js';
import type { Role } from '../modules/user/user.model.js';
import { roleCounts } from './rules.js';
import type { SignedInViewer, Viewer } from './viewer.js';

/**
 * How the viewer is checked against a rule, as Pothos auth scopes (guards.ts turns each rule into
 * a map of these). Refusals are UNAUTHENTICATED when there is no viewer, FORBIDDEN otherwise.
 * Ownership depends on the parent object, so guards.ts decides it with ownsAs() before Pothos
 * evaluates the map of what else grants access.
 */
export interface AuthScopes {
  authenticated: boolean;
  /** The viewer's user has any of these roles. */
  anyRole: readonly Role[];
  /** The viewer holds every scope of at least one set. */
  scopes: readonly (readonly string[])[];
}

/** The context a resolver gets behind a scope: behind any of them, a signed-in viewer. */
export interface AuthContexts {
  authenticated: SignedInContext;
  anyRole: SignedInContext;
  scopes: SignedInContext;
}

const holdsAll = (viewer: SignedInViewer, scopes: readonly string[]) =>
  scopes.every((scope) => viewer.scopes.has(scope));

// Methods on a prototype rather than closures made per request: this runs for every request.
class SignedInScopes {
  readonly authenticated = true;
  constructor(private readonly viewer: SignedInViewer) {}
  anyRole(roles: readonly Role[]) {
    const { roles: held, scopes, apiKeyId } = this.viewer;
    const caller = { roles: held, scopes, viaKey: apiKeyId !== undefined };
    return roles.some((role) => roleCounts(role, caller));
  }
  scopes(sets: readonly (readonly string[])[]) {
    return sets.some((set) => holdsAll(this.viewer, set));
  }
}

const ANONYMOUS_SCOPES = Object.freeze({
  authenticated: false,
  anyRole: () => false,
  scopes: () => false,
});

export const scopesOf = ({ viewer }: Context) =>
  viewer.kind === 'user' ? new SignedInScopes(viewer) : ANONYMOUS_SCOPES;

/** The viewer is user `userId` ('' or undefined never matches) and holds `scopes` as well. */
export const ownsAs = (viewer: Viewer, userId: string | undefined, scopes?: readonly string[]) =>
  viewer.kind === 'user' &&
  userId !== undefined &&
  userId !== '' &&
  userId === viewer.userId &&
  (scopes === undefined || holdsAll(viewer, scopes));

export const refusalFor = ({ viewer }: Context) =>
  viewer.kind === 'anonymous' ? notAuthenticated() : notAuthorized();
