import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Types, type Connection } from 'mongoose';
import { connectMongo } from '../../src/db/mongo.js';
import { hashToken } from '../../src/modules/session/refresh-rotation.js';
import { migrateLegacySessions } from '../../src/modules/session/session-migration.js';
import { createSessionModels } from '../../src/modules/session/session.model.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { bearer, errorCode, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll } from '../helpers/server.js';

const start = serversClosedAfterAll();
const REFRESH = `mutation($token: String!) { refreshToken(token: $token) { accessToken refreshToken } }`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The layout before sessions were keyed for _id access, written as that version wrote it. */
async function seedLegacy(connection: Connection) {
  const at = Date.now();
  const userId = new Types.ObjectId();
  await connection.collection('users').insertOne({
    _id: userId,
    email: uniqueEmail('legacy'),
    passwordHash: 'not used here',
    roles: ['USER'],
    disabled: false,
    credentialVersion: 0,
    createdAt: new Date(at - DAY),
    updatedAt: new Date(at - DAY),
  });
  const session = (expiresAt: number, revokedAt?: number) => ({
    _id: new Types.ObjectId(),
    userId,
    createdAt: new Date(at - HOUR),
    lastUsedAt: new Date(at - HOUR),
    expiresAt: new Date(expiresAt),
    userAgent: 'legacy',
    ip: '127.0.0.1',
    credentialVersion: 0,
    ...(revokedAt !== undefined && { revokedAt: new Date(revokedAt), revokedReason: 'logout' }),
    __v: 0,
  });
  const [rotated, unused, revoked, expired] = [
    session(at + 29 * DAY),
    session(at + 29 * DAY),
    session(at + 29 * DAY, at - HOUR),
    session(at - HOUR),
  ];
  await connection.collection('sessions').insertMany([rotated, unused, revoked, expired]);
  const tokens: Record<string, string> = {};
  const token = (name: string, sessionId: Types.ObjectId, fields: Record<string, unknown>) => {
    tokens[name] = randomBytes(32).toString('base64url');
    return {
      _id: new Types.ObjectId(),
      tokenHash: hashToken(tokens[name]),
      sessionId,
      createdAt: new Date(at - HOUR),
      idleExpiresAt: new Date(at + 6 * DAY),
      generation: 0,
      ...fields,
    };
  };
  const idleExpired = token('idleExpired', unused._id, { idleExpiresAt: new Date(at - 2 * DAY) });
  const spent = token('spent', rotated._id, { usedAt: new Date(at - HOUR) });
  const successor = token('successor', rotated._id, {
    generation: 1,
    rotation: `${String(rotated._id)}:1`,
    rotatedFrom: spent._id,
  });
  const refreshTokens = connection.collection('refresh_tokens');
  await refreshTokens.insertMany([
    idleExpired,
    spent,
    successor,
    token('unused', unused._id, {}),
    token('revoked', revoked._id, {}),
  ]);
  await refreshTokens.createIndex({ tokenHash: 1 }, { unique: true });
  await refreshTokens.createIndex({ rotation: 1 }, { unique: true, sparse: true });
  return { userId, rotated, unused, tokens };
}

describe('sessions from before the upgrade', () => {
  it('are converted once at start-up: live ones keep working, ended ones are gone', async () => {
    const databaseUri = freshDatabaseUri('session_migration');
    const seeding = await connectMongo(databaseUri);
    const legacy = await seedLegacy(seeding);
    await seeding.close();

    const server = await start({ databaseUri });
    const { connection } = server;
    const ids = async (collection: string) =>
      (await connection.collection(collection).find().toArray()).map((doc) => String(doc._id));
    expect((await ids('sessions')).sort()).toEqual(
      [String(legacy.rotated._id), String(legacy.unused._id)].sort(),
    );
    const list = await connection.collection('user_sessions').findOne({ _id: legacy.userId });
    expect(list?.sessions.map(String).sort()).toEqual(
      [String(legacy.rotated._id), String(legacy.unused._id)].sort(),
    );
    expect(await connection.collection('refresh_tokens').countDocuments({})).toBe(5);
    expect((await ids('refresh_tokens')).sort()).toEqual(
      Object.values(legacy.tokens).map(hashToken).sort(),
    );
    const indexes = await connection.collection('refresh_tokens').indexes();
    expect(indexes.map((index) => index.name)).toEqual(['_id_']);

    const refresh = (token: string) => server.graphql(REFRESH, { token });
    const refreshed = await refresh(legacy.tokens.unused!);
    const { accessToken } = refreshed.body.data?.refreshToken as { accessToken: string };
    const listed = await server.graphql('{ sessions { id } }', {}, bearer(accessToken));
    expect(listed.body.data?.sessions).toHaveLength(2);
    expect(errorCode(await refresh(legacy.tokens.revoked!))).toBe('UNAUTHENTICATED');
    // The old rotation key became a rotation record: the spent token still gives a theft away.
    expect(errorCode(await refresh(legacy.tokens.spent!))).toBe('UNAUTHENTICATED');
    expect(errorCode(await refresh(legacy.tokens.successor!))).toBe('UNAUTHENTICATED');
    expect(await ids('sessions')).toEqual([String(legacy.unused._id)]);

    // The sweep finds the converted documents in its logs.
    expect(await server.app.services.sessions.prune()).toEqual({ sessions: 0, refreshTokens: 1 });
    expect(await ids('refresh_tokens')).not.toContain(hashToken(legacy.tokens.idleExpired!));
    // Recorded as done: a later start skips it.
    expect(
      await migrateLegacySessions(connection, createSessionModels(connection), new Date()),
    ).toBeUndefined();
  });
});
