import {
  anyOf,
  guarded,
  guardedType,
  isOwner,
  requiresAuthentication,
  requiresScopes,
} from '../../auth/guards.js';
import { badUserInput } from '../../errors.js';
import { SCAN_BUDGET_PER_REQUEST } from '../../db/log-cursor.js';
import { builder } from '../../graphql/builder.js';
import { scanBudgetOf } from '../../graphql/scan-budget.js';
import { ROLES, type User } from './user.model.js';
import { MAX_PAGE_SIZE } from './user-list.js';

export const RoleType = builder.enumType('Role', {
  description: 'What a user may do. Every user has USER; ADMIN can manage users.',
  values: ROLES,
});

/** Admins, as their scope says: an admin's session, or an API key given users:read. */
export const readsUsers = requiresScopes(['users:read']);

/** The account's own user, or an admin. */
export const ownerOrAdmin = anyOf(
  isOwner((user: User) => user.id),
  readsUsers,
);

export const UserType = builder.objectRef<User>('User').implement({
  description: 'An account. The password hash is never part of it.',
  ...guardedType(requiresAuthentication),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable identifier of the user.' }),
    email: guarded(t, ownerOrAdmin).exposeString('email', {
      description: 'Normalized (trimmed, lower-cased) email. Only its owner and admins see it.',
    }),
    roles: guarded(t, ownerOrAdmin).field({
      type: [RoleType],
      description: 'Roles granted to the user. Only its owner and admins see them.',
      resolve: (user) => [...user.roles],
    }),
    emailVerified: guarded(t, ownerOrAdmin).exposeBoolean('emailVerified', {
      description:
        'Whether its owner followed a verification link mailed to this address. Only its owner and admins see it.',
    }),
    disabled: guarded(t, readsUsers).exposeBoolean('disabled', {
      description: 'Whether the account is disabled (it cannot sign in). Admins only.',
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the account was created.',
      resolve: (user) => user.createdAt,
    }),
  }),
});

const UserConnection = builder.connectionObject(
  {
    type: UserType,
    name: 'UserConnection',
    description: 'A page of users.',
    ...guardedType(requiresScopes(['users:read'])),
  },
  {
    description: 'A user and its place in the list.',
    ...guardedType(requiresScopes(['users:read'])),
  },
);

const UserFilterInput = builder.inputType('UserFilter', {
  description: 'Which users to list; every field given must match.',
  fields: (t) => ({
    emailPrefix: t.string({
      description:
        'The email starts with this, normalized as emails are (trimmed, NFKC, lower-cased).',
    }),
    role: t.field({ type: RoleType, description: 'The user has this role.' }),
    disabled: t.boolean({ description: 'The account is disabled (true) or not (false).' }),
  }),
});

builder.queryFields((t) => ({
  me: guarded(t, requiresScopes(['profile:read'])).field({
    type: UserType,
    nullable: true,
    description:
      'The user the access token belongs to (null is kept for compatibility; a deleted account gets a 401).',
    // Served from the request's viewer (at most REVOCATION_CACHE_TTL old): no database read.
    resolve: (_root, _args, context) => context.viewer.account,
  }),
  user: guarded(t, requiresScopes(['profile:read'])).field({
    type: UserType,
    nullable: true,
    description:
      'Any account by id, for any signed-in caller; null when there is none. Its email, roles and state answer only to their owner and admins.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const userId = String(id);
      if (!/^[0-9a-f]{24}$/i.test(userId)) throw badUserInput('id', 'Not a user id');
      return (await context.loadUser(userId)) ?? null;
    },
  }),
  users: guarded(t, requiresScopes(['users:read'])).field({
    type: UserConnection,
    description: `Users in sign-up order, at most ${MAX_PAGE_SIZE} per page. Each request looks at ${SCAN_BUDGET_PER_REQUEST.toLocaleString('en')} users at most, so a filtered page may hold fewer than \`first\`, even none, while hasNextPage is true: page on with endCursor until it is false.`,
    args: {
      first: t.arg.int({
        description: `Page size (1-${MAX_PAGE_SIZE}).`,
        defaultValue: 50,
        required: true,
      }),
      after: t.arg.string({
        description: "The previous page's endCursor (or any edge's cursor): go on after it.",
        required: false,
      }),
      filter: t.arg({ type: UserFilterInput, description: 'Only users matching all of it.' }),
    },
    resolve: (_root, { first, after, filter }, context) =>
      context.services.users.list({
        first,
        after: after ?? undefined,
        filter: {
          emailPrefix: filter?.emailPrefix ?? undefined,
          role: filter?.role ?? undefined,
          disabled: filter?.disabled ?? undefined,
        },
        budget: scanBudgetOf(context),
      }),
  }),
}));
