import { guarded, requiresAdmin, requiresAuthentication } from '../../auth/guards.js';
import { SCAN_BUDGET_PER_REQUEST } from '../../db/log-cursor.js';
import { builder } from '../../graphql/builder.js';
import { scanBudgetOf } from '../../graphql/scan-budget.js';
import { ROLES, type User } from './user.model.js';
import { MAX_PAGE_SIZE } from './user-list.js';

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

const UserConnection = builder.connectionObject(
  { type: UserType, name: 'UserConnection', description: 'A page of users.' },
  { description: 'A user and its place in the list.' },
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
  me: guarded(t, requiresAuthentication).field({
    type: UserType,
    nullable: true,
    description:
      'The user the access token belongs to (null is kept for compatibility; a deleted account gets a 401).',
    // Served from the request's viewer (at most REVOCATION_CACHE_TTL old): no database read.
    resolve: (_root, _args, context) => context.viewer.account,
  }),
  users: guarded(t, requiresAdmin).field({
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
