import { isValidObjectId } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { AuditLog } from '../../lib/security-events.js';
import { giveBackAbandoned } from './credential-version.js';
import type { CredentialChangeModel, UserEmailModel, UserModel } from './user.model.js';

export type EmailChangeOutcome = 'changed' | 'taken' | 'stale';

/** The credential_changes document a user's email change holds while it runs (no email in it). */
export const emailChangeKey = (userId: string) => `email-change:${userId}`;

/**
 * Moves an account from one address to another, once the new one has confirmed. Race-safe the way
 * sign-up is: the new address is claimed in user_emails by a unique `_id` insert first (a
 * concurrent sign-up or change for it loses there), then the user is written, where MongoDB's
 * unique email index guards again; only then is the old address let go.
 *
 * Two changes of one user (A→B and A→C confirmed at once) are serialized by a unique-`_id` insert
 * into credential_changes, the one write the embedded FerretDB makes atomic: the one that fails
 * to take it is stale, and so is one that takes it after the other let go (the address it moves
 * from is read again once held). Otherwise both would claim their address and one claim would
 * name the user for good, so that nobody could register that address again.
 */
export function createEmailChange(deps: {
  users: UserModel;
  emails: UserEmailModel;
  credentialChanges: CredentialChangeModel;
  audit: AuditLog;
}) {
  const { users, emails, credentialChanges, audit } = deps;

  /** Takes the user's change marker; false if another change holds it (and has not crashed). */
  async function take(key: string, retry = true): Promise<boolean> {
    try {
      await credentialChanges.create({ _id: key, at: new Date() });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    if (!retry || !(await giveBackAbandoned(credentialChanges, key))) return false;
    return take(key, false);
  }

  /** The account if it is usable and still at `from`. By _id (the one filter FerretDB indexes). */
  async function stillAt(userId: string, from: string) {
    const found = await users.findById(userId).select('email disabled').lean();
    return found && !found.disabled && found.email === from ? found : undefined;
  }

  /** Deletes the claim on `address` if it names the user (whose address it is not). */
  async function letGo(address: string, owner: { equals(id: unknown): boolean }) {
    const held = await emails.findById(address).lean();
    if (held && owner.equals(held.userId)) await emails.deleteOne({ _id: address });
  }

  return {
    /**
     * 'stale' if the account is gone, disabled or no longer at `from` (another change won or is
     * under way); 'taken' if `to` belongs to another account. Both addresses are normalized.
     */
    async change(userId: string, from: string, to: string): Promise<EmailChangeOutcome> {
      if (!isValidObjectId(userId) || !(await stillAt(userId, from))) return 'stale';
      const key = emailChangeKey(userId);
      if (!(await take(key))) return 'stale';
      try {
        // Again, now that no other change can run: one may have finished before this one took it.
        const found = await stillAt(userId, from);
        if (!found) return 'stale';
        try {
          await emails.create({ _id: to, userId: found._id, createdAt: new Date() });
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          const held = await emails.findById(to).lean();
          // Its own claim from an earlier attempt that died before the user was written.
          if (!held?.userId.equals(found._id)) return 'taken';
        }
        let written;
        try {
          // By _id alone: a filter on `email` as well would scan users on the embedded FerretDB
          // (query-plans.test.ts), and would guard nothing there, its conditional updates not
          // being atomic. The marker is the guard; `from` was read again while holding it.
          written = await users.updateOne(
            { _id: found._id },
            { $set: { email: to, emailVerified: true } },
          );
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          await emails.deleteOne({ _id: to });
          return 'taken';
        }
        // Erased meanwhile: the claim would outlive the account.
        if (written.matchedCount === 0) {
          await letGo(to, found._id);
          return 'stale';
        }
        await letGo(from, found._id);
        audit.record('user.email_changed', { userId });
        return 'changed';
      } finally {
        await credentialChanges.deleteOne({ _id: key });
      }
    },
  };
}

export type EmailChange = ReturnType<typeof createEmailChange>;
