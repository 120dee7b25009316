import type { Redis } from 'ioredis';
import {
  BASE_DELAY_MS,
  HOUR_MS,
  type Gate,
  type LockoutPolicy,
  type LockoutStore,
} from './lockout.js';
import { StoreUnavailableError } from './store.js';

/** The same rules as MemoryLockoutStore, as Lua scripts over one hash per account. */
const BEGIN_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hour = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local lockedUntil = tonumber(redis.call('HGET', KEYS[1], 'lockedUntil') or '0')
if now < lockedUntil then return {0, lockedUntil - now} end
local hourStart = tonumber(redis.call('HGET', KEYS[1], 'hourStart') or tostring(now))
local hourCount = tonumber(redis.call('HGET', KEYS[1], 'hourCount') or '0')
if now - hourStart >= hour then hourStart = now; hourCount = 0 end
if hourCount >= cap then return {0, hourStart + hour - now} end
redis.call('HSET', KEYS[1], 'hourStart', hourStart, 'hourCount', hourCount + 1)
if redis.call('PTTL', KEYS[1]) < hour then redis.call('PEXPIRE', KEYS[1], hour) end
return {1, 0}
`;

const FAILURE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local threshold = tonumber(ARGV[1])
local maxDelay = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local hour = tonumber(ARGV[4])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local delay = 0
if failures >= threshold then
  delay = math.min(maxDelay, base * 2 ^ (failures - threshold))
  redis.call('HSET', KEYS[1], 'lockedUntil', now + delay)
end
redis.call('PEXPIRE', KEYS[1], math.max(hour, delay))
return delay
`;

const SUCCESS_SCRIPT = `
redis.call('HDEL', KEYS[1], 'failures', 'lockedUntil')
return 1
`;

type WithLockoutCommands = Redis & {
  lockoutBegin(key: string, hourMs: number, cap: number): Promise<[number, number]>;
  lockoutFailure(
    key: string,
    threshold: number,
    maxDelayMs: number,
    baseMs: number,
    hourMs: number,
  ): Promise<number>;
  lockoutSuccess(key: string): Promise<number>;
};

export class RedisLockoutStore implements LockoutStore {
  private readonly redis: WithLockoutCommands;

  constructor(
    redis: Redis,
    private readonly policy: LockoutPolicy,
  ) {
    redis.defineCommand('lockoutBegin', { numberOfKeys: 1, lua: BEGIN_SCRIPT });
    redis.defineCommand('lockoutFailure', { numberOfKeys: 1, lua: FAILURE_SCRIPT });
    redis.defineCommand('lockoutSuccess', { numberOfKeys: 1, lua: SUCCESS_SCRIPT });
    this.redis = redis as WithLockoutCommands;
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError((error as Error).message);
    }
  }

  async begin(account: string): Promise<Gate> {
    const [allowed, retryAfterMs] = await this.run(() =>
      this.redis.lockoutBegin(account, HOUR_MS, this.policy.hourlyCap),
    );
    return { allowed: allowed === 1, retryAfterMs };
  }

  recordFailure(account: string): Promise<number> {
    const { threshold, maxDelayMs } = this.policy;
    return this.run(() =>
      this.redis.lockoutFailure(account, threshold, maxDelayMs, BASE_DELAY_MS, HOUR_MS),
    );
  }

  async recordSuccess(account: string): Promise<void> {
    await this.run(() => this.redis.lockoutSuccess(account));
  }
}
