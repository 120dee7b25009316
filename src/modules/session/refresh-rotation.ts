import { createHash, randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { AuditLog } from '../../lib/security-events.js';
import type {
  RefreshTokenModel,
  SessionModel,
  StoredRefreshToken,
  StoredSession,
} from './session.model.js';

export interface SessionPolicy {
  readonly ttlSeconds: number;
  readonly idleTtlSeconds: number;
  readonly reuseGraceSeconds: number;
}

export interface ClientMeta {
  readonly userAgent: string;
  readonly ip: string;
}

export interface IssuedRefresh {
  readonly sessionId: string;
  readonly userId: string;
  readonly refreshToken: string;
  /** Seconds until the token ends: the sooner of idle and absolute expiry. */
  readonly refreshExpiresIn: number;
  /** The user's credential version the session began under (see session.model.ts). */
  readonly credentialVersion: number;
}

const invalidRefreshToken = () => new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid refresh token');
const expiredRefreshToken = () => new AppError(ErrorCode.UNAUTHENTICATED, 'Refresh token expired');

/** 256 random bits; only its hash is stored, so a database leak yields no usable token. */
const newToken = () => randomBytes(32).toString('base64url');
export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const rotationKey = (sessionId: Types.ObjectId, generation: number) =>
  `${String(sessionId)}:${generation}`;

/**
 * Issuing and rotating refresh tokens. A spent token presented again within the grace period (two
 * tabs refreshing with one cookie at once) gets a copy of its successor, of the same generation;
 * the first copy of a generation to rotate wins and ends the others, so a replay never starts a
 * second chain. An ended copy presented later can only come from a thief or the holder it was
 * copied from: like a replay after the grace period, it ends the session.
 */
export function createRefreshRotation(deps: {
  sessions: SessionModel;
  refreshTokens: RefreshTokenModel;
  policy: SessionPolicy;
  audit: AuditLog;
  now: () => number;
  endSession: (sessionId: Types.ObjectId, reason: string) => Promise<unknown>;
}) {
  const { sessions, refreshTokens, policy, audit, now } = deps;

  async function issue(session: StoredSession, generation: number, rotatedFrom?: Types.ObjectId) {
    const created = new Date(now());
    const token = newToken();
    const idleExpiresAt = new Date(
      Math.min(created.getTime() + policy.idleTtlSeconds * 1000, session.expiresAt.getTime()),
    );
    await refreshTokens.create({
      tokenHash: hashToken(token),
      sessionId: session._id,
      createdAt: created,
      idleExpiresAt,
      generation,
      ...(rotatedFrom && { rotation: rotationKey(session._id, generation), rotatedFrom }),
    });
    return {
      sessionId: String(session._id),
      userId: String(session.userId),
      refreshToken: token,
      refreshExpiresIn: Math.floor((idleExpiresAt.getTime() - created.getTime()) / 1000),
      credentialVersion: session.credentialVersion ?? 0,
    };
  }

  function recordReuse(session: StoredSession, meta: ClientMeta, reason: string) {
    audit.record('session.refresh_token_reuse', {
      userId: String(session.userId),
      sessionId: String(session._id),
      clientIp: meta.ip,
      reason,
    });
  }

  /**
   * The successor, if this request is the first to rotate the token's generation; undefined if
   * another one did (this token's own rotation, or another copy's). The unique `rotation` key
   * decides: a conditional update would not, as the embedded FerretDB does not apply it atomically.
   */
  async function rotate(stored: StoredRefreshToken, session: StoredSession, meta: ClientMeta) {
    const generation = stored.generation ?? 0;
    let next: IssuedRefresh;
    try {
      next = await issue(session, generation + 1, stored._id);
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
    const at = new Date(now());
    await refreshTokens.updateOne({ _id: stored._id }, { $set: { usedAt: at } });
    // Copies made by replays are dead now; mark them so they get no grace. Their holders share a
    // cookie that the last Set-Cookie overwrote (two tabs), or one of them is a thief.
    const ended = await refreshTokens.updateMany(
      {
        sessionId: session._id,
        generation,
        _id: { $ne: stored._id },
        usedAt: { $exists: false },
        endedAt: { $exists: false },
      },
      { $set: { endedAt: at } },
    );
    if (ended.modifiedCount > 0) recordReuse(session, meta, 'copy_ended');
    return next;
  }

  async function refresh(token: string, meta: ClientMeta): Promise<IssuedRefresh> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 128) {
      throw invalidRefreshToken();
    }
    const stored = await refreshTokens.findOne({ tokenHash: hashToken(token) }).lean();
    if (!stored) throw invalidRefreshToken();
    const session = await sessions.findById(stored.sessionId).lean();
    const at = now();
    if (!session || session.revokedAt) throw invalidRefreshToken();
    if (session.expiresAt.getTime() <= at || stored.idleExpiresAt.getTime() <= at) {
      throw expiredRefreshToken();
    }
    const reuse = async (reason: string) => {
      await deps.endSession(session._id, 'refresh_token_reuse');
      recordReuse(session, meta, reason);
      return invalidRefreshToken();
    };
    if (stored.endedAt) throw await reuse('ended_copy');

    // Before rotating, not after: the embedded FerretDB rewrites the whole document on update, so
    // a touch overlapping a racing copy's revocation could undo it. Done first, it is over before
    // the other copy can learn that it lost.
    const client = { ip: meta.ip, userAgent: meta.userAgent.slice(0, 256) };
    await sessions.updateOne(
      { _id: session._id },
      { $set: { lastUsedAt: new Date(at), ...client } },
    );
    const rotated = stored.usedAt ? undefined : await rotate(stored, session, meta);
    if (rotated) return rotated;

    // Spent: a replay of this token, or a copy of it that another copy outran.
    const generation = stored.generation ?? 0;
    const successor = await refreshTokens
      .findOne({ rotation: rotationKey(session._id, generation + 1) })
      .lean();
    if (successor && !successor.rotatedFrom?.equals(stored._id)) throw await reuse('copy_outrun');
    const spentAt = (successor?.createdAt ?? stored.usedAt ?? new Date(0)).getTime();
    if (at - spentAt > policy.reuseGraceSeconds * 1000) throw await reuse('replay');
    // Its successor has rotated already, so a copy of it would be born ended.
    if (await refreshTokens.exists({ rotation: rotationKey(session._id, generation + 2) })) {
      throw await reuse('replay');
    }
    return issue(session, generation + 1);
  }

  return { issue, refresh };
}
