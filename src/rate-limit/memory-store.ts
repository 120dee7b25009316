import { BoundedMap } from '../lib/bounded-map.js';
import type { SlidingWindowStore, WindowHit } from './store.js';

/**
 * One process's sliding windows. Unlike graphql-rate-limit's InMemoryStore, which copies its whole
 * state on every call and never forgets a client, each call costs O(max) whatever the number of
 * clients, entries expire with their window, and the number of keys is capped.
 */
export class BoundedMemoryWindowStore implements SlidingWindowStore {
  private readonly windows: BoundedMap<number[]>;

  constructor(
    maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new BoundedMap(maxKeys);
  }

  get size() {
    return this.windows.size;
  }

  async hit(key: string, max: number, windowMs: number): Promise<WindowHit> {
    const now = this.now();
    const previous = (this.windows.get(key, now) ?? []).filter((time) => time > now - windowMs);
    if (previous.length >= max) {
      return { allowed: false, previous, retryAfterMs: (previous[0] ?? now) + windowMs - now };
    }
    this.windows.set(key, [...previous, now], now + windowMs, now);
    return { allowed: true, previous, retryAfterMs: 0 };
  }
}
