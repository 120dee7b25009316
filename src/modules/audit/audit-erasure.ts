import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { SequenceLogs } from '../../db/sequence-log.js';
import { SECURITY_EVENTS, pseudonym } from '../../lib/security-events.js';
import { logName } from './audit-logs.js';
import type { AuditEventModel } from './audit.model.js';

/** Events rewritten at once: each costs a few point operations. */
const BATCH = 100;

/**
 * One document per erased user, keyed by the pseudonym alone: an event recorded after the
 * erasure began that names the user (a rejected token of theirs, presented until it expires; a
 * sign-in that was in flight on another replica) is stored under the pseudonym instead.
 */
interface ErasedUserDocument {
  _id: string;
  at: Date;
}

export type ErasedUserModel = Model<ErasedUserDocument>;

export function createErasedUserModel(connection: Connection): ErasedUserModel {
  const schema = new Schema<ErasedUserDocument>(
    { _id: { type: String, required: true }, at: { type: Date, required: true } },
    { collection: 'erased_users', strict: 'throw', versionKey: false },
  );
  return connection.model<ErasedUserDocument>('ErasedUser', schema);
}

export interface ErasedUsers {
  /** Marks the user erased; returns the pseudonym the trail keeps for them. */
  mark(userId: string): Promise<string>;
  /** The pseudonym of an erased user, else undefined: one point lookup. */
  aliasOf(userId: string): Promise<string | undefined>;
}

export function createErasedUsers(model: ErasedUserModel): ErasedUsers {
  return {
    async mark(userId) {
      const alias = pseudonym(userId);
      try {
        await model.create({ _id: alias, at: new Date() });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error; // marked by an earlier attempt
      }
      return alias;
    },
    async aliasOf(userId) {
      const alias = pseudonym(userId);
      return (await model.exists({ _id: alias })) ? alias : undefined;
    },
  };
}

/** An event's details with every value equal to the user's id replaced by the alias. */
export const detailsNaming = (
  details: Record<string, string | number>,
  userId: string,
  alias: string,
) =>
  Object.fromEntries(
    Object.entries(details).map(([key, value]) => [key, value === userId ? alias : value]),
  );

/**
 * Erasure's part of the audit trail. Every event listed in the user's log (`user:<userId>`) is
 * rewritten to name `alias` (a pseudonym) instead, in userId and in any detail equal to the id,
 * and listed under the alias's logs, so the events stay in the trail, findable by the alias. The
 * user's own logs (every kind's included) are then deleted, marks and all, so no _id in
 * audit_logs names the user either. Point operations only, oldest first, a batch at a time; safe
 * to run again. Events that name the user only in a detail (as the actor of an admin change on
 * someone else) are not listed under the user and are left as they are.
 */
export async function pseudonymizeUserEvents(
  deps: { events: AuditEventModel; logs: SequenceLogs },
  userId: string,
  alias: string,
): Promise<number> {
  const { events, logs } = deps;
  const own = logName('user', { userId });
  let rewritten = 0;
  for (;;) {
    const entries = await logs.oldest(own, BATCH);
    if (entries.length === 0) break;
    const docs = await Promise.all(entries.map(({ ref }) => events.findById(ref).lean()));
    await Promise.all(
      docs.map(async (doc, i) => {
        // Missing (swept, or a write that failed), or an entry that is not its own: skipped.
        if (!doc || doc.userId !== userId || doc.seqs?.user !== entries[i]?.seq) return;
        const eventId = String(doc._id);
        const listing = { userId: alias, type: doc.type };
        // Listed under the alias before it names the alias, as a new event is (audit-logs.ts).
        const [user, userType] = await Promise.all([
          logs.append(logName('user', listing), eventId),
          logs.append(logName('userType', listing), eventId),
        ]);
        const details = detailsNaming(doc.details ?? {}, userId, alias);
        await events.updateOne(
          { _id: doc._id },
          { $set: { userId: alias, details, seqs: { ...doc.seqs, user, userType } } },
        );
        rewritten += 1;
      }),
    );
    await logs.trim(own, entries);
  }
  await Promise.all(
    [own, ...SECURITY_EVENTS.map((type) => logName('userType', { userId, type }))].map((log) =>
      logs.drop(log),
    ),
  );
  return rewritten;
}
