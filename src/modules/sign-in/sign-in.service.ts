import type { ApiKeyService } from '../api-key/api-key.service.js';
import { scopesOfRoles } from '../../auth/scope-vocabulary.js';
import {
  AppError,
  ErrorCode,
  emailNotVerified,
  invalidCredentials,
  mfaRequired,
} from '../../errors.js';
import type { Mailer } from '../mail/mail.js';
import type { BackgroundTasks } from '../../lib/background.js';
import type { SecondFactor, TokenService } from '../../lib/jwt.js';
import { MAX_EMAIL_INPUT_LENGTH, normalizeEmail } from '../../lib/email.js';
import { pseudonym, type AuditLog } from '../../lib/security-events.js';
import type { MfaChallenges } from '../mfa/mfa-challenges.js';
import type { MfaService } from '../mfa/mfa.service.js';
import type { ClientMeta, SessionService } from '../session/session.service.js';
import type { User } from '../user/user.model.js';
import { checkedNewEmail, type UserService } from '../user/user.service.js';
import type { DeviceTokens } from './device-tokens.js';

/** Everything a client receives when it signs in or refreshes. */
export interface SignedIn {
  readonly user: User;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
  /** Marks this client as known to the account on its next login (see device-tokens.ts). */
  readonly device?: { readonly token: string; readonly expiresIn: number };
}

export interface SignInService {
  signUp(email: string, password: string, meta: ClientMeta): Promise<SignedIn>;
  /** REQUIRE_VERIFIED_EMAIL: creates the account of a sign-up link, with this password. */
  completeSignUp(token: string, password: string, meta: ClientMeta): Promise<SignedIn>;
  /** Throws MFA_REQUIRED, with a challenge for verifyMfa, for an account with TOTP enrolled. */
  login(email: string, password: string, meta: ClientMeta, deviceToken?: string): Promise<SignedIn>;
  /** The second step of such a login: its challenge and a TOTP or recovery code. */
  verifyMfa(challenge: string, code: string, meta: ClientMeta): Promise<SignedIn>;
  refresh(refreshToken: string, meta: ClientMeta): Promise<SignedIn>;
  /** Ends every session, including the caller's, and opens a fresh one for the caller. */
  changePassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
    meta: ClientMeta,
    secondFactor?: SecondFactor,
  ): Promise<SignedIn>;
  logoutAll(userId: string): Promise<number>;
}

/** Sign-in flows: users, sessions and access tokens together. No GraphQL here. */
export function createSignInService(deps: {
  users: UserService;
  sessions: SessionService;
  tokens: TokenService;
  devices: DeviceTokens;
  audit: AuditLog;
  apiKeys: Pick<ApiKeyService, 'revokeAllForUser'>;
  /** Proof of address: mailed at sign-up; with `required`, demanded before any session. */
  verification: {
    readonly required: boolean;
    mailLink(user: User): Promise<boolean>;
    notifySignUpAttempt(email: string): Promise<void>;
    mailSignUpLink(email: string): Promise<void>;
    completeSignUp(token: string, password: string): Promise<User>;
  };
  background: BackgroundTasks;
  /** Security notices to the account's address (a password change). */
  mail: Pick<Mailer, 'enqueue'>;
  mfa: Pick<MfaService, 'isEnrolled'>;
  challenges: MfaChallenges;
}): SignInService {
  const { users, sessions, tokens, devices, audit, verification, background } = deps;

  /** With REQUIRE_VERIFIED_EMAIL, after a correct password: a fresh link, and no session. */
  function refuseUnverified(user: User) {
    if (!verification.required || user.emailVerified) return;
    // Only a caller who knows the password learns this, and gets a fresh link with it.
    background.run('verification mail', () => verification.mailLink(user));
    throw emailNotVerified();
  }

  /**
   * REQUIRE_VERIFIED_EMAIL's sign-up: the same answer, after the same checks, whether or not the
   * email is registered; what differs (a link that creates the account, or a note to the
   * address's owner) happens after the response. The password is only checked against the
   * policy here: the account's is chosen when the link is followed (completeSignUp).
   */
  function signUpUnverified(email: string, password: string): never {
    const address = checkedNewEmail(email);
    users.checkNewPassword(password, 'password');
    background.run('sign-up', async () => {
      if (await users.findUsableByEmail(address)) {
        await verification.notifySignUpAttempt(address);
      } else await verification.mailSignUpLink(address);
    });
    throw emailNotVerified();
  }
  const accountOf = (email: string) => pseudonym(normalizeEmail(email));

  /**
   * The claims of a device token that is ours, for this email, issued under the current credential
   * version of the user who has the email now: a token from an account that has since moved away
   * from the address names another user, and is not a device of the account signing in. Only a
   * genuine token costs the user lookup.
   */
  async function knownDevice(email: string, token: string | undefined) {
    if (!token || email.length > MAX_EMAIL_INPUT_LENGTH) return undefined;
    const claims = devices.read(token, accountOf(email));
    if (!claims) return undefined;
    const user = await users.findUsable(claims.userId);
    const current =
      user?.credentialVersion === claims.credentialVersion && user.email === normalizeEmail(email);
    return current ? claims : undefined;
  }

  /** A new session, with a device token since the client has just proved the password. */
  async function open(
    user: User,
    meta: ClientMeta,
    secondFactor?: SecondFactor,
  ): Promise<SignedIn> {
    // The session remembers the second factor, so that its refreshed tokens carry it too.
    const refresh = await sessions.start(user.id, meta, user.credentialVersion, secondFactor?.at);
    // A password change or logoutAll may have ended every session while this sign-in was checking
    // the old password: it raises the version before ending them, so either the version has moved
    // by now, or the new session was started in time to be ended with the others.
    if ((await users.credentialVersion(user.id)) !== user.credentialVersion) {
      await sessions.revoke(refresh.sessionId, user.id);
      throw invalidCredentials();
    }
    const token = devices.issue(
      accountOf(user.email),
      user.id,
      user.credentialVersion,
      secondFactor !== undefined,
    );
    const device = { token, expiresIn: devices.ttlSeconds };
    return { ...withAccessToken(user, refresh, meta, secondFactor), device };
  }

  function withAccessToken(
    user: User,
    refresh: { sessionId: string; refreshToken: string; refreshExpiresIn: number },
    meta: ClientMeta,
    secondFactor?: SecondFactor,
  ): SignedIn {
    const access = tokens.issue(
      user.id,
      user.roles,
      refresh.sessionId,
      [...scopesOfRoles(user.roles)],
      secondFactor,
      meta.clientId,
    );
    return { user, ...refresh, accessToken: access.token, expiresIn: access.expiresIn };
  }

  return {
    async signUp(email, password, meta) {
      if (verification.required) return signUpUnverified(email, password);
      const user = await users.signUp(email, password);
      background.run('verification mail', () => verification.mailLink(user));
      return open(user, meta);
    },

    async completeSignUp(token, password, meta) {
      return open(await verification.completeSignUp(token, password), meta);
    },

    async login(email, password, meta, deviceToken) {
      const device = await knownDevice(email, deviceToken);
      const user = await users.authenticate(email, password, device?.deviceId);
      refuseUnverified(user);
      // No session and no tokens yet: only the code completes this sign-in.
      if (await deps.mfa.isEnrolled(user.id))
        throw mfaRequired(
          await deps.challenges.issue(
            user,
            device?.secondFactor ? device.deviceId : undefined,
            meta.clientId,
          ),
        );
      return open(user, meta);
    },

    async verifyMfa(challenge, code, meta) {
      const user = await deps.challenges.redeem(challenge, code, meta.clientId);
      // Enrolled before REQUIRE_VERIFIED_EMAIL was turned on, say: the same gate as login's.
      refuseUnverified(user);
      return open(user, meta, { at: Date.now() });
    },

    async refresh(refreshToken, meta) {
      const refreshed = await sessions.refresh(refreshToken, meta);
      const user = await users.findUsable(refreshed.userId);
      // The session began before a password change or logoutAll: over, even if ending the
      // user's sessions did not see it (see session.model.ts).
      if (!user || user.credentialVersion !== refreshed.credentialVersion) {
        await sessions.revoke(refreshed.sessionId, refreshed.userId);
        throw new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid refresh token');
      }
      // The second factor of the session's sign-in, with its own time: a refresh proves none, so
      // the step-up window runs from the sign-in however often the session is refreshed.
      const secondFactor = refreshed.mfaAt === undefined ? undefined : { at: refreshed.mfaAt };
      return withAccessToken(user, refreshed, meta, secondFactor);
    },

    async changePassword(userId, currentPassword, newPassword, meta, secondFactor) {
      const user = await users.changePassword(userId, currentPassword, newPassword);
      const ended = await sessions.revokeAllForUser(userId);
      // A key made by whoever had the old password ends with it, as the sessions do.
      await deps.apiKeys.revokeAllForUser(userId);
      audit.record('session.revoked_all', {
        userId,
        sessions: ended,
        reason: 'password_changed',
      });
      // The owner hears of it, as after a reset: a change they did not make means someone else
      // holds a session. In the background: a slow outbox must not hold up the new session.
      background.run('password-changed notice', () =>
        deps.mail.enqueue({ kind: 'password-changed', to: user.email }),
      );
      return open(user, meta, secondFactor);
    },

    async logoutAll(userId) {
      await users.forgetDevices(userId);
      const ended = await sessions.revokeAllForUser(userId);
      audit.record('session.revoked_all', {
        userId,
        sessions: ended,
        reason: 'logout_all',
      });
      return ended;
    },
  };
}
