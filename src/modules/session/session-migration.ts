import type { Connection, Types } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import { SequenceLogs } from '../../db/sequence-log.js';
import type { SessionModels } from './session.model.js';
import { SESSION_LOG, TOKEN_LOG } from './session-sweep.js';

const MIGRATION_ID = 'sessions-keyed-by-id';

/** Indexes of the old layout: nothing queries those fields, and tokenHash_1 would refuse inserts. */
const LEGACY_INDEXES: Record<string, string[]> = {
  sessions: ['userId_1', 'expiresAt_1', 'revokedAt_1'],
  refresh_tokens: ['tokenHash_1', 'sessionId_1', 'idleExpiresAt_1', 'rotation_1'],
};
const NAMESPACE_NOT_FOUND = 26;
const INDEX_NOT_FOUND = 27;

interface LegacySession {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  expiresAt: Date;
  revokedAt?: Date;
}

interface LegacyRefreshToken {
  _id: Types.ObjectId;
  tokenHash: string;
  sessionId: Types.ObjectId;
  createdAt: Date;
  idleExpiresAt: Date;
  generation?: number;
  /** `<sessionId>:<generation>` on a token that a rotation issued: the new rotation record's key. */
  rotation?: string;
  rotatedFrom?: Types.ObjectId;
}

export interface MigrationResult {
  readonly sessions: number;
  readonly refreshTokens: number;
}

async function insertOnce(insert: () => Promise<unknown>) {
  try {
    await insert();
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

async function dropLegacyIndexes(connection: Connection) {
  for (const [collection, names] of Object.entries(LEGACY_INDEXES)) {
    for (const name of names) {
      await connection
        .collection(collection)
        .dropIndex(name)
        .catch((error: { code?: number }) => {
          if (error.code !== NAMESPACE_NOT_FOUND && error.code !== INDEX_NOT_FOUND) throw error;
        });
    }
  }
}

/** Revoked and expired sessions go; the others join their user's list and the sweep's log. */
async function migrateSessions(
  connection: Connection,
  models: SessionModels,
  logs: SequenceLogs,
  at: Date,
) {
  const collection = connection.collection<LegacySession>('sessions');
  const ended: Types.ObjectId[] = [];
  let kept = 0;
  const all = collection.find({}, { projection: { userId: 1, expiresAt: 1, revokedAt: 1 } });
  for await (const session of all) {
    if (session.revokedAt || session.expiresAt.getTime() <= at.getTime()) {
      ended.push(session._id);
      continue;
    }
    await logs.append(SESSION_LOG, String(session._id));
    // A set, not a push: a migration run again after an interruption lists nothing twice.
    const update = { $addToSet: { sessions: session._id } };
    try {
      await models.userSessions.updateOne({ _id: session.userId }, update, { upsert: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await models.userSessions.updateOne({ _id: session.userId }, update);
    }
    kept += 1;
  }
  // After the scan, which therefore reads a collection nobody changes under it. Ended sessions
  // are few: the old sweep deleted them hourly.
  for (const id of ended) await collection.deleteOne({ _id: id });
  return kept;
}

/** Each token again under its hash, with the rotation record its `rotation` key stood for. */
async function migrateTokens(connection: Connection, models: SessionModels, logs: SequenceLogs) {
  const collection = connection.collection<LegacyRefreshToken>('refresh_tokens');
  let converted = 0;
  for await (const legacy of collection.find({ tokenHash: { $exists: true } })) {
    if (legacy.rotation !== undefined) {
      const from = legacy.rotatedFrom
        ? await collection.findOne({ _id: legacy.rotatedFrom }, { projection: { tokenHash: 1 } })
        : null;
      // A predecessor already swept names no token: every copy of it has expired too.
      await insertOnce(() =>
        models.rotations.create({
          _id: legacy.rotation,
          rotatedFrom: from?.tokenHash ?? '',
          createdAt: legacy.createdAt,
        }),
      );
    }
    await insertOnce(() =>
      models.refreshTokens.create({
        _id: legacy.tokenHash,
        sessionId: legacy.sessionId,
        createdAt: legacy.createdAt,
        idleExpiresAt: legacy.idleExpiresAt,
        generation: legacy.generation ?? 0,
      }),
    );
    await logs.append(TOKEN_LOG, legacy.tokenHash);
    converted += 1;
  }
  // The one operation here that is not on one _id: it runs once, before the server listens.
  await collection.deleteMany({ tokenHash: { $exists: true } });
  return converted;
}

/**
 * Converts sessions and refresh tokens written before every access went by `_id` (tokens under
 * an ObjectId with a tokenHash field, a `rotation` key on each rotation's successor, ended
 * sessions marked revokedAt; no per-user lists, no sweep logs), so that upgrading signs nobody
 * out. It scans both collections once, at start-up and never on a request path, and records that
 * it ran. A run interrupted, or two replicas starting at once, do no harm: lists are added to as
 * sets, converted documents are inserted once, and a log entry listed twice is trimmed when the
 * sweep finds its document gone. Stop replicas of the old version first: they write the old form.
 */
export async function migrateLegacySessions(
  connection: Connection,
  models: SessionModels,
  at: Date,
): Promise<MigrationResult | undefined> {
  const migrations = connection.collection<{ _id: string; at: Date }>('migrations');
  if (await migrations.findOne({ _id: MIGRATION_ID })) return undefined;
  await dropLegacyIndexes(connection);
  const logs = new SequenceLogs(models.logs);
  const sessions = await migrateSessions(connection, models, logs, at);
  const refreshTokens = await migrateTokens(connection, models, logs);
  await insertOnce(() => migrations.insertOne({ _id: MIGRATION_ID, at }));
  return { sessions, refreshTokens };
}
