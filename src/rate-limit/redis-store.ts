import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { StoreUnavailableError, type SlidingWindowStore, type WindowHit } from './store.js';

/**
 * One sorted set per key, scored by call time on the Redis clock (so replicas with skewed clocks
 * agree). Pruning, counting and recording run in one Lua script: atomic across every replica.
 * Returns the ages of the calls already in the window; a call is recorded only below max.
 */
const HIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local scores = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local ages = {}
for i = 2, #scores, 2 do ages[#ages + 1] = now - tonumber(scores[i]) end
if #ages < max then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
end
return ages
`;

type WithHitCommand = Redis & {
  rateLimitHit(key: string, windowMs: number, max: number, nonce: string): Promise<number[]>;
};

export class RedisWindowStore implements SlidingWindowStore {
  private readonly redis: WithHitCommand;

  constructor(redis: Redis) {
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = redis as WithHitCommand;
  }

  async hit(key: string, max: number, windowMs: number): Promise<WindowHit> {
    let ages: number[];
    try {
      ages = await this.redis.rateLimitHit(key, windowMs, max, randomBytes(6).toString('hex'));
    } catch (error) {
      throw new StoreUnavailableError((error as Error).message);
    }
    const now = Date.now();
    const previous = ages.map((age) => now - age);
    const allowed = ages.length < max;
    return { allowed, previous, retryAfterMs: allowed ? 0 : windowMs - (ages[0] ?? 0) };
  }
}
