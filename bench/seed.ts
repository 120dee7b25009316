/** Seeding for bench:data and the query-plan test: many users, fast, straight into the collections. */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { Types, type Connection } from 'mongoose';
import { entryKey } from '../src/db/sequence-log.js';
import { logName } from '../src/modules/audit/audit-logs.js';
import type { AuditSeqs } from '../src/modules/audit/audit.model.js';
import { hashToken } from '../src/modules/session/refresh-rotation.js';
import { SESSION_LOG, TOKEN_LOG } from '../src/modules/session/session-sweep.js';
import { USERS_LOG } from '../src/modules/user/user.model.js';

const BATCH = 2000;
const DAY = 86_400_000;
export const SEEDED_PASSWORD = 'bench data password';

export const emailOf = (i: number) => `user-${i}@bench.example`;

async function insertInBatches(
  connection: Connection,
  name: string,
  count: number,
  make: (i: number) => object,
) {
  const collection = connection.collection(name);
  for (let start = 0; start < count; start += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, count - start) }, (_, j) => make(start + j));
    await collection.insertMany(docs, { ordered: false });
  }
}

/**
 * Seeds `users` users directly through the collections, in the layout the app writes: each with
 * its email document, `perUser` sessions (the oldest tenth ended) with a refresh token each, and
 * `perUser` audit events per user, in the order they happened over 100 days (the oldest tenth
 * past the default retention), listed in the logs their pages and sweeps walk. The password of
 * every user is SEEDED_PASSWORD (bcrypt cost 4).
 */
export async function seed(connection: Connection, users: number, perUser: number) {
  const passwordHash = await bcrypt.hash(SEEDED_PASSWORD, 4);
  const userIds = Array.from({ length: users }, () => new Types.ObjectId());
  const now = Date.now();
  await insertInBatches(connection, 'users', users, (i) => ({
    _id: userIds[i],
    email: emailOf(i),
    passwordHash,
    roles: ['USER'],
    disabled: false,
    credentialVersion: 0,
    seq: i,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  }));
  // The admin's list of users walks this log (src/modules/user/user.service.ts).
  await insertInBatches(connection, 'user_logs', users, (i) => ({
    _id: entryKey(USERS_LOG, i),
    ref: String(userIds[i]),
  }));
  // Login finds users through these, as sign-up writes them (src/modules/user/email-claims.ts).
  await insertInBatches(connection, 'user_emails', users, (i) => ({
    _id: emailOf(i),
    userId: userIds[i],
    createdAt: new Date(now),
  }));
  const sessionIds = Array.from({ length: users * perUser }, () => new Types.ObjectId());
  await insertInBatches(connection, 'sessions', sessionIds.length, (i) => ({
    _id: sessionIds[i],
    userId: userIds[Math.floor(i / perUser)],
    createdAt: new Date(now),
    lastUsedAt: new Date(now),
    // The oldest tenth has ended, for the session sweep to find.
    expiresAt: new Date(now + (i < sessionIds.length / 10 ? -DAY : 30 * DAY)),
    userAgent: 'bench',
    ip: '127.0.0.1',
    credentialVersion: 0,
  }));
  await insertInBatches(connection, 'user_sessions', users, (i) => ({
    _id: userIds[i],
    sessions: sessionIds.slice(i * perUser, (i + 1) * perUser),
  }));
  const tokenHashes = sessionIds.map(() => hashToken(randomBytes(32).toString('base64url')));
  await insertInBatches(connection, 'refresh_tokens', sessionIds.length, (i) => ({
    _id: tokenHashes[i],
    sessionId: sessionIds[i],
    createdAt: new Date(now),
    idleExpiresAt: new Date(now + (i < sessionIds.length / 10 ? -DAY : 7 * DAY)),
    generation: 0,
  }));
  // What the sweep walks, in creation order (see session-sweep.ts).
  await insertInBatches(connection, 'session_logs', sessionIds.length, (i) => ({
    _id: entryKey(SESSION_LOG, i),
    ref: String(sessionIds[i]),
  }));
  await insertInBatches(connection, 'session_logs', sessionIds.length, (i) => ({
    _id: entryKey(TOKEN_LOG, i),
    ref: tokenHashes[i],
  }));
  // In the order they happened, over 100 days: with the default 90-day retention, the oldest
  // tenth is due for the sweep. Each is listed where AuditService.record would list it.
  const types = ['login.failed', 'login.succeeded', 'token.rejected', 'rate_limit.hit'];
  const events = users * perUser;
  const auditLogs = connection.db!.collection<{ _id: string; ref?: string; next?: number }>(
    'audit_logs',
  );
  const counts = new Map<string, number>();
  const take = (log: string) => {
    const seq = counts.get(log) ?? 0;
    counts.set(log, seq + 1);
    return seq;
  };
  for (let start = 0; start < events; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, events - start) }, (_, j) => {
      const i = start + j;
      const type = types[i % types.length] as string;
      const userId = String(userIds[i % users]);
      const listing = { type, userId };
      const seqs = Object.fromEntries(
        (['all', 'type', 'user', 'userType'] as const).map((role) => [
          role,
          take(logName(role, listing)),
        ]),
      ) as unknown as AuditSeqs;
      const event = {
        _id: new Types.ObjectId(),
        type,
        userId,
        at: new Date(now - 100 * DAY + Math.floor((i * 100 * DAY) / events)),
        details: {},
        count: 1,
        seqs,
      };
      return { event, listing, seqs };
    });
    await connection.collection('audit_events').insertMany(
      batch.map(({ event }) => event),
      { ordered: false },
    );
    await auditLogs.insertMany(
      batch.flatMap(({ event, listing, seqs }) =>
        (Object.keys(seqs) as (keyof AuditSeqs)[]).map((role) => ({
          _id: entryKey(logName(role, listing), seqs[role] as number),
          ref: String(event._id),
        })),
      ),
      { ordered: false },
    );
  }
  // Head hints, as appends leave them, for the logs the pages read.
  await auditLogs.insertMany(
    ['all', ...types.map((type) => `type:${type}`)].map((log) => ({
      _id: `${log}#head`,
      next: counts.get(log) ?? 0,
    })),
  );
  return { userIds, sessionIds };
}
