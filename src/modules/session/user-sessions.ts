import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import { createKeyedMutex } from '../../lib/keyed-mutex.js';
import type { UserSessionsModel } from './session.model.js';

/** Sessions one user may hold at once; a sign-in beyond this ends the oldest. */
export const MAX_SESSIONS_PER_USER = 50;

/** Oldest first: ObjectIds order by creation time, and compare as hex text. */
const byAge = (a: Types.ObjectId, b: Types.ObjectId) => {
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * Each user's session ids in one document keyed by the user id: how a user's sessions are listed
 * and ended without a query on userId. Updates are $push and $pullAll, atomic on MongoDB; the
 * embedded FerretDB does not isolate them, and it serves one API process, so updates are also
 * queued per user here. A list may name a session that is gone (a crash between the two writes);
 * readers skip those, and the cap ends them first.
 */
export function createUserSessionLists(model: UserSessionsModel, cap = MAX_SESSIONS_PER_USER) {
  const exclusive = createKeyedMutex();

  async function push(userId: Types.ObjectId, sessionId: Types.ObjectId) {
    const update = { $push: { sessions: sessionId } };
    try {
      await model.updateOne({ _id: userId }, update, { upsert: true });
    } catch (error) {
      // Another replica's upsert created the document first.
      if (!isDuplicateKeyError(error)) throw error;
      await model.updateOne({ _id: userId }, update);
    }
  }

  const pull = (userId: Types.ObjectId, sessionIds: Types.ObjectId[]) =>
    model.updateOne({ _id: userId }, { $pullAll: { sessions: sessionIds } });

  return {
    /** The user's session ids, oldest first. */
    async ids(userId: string): Promise<Types.ObjectId[]> {
      const doc = await model.findById(new Types.ObjectId(userId)).lean();
      return [...(doc?.sessions ?? [])].sort(byAge);
    },

    /**
     * Lists a new session, then creates it (`create`), so that no session exists that its user's
     * list does not name. Beyond the cap, the oldest sessions are ended first (`end`).
     */
    add(
      userId: string,
      sessionId: Types.ObjectId,
      steps: { end(sessionIds: Types.ObjectId[]): Promise<void>; create(): Promise<void> },
    ): Promise<void> {
      return exclusive(userId, async () => {
        const user = new Types.ObjectId(userId);
        const listed = (await model.findById(user).lean())?.sessions ?? [];
        const excess = listed.length + 1 - cap;
        if (excess > 0) {
          const oldest = [...listed].sort(byAge).slice(0, excess);
          await steps.end(oldest);
          await pull(user, oldest);
        }
        await push(user, sessionId);
        await steps.create();
      });
    },

    /** Deletes the user's list (erasure), after any update queued before it. */
    async forget(userId: string): Promise<void> {
      await exclusive(userId, () => model.deleteOne({ _id: new Types.ObjectId(userId) }));
    },

    async remove(userId: string, sessionIds: Types.ObjectId[]): Promise<void> {
      if (sessionIds.length === 0) return;
      await exclusive(userId, () => pull(new Types.ObjectId(userId), sessionIds));
    },
  };
}

export type UserSessionLists = ReturnType<typeof createUserSessionLists>;
