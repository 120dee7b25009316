import { invalidLinkToken } from '../../errors.js';
import type { BackgroundTasks } from '../../lib/background.js';
import { pseudonym, type AuditLog } from '../../lib/security-events.js';
import type { SlidingWindowStore } from '../../rate-limit/store.js';
import type { ApiKeyService } from '../api-key/api-key.service.js';
import type { Mailer } from '../mail/mail.js';
import type { OneTimeTokens } from '../one-time-token/one-time-token.service.js';
import type { SessionService } from '../session/session.service.js';
import type { UserService } from '../user/user.service.js';

export interface PasswordResetOptions {
  readonly ttlMs: number;
  /** Reset mails one account may be sent per window, whoever asks: no mail-bombing a victim. */
  readonly mailsPerAccount: { readonly max: number; readonly windowMs: number };
}

/**
 * Password reset by mailed link. A request answers at once, before anything is looked up, and
 * the lookup, token and mail happen after: the response is the same, in the same time, whether
 * or not the email has an account. No GraphQL here.
 */
export function createPasswordReset(
  deps: {
    users: Pick<
      UserService,
      'findUsableByEmail' | 'findUsable' | 'checkNewPassword' | 'resetPassword'
    >;
    tokens: OneTimeTokens;
    mail: Mailer;
    sessions: Pick<SessionService, 'revokeAllForUser'>;
    apiKeys: Pick<ApiKeyService, 'revokeAllForUser'>;
    windows: SlidingWindowStore;
    audit: AuditLog;
    background: BackgroundTasks;
  },
  options: PasswordResetOptions,
) {
  const { users, tokens, mail, audit } = deps;

  async function mailLink(email: string) {
    const user = await users.findUsableByEmail(email);
    if (!user) return;
    const { max, windowMs } = options.mailsPerAccount;
    const hit = await deps.windows.hit(`reset-mail:${pseudonym(user.id)}`, max, windowMs);
    if (!hit.allowed) {
      audit.record('password.reset_requested', { userId: user.id, outcome: 'capped' });
      return;
    }
    const { token } = await tokens.issue(
      'password-reset',
      { userId: user.id, credentialVersion: user.credentialVersion, data: user.email },
      options.ttlMs,
    );
    await mail.enqueue({ kind: 'password-reset', to: user.email, token });
    audit.record('password.reset_requested', { userId: user.id, outcome: 'mailed' });
  }

  return {
    /** Starts the request and returns at once; failures are logged, never answered. */
    request(email: string): void {
      deps.background.run('password reset request', () => mailLink(email));
    },

    /** Sets the new password, ends every session and API key, and mails a notice. */
    async reset(token: string, newPassword: string) {
      // Before the token is spent: a password the policy refuses must not cost the link.
      users.checkNewPassword(newPassword, 'newPassword');
      const redeemed = await tokens.redeem('password-reset', token);
      if (!redeemed) throw invalidLinkToken();
      // Mailed to the address the account had then: after a move away from a lost or taken-over
      // mailbox, the links it received are void.
      const account = await users.findUsable(redeemed.userId);
      if (!account || account.email !== redeemed.data) throw invalidLinkToken();
      const user = await users.resetPassword(
        redeemed.userId,
        redeemed.credentialVersion,
        newPassword,
      );
      if (!user) throw invalidLinkToken();
      const ended = await deps.sessions.revokeAllForUser(user.id);
      await deps.apiKeys.revokeAllForUser(user.id);
      audit.record('session.revoked_all', {
        userId: user.id,
        sessions: ended,
        reason: 'password_reset',
      });
      await mail.enqueue({ kind: 'password-changed', to: user.email });
    },
  };
}

export type PasswordReset = ReturnType<typeof createPasswordReset>;
