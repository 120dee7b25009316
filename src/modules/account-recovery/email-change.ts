import { badUserInput, invalidLinkToken } from '../../errors.js';
import { pseudonym, type AuditLog } from '../../lib/security-events.js';
import type { SlidingWindowStore } from '../../rate-limit/store.js';
import type { Mailer } from '../mail/mail.js';
import {
  fieldsOf,
  type OneTimeTokens,
  type RedeemedToken,
} from '../one-time-token/one-time-token.service.js';
import type { EmailChange } from '../user/email-change.js';
import { checkedNewEmail, type UserService } from '../user/user.service.js';

export interface EmailChangeRequestOptions {
  readonly ttlMs: number;
  /**
   * Confirmation mails one address is sent per window, whichever accounts ask: the per-user
   * limit alone would let many accounts mail-bomb one stranger's address.
   */
  readonly mailsPerRecipient: { readonly max: number; readonly windowMs: number };
}

/** What an email-change token carries: the address it moves from, and to. */
interface Move {
  readonly from: string;
  readonly to: string;
}

/**
 * Changing the account's address: asked for with the password, applied when the new address
 * follows the link mailed to it; the old address is told at once. Whether the new address is
 * registered is said only to whoever reads its mail, at confirmation. No GraphQL here.
 */
export function createEmailChangeFlow(
  deps: {
    users: Pick<
      UserService,
      'confirmPassword' | 'confirmPasswordForLink' | 'findUsable' | 'credentialVersion'
    >;
    change: EmailChange;
    tokens: OneTimeTokens;
    mail: Mailer;
    windows: SlidingWindowStore;
    audit: AuditLog;
  },
  options: EmailChangeRequestOptions,
) {
  const { users, tokens, mail } = deps;
  /**
   * Asked for under the password of the time: a password change or reset since (the owner taking
   * the account back) voids the link, as it ends every session.
   */
  const isCurrent = async (link: RedeemedToken) =>
    (await users.credentialVersion(link.userId)) === link.credentialVersion;
  return {
    async request(userId: string, newEmail: string, password: string) {
      const to = checkedNewEmail(newEmail);
      await users.confirmPassword(userId, password);
      const user = await users.findUsable(userId);
      if (!user) throw invalidLinkToken();
      if (to === user.email) throw badUserInput('newEmail', 'This is already your address');
      const { max, windowMs } = options.mailsPerRecipient;
      // Keyed by a pseudonym of the address: the store never holds it. Over the cap the answer
      // is the same `true`, and nothing is sent.
      const hit = await deps.windows.hit(`change-mail:${pseudonym(to)}`, max, windowMs);
      if (!hit.allowed) {
        deps.audit.record('user.email_change_requested', { userId, outcome: 'capped' });
        return;
      }
      const move: Move = { from: user.email, to };
      const { token } = await tokens.issue(
        'email-change',
        { userId, credentialVersion: user.credentialVersion, data: JSON.stringify(move) },
        options.ttlMs,
      );
      await mail.enqueue({ kind: 'email-change', to, token });
      await mail.enqueue({ kind: 'email-change-notice', to: user.email, newEmail: to });
      deps.audit.record('user.email_change_requested', { userId });
    },

    /**
     * Needs the password of the account that asked, as well as the link: whoever reads the new
     * address's mail may not be that account's owner (a stranger can ask to move their account
     * to your address), and following such a link must not hand them your address, verified.
     * A wrong password leaves the link usable and counts toward the account's lockout.
     */
    async confirm(token: string, password: string) {
      const pending = await tokens.find('email-change', token);
      if (!pending || !fieldsOf(pending.data, ['from', 'to']) || !(await isCurrent(pending))) {
        throw invalidLinkToken();
      }
      await users.confirmPasswordForLink(pending.userId, password);
      const redeemed = await tokens.redeem('email-change', token);
      const move = fieldsOf(redeemed?.data, ['from', 'to']);
      if (!redeemed || !move) throw invalidLinkToken();
      if (!(await isCurrent(redeemed))) throw invalidLinkToken();
      const outcome = await deps.change.change(redeemed.userId, move.from, move.to);
      if (outcome === 'stale') throw invalidLinkToken();
      if (outcome === 'taken') {
        // Only the holder of the new address's mailbox can get here.
        throw badUserInput('token', 'This address belongs to another account');
      }
    },
  };
}

export type EmailChangeFlow = ReturnType<typeof createEmailChangeFlow>;
