import type { LogEntry, SequenceLogs } from '../../db/sequence-log.js';
import {
  rotationKey,
  type RefreshTokenModel,
  type RotationModel,
  type SessionModel,
  type StoredRefreshToken,
  type StoredSession,
} from './session.model.js';
import type { UserSessionLists } from './user-sessions.js';

/** Entries per batch: each costs a few point operations, none of which holds the database long. */
export const SWEEP_BATCH = 100;
/** Log of sessions in the order they began: expiry order, as the absolute lifetime is one setting. */
export const SESSION_LOG = 'sessions';
/** Log of refresh tokens in the order they were issued. */
export const TOKEN_LOG = 'refresh_tokens';
/**
 * How long a refresh token outlives its idle expiry: longer than the longest grace period (60 s)
 * plus a slow request, for the rotation record that goes with it (see sweepExpiredTokens).
 */
const TOKEN_KEPT_PAST_EXPIRY_MS = 5 * 60_000;

export interface SweepResult {
  readonly sessions: number;
  readonly refreshTokens: number;
}

export interface SweepDeps {
  readonly sessions: SessionModel;
  readonly refreshTokens: RefreshTokenModel;
  readonly rotations: RotationModel;
  readonly logs: SequenceLogs;
  readonly lists: UserSessionLists;
  readonly at: Date;
  readonly batchSize?: number;
  /** Batches per log at most; unbounded if absent. */
  readonly batches?: number;
}

/**
 * One batch from the oldest end of a log: reads the documents its entries name (by `_id`, in
 * parallel), removes the due ones, trims the entries of the removed and the missing ones, and
 * stops at the first document not due yet: later entries were created after it. An entry is
 * appended once its document is written, so a missing one was deleted (ended early, or swept by
 * another replica). Every database operation is a point operation on one `_id`.
 */
async function sweepBatch<T>(
  logs: SequenceLogs,
  log: string,
  size: number,
  step: {
    read(ref: string): Promise<T | null>;
    isDue(doc: T): boolean;
    remove(docs: T[]): Promise<number>;
  },
) {
  // The oldest entry alone first: between sweeps it is usually not due, and the batch ends there.
  // None at the tail is an empty log, or a tail whose raise was lost over trimmed entries: the
  // whole batch's read below skips those.
  const [oldest] = await logs.oldest(log, 1);
  const head = oldest && (await step.read(oldest.ref));
  if (oldest && head && !step.isDue(head)) return { removed: 0, more: false };
  const entries: LogEntry[] = await logs.oldest(log, size);
  const docs = await Promise.all(entries.map((entry) => step.read(entry.ref)));
  let done = 0;
  while (done < docs.length && (docs[done] === null || step.isDue(docs[done] as T))) done += 1;
  const removed = await step.remove(docs.slice(0, done).filter((doc) => doc !== null));
  await logs.trim(log, entries.slice(0, done));
  return { removed, more: done === size };
}

async function sweepLog<T>(
  deps: SweepDeps,
  log: string,
  step: Parameters<typeof sweepBatch<T>>[3],
) {
  let removed = 0;
  for (let batch = 0; batch < (deps.batches ?? Infinity); batch += 1) {
    const result = await sweepBatch(deps.logs, log, deps.batchSize ?? SWEEP_BATCH, step);
    removed += result.removed;
    if (!result.more) break;
  }
  return removed;
}

/**
 * Sessions past their absolute end: taken off their user's list first, so an interrupted sweep
 * leaves a session still in the log to find next time, never a list naming a session that is gone.
 * Sessions ended early were deleted then; their entries are trimmed when the sweep reaches them.
 */
function sweepEndedSessions(deps: SweepDeps) {
  const at = deps.at.getTime();
  return sweepLog<StoredSession>(deps, SESSION_LOG, {
    read: (id) => deps.sessions.findById(id).lean(),
    isDue: (session) => session.expiresAt.getTime() <= at,
    async remove(ended) {
      const byUser = new Map<string, StoredSession['_id'][]>();
      for (const session of ended) {
        const userId = String(session.userId);
        byUser.set(userId, [...(byUser.get(userId) ?? []), session._id]);
      }
      for (const [userId, ids] of byUser) await deps.lists.remove(userId, ids);
      const results = await Promise.all(
        ended.map((session) => deps.sessions.deleteOne({ _id: session._id })),
      );
      return results.reduce((sum, result) => sum + result.deletedCount, 0);
    },
  });
}

/**
 * Refresh tokens past their idle expiry, which refresh refuses whether they exist or not, so
 * deleting them changes no answer but the message. Tokens of a session that ended early wait for
 * their own expiry too: a token of a missing session is refused just the same. A spent token of a
 * live session must stay until then: presenting it again is how reuse is detected, and without it
 * a thief's replay would be a plain invalid token that leaves the session running.
 *
 * A generation-g token takes the record of the rotation that began generation g with it. Only
 * tokens of generations g-1 and g-2 read that record (or insert it to rotate), and each of those
 * was issued before it or within the grace period after it, whereas generation g was issued after
 * it: so they expired a grace period at most after the token swept now (its idle expiry is capped
 * by the session's end, after which all of them are refused anyway).
 */
function sweepExpiredTokens(deps: SweepDeps) {
  const at = deps.at.getTime();
  return sweepLog<StoredRefreshToken>(deps, TOKEN_LOG, {
    read: (hash) => deps.refreshTokens.findById(hash).lean(),
    isDue: (token) => token.idleExpiresAt.getTime() + TOKEN_KEPT_PAST_EXPIRY_MS <= at,
    async remove(expired) {
      const results = await Promise.all(
        expired.map(async (token) => {
          if (token.generation > 0) {
            await deps.rotations.deleteOne({ _id: rotationKey(token.sessionId, token.generation) });
          }
          return deps.refreshTokens.deleteOne({ _id: token._id });
        }),
      );
      return results.reduce((sum, result) => sum + result.deletedCount, 0);
    },
  });
}

/** Walks both logs from their oldest end, in batches, until the first entry not due yet. */
export async function sweepSessions(deps: SweepDeps): Promise<SweepResult> {
  const sessions = await sweepEndedSessions(deps);
  const refreshTokens = await sweepExpiredTokens(deps);
  return { sessions, refreshTokens };
}
