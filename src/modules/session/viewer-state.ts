import { BoundedMap } from '../../lib/bounded-map.js';
import type { User } from '../user/user.model.js';

/** The account behind an access token, or undefined if the user or the session is no longer usable. */
export type ViewerStateLoader = (userId: string, sessionId: string) => Promise<User | undefined>;

/**
 * The account behind an access token while its user and session are usable, remembered for ttlMs
 * per replica. This bounds how long a revoked token keeps working (ttlMs on every replica,
 * whatever their number) and how stale a cached account can be, while keeping the database off
 * the hot path: at most one lookup per session per ttlMs, and `me` needs none.
 * Failed lookups are not remembered.
 */
export function createViewerStateCache(options: {
  load: ViewerStateLoader;
  ttlMs: number;
  maxKeys?: number;
  now?: () => number;
}) {
  const { load, ttlMs } = options;
  const now = options.now ?? Date.now;
  const entries = new BoundedMap<Promise<User | undefined>>(options.maxKeys ?? 100_000);
  return {
    account(userId: string, sessionId: string): Promise<User | undefined> {
      if (ttlMs === 0) return load(userId, sessionId);
      const key = `${userId}:${sessionId}`;
      const at = now();
      const cached = entries.get(key, at);
      if (cached) return cached;
      const loading = load(userId, sessionId);
      loading.catch(() => entries.delete(key));
      entries.set(key, loading, at + ttlMs, at);
      return loading;
    },
  };
}

export type ViewerStateCache = ReturnType<typeof createViewerStateCache>;
