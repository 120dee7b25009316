import { describe, expect, it } from '@jest/globals';
import { MemoryLockoutStore, lockDelayMs } from '../../src/rate-limit/lockout.js';

const policy = { threshold: 5, maxDelayMs: 15 * 60_000, hourlyCap: 100 };

describe('lockout policy', () => {
  it.each([
    [4, 0],
    [5, 1000],
    [6, 2000],
    [10, 32_000],
    [20, 15 * 60_000],
  ])('after %i failures locks for %i ms', (failures, delay) => {
    expect(lockDelayMs(policy, failures)).toBe(delay);
  });

  it('never lets more than the hourly cap of verifications through, whatever the timing', async () => {
    let now = 0;
    const store = new MemoryLockoutStore({ ...policy, threshold: 1000 }, 1000, () => now);
    let allowed = 0;
    for (let minute = 0; minute < 60; minute += 1) {
      now = minute * 60_000;
      for (let i = 0; i < 10; i += 1) {
        if ((await store.begin('account')).allowed) {
          allowed += 1;
          await store.recordFailure('account');
        }
      }
    }
    expect(allowed).toBe(100);
    now = 3_600_000;
    expect((await store.begin('account')).allowed).toBe(true);
  });

  it('counts a successful verification toward the hourly cap too: knowing the password buys no guesses', async () => {
    const store = new MemoryLockoutStore({ ...policy, hourlyCap: 3 }, 1000, () => 0);
    for (let i = 0; i < 3; i += 1) {
      expect((await store.begin('account')).allowed).toBe(true);
      await store.recordSuccess('account');
    }
    const refused = await store.begin('account');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBe(3_600_000);
  });
});
