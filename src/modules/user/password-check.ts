import { invalidCredentials, rateLimited } from '../../errors.js';
import type { PasswordHasher } from '../../lib/password.js';
import { RunningCounter } from '../../lib/running-counter.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { Gate, LockoutStore } from '../../rate-limit/lockout.js';
import type { StoreFallback } from '../../rate-limit/store-fallback.js';
import type { UserWithHash } from './user.model.js';

/** Password checks of one account that may use the hash queue's reserved places at once. */
const PRIORITY_PER_ACCOUNT = 2;
const OPEN_GATE: Gate = { allowed: true, retryAfterMs: 0 };

export interface PasswordCheck {
  /**
   * One password verification under a lockout key: refused while the key is locked or over its
   * hourly cap, counted either way. `find` runs after the gate, so a locked key costs no lookup.
   * Throws invalidCredentials for a missing, disabled or mismatching account alike.
   */
  verify(request: {
    lockoutKey: string;
    /** The pseudonym audit events name. */
    account: string;
    password: string;
    find: () => Promise<UserWithHash | null>;
    knownDevice?: boolean;
  }): Promise<UserWithHash>;
}

export function createPasswordCheck(deps: {
  hasher: PasswordHasher;
  lockout: LockoutStore;
  withFallback: StoreFallback;
  audit: AuditLog;
}): PasswordCheck {
  const { hasher, lockout, withFallback, audit } = deps;
  const priorityRunning = new RunningCounter();

  return {
    async verify({ lockoutKey, account, password, find, knownDevice = false }) {
      // Known devices may use the queue's reserved places, a few at a time per account, so the
      // device tokens of an attacker's own account cannot take them all.
      const priority = knownDevice && priorityRunning.count(account) < PRIORITY_PER_ACCOUNT;
      // The place in the hashing queue comes first: a check the queue would refuse must not
      // count toward the lockout's hourly cap, nor create lockout state that could push real
      // state out.
      const slot = hasher.reserve({ priority });
      const releaseShare = priority ? priorityRunning.enter([account]) : () => undefined;
      try {
        const gate = await withFallback(() => lockout.begin(lockoutKey), OPEN_GATE);
        if (!gate.allowed) {
          audit.record('login.refused_while_locked', { account });
          throw rateLimited(gate.retryAfterMs);
        }
        const found = await find();
        const matches = await hasher.verify(password, found?.passwordHash, { slot });
        if (!found || !matches || found.disabled) {
          audit.record('login.failed', { account });
          const lockedForMs = await withFallback(() => lockout.recordFailure(lockoutKey), 0);
          if (lockedForMs > 0) audit.record('login.locked_out', { account, lockedForMs });
          throw invalidCredentials();
        }
        await withFallback(() => lockout.recordSuccess(lockoutKey), undefined);
        return found;
      } finally {
        slot.release();
        releaseShare();
      }
    },
  };
}
