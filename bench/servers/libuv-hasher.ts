/**
 * The hasher as it was before it moved to worker threads: bcrypt's async calls on libuv's thread
 * pool (UV_THREADPOOL_SIZE threads, at the event loop's priority). bench:storm's baseline.
 */
import bcrypt from 'bcrypt';
import { normalizePassword, type PasswordHasher } from '../../src/lib/password.js';

export async function createLibuvHasher(cost: number): Promise<PasswordHasher> {
  const dummyHash = await bcrypt.hash('dummy password for timing equalization', cost);
  return {
    hash: (password) => bcrypt.hash(normalizePassword(password), cost),
    async verify(password, storedHash) {
      const matches = await bcrypt.compare(normalizePassword(password), storedHash ?? dummyHash);
      return storedHash !== undefined && matches;
    },
    needsRehash: (storedHash) => bcrypt.getRounds(storedHash) !== cost,
    // libuv's pool queues without bound: it never refuses work.
    reserve: () => ({ release: () => undefined }),
    close: async () => undefined,
  };
}
