import type { Role } from '../modules/user/user.model.js';
import { delegableScopesOf, type Scope } from './scope-vocabulary.js';

/**
 * An access rule: who may use a type or a field. Every condition it names grants access on its
 * own (they are alternatives, like Apollo Router's lists of policies and scope sets), so
 * `anyOf(isOwner(...), requiresRole('ADMIN'))` reads as it is enforced. Rules are data: guards.ts
 * turns one into the Pothos scopes that enforce it and the @auth or @public directive that shows it.
 */
export interface Rule {
  /** Anyone, signed in or not. Never combined with the conditions below. */
  readonly public?: true;
  /** Any signed-in caller (a session or an API key). */
  readonly authenticated?: true;
  /** A caller whose user currently has any of these roles. */
  readonly roles?: readonly Role[];
  /** The caller is the user this returns for the parent object... */
  readonly owner?: OwnerOf;
  /** ...and holds these scopes (an API key may not: a profile:read key is not its sessions'). */
  readonly ownerScopes?: readonly Scope[];
  /** A caller holding every scope of at least one of these sets (like @requiresScopes). */
  readonly scopes?: readonly (readonly Scope[])[];
}

// Parents differ by type; each rule's function is written for the type it guards.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OwnerOf = (parent: any) => string | undefined;

export const isPublic: Rule = Object.freeze({ public: true });
export const requiresAuthentication: Rule = Object.freeze({ authenticated: true });
export const requiresRole = (...roles: Role[]): Rule => Object.freeze({ roles });
export const requiresAdmin: Rule = requiresRole('ADMIN');
/**
 * `ownerOf` names the user who owns the parent object (its id); `scopes`, what its owner must
 * also hold to use it (a signed-in session holds them all; an API key only those it was given).
 */
export const isOwner = (ownerOf: OwnerOf, scopes?: readonly Scope[]): Rule =>
  Object.freeze({ owner: ownerOf, ...(scopes?.length ? { ownerScopes: scopes } : {}) });
/** All scopes of any one set: requiresScopes(['users:read']) or (['a', 'b'], ['c']). */
export const requiresScopes = (...sets: (readonly Scope[])[]): Rule =>
  Object.freeze({ scopes: sets });

/** Access when any of the rules grants it. */
export function anyOf(...rules: Rule[]): Rule {
  if (rules.some((rule) => rule.public)) throw new Error('anyOf(isPublic, ...) is just isPublic');
  const owners = rules.filter((rule) => rule.owner);
  if (owners.length > 1) throw new Error('anyOf() takes at most one owner rule');
  const roles = [...new Set(rules.flatMap((rule) => rule.roles ?? []))];
  const scopes = rules.flatMap((rule) => rule.scopes ?? []);
  return Object.freeze({
    ...(rules.some((rule) => rule.authenticated) ? { authenticated: true as const } : {}),
    ...(roles.length ? { roles } : {}),
    ...(owners[0]?.owner ? { owner: owners[0].owner } : {}),
    ...(owners[0]?.ownerScopes ? { ownerScopes: owners[0].ownerScopes } : {}),
    ...(scopes.length ? { scopes } : {}),
  });
}

/** The rule as the @auth directive prints it (and docs/authorization.md lists it). */
export type RuleArgs = {
  authenticated?: boolean;
  roles?: string[];
  owner?: boolean;
  ownerScopes?: string[];
  scopes?: string[][];
};

export function ruleArgs(rule: Rule): RuleArgs {
  return {
    ...(rule.authenticated ? { authenticated: true } : {}),
    ...(rule.roles ? { roles: [...rule.roles] } : {}),
    ...(rule.owner ? { owner: true } : {}),
    ...(rule.ownerScopes ? { ownerScopes: [...rule.ownerScopes] } : {}),
    ...(rule.scopes ? { scopes: rule.scopes.map((set) => [...set]) } : {}),
  };
}

/** A kind of caller, as the authorization matrix and docs/authorization.md describe it. */
export interface Caller {
  readonly signedIn: boolean;
  readonly roles: readonly Role[];
  readonly scopes: ReadonlySet<string>;
  /** Whether the caller is the user the object belongs to. */
  readonly owns: boolean;
  /** An API key: its owner's roles count only as far as its scopes go (rolesOfKey). */
  readonly viaKey?: boolean;
}

/**
 * A role counts for an API key only when the key holds every scope the role gives that a key can
 * hold: an admin's profile:read key is not an admin.
 */
export function roleCounts(
  role: Role,
  caller: { roles: readonly Role[]; scopes: ReadonlySet<string>; viaKey?: boolean },
) {
  if (!caller.roles.includes(role)) return false;
  return !caller.viaKey || delegableScopesOf(role).every((scope) => caller.scopes.has(scope));
}

/** What `rule` decides for `caller`: the outcome the enforced scopes must reproduce. */
export function allows(rule: Rule, caller: Caller): boolean {
  if (rule.public) return true;
  if (!caller.signedIn) return false;
  return Boolean(
    rule.authenticated ||
    (rule.owner &&
      caller.owns &&
      (rule.ownerScopes ?? []).every((scope) => caller.scopes.has(scope))) ||
    rule.roles?.some((role) => roleCounts(role, caller)) ||
    rule.scopes?.some((set) => set.every((scope) => caller.scopes.has(scope))),
  );
}

/** The rule in words, for docs/authorization.md. */
export function describeRule(rule: Rule): string {
  if (rule.public) return 'anyone';
  const alternatives = [
    ...(rule.authenticated ? ['any signed-in caller'] : []),
    ...(rule.owner
      ? [`its owner${rule.ownerScopes ? ` (with ${rule.ownerScopes.join(' + ')})` : ''}`]
      : []),
    ...(rule.roles ? [`role ${rule.roles.join(' or ')}`] : []),
    ...(rule.scopes ?? []).map((set) => `scope ${set.join(' + ')}`),
  ];
  return alternatives.join(', or ');
}
