import { checksPassword, guarded, isPublic } from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';

builder.mutationFields((t) => ({
  requestPasswordReset: guarded(
    t,
    isPublic,
    RATE_LIMIT_RULES.passwordResetRequestPerIp,
    RATE_LIMIT_RULES.passwordResetRequestPerEmail,
  ).boolean({
    description:
      'Mail a password reset link (valid PASSWORD_RESET_TTL, once) if the email has an account. Always true, in the same time, whether or not it has one.',
    args: { email: t.arg.string({ required: true }) },
    resolve: (_root, { email }, context) => {
      context.services.passwordReset.request(email);
      return true;
    },
  }),
  resetPassword: guarded(t, isPublic, checksPassword, RATE_LIMIT_RULES.resetPasswordPerIp).boolean({
    description:
      'Set a new password with the token from a reset link. Every session and API key of the account ends, and its owner is mailed a notice. INVALID_TOKEN for a used, expired or unknown token, or one sent before the password last changed.',
    args: {
      token: t.arg.string({ required: true }),
      newPassword: t.arg.string({
        required: true,
        description: 'At least 8 characters, at most 72 bytes.',
      }),
    },
    resolve: async (_root, { token, newPassword }, context) => {
      await context.services.passwordReset.reset(token, newPassword);
      return true;
    },
  }),
}));
