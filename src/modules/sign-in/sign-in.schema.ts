import {
  checksPassword,
  grantsOwner,
  guarded,
  guardedType,
  isPublic,
  recentSecondFactor,
  requiresScopes,
} from '../../auth/guards.js';
import { builder } from '../../graphql/builder.js';
import type { Context } from '../../graphql/context.js';
import { AppError, ErrorCode } from '../../errors.js';
import { RATE_LIMIT_RULES } from '../../rate-limit/rules.js';
import type { ClientMeta } from '../session/session.service.js';
import { UserType } from '../user/user.schema.js';
import type { SignedIn } from './sign-in.service.js';

/** The header Yoga's CSRF prevention uses; browsers cannot add it to a cross-site request. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

interface AuthPayloadShape {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string | null;
  readonly deviceToken: string | null;
  readonly refreshExpiresIn: number;
  readonly signedIn: SignedIn;
}

const AuthPayloadType = builder.objectRef<AuthPayloadShape>('AuthPayload').implement({
  description: 'The result of signing up, logging in or refreshing.',
  ...guardedType(isPublic),
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', {
      description: 'JWT to send as `Authorization: Bearer <accessToken>`.',
    }),
    tokenType: t.string({ description: 'Always "Bearer".', resolve: () => 'Bearer' }),
    expiresIn: t.exposeInt('expiresIn', { description: 'Seconds until the access token expires.' }),
    refreshToken: t.exposeString('refreshToken', {
      nullable: true,
      description:
        'Opaque token for refreshToken(token:); single use. Null when it was set as an HttpOnly cookie instead.',
    }),
    refreshExpiresIn: t.exposeInt('refreshExpiresIn', {
      description: 'Seconds until the refresh token expires if unused.',
    }),
    deviceToken: t.exposeString('deviceToken', {
      nullable: true,
      description:
        'Keep it and pass it to the next login(deviceToken:) from this client: a known client is not locked out when others guess at the account. Null when it was set as an HttpOnly cookie instead.',
    }),
    user: guarded(t, isPublic, grantsOwner).field({
      type: UserType,
      description: 'The signed-in user: its owner-only fields answer, the caller being its owner.',
      resolve: (payload) => payload.signedIn.user,
    }),
  }),
});

const clientMeta = (context: Context): ClientMeta => ({
  userAgent: context.request.headers.get('user-agent') ?? '',
  ip: context.clientIp,
});

/** Hands the refresh token over in the body, or only as the HttpOnly cookie. */
function payload(context: Context, signedIn: SignedIn, useCookie: boolean): AuthPayloadShape {
  const { refreshCookie, deviceCookie } = context.services;
  const deviceToken = signedIn.device?.token ?? null;
  if (useCookie) {
    context.responseCookies.push(
      refreshCookie.set(signedIn.refreshToken, signedIn.refreshExpiresIn),
    );
    if (signedIn.device) {
      context.responseCookies.push(
        deviceCookie.set(signedIn.device.token, signedIn.device.expiresIn),
      );
    }
  }
  return {
    accessToken: signedIn.accessToken,
    expiresIn: signedIn.expiresIn,
    refreshToken: useCookie ? null : signedIn.refreshToken,
    deviceToken: useCookie ? null : deviceToken,
    refreshExpiresIn: signedIn.refreshExpiresIn,
    signedIn,
  };
}

/** A cookie rides along with any request the browser makes, so using it needs proof of intent. */
function cookieToken(context: Context): string | undefined {
  const token = context.services.refreshCookie.read(context.request.headers.get('cookie'));
  if (token && !context.request.headers.has(CSRF_HEADER)) {
    throw new AppError(
      ErrorCode.CSRF_REJECTED,
      `Requests that use the refresh cookie must send the ${CSRF_HEADER} header`,
    );
  }
  return token;
}

/** Browsers ask for the refresh token as an HttpOnly cookie; API clients take it from the body. */
const cookieDelivery = builder.args((t) => ({
  useCookie: t.boolean({
    defaultValue: false,
    required: true,
    description: 'Set the refresh token as an HttpOnly cookie instead of returning it.',
  }),
}));

builder.mutationFields((t) => ({
  signUp: guarded(t, isPublic, checksPassword, RATE_LIMIT_RULES.signUpPerIp).field({
    type: AuthPayloadType,
    description:
      'Create an account with role USER and sign in. With REQUIRE_VERIFIED_EMAIL: EMAIL_NOT_VERIFIED for a new and a registered email alike, and a link is mailed; the account is created by completeSignUp.',
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({
        required: true,
        description: 'At least 8 characters, at most 72 bytes.',
      }),
      ...cookieDelivery,
    },
    resolve: async (_root, { email, password, useCookie }, context) =>
      payload(
        context,
        await context.services.signIn.signUp(email, password, clientMeta(context)),
        useCookie,
      ),
  }),
  completeSignUp: guarded(t, isPublic, checksPassword, RATE_LIMIT_RULES.completeSignUpPerIp).field({
    type: AuthPayloadType,
    description:
      'REQUIRE_VERIFIED_EMAIL: create the account of a sign-up link (PUBLIC_URL/complete-sign-up?token=…) with the password chosen now, its address verified, and sign in. INVALID_TOKEN for a used, expired or unknown token; BAD_USER_INPUT for a password the policy refuses (the link stays usable) or an address registered since.',
    args: {
      token: t.arg.string({ required: true }),
      password: t.arg.string({
        required: true,
        description: 'The account’s password: at least 8 characters, at most 72 bytes.',
      }),
      ...cookieDelivery,
    },
    resolve: async (_root, { token, password, useCookie }, context) =>
      payload(
        context,
        await context.services.signIn.completeSignUp(token, password, clientMeta(context)),
        useCookie,
      ),
  }),
  login: guarded(
    t,
    isPublic,
    checksPassword,
    RATE_LIMIT_RULES.loginPerIp,
    RATE_LIMIT_RULES.loginPerIpAndEmail,
  ).field({
    type: AuthPayloadType,
    description: 'Exchange an email and password for an access token and a refresh token.',
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      deviceToken: t.arg.string({
        required: false,
        description:
          'The deviceToken an earlier sign-in returned to this client. Browsers send it as a cookie instead.',
      }),
      ...cookieDelivery,
    },
    resolve: async (_root, { email, password, deviceToken, useCookie }, context) => {
      // Reading the cookie needs no CSRF header: a device token only changes which lockout
      // applies, and the password is still required.
      const device =
        deviceToken ??
        context.services.deviceCookie.read(context.request.headers.get('cookie')) ??
        undefined;
      return payload(
        context,
        await context.services.signIn.login(email, password, clientMeta(context), device),
        useCookie,
      );
    },
  }),
  verifyMfa: guarded(t, isPublic, RATE_LIMIT_RULES.verifyMfaPerIp).field({
    type: AuthPayloadType,
    description:
      "Finish a login that failed with MFA_REQUIRED: its extensions.challenge and a TOTP code (or an unused recovery code). The access token's amr then says pwd and otp. A wrong code: INVALID_MFA_CODE; a challenge that is unknown, expired, used or out of attempts: MFA_CHALLENGE_INVALID.",
    args: {
      challenge: t.arg.string({ required: true, description: 'From the MFA_REQUIRED error.' }),
      code: t.arg.string({
        required: true,
        description: 'A 6-digit TOTP code, or a recovery code.',
      }),
      ...cookieDelivery,
    },
    resolve: async (_root, { challenge, code, useCookie }, context) =>
      payload(
        context,
        await context.services.signIn.verifyMfa(challenge, code, clientMeta(context)),
        useCookie,
      ),
  }),
  refreshToken: guarded(t, isPublic, RATE_LIMIT_RULES.refreshPerIp).field({
    type: AuthPayloadType,
    description:
      'Trade a refresh token (the argument, else the cookie) for new tokens. Each refresh token works once; reusing a spent one ends its session.',
    args: {
      token: t.arg.string({ required: false, description: 'Omit to use the refresh cookie.' }),
      ...cookieDelivery,
    },
    resolve: async (_root, args, context) => {
      const fromCookie = args.token ? undefined : cookieToken(context);
      const token = args.token ?? fromCookie;
      if (!token) {
        throw new AppError(
          ErrorCode.UNAUTHENTICATED,
          'No refresh token: pass token or send the cookie',
        );
      }
      try {
        const signedIn = await context.services.signIn.refresh(token, clientMeta(context));
        return payload(context, signedIn, args.useCookie || fromCookie !== undefined);
      } catch (error) {
        if (fromCookie) context.responseCookies.push(context.services.refreshCookie.clear());
        throw error;
      }
    },
  }),
  logout: guarded(t, requiresScopes(['sessions:write'])).boolean({
    description:
      'End the current session: its refresh tokens and access tokens stop working. False for an API key, which has no session (revokeApiKey ends it).',
    resolve: async (_root, _args, context) => {
      const { viewer } = context;
      if (viewer.apiKeyId) return false;
      context.responseCookies.push(context.services.refreshCookie.clear());
      await context.services.sessions.revoke(viewer.sessionId, viewer.userId);
      return true;
    },
  }),
  logoutAll: guarded(t, requiresScopes(['sessions:write'])).boolean({
    description: 'End every session of the viewer, this one included.',
    resolve: async (_root, _args, context) => {
      context.responseCookies.push(context.services.refreshCookie.clear());
      await context.services.signIn.logoutAll(context.viewer.userId);
      return true;
    },
  }),
  changePassword: guarded(
    t,
    requiresScopes(['account:write']),
    checksPassword,
    recentSecondFactor,
    RATE_LIMIT_RULES.changePasswordPerIp,
    RATE_LIMIT_RULES.changePasswordPerUser,
  ).field({
    type: AuthPayloadType,
    description:
      "Change the password; every session ends and a new one is returned for the caller, and a notice is mailed to the account's address.",
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
      ...cookieDelivery,
    },
    resolve: async (_root, args, context) => {
      const signedIn = await context.services.signIn.changePassword(
        context.viewer.userId,
        args.currentPassword,
        args.newPassword,
        clientMeta(context),
        // The new session keeps the second factor this one proved: changing the password (which
        // needs a recent one) should not cost the next step-up a fresh login.
        context.viewer.mfaAt === undefined ? undefined : { at: context.viewer.mfaAt },
      );
      return payload(context, signedIn, args.useCookie);
    },
  }),
}));
