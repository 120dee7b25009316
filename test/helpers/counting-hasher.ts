import { createPasswordHasher, type PasswordHasher } from '../../src/lib/password.js';

/** The real bcrypt hasher, counting how many password verifications and hashes actually ran. */
export async function countingHasher(cost = 4) {
  const real = await createPasswordHasher({ cost, threads: 2, queueLimit: 1000 });
  const counter = { verifications: 0, hashes: 0 };
  const hasher: PasswordHasher = {
    ...real,
    hash: (password, options) => {
      counter.hashes += 1;
      return real.hash(password, options);
    },
    verify: (password, storedHash) => {
      counter.verifications += 1;
      return real.verify(password, storedHash);
    },
  };
  return { hasher, counter };
}
