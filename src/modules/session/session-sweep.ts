import type { Model, QueryFilter, Types } from 'mongoose';
import type { RefreshTokenModel, SessionModel } from './session.model.js';

/** Documents per find and per delete: small enough that no single operation holds the database. */
export const SWEEP_BATCH = 500;

export interface SweepResult {
  readonly sessions: number;
  readonly refreshTokens: number;
}

/** Finds up to `batchSize` ids, deletes them by id, and goes on until nothing matches. */
async function deleteInBatches<T>(
  model: Model<T>,
  filter: QueryFilter<T>,
  batchSize: number,
  beforeDelete?: (ids: Types.ObjectId[]) => Promise<void>,
) {
  let deleted = 0;
  for (;;) {
    const found = await model.find(filter).select('_id').limit(batchSize).lean();
    const ids = found.map((doc) => doc._id as Types.ObjectId);
    if (ids.length === 0) return deleted;
    await beforeDelete?.(ids);
    const result = await model.deleteMany({ _id: { $in: ids } });
    deleted += result.deletedCount;
    // A full batch that deleted nothing would only be found again.
    if (ids.length < batchSize || result.deletedCount === 0) return deleted;
  }
}

/**
 * Deletes what can never be used again: sessions past their absolute end or revoked, with their
 * refresh tokens, and refresh tokens past their idle expiry. Any token of such a session is
 * refused whether it exists or not, so deleting changes no answer but the message.
 *
 * A spent (or ended) token of a live session stays until its own idle expiry on purpose:
 * presenting it again is how reuse is detected, and without it a thief's replay would be a plain
 * invalid token that leaves the session running. After its idle expiry refresh refuses it as
 * expired before asking whether it was spent, so nothing is lost then. A rotated token's successor
 * (which holds the rotation key) never expires before it.
 */
export async function sweepSessions(deps: {
  sessions: SessionModel;
  refreshTokens: RefreshTokenModel;
  at: Date;
  batchSize?: number;
}): Promise<SweepResult> {
  const { sessions, refreshTokens, at } = deps;
  const batchSize = deps.batchSize ?? SWEEP_BATCH;
  let tokens = 0;
  // Tokens before their session: an interrupted sweep leaves a dead session to find next time,
  // never tokens nobody looks for.
  const deleteTokensOf = async (sessionIds: Types.ObjectId[]) => {
    tokens += await deleteInBatches(refreshTokens, { sessionId: { $in: sessionIds } }, batchSize);
  };
  const expired = await deleteInBatches(
    sessions,
    { expiresAt: { $lte: at } },
    batchSize,
    deleteTokensOf,
  );
  const revoked = await deleteInBatches(
    sessions,
    { revokedAt: { $exists: true } },
    batchSize,
    deleteTokensOf,
  );
  tokens += await deleteInBatches(refreshTokens, { idleExpiresAt: { $lte: at } }, batchSize);
  return { sessions: expired + revoked, refreshTokens: tokens };
}
