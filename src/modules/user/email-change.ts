import { isValidObjectId } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { UserEmailModel, UserModel } from './user.model.js';

export type EmailChangeOutcome = 'changed' | 'taken' | 'stale';

/**
 * Moves an account from one address to another, once the new one has confirmed. Race-safe the way
 * sign-up is: the new address is claimed in user_emails by a unique `_id` insert first (a
 * concurrent sign-up or change for it loses there), then the user is written, where MongoDB's
 * unique email index guards again; only then is the old address let go.
 */
export function createEmailChange(deps: {
  users: UserModel;
  emails: UserEmailModel;
  audit: AuditLog;
}) {
  const { users, emails, audit } = deps;

  return {
    /**
     * 'stale' if the account is gone, disabled or no longer at `from` (another change won);
     * 'taken' if `to` belongs to another account. Both addresses are normalized already.
     */
    async change(userId: string, from: string, to: string): Promise<EmailChangeOutcome> {
      if (!isValidObjectId(userId)) return 'stale';
      const found = await users.findById(userId).select('email disabled').lean();
      if (!found || found.disabled || found.email !== from) return 'stale';
      try {
        await emails.create({ _id: to, userId: found._id, createdAt: new Date() });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const held = await emails.findById(to).lean();
        // Its own claim from an earlier attempt that died before the user was written.
        if (!held?.userId.equals(found._id)) return 'taken';
      }
      try {
        await users.updateOne({ _id: found._id }, { $set: { email: to, emailVerified: true } });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        await emails.deleteOne({ _id: to });
        return 'taken';
      }
      // By _id (the one filter FerretDB answers from an index); the owner is checked here.
      const old = await emails.findById(from).lean();
      if (old?.userId.equals(found._id)) await emails.deleteOne({ _id: from });
      audit.record('user.email_changed', { userId });
      return 'changed';
    },
  };
}

export type EmailChange = ReturnType<typeof createEmailChange>;
