import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { UserEmailModel, UserModel } from './user.model.js';

/**
 * A claim whose user has not been written within this long never will be by the sign-up that
 * made it: the claim comes right after hashing, the user insert right after the claim.
 */
const ABANDONED_CLAIM_MS = 60_000;

/**
 * The user_emails collection: which user id an email belongs to. Sign-up claims the email first
 * and then writes the user under the claimed id, so a sign-up that dies between the two leaves a
 * claim without a user. That claim is harmless (login finds no user and answers as for an
 * unknown email) and is completed by the next sign-up for the email once it is abandoned.
 */
export interface EmailClaims {
  /** The id the email's document names, whether or not that user was ever written. */
  userIdOf(normalizedEmail: string): Promise<Types.ObjectId | undefined>;
  /**
   * The id to create the email's user under, or undefined if the email is taken. A fresh id when
   * the email was free; an abandoned claim's id otherwise, so that the unique _id of users lets
   * exactly one of several sign-ups completing it win (and none, if its user exists after all).
   */
  claim(normalizedEmail: string): Promise<Types.ObjectId | undefined>;
}

export function createEmailClaims(emails: UserEmailModel, users: UserModel): EmailClaims {
  async function userIdOf(normalizedEmail: string) {
    const found = await emails.findById(normalizedEmail).lean();
    return found?.userId;
  }

  return {
    userIdOf,

    async claim(normalizedEmail) {
      const userId = new Types.ObjectId();
      try {
        // Of racing sign-ups, exactly one insert succeeds: a duplicate _id fails atomically on
        // the embedded FerretDB as on MongoDB.
        await emails.create({ _id: normalizedEmail, userId, createdAt: new Date() });
        return userId;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const held = await emails.findById(normalizedEmail).lean();
      // A younger claim may belong to a sign-up that is still writing its user.
      if (!held || held.createdAt.getTime() > Date.now() - ABANDONED_CLAIM_MS) return undefined;
      // An old claim is abandoned only if its user was never written: a registered email must
      // cost a sign-up nothing more than this lookup (no users-log entry, no insert attempt).
      if (await users.exists({ _id: held.userId })) return undefined;
      return held.userId;
    },
  };
}
