import { BoundedMap } from '../lib/bounded-map.js';
import type { SessionService } from '../modules/session/session.service.js';
import type { User } from '../modules/user/user.model.js';
import type { UserService } from '../modules/user/user.service.js';

/** The account behind an access token, or undefined if the user or the session is no longer usable. */
export type ViewerStateLoader = (userId: string, sessionId: string) => Promise<User | undefined>;

/** Reads what the cache below remembers: the user, if usable, while the session still counts. */
export function loadViewerAccount(
  users: Pick<UserService, 'findUsable'>,
  sessions: Pick<SessionService, 'activeVersion'>,
): ViewerStateLoader {
  return async (userId, sessionId) => {
    const [user, sessionVersion] = await Promise.all([
      users.findUsable(userId),
      sessions.activeVersion(userId, sessionId),
    ]);
    // A session begun before a password change or logoutAll is over, even one that ending the
    // user's sessions did not see (a sign-in racing it).
    return user && sessionVersion === user.credentialVersion ? user : undefined;
  };
}

interface Entry<Value> {
  readonly account: Promise<Value | undefined>;
  /** When the lookup behind `account` started: the entry is as fresh as that, no fresher. */
  readonly loadedAt: number;
  refreshing: boolean;
}

/**
 * The account behind an access token while its user and session are usable, remembered for ttlMs
 * per replica. This bounds how long a revoked token keeps working (ttlMs on every replica,
 * whatever their number) and how stale a cached account can be, while keeping the database off
 * the hot path: at most two lookups per session per ttlMs, and `me` needs none.
 * An entry past half its life is looked up again in the background while it keeps answering, so
 * a busy session's requests never wait for the database; an entry is never used past ttlMs from
 * the start of its lookup. Failed lookups are not remembered.
 */
export function createViewerStateCache<Value = User>(options: {
  load: (first: string, second: string) => Promise<Value | undefined>;
  ttlMs: number;
  maxKeys?: number;
  now?: () => number;
}) {
  const { load, ttlMs } = options;
  const now = options.now ?? Date.now;
  const entries = new BoundedMap<Entry<Value>>(options.maxKeys ?? 100_000);

  const lookUp = (userId: string, sessionId: string, at: number): Entry<Value> => ({
    account: load(userId, sessionId),
    loadedAt: at,
    refreshing: false,
  });

  return {
    account(userId: string, sessionId: string): Promise<Value | undefined> {
      if (ttlMs === 0) return load(userId, sessionId);
      const key = `${userId}:${sessionId}`;
      const at = now();
      const cached = entries.get(key, at);
      if (!cached) {
        const entry = lookUp(userId, sessionId, at);
        entries.set(key, entry, at + ttlMs, at);
        entry.account.catch(() => entries.delete(key));
        return entry.account;
      }
      if (!cached.refreshing && at - cached.loadedAt >= ttlMs / 2) {
        cached.refreshing = true;
        const next = lookUp(userId, sessionId, at);
        // The fresh answer replaces the old one once it has arrived (unless a newer one did);
        // a failed refresh leaves the old entry to expire on time.
        next.account.then(
          () => {
            const settledAt = now();
            const current = entries.get(key, settledAt);
            if (!current || current.loadedAt < next.loadedAt) {
              entries.set(key, next, next.loadedAt + ttlMs, settledAt);
            }
          },
          () => undefined,
        );
      }
      return cached.account;
    },
  };
}

export interface ViewerStateCache<Value = User> {
  /** The value for (userId, sessionId), or for an API key (its id, the hash presented). */
  account(first: string, second: string): Promise<Value | undefined>;
}
