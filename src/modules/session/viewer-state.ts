import { BoundedMap } from '../../lib/bounded-map.js';

export type ViewerStateLoader = (userId: string, sessionId: string) => Promise<boolean>;

/**
 * Whether an access token's user and session are still usable, remembered for ttlMs per replica.
 * This bounds how long a revoked token keeps working (ttlMs on every replica, whatever their
 * number) while keeping the database off the hot path: at most one lookup per session per ttlMs.
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
  const entries = new BoundedMap<Promise<boolean>>(options.maxKeys ?? 100_000);
  return {
    isActive(userId: string, sessionId: string): Promise<boolean> {
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
