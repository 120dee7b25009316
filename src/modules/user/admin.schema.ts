import { checksPassword, guarded, recentSecondFactor, requiresScopes } from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';
import { RoleType, UserType } from './user.schema.js';

/** Admin user management and self-service erasure; the rules live in admin.service.ts. */

const userId = builder.args((t) => ({
  userId: t.id({ required: true, description: "The user's id (`User.id`)." }),
}));

builder.mutationFields((t) => ({
  setUserRoles: guarded(t, requiresScopes(['users:write']), recentSecondFactor).field({
    type: UserType,
    description:
      "Replace a user's roles: USER is required; the last active ADMIN cannot lose ADMIN (LAST_ADMIN). Applies to the user's live tokens within REVOCATION_CACHE_TTL.",
    args: {
      ...userId,
      roles: t.arg({ type: [RoleType], required: true, description: 'Must include USER.' }),
    },
    resolve: (_root, args, { services, viewer }) =>
      services.admin.setRoles({ userId: viewer.userId }, String(args.userId), args.roles),
  }),
  disableUser: guarded(t, requiresScopes(['users:write']), recentSecondFactor).field({
    type: UserType,
    description:
      'Disable an account: its sessions end now (refresh fails), its access tokens stop working within REVOCATION_CACHE_TTL, and it cannot sign in. Not the last active ADMIN (LAST_ADMIN).',
    args: userId,
    resolve: (_root, args, { services, viewer }) =>
      services.admin.disable({ userId: viewer.userId }, String(args.userId)),
  }),
  enableUser: guarded(t, requiresScopes(['users:write']), recentSecondFactor).field({
    type: UserType,
    description: 'Enable a disabled account: it can sign in again (its old sessions stay ended).',
    args: userId,
    resolve: (_root, args, { services, viewer }) =>
      services.admin.enable({ userId: viewer.userId }, String(args.userId)),
  }),
  deleteUser: guarded(t, requiresScopes(['users:write']), recentSecondFactor).boolean({
    description:
      'Erase an account: the user, their email (free to sign up again), sessions and credential records go; their audit events stay under a pseudonym. Not the last active ADMIN (LAST_ADMIN).',
    args: userId,
    resolve: async (_root, args, { services, viewer }) => {
      await services.admin.deleteUser({ userId: viewer.userId }, String(args.userId));
      return true;
    },
  }),
  deleteAccount: guarded(
    t,
    requiresScopes(['account:write']),
    checksPassword,
    recentSecondFactor,
    RATE_LIMIT_RULES.deleteAccountPerIp,
    RATE_LIMIT_RULES.deleteAccountPerUser,
  ).boolean({
    description:
      "Erase the viewer's own account, as deleteUser does, once the password checks out (wrong ones count toward the account's lockout). The last active ADMIN cannot (LAST_ADMIN).",
    args: { password: t.arg.string({ required: true, description: 'The current password.' }) },
    resolve: async (_root, { password }, context) => {
      await context.services.admin.deleteAccount(context.viewer.userId, password);
      const { refreshCookie, deviceCookie } = context.services;
      context.responseCookies.push(refreshCookie.clear(), deviceCookie.clear());
      return true;
    },
  }),
}));
