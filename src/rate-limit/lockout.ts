import type { Redis } from 'ioredis';
import { BoundedMap } from '../lib/bounded-map.js';
import { StoreUnavailableError } from './store.js';

const HOUR_MS = 3_600_000;
const BASE_DELAY_MS = 1000;

export interface LockoutPolicy {
  /** Failures before the first lock. */
  readonly threshold: number;
  readonly maxDelayMs: number;
  /** Password verifications allowed per account per hour, whatever the outcome. */
  readonly hourlyCap: number;
}

export interface Gate {
  readonly allowed: boolean;
  readonly retryAfterMs: number;
}

/**
 * Per-account protection against password guessing from many addresses: each failure past the
 * threshold locks the account's logins for twice as long as the last (1 s, 2 s, 4 s … up to the
 * maximum), a success resets it, and at most hourlyCap verifications per hour ever start.
 * Accounts are keyed by email whether or not they exist, so the lock reveals nothing.
 */
export interface LockoutStore {
  /** Atomically refuses while locked or over the hourly cap, else counts one verification. */
  begin(account: string): Promise<Gate>;
  /** Returns how long the account is now locked (0 if not). */
  recordFailure(account: string): Promise<number>;
  recordSuccess(account: string): Promise<void>;
}

export const lockDelayMs = (policy: LockoutPolicy, failures: number) =>
  failures < policy.threshold
    ? 0
    : Math.min(policy.maxDelayMs, BASE_DELAY_MS * 2 ** (failures - policy.threshold));

interface AccountState {
  failures: number;
  lockedUntil: number;
  hourStart: number;
  hourCount: number;
}

export class MemoryLockoutStore implements LockoutStore {
  private readonly accounts: BoundedMap<AccountState>;

  constructor(
    private readonly policy: LockoutPolicy,
    maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {
    this.accounts = new BoundedMap(maxKeys);
  }

  private state(account: string, now: number): AccountState {
    return (
      this.accounts.get(account, now) ?? {
        failures: 0,
        lockedUntil: 0,
        hourStart: now,
        hourCount: 0,
      }
    );
  }

  private save(account: string, state: AccountState, now: number) {
    const expiresAt = Math.max(now + HOUR_MS, state.lockedUntil);
    this.accounts.set(account, state, expiresAt, now);
  }

  async begin(account: string): Promise<Gate> {
    const now = this.now();
    const state = this.state(account, now);
    if (now < state.lockedUntil) return { allowed: false, retryAfterMs: state.lockedUntil - now };
    if (now - state.hourStart >= HOUR_MS) Object.assign(state, { hourStart: now, hourCount: 0 });
    if (state.hourCount >= this.policy.hourlyCap) {
      return { allowed: false, retryAfterMs: state.hourStart + HOUR_MS - now };
    }
    state.hourCount += 1;
    this.save(account, state, now);
    return { allowed: true, retryAfterMs: 0 };
  }

  async recordFailure(account: string): Promise<number> {
    const now = this.now();
    const state = this.state(account, now);
    state.failures += 1;
    const delay = lockDelayMs(this.policy, state.failures);
    if (delay > 0) state.lockedUntil = now + delay;
    this.save(account, state, now);
    return delay;
  }

  async recordSuccess(account: string): Promise<void> {
    const now = this.now();
    const state = this.state(account, now);
    Object.assign(state, {
      failures: 0,
      lockedUntil: 0,
      hourCount: Math.max(0, state.hourCount - 1),
    });
    this.save(account, state, now);
  }
}

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
if tonumber(redis.call('HGET', KEYS[1], 'hourCount') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'hourCount', -1)
end
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
