import {
  checksPassword,
  guarded,
  isPublic,
  recentSecondFactor,
  requiresScopes,
} from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';

builder.mutationFields((t) => ({
  requestEmailChange: guarded(
    t,
    requiresScopes(['account:write']),
    checksPassword,
    recentSecondFactor,
    RATE_LIMIT_RULES.requestEmailChangePerIp,
    RATE_LIMIT_RULES.requestEmailChangePerUser,
  ).boolean({
    description:
      'Move the account to another address: mails a confirmation link to `newEmail` and a notice to the current address. Nothing changes until the link is followed (confirmEmailChange).',
    args: {
      newEmail: t.arg.string({ required: true }),
      password: t.arg.string({ required: true, description: 'The current password.' }),
    },
    resolve: async (_root, { newEmail, password }, context) => {
      await context.services.emailChange.request(context.viewer.userId, newEmail, password);
      return true;
    },
  }),
  confirmEmailChange: guarded(
    t,
    isPublic,
    checksPassword,
    RATE_LIMIT_RULES.confirmEmailChangePerIp,
  ).boolean({
    description:
      'Apply an email change with the token from the link mailed to the new address and the password of the account that asked; the address counts as verified. INVALID_TOKEN for a used, expired or unknown token, or once the account has moved on; UNAUTHENTICATED for a wrong password (the link stays usable); BAD_USER_INPUT if the address has been registered since.',
    args: {
      token: t.arg.string({ required: true }),
      password: t.arg.string({
        required: true,
        description: 'The password of the account moving to this address.',
      }),
    },
    resolve: async (_root, { token, password }, context) => {
      await context.services.emailChange.confirm(token, password);
      return true;
    },
  }),
}));
