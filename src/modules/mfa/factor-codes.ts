import { isDuplicateKeyError } from '../../db/mongo.js';
import type { SequenceLogs } from '../../db/sequence-log.js';
import { invalidMfaCode, rateLimited, serviceUnavailable } from '../../errors.js';
import type { Sealer } from '../../lib/data-encryption.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { Gate, LockoutStore } from '../../rate-limit/lockout.js';
import type { StoreFallback } from '../../rate-limit/store-fallback.js';
import { STEP_CLAIM_LOG, type MfaModels } from './mfa.model.js';
import { recoveryCodeOf, recoveryHash, stepOf } from './totp.js';

const OPEN_GATE: Gate = { allowed: true, retryAfterMs: 0 };

/** Inserts the claim `id`: true for the one caller that made it, false for every other. */
export async function claimOnce(claims: MfaModels['claims'], id: string, at: Date) {
  try {
    await claims.create({ _id: id, at });
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/** What a code is checked against: a sealed secret and, once confirmed, recovery codes. */
export interface FactorSecret {
  readonly userId: string;
  readonly secret: string;
  readonly enrolmentId: string;
  readonly recoveryHashes?: readonly string[];
}

export interface FactorCodes {
  /**
   * The clear secret of `userId`'s factor, or SERVICE_UNAVAILABLE when no configured key opens
   * it (a secret sealed for another account does not open).
   */
  open(sealed: string, userId: string): string;
  /** Seals a secret bound to `userId`'s account. */
  seal(secret: string, userId: string): string;
  /**
   * The secret sealed again under the current key and format if an older one sealed it
   * (rotation, and v1 values that were not bound to their account).
   */
  resealed(sealed: string, userId: string): string | undefined;
  /**
   * Accepts a TOTP code of now ±1 step not used before by the account, or an unused recovery
   * code when the factor has them, and uses it up. Every check counts toward the account's own
   * lockout (`lockout:mfa:<userId>`), or, from a known device of the account, toward that
   * device's: whoever has only the password cannot lock the owner's devices out of their second
   * factor. Throws INVALID_MFA_CODE or RATE_LIMITED.
   */
  check(factor: FactorSecret, code: string, knownDevice?: string): Promise<'otp' | 'recovery'>;
}

export function createFactorCodes(deps: {
  models: MfaModels;
  logs: SequenceLogs;
  sealer: Sealer | undefined;
  lockout: LockoutStore;
  withFallback: StoreFallback;
  audit: AuditLog;
  now: () => number;
}): FactorCodes {
  const { models, sealer, lockout, withFallback, audit, now } = deps;

  function open(sealed: string, userId: string) {
    // Production with TOTP_ENABLED=false and no key: enrolled accounts cannot be served.
    if (!sealer) throw serviceUnavailable();
    return sealer.open(sealed, userId);
  }

  /** Whether `code` is good, using it up if so. */
  async function use(factor: FactorSecret, code: string, at: Date): Promise<'otp' | 'recovery'> {
    const step = stepOf(open(factor.secret, factor.userId), code, at.getTime());
    if (step !== undefined) {
      // Per account, not per factor: a code seen once is never accepted again.
      const claim = `totp:${factor.userId}:${step}`;
      if (!(await claimOnce(models.claims, claim, at))) throw invalidMfaCode();
      // Logged once written, for the sweep (an entry without its claim is one already gone).
      await deps.logs.append(STEP_CLAIM_LOG, claim);
      return 'otp';
    }
    const recovery = factor.recoveryHashes && recoveryCodeOf(code);
    if (recovery) {
      const hash = recoveryHash(factor.enrolmentId, recovery);
      if (
        factor.recoveryHashes!.includes(hash) &&
        (await claimOnce(models.claims, `recovery:${factor.enrolmentId}:${hash}`, at))
      ) {
        return 'recovery';
      }
    }
    throw invalidMfaCode();
  }

  return {
    open,
    seal(secret, userId) {
      if (!sealer) throw serviceUnavailable();
      return sealer.seal(secret, userId);
    },
    resealed(sealed, userId) {
      return sealer?.isStale(sealed) ? sealer.seal(open(sealed, userId), userId) : undefined;
    },
    async check(factor, code, knownDevice) {
      const lockoutKey = knownDevice
        ? `lockout:mfa-device:${factor.userId}:${knownDevice}`
        : `lockout:mfa:${factor.userId}`;
      const gate = await withFallback(() => lockout.begin(lockoutKey), OPEN_GATE);
      if (!gate.allowed) throw rateLimited(gate.retryAfterMs);
      try {
        const kind = await use(factor, code, new Date(now()));
        await withFallback(() => lockout.recordSuccess(lockoutKey), undefined);
        if (kind === 'recovery') audit.record('mfa.recovery_code_used', { userId: factor.userId });
        return kind;
      } catch (error) {
        audit.record('mfa.failed', { userId: factor.userId });
        await withFallback(() => lockout.recordFailure(lockoutKey), 0);
        throw error;
      }
    },
  };
}
