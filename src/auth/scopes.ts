import { notAuthenticated, notAuthorized } from '../errors.js';
import type { Context, SignedInContext } from '../graphql/context.js';
import type { Role } from '../modules/user/user.model.js';
import { roleCounts } from './rules.js';

/**
 * How the viewer is checked against a rule, as Pothos auth scopes (guards.ts turns each rule into
 * a map of these). Refusals are UNAUTHENTICATED when there is no viewer, FORBIDDEN otherwise.
 */
export interface AuthScopes {
  authenticated: boolean;
  /** The viewer's user has any of these roles. */
  anyRole: readonly Role[];
  /** The viewer is this user ('' when the parent names no owner: never matches). */
  owner: string;
  /** The viewer holds every scope of at least one set. */
  scopes: readonly (readonly string[])[];
  /** Always true: guards.ts asks it only for objects a @grantsOwner field gave the caller. */
  ownedByCaller: boolean;
}

/** The context a resolver gets behind a scope: behind any of them, a signed-in viewer. */
export interface AuthContexts {
  authenticated: SignedInContext;
  anyRole: SignedInContext;
  owner: SignedInContext;
  scopes: SignedInContext;
  ownedByCaller: Context;
}

export const scopesOf = ({ viewer }: Context) => {
  if (viewer.kind !== 'user') {
    return {
      authenticated: false,
      anyRole: () => false,
      owner: () => false,
      scopes: () => false,
      ownedByCaller: true,
    };
  }
  return {
    authenticated: true,
    anyRole: (roles: readonly Role[]) =>
      roles.some((role) => roleCounts(role, { ...viewer, viaKey: viewer.apiKeyId !== undefined })),
    owner: (userId: string) => userId !== '' && userId === viewer.userId,
    scopes: (sets: readonly (readonly string[])[]) =>
      sets.some((set) => set.every((scope) => viewer.scopes.has(scope))),
    ownedByCaller: true,
  };
};

export const refusalFor = ({ viewer }: Context) =>
  viewer.kind === 'anonymous' ? notAuthenticated() : notAuthorized();
