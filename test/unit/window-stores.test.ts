import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { BoundedMemoryWindowStore } from '../../src/rate-limit/memory-store.js';
import { RedisWindowStore } from '../../src/rate-limit/redis-store.js';
import type { SlidingWindowStore } from '../../src/rate-limit/store.js';
import { connectTestRedis } from '../helpers/redis.js';

let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(() => redis.disconnect());

const stores: [string, () => SlidingWindowStore][] = [
  ['bounded memory store', () => new BoundedMemoryWindowStore(1000)],
  ['Redis store', () => new RedisWindowStore(redis)],
];

describe.each(stores)('%s', (_name, create) => {
  it('admits exactly max of 50 parallel hits on one key', async () => {
    const store = create();
    const hits = await Promise.all(
      Array.from({ length: 50 }, () => store.hit('parallel', 5, 60_000)),
    );
    expect(hits.filter((hit) => hit.allowed)).toHaveLength(5);
    const refused = hits.filter((hit) => !hit.allowed);
    expect(refused.every((hit) => hit.previous.length === 5)).toBe(true);
    expect(refused.every((hit) => hit.retryAfterMs > 59_000 && hit.retryAfterMs <= 60_000)).toBe(
      true,
    );
  });

  it('keeps keys apart', async () => {
    const store = create();
    expect((await store.hit('a', 1, 60_000)).allowed).toBe(true);
    expect((await store.hit('b', 1, 60_000)).allowed).toBe(true);
    expect((await store.hit('a', 1, 60_000)).allowed).toBe(false);
  });

  it('admits again once the window has passed', async () => {
    const store = create();
    expect((await store.hit('expiring', 1, 200)).allowed).toBe(true);
    expect((await store.hit('expiring', 1, 200)).allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await store.hit('expiring', 1, 200)).allowed).toBe(true);
  });
});

describe('bounded memory store', () => {
  it('stays within its key cap under 100,000 distinct identities', async () => {
    const store = new BoundedMemoryWindowStore(1000);
    for (let i = 0; i < 100_000; i += 1) await store.hit(`client-${i}`, 5, 60_000);
    expect(store.size).toBeLessThanOrEqual(1000);
    // The most recent clients are still counted.
    expect((await store.hit('client-99999', 1, 60_000)).allowed).toBe(false);
  });

  it('forgets expired clients as new ones arrive', async () => {
    let now = 0;
    const store = new BoundedMemoryWindowStore(1000, () => now);
    for (let i = 0; i < 500; i += 1) await store.hit(`old-${i}`, 5, 1000);
    now = 5000;
    for (let i = 0; i < 300; i += 1) await store.hit(`new-${i}`, 5, 1000);
    // Each write sweeps up to two expired entries: 300 writes clear all 500 old ones.
    expect(store.size).toBe(300);
  });
});

describe('Redis store', () => {
  it('lets the key expire with its window', async () => {
    const store = new RedisWindowStore(redis);
    await store.hit('ttl', 3, 5000);
    const ttl = await redis.pttl('ttl');
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
  });
});
