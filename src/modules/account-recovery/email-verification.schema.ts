import { guarded, isPublic } from '../../auth/guards.js';
import { badUserInput } from '../../errors.js';
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
    isPublic,
    RATE_LIMIT_RULES.requestEmailVerificationPerIp,
    RATE_LIMIT_RULES.requestEmailVerificationPerEmail,
  ).boolean({
    description:
      "Mail a new verification link, unless the address is verified already (at most EMAIL_VERIFICATION_MAILS_PER_ACCOUNT an hour): to `email`'s account if given (always true, in the same time, whether or not it has one), else to the signed-in viewer's.",
    args: { email: t.arg.string({ required: false }) },
    resolve: async (_root, { email }, context) => {
      const { emailVerification } = context.services;
      if (email !== null && email !== undefined) emailVerification.requestFor(email);
      else if (context.viewer.kind === 'user') {
        await emailVerification.request(context.viewer.userId);
      } else throw badUserInput('email', 'Give the email address, or sign in');
      return true;
    },
  }),
}));
