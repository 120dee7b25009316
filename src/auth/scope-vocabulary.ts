import type { Role } from '../modules/user/user.model.js';

/**
 * What a caller may do, by scope: the one list every rule, token and key names. A session's access
 * token carries the scopes of its user's roles (the `scope` claim); an API key carries the ones
 * chosen for it, never more than its owner's roles give at the time of each call.
 */
export const SCOPES = {
  'profile:read': 'Read your own account: me, user(id).',
  'sessions:read': 'List your sessions.',
  'sessions:write': 'End your sessions: logout, logoutAll, revokeSession.',
  'apikeys:write': 'List and revoke your API keys.',
  'account:write':
    'Change your password, delete your account, create API keys, turn TOTP two-factor on and off. Never given to an API key: only a signed-in session has it.',
  'users:read': 'Admin: list and read any account.',
  'users:write': 'Admin: change roles, disable, enable and delete accounts.',
  'audit:read': 'Admin: read the audit trail.',
} as const;

export type Scope = keyof typeof SCOPES;

export const isScope = (value: string): value is Scope => Object.hasOwn(SCOPES, value);

/** Scopes an API key may be given (account:write needs the password holder, in a session). */
export const DELEGABLE_SCOPES: readonly Scope[] = (Object.keys(SCOPES) as Scope[]).filter(
  (scope) => scope !== 'account:write',
);

const USER_SCOPES: readonly Scope[] = [
  'profile:read',
  'sessions:read',
  'sessions:write',
  'apikeys:write',
  'account:write',
];

export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  USER: USER_SCOPES,
  ADMIN: [...USER_SCOPES, 'users:read', 'users:write', 'audit:read'],
};

/** What a role gives that an API key can hold. */
export const delegableScopesOf = (role: Role): readonly Scope[] =>
  (ROLE_SCOPES[role] ?? []).filter((scope) => DELEGABLE_SCOPES.includes(scope));

/**
 * The scopes a set of roles gives, in vocabulary order. Worked out once per combination of roles
 * (there are 2^ROLES of them at most) rather than on every request.
 */
const scopesByRoles = new Map<string, ReadonlySet<Scope>>();

export function scopesOfRoles(roles: readonly Role[]): ReadonlySet<Scope> {
  const key = roles.join(',');
  let scopes = scopesByRoles.get(key);
  if (!scopes) {
    const granted = new Set(roles.flatMap((role) => ROLE_SCOPES[role] ?? []));
    scopes = new Set((Object.keys(SCOPES) as Scope[]).filter((scope) => granted.has(scope)));
    // Unknown role names never reach here (the model's enum); the bound is a safety net.
    if (scopesByRoles.size < 64) scopesByRoles.set(key, scopes);
  }
  return scopes;
}
