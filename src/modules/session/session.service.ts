import { Types, isValidObjectId } from 'mongoose';
import { SequenceLogs } from '../../db/sequence-log.js';
import { badUserInput } from '../../errors.js';
import type { AuditLog } from '../../lib/security-events.js';
import {
  createRefreshRotation,
  hashToken,
  type ClientMeta,
  type IssuedRefresh,
  type SessionPolicy,
} from './refresh-rotation.js';
import {
  toSessionInfo,
  type SessionInfo,
  type SessionModels,
  type StoredSession,
} from './session.model.js';
import { SESSION_LOG, sweepSessions, type SweepResult } from './session-sweep.js';
import { createUserSessionLists } from './user-sessions.js';

export type { ClientMeta, IssuedRefresh, SessionPolicy };

export const MAX_SESSION_PAGE = 100;

export interface SessionService {
  /**
   * credentialVersion: the user's, as read when the password was checked. mfaAt (ms since the
   * epoch): when this sign-in proved a second factor, if it did; every refresh of the session
   * passes it on unchanged. Beyond the cap on sessions per user, the oldest one ends.
   */
  start(
    userId: string,
    meta: ClientMeta,
    credentialVersion: number,
    mfaAt?: number,
  ): Promise<IssuedRefresh>;
  /** Rotates: the presented token is spent, a new one of the same session comes back. */
  refresh(token: string, meta: ClientMeta): Promise<IssuedRefresh>;
  /** Ends one of the user's sessions; false if the user has no such session. */
  revoke(sessionId: string, userId: string): Promise<boolean>;
  revokeAllForUser(userId: string): Promise<number>;
  /**
   * Ends the session a refresh token (spent or not) belongs to, as RFC 7009 revocation asks; the
   * user it belonged to, or undefined for a token that is unknown or whose session has ended.
   */
  /** Only a session of `clientId` (absent: the default client's), as refresh requires. */
  revokeByRefreshToken(token: string, clientId?: string): Promise<string | undefined>;
  /**
   * Erasure: ends every session the user's list names and deletes the list itself. Their refresh
   * tokens are refused from then on (their session is gone) and swept at their idle expiry: they
   * are found only by hash, and hold a session id, not the user's.
   */
  forgetUser(userId: string): Promise<number>;
  /** Newest sign-in first; `after` is the last session id of the previous page. */
  listActive(userId: string, page: { first: number; after?: string }): Promise<SessionInfo[]>;
  /**
   * Uncached: the credential version an existing session of this user began under, undefined if
   * there is none; a caller compares it with the user's current one.
   */
  activeVersion(userId: string, sessionId: string): Promise<number | undefined>;
  /**
   * Deletes ended sessions and expired refresh tokens, in batches (see sweepSessions);
   * `{ batches: 1 }` runs exactly one batch of each.
   */
  prune(options?: { batches?: number }): Promise<SweepResult>;
}

type SessionRef = Pick<StoredSession, '_id' | 'userId'>;

export function createSessionService(
  deps: SessionModels & {
    policy: SessionPolicy;
    audit: AuditLog;
    now?: () => number;
    /** Tests lower these (defaults: MAX_SESSIONS_PER_USER, SWEEP_BATCH). */
    maxSessionsPerUser?: number;
    sweepBatchSize?: number;
  },
): SessionService {
  const { sessions, refreshTokens, rotations, policy, audit } = deps;
  const now = deps.now ?? Date.now;
  const logs = new SequenceLogs(deps.logs);
  const appendToLog = (log: string, ref: string) => logs.append(log, ref);
  const lists = createUserSessionLists(deps.userSessions, deps.maxSessionsPerUser);

  /** Deleted by `_id`: a refresh racing the delete updates nothing, and nothing reads it again. */
  async function end(session: SessionRef) {
    const { deletedCount } = await sessions.deleteOne({ _id: session._id });
    await lists.remove(String(session.userId), [session._id]);
    return deletedCount > 0;
  }

  /** The user's sessions among `ids`, read by `_id` in parallel; missing and foreign ones left out. */
  async function ownSessions(userId: string, ids: Types.ObjectId[]) {
    const found = await Promise.all(ids.map((id) => sessions.findById(id).lean()));
    return found.filter(
      (session): session is NonNullable<typeof session> =>
        session !== null && String(session.userId) === userId,
    );
  }

  const rotation = createRefreshRotation({
    sessions,
    refreshTokens,
    rotations,
    appendToLog,
    policy,
    audit,
    now,
    endSession: end,
  });

  async function revokeAllForUser(userId: string) {
    if (!isValidObjectId(userId)) return 0;
    const own = await ownSessions(userId, await lists.ids(userId));
    const ended = await Promise.all(own.map((session) => sessions.deleteOne({ _id: session._id })));
    await lists.remove(
      userId,
      own.map((session) => session._id),
    );
    return ended.reduce((sum, result) => sum + result.deletedCount, 0);
  }

  return {
    async start(userId, meta, credentialVersion, mfaAt) {
      const created = new Date(now());
      const session: StoredSession = {
        _id: new Types.ObjectId(),
        userId: new Types.ObjectId(userId),
        createdAt: created,
        lastUsedAt: created,
        expiresAt: new Date(created.getTime() + policy.ttlSeconds * 1000),
        userAgent: meta.userAgent.slice(0, 256),
        ip: meta.ip,
        credentialVersion,
        ...(mfaAt === undefined ? {} : { mfaAt: new Date(mfaAt) }),
        ...(meta.clientId === undefined ? {} : { clientId: meta.clientId }),
      };
      await lists.add(userId, session._id, {
        end: async (oldest) => {
          await Promise.all(oldest.map((id) => sessions.deleteOne({ _id: id })));
        },
        create: async () => {
          await sessions.create(session);
        },
      });
      // Logged once written (see refresh-rotation.ts: issue). A crash in between leaves a session
      // the sweep never finds; its user's list still names it, so the cap or logoutAll ends it.
      await appendToLog(SESSION_LOG, String(session._id));
      return rotation.issue(session, 0);
    },

    refresh: rotation.refresh,

    async revoke(sessionId, userId) {
      if (!isValidObjectId(sessionId) || !isValidObjectId(userId)) return false;
      // Read by _id and the owner compared here: another user's session id is answered like a
      // missing one.
      const [session] = await ownSessions(userId, [new Types.ObjectId(sessionId)]);
      return session ? end(session) : false;
    },

    revokeAllForUser,

    async revokeByRefreshToken(token, clientId) {
      if (token.length === 0 || token.length > 128) return undefined;
      const stored = await refreshTokens.findById(hashToken(token)).lean();
      const session = stored && (await sessions.findById(stored.sessionId).lean());
      if (!session || session.clientId !== clientId || !(await end(session))) return undefined;
      return String(session.userId);
    },

    async forgetUser(userId) {
      if (!isValidObjectId(userId)) return 0;
      const ended = await revokeAllForUser(userId);
      await lists.forget(userId);
      return ended;
    },

    async listActive(userId, { first, after }) {
      if (!Number.isInteger(first) || first < 1 || first > MAX_SESSION_PAGE) {
        throw badUserInput('first', `first must be between 1 and ${MAX_SESSION_PAGE}`);
      }
      if (after !== undefined && !isValidObjectId(after)) {
        throw badUserInput('after', 'after must be a session id');
      }
      if (!isValidObjectId(userId)) return [];
      // By id, not lastUsedAt: every refresh moves lastUsedAt, so paging by it would skip or
      // repeat sessions that are used meanwhile.
      const below = after === undefined ? undefined : String(new Types.ObjectId(after));
      const candidates = (await lists.ids(userId))
        .reverse()
        .filter((id) => below === undefined || String(id) < below);
      const at = now();
      const page: SessionInfo[] = [];
      for (let from = 0; from < candidates.length && page.length < first; from += first) {
        const found = await ownSessions(userId, candidates.slice(from, from + first));
        for (const session of found) {
          if (session.expiresAt.getTime() > at && page.length < first) {
            page.push(toSessionInfo(session));
          }
        }
      }
      return page;
    },

    async activeVersion(userId, sessionId) {
      if (!isValidObjectId(sessionId) || !isValidObjectId(userId)) return undefined;
      const session = await sessions.findById(sessionId).select('userId credentialVersion').lean();
      if (!session || String(session.userId) !== userId) return undefined;
      return session.credentialVersion ?? 0;
    },

    prune(options = {}) {
      return sweepSessions({
        sessions,
        refreshTokens,
        rotations,
        logs,
        lists,
        at: new Date(now()),
        batchSize: deps.sweepBatchSize,
        batches: options.batches,
      });
    },
  };
}
