import { invalidLinkToken } from '../../errors.js';
import type { BackgroundTasks } from '../../lib/background.js';
import { pseudonym, type AuditLog } from '../../lib/security-events.js';
import type { SlidingWindowStore } from '../../rate-limit/store.js';
import type { Mailer } from '../mail/mail.js';
import type { OneTimeTokens } from '../one-time-token/one-time-token.service.js';
import type { User } from '../user/user.model.js';
import type { UserService } from '../user/user.service.js';

export interface EmailVerificationOptions {
  readonly ttlMs: number;
  /** Verification mails one account may be sent per window. */
  readonly mailsPerAccount: { readonly max: number; readonly windowMs: number };
}

/**
 * Proof that a user reads the mail sent to their address: a link mailed at sign-up and on request.
 * The token names the address it was sent to, so it verifies nothing once the account has moved
 * to another. No GraphQL here.
 */
export function createEmailVerification(
  deps: {
    users: Pick<UserService, 'findUsable' | 'findUsableByEmail' | 'markEmailVerified'>;
    tokens: OneTimeTokens;
    mail: Mailer;
    windows: SlidingWindowStore;
    audit: AuditLog;
    background: BackgroundTasks;
  },
  options: EmailVerificationOptions,
) {
  const { users, tokens, mail, audit } = deps;

  /** Whether `user` may be sent another mail of this kind now (the per-account cap). */
  async function withinCap(kind: string, user: User) {
    const { max, windowMs } = options.mailsPerAccount;
    return (await deps.windows.hit(`${kind}-mail:${pseudonym(user.id)}`, max, windowMs)).allowed;
  }

  /** Mails a link to the user's current address, within the per-account cap; false if capped. */
  async function mailLink(user: User) {
    if (!(await withinCap('verify', user))) return false;
    const { token } = await tokens.issue(
      'verify-email',
      { userId: user.id, credentialVersion: user.credentialVersion, data: user.email },
      options.ttlMs,
    );
    await mail.enqueue({ kind: 'verify-email', to: user.email, token });
    audit.record('email_verification.requested', { userId: user.id });
    return true;
  }

  return {
    mailLink,

    /** Tells the owner of `email` that someone tried to sign up with it (capped likewise). */
    async notifySignUpAttempt(email: string) {
      const owner = await users.findUsableByEmail(email);
      if (!owner || !(await withinCap('sign-up-attempt', owner))) return;
      await mail.enqueue({ kind: 'sign-up-attempt', to: owner.email });
    },

    /** A new link for a signed-in user whose address is not verified yet. */
    async request(userId: string) {
      const user = await users.findUsable(userId);
      if (!user || user.emailVerified) return;
      await mailLink(user);
    },

    /** The same for whoever has `email`, if anyone: started now, done after the response. */
    requestFor(email: string) {
      deps.background.run('verification request', async () => {
        const user = await users.findUsableByEmail(email);
        if (user && !user.emailVerified) await mailLink(user);
      });
    },

    async verify(token: string) {
      const redeemed = await tokens.redeem('verify-email', token);
      if (!redeemed?.data) throw invalidLinkToken();
      if (!(await users.markEmailVerified(redeemed.userId, redeemed.data))) {
        throw invalidLinkToken();
      }
    },
  };
}

export type EmailVerification = ReturnType<typeof createEmailVerification>;
