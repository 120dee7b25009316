import { describe, expect, it } from '@jest/globals';
import { createPasswordHasher, HASHING_NICE_INCREMENT } from '../../src/lib/password.js';
import { signUp, uniqueEmail } from '../helpers/operations.js';
import { threadNiceValues } from '../helpers/proc.js';
import { startTestServer } from '../helpers/server.js';

/** Hashing threads run at nice +10 (see password.ts): that tells them from Node's own threads. */
function hashingThreadsStartedAfter(before: Set<number>) {
  const mainNice = threadNiceValues().find((thread) => thread.tid === process.pid)!.nice;
  const hashingNice = Math.min(19, mainNice + HASHING_NICE_INCREMENT);
  return threadNiceValues().filter(
    (thread) => !before.has(thread.tid) && thread.nice === hashingNice,
  );
}

describe('closing the app', () => {
  it('ends the password-hashing threads it started for itself', async () => {
    const before = new Set(threadNiceValues().map((thread) => thread.tid));
    const server = await startTestServer({ label: 'close' }); // no hasher given: the app makes one
    await signUp(server, uniqueEmail('close'));
    expect(hashingThreadsStartedAfter(before).length).toBeGreaterThanOrEqual(1);

    await server.close();
    // A worker's thread is joined shortly after its exit event.
    for (let i = 0; i < 50 && hashingThreadsStartedAfter(before).length > 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(hashingThreadsStartedAfter(before)).toEqual([]);
  });

  it('leaves a hasher it was given running, for its owner to close', async () => {
    const hasher = await createPasswordHasher({ cost: 4, threads: 1, queueLimit: 10 });
    try {
      const server = await startTestServer({ label: 'close', hasher });
      await signUp(server, uniqueEmail('close'));
      await server.close();
      await expect(hasher.hash('still hashing')).resolves.toMatch(/^\$2b\$04\$/);
    } finally {
      await hasher.close();
    }
  });
});
