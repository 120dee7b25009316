import { mongo, type Types } from 'mongoose';
import type { Migrations } from '../../db/migrations.js';
import type { SequenceLogs } from '../../db/sequence-log.js';
import type { Logger } from '../../lib/logger.js';
import { DECOY_USER_ID } from './decoy-account.js';
import { USERS_LOG, type UserEmailModel, type UserModel } from './user.model.js';

const MIGRATION = 'user_emails_backfill';
const BATCH = 1000;

interface EmailDocument {
  _id: string;
  userId: Types.ObjectId;
  createdAt: Date;
}

/** Inserts the documents whose email has none yet; an existing one is left as it is. */
async function insertMissing(emails: UserEmailModel, docs: EmailDocument[]) {
  if (docs.length === 0) return 0;
  try {
    return (await emails.insertMany(docs, { ordered: false, lean: true })).length;
  } catch (error) {
    const duplicatesOnly =
      error instanceof mongo.MongoBulkWriteError &&
      [error.writeErrors].flat().every((writeError) => writeError.code === 11000);
    if (!duplicatesOnly) throw error;
    return error.insertedCount;
  }
}

/**
 * Gives every user created before user_emails existed its email document: login finds users only
 * through it. Sign-up (and so the bootstrap admin) writes it for every user since. Runs at
 * start-up, before the server listens, once: a marker in `migrations` makes every later start a
 * single point lookup. Idempotent, so a start that dies half-way, or two replicas starting
 * together, simply insert what is still missing.
 *
 * One pass with one cursor, no filter and no sort: on MongoDB a collection scan; on the embedded
 * FerretDB, where a range on _id decodes the whole collection, walking in _id ranges would read
 * it once per batch. It is not a request path, and it runs once.
 */
export async function backfillUserEmails(deps: {
  users: UserModel;
  emails: UserEmailModel;
  migrations: Migrations;
  logger: Logger;
}): Promise<number> {
  const { users, emails, migrations, logger } = deps;
  if (await migrations.isDone(MIGRATION)) return 0;
  const startedAt = new Date();
  let added = 0;
  let batch: EmailDocument[] = [];
  const cursor = users.find({}, { email: 1, createdAt: 1 }).lean().cursor({ batchSize: BATCH });
  for await (const user of cursor) {
    if (DECOY_USER_ID.equals(user._id)) continue;
    batch.push({ _id: user.email, userId: user._id, createdAt: user.createdAt ?? startedAt });
    if (batch.length < BATCH) continue;
    added += await insertMissing(emails, batch);
    batch = [];
  }
  added += await insertMissing(emails, batch);
  await migrations.markDone(MIGRATION);
  if (added > 0) logger.info({ added }, 'user_emails filled in for existing users');
  return added;
}

const USERS_LOG_MIGRATION = 'users_log_backfill';

/**
 * Lists every user created before the users log existed in it, in the order the collection holds
 * them (insertion order on both databases, near enough to sign-up order), and writes each one's
 * place. Once, before the server listens, like the email backfill; a user that already has its
 * place is left alone, so a start that died half-way carries on.
 */
export async function backfillUsersLog(deps: {
  users: UserModel;
  logs: SequenceLogs;
  migrations: Migrations;
  logger: Logger;
}): Promise<number> {
  const { users, logs, migrations, logger } = deps;
  if (await migrations.isDone(USERS_LOG_MIGRATION)) return 0;
  let added = 0;
  const cursor = users.find({}, { seq: 1 }).lean().cursor({ batchSize: BATCH });
  for await (const user of cursor) {
    if (user.seq !== undefined || DECOY_USER_ID.equals(user._id)) continue;
    const seq = await logs.append(USERS_LOG, String(user._id));
    await users.updateOne({ _id: user._id }, { $set: { seq } });
    added += 1;
  }
  await migrations.markDone(USERS_LOG_MIGRATION);
  if (added > 0) logger.info({ added }, 'users log filled in for existing users');
  return added;
}
