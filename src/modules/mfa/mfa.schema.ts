import {
  checksPassword,
  guarded,
  guardedType,
  recentSecondFactor,
  requiresAuthentication,
  requiresScopes,
} from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';
import { ownerOrAdmin, UserType } from '../user/user.schema.js';
import type { TotpEnrollment } from './mfa.service.js';

/** TOTP two-factor for the signed-in user; login's second step (verifyMfa) is in sign-in. */

const TotpEnrollmentType = builder.objectRef<TotpEnrollment>('TotpEnrollment').implement({
  description:
    'A new TOTP secret, pending until confirmTotp. Shown this once: it is stored only encrypted.',
  // Only enrollTotp returns one, to the viewer it was made for.
  ...guardedType(requiresAuthentication),
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The base32 secret, to type in by hand.' }),
    uri: t.exposeString('uri', {
      description: 'The otpauth:// URI (SHA1, 6 digits, 30 s) authenticator apps read.',
    }),
    qrCode: t.exposeString('qrCode', {
      description: 'The URI as a QR code: an SVG data URL, for an <img src>.',
    }),
  }),
});

builder.objectField(UserType, 'totpEnabled', (t) =>
  guarded(t, ownerOrAdmin).boolean({
    description:
      'Whether the account has TOTP two-factor on (login then needs a code). Only its owner and admins see it.',
    resolve: (user, _args, context) => context.services.mfa.isEnrolled(user.id),
  }),
);

const code = builder.args((t) => ({
  code: t.string({
    required: true,
    description: 'A 6-digit code from the authenticator app (spaces allowed).',
  }),
}));

builder.mutationFields((t) => ({
  enrollTotp: guarded(
    t,
    requiresScopes(['account:write']),
    RATE_LIMIT_RULES.enrollTotpPerUser,
  ).field({
    type: TotpEnrollmentType,
    description:
      'Start TOTP enrolment: a new secret, replacing one not yet confirmed. Refused (BAD_USER_INPUT) while TOTP is on: disable it first; and (EMAIL_NOT_VERIFIED) while the address is unverified, since a factor on an address someone else signed up with would lock its owner out.',
    resolve: (_root, _args, { viewer, services }) => services.mfa.enroll(viewer.account),
  }),
  confirmTotp: guarded(
    t,
    requiresScopes(['account:write']),
    checksPassword,
    RATE_LIMIT_RULES.confirmTotpPerIp,
    RATE_LIMIT_RULES.confirmTotpPerUser,
  ).field({
    type: ['String'],
    description:
      "Turn TOTP on, with the current password and a code from the pending secret: a session alone cannot add a factor that would lock the owner out. Returns 10 single-use recovery codes, shown this once (stored hashed); each stands in for a code once. Wrong passwords count toward the lockout; a wrong code: INVALID_MFA_CODE; an unverified address: EMAIL_NOT_VERIFIED. The account's address is mailed a notice.",
    args: {
      password: t.arg.string({ required: true, description: 'The current password.' }),
      ...code,
    },
    resolve: (_root, args, { viewer, services }) =>
      services.mfa.confirm(viewer.userId, args.password, args.code),
  }),
  disableTotp: guarded(
    t,
    requiresScopes(['account:write']),
    checksPassword,
    recentSecondFactor,
    RATE_LIMIT_RULES.disableTotpPerIp,
    RATE_LIMIT_RULES.disableTotpPerUser,
  ).boolean({
    description:
      'Turn TOTP off, with the password and a current code or a recovery code. Wrong passwords count toward the lockout; wrong codes toward the account’s code lockout. The account’s address is mailed a notice.',
    args: {
      password: t.arg.string({ required: true, description: 'The current password.' }),
      ...code,
    },
    resolve: async (_root, args, { viewer, services }) => {
      await services.mfa.disable(viewer.userId, args.password, args.code);
      return true;
    },
  }),
}));
