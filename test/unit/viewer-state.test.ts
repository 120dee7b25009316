import { describe, expect, it } from '@jest/globals';
import { createViewerStateCache } from '../../src/auth/viewer-state.js';
import type { User } from '../../src/modules/user/user.model.js';

const TTL = 1000;
const alice = { id: 'u1', email: 'alice@example.com', roles: ['USER'] } as unknown as User;

/** A loader whose answers the test releases one by one. */
function controlledLoader() {
  const calls: { resolve: (user: User | undefined) => void; reject: (error: Error) => void }[] = [];
  const load = () =>
    new Promise<User | undefined>((resolve, reject) => calls.push({ resolve, reject }));
  return { load, calls };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

/** A cache on a test clock whose first lookup (at 0) has answered alice. */
async function primedCache() {
  const clock = { now: 0 };
  const { load, calls } = controlledLoader();
  const cache = createViewerStateCache({ load, ttlMs: TTL, now: () => clock.now });
  const loading = cache.account('u1', 's1');
  calls[0]!.resolve(alice);
  await loading;
  return { cache, calls, clock };
}

describe('viewer state cache', () => {
  it('looks a session up once per half TTL and answers from memory in between', async () => {
    const clock = { now: 0 };
    const { load, calls } = controlledLoader();
    const cache = createViewerStateCache({ load, ttlMs: TTL, now: () => clock.now });
    const first = cache.account('u1', 's1');
    const second = cache.account('u1', 's1');
    calls[0]!.resolve(alice);
    expect(await first).toBe(alice);
    expect(await second).toBe(alice);
    clock.now = TTL / 2 - 1;
    expect(await cache.account('u1', 's1')).toBe(alice);
    expect(calls).toHaveLength(1);
  });

  it('refreshes in the background past half its TTL, without making requests wait', async () => {
    const { cache, calls, clock } = await primedCache();
    clock.now = TTL / 2;
    // Answered from the entry while the refresh (never released here) is pending.
    expect(await cache.account('u1', 's1')).toBe(alice);
    expect(await cache.account('u1', 's1')).toBe(alice);
    expect(calls).toHaveLength(2);
  });

  it('applies a revocation seen by the refresh at once', async () => {
    const { cache, calls, clock } = await primedCache();
    clock.now = 600;
    await cache.account('u1', 's1');
    calls[1]!.resolve(undefined); // the session was revoked in the meantime
    await settled();
    clock.now = 650;
    expect(await cache.account('u1', 's1')).toBeUndefined();
  });

  it('never answers from an entry older than its TTL, even while a refresh is slow', async () => {
    const { cache, calls, clock } = await primedCache();
    clock.now = 600;
    await cache.account('u1', 's1'); // starts a refresh that does not come back in time
    clock.now = TTL; // the first lookup started at 0: its answer may no longer be used
    const waiting = cache.account('u1', 's1');
    expect(calls).toHaveLength(3);
    calls[2]!.resolve(undefined);
    expect(await waiting).toBeUndefined();
    // The late refresh (started at 600) still may not override the newer answer (started at 1000).
    calls[1]!.resolve(alice);
    await settled();
    expect(await cache.account('u1', 's1')).toBeUndefined();
  });

  it('does not remember a failed lookup', async () => {
    const { load, calls } = controlledLoader();
    const cache = createViewerStateCache({ load, ttlMs: TTL, now: () => 0 });
    const failing = cache.account('u1', 's1');
    calls[0]!.reject(new Error('database unavailable'));
    await expect(failing).rejects.toThrow('database unavailable');
    const retry = cache.account('u1', 's1');
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(alice);
    expect(await retry).toBe(alice);
  });

  it('keeps sessions apart', async () => {
    const { load, calls } = controlledLoader();
    const cache = createViewerStateCache({ load, ttlMs: TTL, now: () => 0 });
    const one = cache.account('u1', 's1');
    const other = cache.account('u1', 's2');
    calls[0]!.resolve(alice);
    calls[1]!.resolve(undefined);
    expect(await one).toBe(alice);
    expect(await other).toBeUndefined();
  });
});
