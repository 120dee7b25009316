import { pseudonym } from '../lib/security-events.js';
import type { EffectiveLimit } from './rules.js';
import type { SlidingWindowStore } from './store.js';

/**
 * Counts rejected access tokens per client. Junk tokens cost no account and used to cost an
 * audit write each; past the limit a client gets RATE_LIMITED (429) instead of a fresh 401.
 * Expired tokens are not counted: every well-behaved client sends one now and then.
 */
export interface InvalidTokenLimit {
  /** Records one rejection; the ms the client should wait when it is over the limit, else 0. */
  note(clientKey: string): Promise<number>;
}

export function createInvalidTokenLimit(
  store: SlidingWindowStore,
  limit: EffectiveLimit,
): InvalidTokenLimit {
  return {
    async note(clientKey) {
      try {
        const hit = await store.hit(
          `rl:${pseudonym(`invalid-token\n${clientKey}`)}`,
          limit.max,
          limit.windowMs,
        );
        return hit.allowed ? 0 : hit.retryAfterMs;
      } catch {
        // Only the answer's status depends on it: with the store down the client gets its 401.
        return 0;
      }
    },
  };
}
