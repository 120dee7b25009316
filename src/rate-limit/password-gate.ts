import { AppError, ErrorCode } from '../errors.js';

/**
 * How many password-checking operations (login, signUp, changePassword …) one client address
 * and one signed-in user may have running or waiting at once, in this process. The hashing
 * queue is shared by everyone; without this, one client with many connections could fill it
 * and every other client's login would be turned away as overloaded.
 */
export interface PasswordGate {
  /** A release function, or throws RATE_LIMITED when any of the keys is at its limit. */
  enter(keys: readonly string[]): () => void;
}

export const tooManyPasswordChecksAtOnce = () =>
  new AppError(
    ErrorCode.RATE_LIMITED,
    'Too many password checks at once from this client; try again in 1 second',
    { retryAfter: 1 },
  );

export function createPasswordGate(perClient: number): PasswordGate {
  const running = new Map<string, number>();
  return {
    enter(keys) {
      if (keys.some((key) => (running.get(key) ?? 0) >= perClient)) {
        throw tooManyPasswordChecksAtOnce();
      }
      for (const key of keys) running.set(key, (running.get(key) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const key of keys) {
          const left = (running.get(key) ?? 1) - 1;
          if (left === 0) running.delete(key);
          else running.set(key, left);
        }
      };
    },
  };
}
