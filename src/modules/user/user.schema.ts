import { guarded, isPublic, requiresAdmin, requiresAuthentication } from '../../auth/guards.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';
import { builder } from '../../builder.js';
import type { Context } from '../../context.js';
import { notAuthenticated } from '../../errors.js';
import { ROLES, type User } from './user.model.js';
import { MAX_PAGE_SIZE } from './user.service.js';

interface AuthPayloadShape {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly user: User;
}

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

const AuthPayloadType = builder.objectRef<AuthPayloadShape>('AuthPayload').implement({
  description: 'The result of signing up or logging in.',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', {
      description: 'JWT to send as `Authorization: Bearer <accessToken>`.',
    }),
    tokenType: t.string({ description: 'Always "Bearer".', resolve: () => 'Bearer' }),
    expiresIn: t.exposeInt('expiresIn', { description: 'Seconds until the access token expires.' }),
    user: t.field({ type: UserType, description: 'The signed-in user.', resolve: (p) => p.user }),
  }),
});

function signedIn(context: Context, user: User): AuthPayloadShape {
  const { token, expiresIn } = context.services.tokens.issue(user.id, user.roles);
  return { accessToken: token, expiresIn, user };
}

function viewerId(context: Context): string {
  if (context.viewer.kind !== 'user') throw notAuthenticated();
  return context.viewer.userId;
}

builder.queryFields((t) => ({
  me: t.field({
    ...guarded(requiresAuthentication),
    type: UserType,
    nullable: true,
    description: 'The user the access token belongs to; null if that account no longer exists.',
    resolve: (_root, _args, context) => context.services.users.findById(viewerId(context)),
  }),
  users: t.field({
    ...guarded(requiresAdmin),
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

builder.mutationFields((t) => ({
  signUp: t.field({
    ...guarded(isPublic, RATE_LIMIT_RULES.signUpPerIp),
    type: AuthPayloadType,
    description: 'Create an account with role USER and sign in.',
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({
        required: true,
        description: 'At least 8 characters, at most 72 bytes.',
      }),
    },
    resolve: async (_root, { email, password }, context) =>
      signedIn(context, await context.services.users.signUp(email, password)),
  }),
  login: t.field({
    ...guarded(isPublic, RATE_LIMIT_RULES.loginPerIp, RATE_LIMIT_RULES.loginPerIpAndEmail),
    type: AuthPayloadType,
    description: 'Exchange an email and password for an access token.',
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_root, { email, password }, context) =>
      signedIn(context, await context.services.users.authenticate(email, password)),
  }),
}));
