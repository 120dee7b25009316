import { createHash, randomBytes } from 'node:crypto';
import { isDuplicateKeyError } from '../../db/mongo.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { AuditLog } from '../../lib/security-events.js';
import {
  rotationKey,
  type RefreshTokenModel,
  type RotationModel,
  type SessionModel,
  type StoredRefreshToken,
  type StoredSession,
} from './session.model.js';
import { TOKEN_LOG } from './session-sweep.js';

export interface SessionPolicy {
  readonly ttlSeconds: number;
  readonly idleTtlSeconds: number;
  readonly reuseGraceSeconds: number;
}

export interface ClientMeta {
  readonly userAgent: string;
  readonly ip: string;
  /**
   * The registered OAuth client asking (src/modules/oauth); absent: the default client (GraphQL,
   * or /token without a client registry).
   */
  readonly clientId?: string;
}

export interface IssuedRefresh {
  readonly sessionId: string;
  readonly userId: string;
  readonly refreshToken: string;
  /** Seconds until the token ends: the sooner of idle and absolute expiry. */
  readonly refreshExpiresIn: number;
  /** The user's credential version the session began under (see session.model.ts). */
  readonly credentialVersion: number;
  /**
   * ms since the epoch: when the session's sign-in proved a second factor, if it did (see
   * session.model.ts). The same on every rotation of the session.
   */
  readonly mfaAt?: number;
}

const invalidRefreshToken = () => new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid refresh token');
const expiredRefreshToken = () => new AppError(ErrorCode.UNAUTHENTICATED, 'Refresh token expired');

/** 256 random bits; only its hash is stored, so a database leak yields no usable token. */
const newToken = () => randomBytes(32).toString('base64url');
export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Issuing and rotating refresh tokens. A spent token presented again within the grace period (two
 * tabs refreshing with one cookie at once) gets a copy of its successor, of the same generation;
 * the first copy of a generation to rotate wins, so a replay never starts a second chain, and the
 * other copies are spent from then on. A copy presented after another one rotated can only come
 * from a thief or the holder it was copied from (tabs share one cookie, which keeps only the
 * latest copy): like a replay after the grace period, it ends the session.
 */
export function createRefreshRotation(deps: {
  sessions: SessionModel;
  refreshTokens: RefreshTokenModel;
  rotations: RotationModel;
  /** Appends to one of the sweep's logs (see session-sweep.ts). */
  appendToLog: (log: string, ref: string) => Promise<unknown>;
  policy: SessionPolicy;
  audit: AuditLog;
  now: () => number;
  endSession: (session: StoredSession) => Promise<unknown>;
}) {
  const { sessions, refreshTokens, rotations, appendToLog, policy, audit, now } = deps;

  /** A new token of `generation`; `decide` (a rotation's insert) must succeed first. */
  async function issue(
    session: StoredSession,
    generation: number,
    decide?: (created: Date) => Promise<unknown>,
  ): Promise<IssuedRefresh> {
    const created = new Date(now());
    const token = newToken();
    const hash = hashToken(token);
    const idleExpiresAt = new Date(
      Math.min(created.getTime() + policy.idleTtlSeconds * 1000, session.expiresAt.getTime()),
    );
    await decide?.(created);
    await refreshTokens.create({
      _id: hash,
      sessionId: session._id,
      createdAt: created,
      idleExpiresAt,
      generation,
    });
    // Logged once written, so that the sweep can take an entry naming no token for one deleted.
    // A failure in between leaves a token the sweep never finds, refused all the same once
    // expired; it must not fail the request, whose token the rotation above has already spent.
    await appendToLog(TOKEN_LOG, hash).catch(() => undefined);
    return {
      sessionId: String(session._id),
      userId: String(session.userId),
      refreshToken: token,
      refreshExpiresIn: Math.floor((idleExpiresAt.getTime() - created.getTime()) / 1000),
      credentialVersion: session.credentialVersion ?? 0,
      ...(session.mfaAt ? { mfaAt: session.mfaAt.getTime() } : {}),
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
   * another one did (this token's own rotation, or another copy's). Inserting the rotation record
   * under its unique `_id` decides: a conditional update would not, as the embedded FerretDB does
   * not apply it atomically.
   */
  async function rotate(stored: StoredRefreshToken, session: StoredSession) {
    const key = rotationKey(session._id, stored.generation + 1);
    let decided = false;
    try {
      return await issue(session, stored.generation + 1, async (created) => {
        await rotations.create({ _id: key, rotatedFrom: stored._id, createdAt: created });
        decided = true;
      });
    } catch (error) {
      if (!decided && isDuplicateKeyError(error)) return undefined;
      // The successor was not written: give the generation back, so that the client's retry
      // rotates instead of counting as a replay that ends the session.
      if (decided) await rotations.deleteOne({ _id: key }).catch(() => undefined);
      throw error;
    }
  }

  async function refresh(token: string, meta: ClientMeta): Promise<IssuedRefresh> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 128) {
      throw invalidRefreshToken();
    }
    const stored = await refreshTokens.findById(hashToken(token)).lean();
    if (!stored) throw invalidRefreshToken();
    const session = await sessions.findById(stored.sessionId).lean();
    const at = now();
    // RFC 6749 §6: a token issued to one client is no use to another. Refused like an unknown
    // token, and left unspent: the client it belongs to may still use it.
    if (!session || session.clientId !== meta.clientId) throw invalidRefreshToken();
    if (session.expiresAt.getTime() <= at || stored.idleExpiresAt.getTime() <= at) {
      throw expiredRefreshToken();
    }
    const reuse = async (reason: string) => {
      await deps.endSession(session);
      recordReuse(session, meta, reason);
      return invalidRefreshToken();
    };

    // Racing the session's end is harmless: an update of a deleted document is a no-op. Nor may
    // its failure fail the refresh: the rotation beside it spends the token either way.
    const client = { ip: meta.ip, userAgent: meta.userAgent.slice(0, 256) };
    const [, rotated] = await Promise.all([
      sessions
        .updateOne({ _id: session._id }, { $set: { lastUsedAt: new Date(at), ...client } })
        .catch(() => undefined),
      rotate(stored, session),
    ]);
    if (rotated) return rotated;

    // Spent: a replay of this token, or a copy of it that another copy outran.
    const successor = await rotations
      .findById(rotationKey(session._id, stored.generation + 1))
      .lean();
    if (successor && successor.rotatedFrom !== stored._id) throw await reuse('copy_outrun');
    const spentAt = successor?.createdAt.getTime() ?? 0;
    if (at - spentAt > policy.reuseGraceSeconds * 1000) throw await reuse('replay');
    // Its successor has rotated already, so a copy of it would be spent from birth.
    const rotatedOn = await rotations
      .findById(rotationKey(session._id, stored.generation + 2))
      .select('_id')
      .lean();
    if (rotatedOn) throw await reuse('replay');
    return issue(session, stored.generation + 1);
  }

  return { issue, refresh };
}
