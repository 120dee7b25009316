import type { SequenceLogs } from '../../db/sequence-log.js';
import { mfaChallengeInvalid } from '../../errors.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { User } from '../user/user.model.js';
import type { UserService } from '../user/user.service.js';
import { claimOnce, type FactorCodes } from './factor-codes.js';
import { CHALLENGE_LOG, type MfaModels } from './mfa.model.js';
import { isRandomTokenShaped, randomToken, sha256 } from './totp.js';

/** The second step of a login: a challenge for the password's success, traded for a code. */
export interface MfaChallenges {
  /**
   * A single-use challenge for `user`, whose password was just checked (from `knownDevice`, a
   * device of the account's, if the client showed one), for the OAuth client `clientId` (absent:
   * the default client). Stored hashed.
   */
  issue(user: User, knownDevice?: string, clientId?: string): Promise<string>;
  /**
   * The user a challenge was issued for, once `code` checks out. Throws MFA_CHALLENGE_INVALID
   * (unknown, expired, spent, out of attempts, the password changed since, or another client's)
   * or INVALID_MFA_CODE.
   */
  redeem(challenge: string, code: string, clientId?: string): Promise<User>;
}

export function createMfaChallenges(deps: {
  models: MfaModels;
  codes: FactorCodes;
  users: Pick<UserService, 'findUsable'>;
  audit: AuditLog;
  logs: SequenceLogs;
  ttlSeconds: number;
  attempts: number;
  now: () => number;
}): MfaChallenges {
  const { models, codes, audit, now } = deps;

  /** Claims the next of the challenge's tries; false when all are taken. */
  async function takeAttempt(hash: string, at: Date) {
    for (let attempt = 1; attempt <= deps.attempts; attempt += 1) {
      if (await claimOnce(models.claims, `attempt:${hash}:${attempt}`, at)) return true;
    }
    return false;
  }

  /** Whether the account is still usable at the credential version the challenge was issued at. */
  async function isCurrent(challenge: { userId: string; credentialVersion: number }) {
    const user = await deps.users.findUsable(challenge.userId);
    return user !== undefined && user.credentialVersion === challenge.credentialVersion;
  }

  return {
    async issue(user, knownDevice, clientId) {
      const challenge = randomToken();
      const hash = sha256(challenge);
      const expiresAt = new Date(now() + deps.ttlSeconds * 1000);
      await models.challenges.create({
        _id: hash,
        userId: user.id,
        credentialVersion: user.credentialVersion,
        expiresAt,
        ...(knownDevice ? { deviceId: knownDevice } : {}),
        ...(clientId === undefined ? {} : { clientId }),
      });
      // For the sweep, with the expiry: it removes the challenge and its claims, gone or not.
      await deps.logs.append(CHALLENGE_LOG, `${expiresAt.getTime()}:${hash}`);
      audit.record('mfa.challenge_issued', { userId: user.id });
      return challenge;
    },

    async redeem(challenge, code, clientId) {
      // Garbage costs no database read.
      if (!isRandomTokenShaped(challenge)) throw mfaChallengeInvalid();
      const hash = sha256(challenge);
      const at = new Date(now());
      const found = await models.challenges.findById(hash).lean();
      if (!found || found.expiresAt <= at) throw mfaChallengeInvalid();
      // Another client's challenge is refused like an unknown one, before it costs a try: its own
      // client may still finish the sign-in (as with refresh tokens, RFC 6749 §6).
      if ((found.clientId ?? undefined) !== clientId) throw mfaChallengeInvalid();
      if (await models.claims.exists({ _id: `challenge:${hash}` })) throw mfaChallengeInvalid();
      // Before any code is looked at: a challenge from before a password change or reset, or for
      // an account disabled since, must not spend the owner's codes or count toward their lockout.
      if (!(await isCurrent(found))) {
        await models.challenges.deleteOne({ _id: hash });
        throw mfaChallengeInvalid();
      }
      if (!(await takeAttempt(hash, at))) {
        await models.challenges.deleteOne({ _id: hash });
        throw mfaChallengeInvalid();
      }
      const factor = await models.factors.findById(found.userId).lean();
      // TOTP was disabled since the password was checked: log in again.
      if (!factor) throw mfaChallengeInvalid();
      await codes.check({ ...factor, userId: found.userId }, code, found.deviceId ?? undefined);
      // Key rotation: a secret sealed under DATA_ENCRYPTION_KEY_PREVIOUS moves to the current key
      // at its next use, so the previous key can be dropped once every factor has been used.
      const resealed = codes.resealed(factor.secret, found.userId);
      if (resealed) {
        await models.factors.updateOne(
          { _id: found.userId, enrolmentId: factor.enrolmentId },
          { $set: { secret: resealed } },
        );
      }
      // Spent only now, by an insert: of two right codes racing on one challenge, one signs in.
      if (!(await claimOnce(models.claims, `challenge:${hash}`, at))) throw mfaChallengeInvalid();
      await models.challenges.deleteOne({ _id: hash });
      // Again: a reset or a disable may have landed while the code was being checked.
      const user = await deps.users.findUsable(found.userId);
      if (!user || user.credentialVersion !== found.credentialVersion) throw mfaChallengeInvalid();
      audit.record('mfa.succeeded', { userId: user.id });
      return user;
    },
  };
}
