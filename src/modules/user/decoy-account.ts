import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { UserModel } from './user.model.js';

/**
 * The user document a login with an unknown email reads in place of the account it did not find.
 * A miss costs the database less than a hit (nothing to decode and send back): measured with
 * `npm run bench:data`, unknown emails answered about 10% faster than known ones with a wrong
 * password, which tells an attacker which emails have accounts. Reading a real document of the
 * same shape makes both paths the same work, as the dummy hash does for bcrypt.
 *
 * It can never sign in or be listed: its email is not an email address (sign-up refuses such
 * input and login never looks one up), it is disabled, its password hash matches nothing, and it
 * is in no users log.
 */
export const DECOY_USER_ID = new Types.ObjectId('000000000000000000000000');
const DECOY_EMAIL = 'decoy account: never an email address';
// The shape of a bcrypt hash (60 characters) that no password matches: the salt and digest
// alphabet has no '!'.
const UNMATCHABLE_HASH = `$2b$12$${'!'.repeat(53)}`;

/** Writes the decoy once; later starts (and racing replicas) leave the existing one alone. */
export async function ensureDecoyAccount(users: UserModel): Promise<void> {
  await users
    .updateOne(
      { _id: DECOY_USER_ID },
      {
        $setOnInsert: {
          email: DECOY_EMAIL,
          passwordHash: UNMATCHABLE_HASH,
          roles: ['USER'],
          disabled: true,
          credentialVersion: 0,
        },
      },
      { upsert: true },
    )
    .catch((error: unknown) => {
      // Another replica wrote it at the same moment.
      if (!isDuplicateKeyError(error)) throw error;
    });
}
