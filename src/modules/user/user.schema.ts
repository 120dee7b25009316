import { guarded, requiresAdmin, requiresAuthentication } from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import { ROLES, type User } from './user.model.js';
import { MAX_PAGE_SIZE } from './user.service.js';

export const RoleType = builder.enumType('Role', {
  description: 'What a user may do. Every user has USER; ADMIN can manage users.',
  values: ROLES,
});

export const UserType = builder.objectRef<User>('User').implement({
  description: 'An account. The password hash is never part of it.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable identifier of the user.' }),
    email: t.exposeString('email', { description: 'Normalized (trimmed, lower-cased) email.' }),
    roles: t.field({
      type: [RoleType],
      description: 'Roles granted to the user.',
      resolve: (user) => [...user.roles],
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the account was created.',
      resolve: (user) => user.createdAt,
    }),
  }),
});

builder.queryFields((t) => ({
  me: guarded(t, requiresAuthentication).field({
    type: UserType,
    nullable: true,
    description:
      'The user the access token belongs to (null is kept for compatibility; a deleted account gets a 401).',
    // Served from the request's viewer (at most REVOCATION_CACHE_TTL old): no database read.
    resolve: (_root, _args, context) => context.viewer.account,
  }),
  users: guarded(t, requiresAdmin).field({
    type: [UserType],
    description: `All users, oldest first, at most ${MAX_PAGE_SIZE} per page.`,
    args: {
      first: t.arg.int({ description: 'Page size (1-100).', defaultValue: 50, required: true }),
      after: t.arg.id({ description: 'Return users after this user id.', required: false }),
    },
    resolve: (_root, { first, after }, context) =>
      context.services.users.list(
        first,
        after === null || after === undefined ? undefined : String(after),
      ),
  }),
}));
