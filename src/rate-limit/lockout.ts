import { BoundedMap } from '../lib/bounded-map.js';

export const HOUR_MS = 3_600_000;
export const BASE_DELAY_MS = 1000;

export interface LockoutPolicy {
  /** Failures before the first lock. */
  readonly threshold: number;
  readonly maxDelayMs: number;
  /** Password verifications allowed per key per hour, whatever the outcome. */
  readonly hourlyCap: number;
}

export interface Gate {
  readonly allowed: boolean;
  readonly retryAfterMs: number;
}

/**
 * Protection against password guessing from many addresses, per key: an account's unknown
 * clients share one key, each known device (see modules/sign-in/device-tokens.ts) and each
 * signed-in user changing a password has its own. Each failure past the threshold locks the key
 * for twice as long as the last (1 s, 2 s, 4 s … up to the maximum), a success ends the lock,
 * and at most hourlyCap verifications per hour ever start: every verification counts, a
 * successful one too, so a caller who knows the password cannot use it to buy more guesses.
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
    Object.assign(state, { failures: 0, lockedUntil: 0 });
    this.save(account, state, now);
  }
}
