import { isValidObjectId } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { CredentialChangeModel, UserModel } from './user.model.js';

/** A credential change that has not written the user within this long never will. */
const ABANDONED_CHANGE_MS = 60_000;
/** How long a change that lost a race waits for the winner to write the version. */
const SETTLE_MS = 1000;
const SETTLE_POLL_MS = 25;

/**
 * Deletes the credential_changes claim `key` if it is abandoned (older than ABANDONED_CHANGE_MS);
 * true if this caller did. By _id alone (the embedded FerretDB reads the whole collection for any
 * other filter), so the age is compared here and a marker decides which of several racing callers
 * deletes: an unconditional delete by a second one could take away the claim the first has just
 * made again. Credential changes and email changes both hold such claims.
 */
export async function giveBackAbandoned(credentialChanges: CredentialChangeModel, key: string) {
  const held = await credentialChanges.findById(key).lean();
  if (!held || held.at.getTime() > Date.now() - ABANDONED_CHANGE_MS) return false;
  try {
    await credentialChanges.create({
      _id: `${key}:given-back:${held.at.getTime()}`,
      at: new Date(),
    });
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
  await credentialChanges.deleteOne({ _id: key });
  return true;
}

/**
 * A user's credential version: raised by a password change and by logoutAll, named by every
 * session and device token, which stop counting once it moves on (see session.model.ts).
 */
export interface CredentialVersions {
  /** The version of a usable account (undefined if gone or disabled). */
  current(userId: string): Promise<number | undefined>;
  /**
   * The version once a change that holds the one after `from` has written it: a change that lost
   * the race learns the outcome instead of "in progress", since the winner is usually between its
   * two writes for milliseconds. `from` still, after SETTLE_MS: that change hangs or crashed.
   */
  settled(userId: string, from: number): Promise<number | undefined>;
  /** Raises it from `from`, writing `set` too; false if another change raised it first. */
  raise(userId: string, from: number, set?: object): Promise<boolean>;
  /**
   * Runs `work` holding the claim on the version after `from`, which every change must take
   * first, so that none can land while it runs; undefined, without running it, if a change holds
   * or took that version. A change that tries meanwhile is refused as one still in progress; a
   * hold that outlives ABANDONED_CHANGE_MS would be given back under it like a crashed change.
   */
  hold<T>(userId: string, from: number, work: () => Promise<T>): Promise<T | undefined>;
}

export function createCredentialVersions(deps: {
  users: UserModel;
  credentialChanges: CredentialChangeModel;
}): CredentialVersions {
  const { users, credentialChanges } = deps;

  async function current(userId: string) {
    if (!isValidObjectId(userId)) return undefined;
    // By _id alone (FerretDB pushes only that down); disabled is checked here.
    const found = await users.findById(userId).select('credentialVersion disabled').lean();
    return found && !found.disabled ? (found.credentialVersion ?? 0) : undefined;
  }

  async function raise(userId: string, from: number, set: object = {}, retry = true) {
    const key = `${userId}:${from + 1}`;
    try {
      // The claim first: of two changes racing from one version, one insert fails on the unique
      // _id, on the embedded FerretDB as on MongoDB (see CredentialChangeModel).
      await credentialChanges.create({ _id: key, at: new Date() });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // A change that took this version but never wrote the user (a crash between the two
      // writes) gives it back once abandoned, so the account's changes are never refused for good.
      if (!retry || !(await giveBackAbandoned(credentialChanges, key))) return false;
      if ((await current(userId)) !== from) return false;
      return raise(userId, from, set, false);
    }
    await users.updateOne({ _id: userId }, { $set: { ...set, credentialVersion: from + 1 } });
    return true;
  }

  async function hold<T>(userId: string, from: number, work: () => Promise<T>) {
    const key = `${userId}:${from + 1}`;
    try {
      await credentialChanges.create({ _id: key, at: new Date() });
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
    try {
      return await work();
    } finally {
      // Given back at once; one left behind by a crash is given back as abandoned (see raise).
      await credentialChanges.deleteOne({ _id: key });
    }
  }

  async function settled(userId: string, from: number) {
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const version = await current(userId);
      if (version !== from || Date.now() >= deadline) return version;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  return { current, settled, raise: (userId, from, set) => raise(userId, from, set), hold };
}
