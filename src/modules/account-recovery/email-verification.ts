import { badUserInput, invalidLinkToken } from '../../errors.js';
import type { BackgroundTasks } from '../../lib/background.js';
import { pseudonym, type AuditLog } from '../../lib/security-events.js';
import type { SlidingWindowStore } from '../../rate-limit/store.js';
import type { Mailer } from '../mail/mail.js';
import { fieldsOf, type OneTimeTokens } from '../one-time-token/one-time-token.service.js';
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
    users: Pick<
      UserService,
      | 'findUsable'
      | 'findUsableByEmail'
      | 'markEmailVerified'
      | 'checkNewPassword'
      | 'prepareSignUp'
      | 'completeSignUp'
    >;
    tokens: OneTimeTokens;
    mail: Mailer;
    windows: SlidingWindowStore;
    audit: AuditLog;
    background: BackgroundTasks;
  },
  options: EmailVerificationOptions,
) {
  const { users, tokens, mail, audit } = deps;

  /** Whether `subject` may be sent another mail of this kind now (the per-account cap). */
  async function withinCap(kind: string, subject: string) {
    const { max, windowMs } = options.mailsPerAccount;
    return (await deps.windows.hit(`${kind}-mail:${pseudonym(subject)}`, max, windowMs)).allowed;
  }

  /** Mails a link to the user's current address, within the per-account cap; false if capped. */
  async function mailLink(user: User) {
    if (!(await withinCap('verify', user.id))) return false;
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

    /**
     * REQUIRE_VERIFIED_EMAIL's sign-up for a free address: nothing is created until its link is
     * followed, and the password is chosen then (completeSignUp), by whoever reads the address's
     * mail. A password given with the sign-up and kept in the link would let anyone pre-register
     * an address with a password of theirs, for its owner to activate by following the link; and
     * a stranger's links would use up the address's mail cap before its owner's sign-up.
     */
    async mailSignUpLink(email: string) {
      if (!(await withinCap('sign-up', email))) return;
      const { token } = await tokens.issue(
        'sign-up',
        { userId: pendingSubject(email), credentialVersion: 0, data: JSON.stringify({ email }) },
        options.ttlMs,
      );
      await mail.enqueue({ kind: 'complete-sign-up', to: email, token });
    },

    /**
     * Creates the account of a sign-up link with the password given now, verified. The link is
     * spent only once the password passes the policy (so a refused one can be chosen again).
     */
    async completeSignUp(token: string, password: string): Promise<User> {
      const pending = fieldsOf((await tokens.find('sign-up', token))?.data, ['email']);
      if (!pending) throw invalidLinkToken();
      users.checkNewPassword(password, 'password');
      // Spent before the hash: racing requests with one link cost one bcrypt, not one each.
      if (!(await tokens.redeem('sign-up', token))) throw invalidLinkToken();
      const prepared = await users.prepareSignUp(pending.email, password);
      const created = await users.completeSignUp(prepared);
      // Registered since the link was sent: said only to whoever reads this address's mail.
      if (!created) throw badUserInput('token', 'This address is registered already: log in');
      await users.markEmailVerified(created.id, created.email);
      return { ...created, emailVerified: true };
    },

    /** Tells the owner of `email` that someone tried to sign up with it (capped likewise). */
    async notifySignUpAttempt(email: string) {
      const owner = await users.findUsableByEmail(email);
      if (!owner || !(await withinCap('sign-up-attempt', owner.id))) return;
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
      // A sign-up's link is not one of these (its purpose differs, and it is not spent here).
      const redeemed = await tokens.redeem('verify-email', token);
      if (!redeemed?.data || !(await users.markEmailVerified(redeemed.userId, redeemed.data))) {
        throw invalidLinkToken();
      }
    },
  };
}

export type EmailVerification = ReturnType<typeof createEmailVerification>;

/** Whom a pending sign-up's token is listed under: no account exists yet. */
const pendingSubject = (email: string) => `pending:${pseudonym(email)}`;
