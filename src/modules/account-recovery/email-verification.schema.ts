import { guarded, isPublic, requiresScopes } from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';

builder.mutationFields((t) => ({
  verifyEmail: guarded(t, isPublic, RATE_LIMIT_RULES.verifyEmailPerIp).boolean({
    description:
      'Confirm an address with the token from its verification link. INVALID_TOKEN for a used, expired or unknown token, or one sent to an address the account no longer has.',
    args: { token: t.arg.string({ required: true }) },
    resolve: async (_root, { token }, context) => {
      await context.services.emailVerification.verify(token);
      return true;
    },
  }),
  requestEmailVerification: guarded(
    t,
    requiresScopes(['account:write']),
    RATE_LIMIT_RULES.requestEmailVerificationPerUser,
  ).boolean({
    description:
      "Mail a new verification link to the viewer's address, unless it is verified already (at most EMAIL_VERIFICATION_MAILS_PER_ACCOUNT). Always true.",
    resolve: async (_root, _args, context) => {
      await context.services.emailVerification.request(context.viewer.userId);
      return true;
    },
  }),
}));
