import { AppError, ErrorCode, invalidMfaCode, mfaStepUpRequired } from '../../errors.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { SignedInViewer } from '../../auth/viewer.js';
import type { User } from '../user/user.model.js';
import type { UserService } from '../user/user.service.js';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { FactorCodes } from './factor-codes.js';
import type { MfaModels } from './mfa.model.js';
import {
  enrolmentOf,
  newRecoveryCodes,
  newTotpSecret,
  randomToken,
  recoveryCodeOf,
  recoveryHash,
} from './totp.js';

export interface TotpEnrollment {
  readonly secret: string;
  readonly uri: string;
  readonly qrCode: string;
}

/** TOTP enrolment, confirmation, disabling and step-up checks. No GraphQL here. */
export interface MfaService {
  isEnrolled(userId: string): Promise<boolean>;
  /** A new pending secret (replacing a pending one); refused while a factor is active. */
  enroll(user: User): Promise<TotpEnrollment>;
  /**
   * With the password and a code from the pending secret, activates it; returns the recovery
   * codes, once.
   */
  confirm(userId: string, password: string, code: string): Promise<string[]>;
  /** With the password and a code (TOTP or recovery), removes the factor. */
  disable(userId: string, password: string, code: string): Promise<void>;
  /**
   * Throws MFA_STEP_UP_REQUIRED unless the viewer has no factor, or its token proved one within
   * `maxAgeMs`. An API key proves none: its owner's factor always refuses it.
   */
  requireRecent(viewer: SignedInViewer, maxAgeMs: number): Promise<void>;
  /** Erasure: the factor and a pending secret (by _id; may run again). */
  forgetUser(userId: string): Promise<void>;
  /** The hourly sweep: expired challenges and claims nothing can need any more; how many. */
  prune(): Promise<number>;
}

/** A code's step stays acceptable for three steps (±1): its claim must outlive that. */
const TOTP_CLAIM_KEEP_MS = 5 * 60_000;

const notEnabled = () =>
  new AppError(ErrorCode.BAD_USER_INPUT, 'TOTP enrolment is turned off', { field: 'totp' });

export function createMfaService(deps: {
  models: MfaModels;
  codes: FactorCodes;
  users: Pick<UserService, 'confirmPassword'>;
  audit: AuditLog;
  issuer: string;
  enabled: boolean;
  /** How long a challenge lasts: its claims are kept that long after they were made. */
  challengeTtlMs: number;
  now: () => number;
}): MfaService {
  const { models, codes, audit, now } = deps;
  const isEnrolled = async (userId: string) =>
    (await models.factors.exists({ _id: userId })) !== null;

  return {
    isEnrolled,

    async enroll(user) {
      if (!deps.enabled) throw notEnabled();
      if (await isEnrolled(user.id)) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, 'TOTP is already enabled: disable it first', {
          field: 'totp',
        });
      }
      const secret = newTotpSecret();
      // A racing confirmation of the previous pending secret may still win: then this pending
      // one can never be confirmed (the factor's insert fails) and is simply left behind.
      await models.enrolments.replaceOne(
        { _id: user.id },
        {
          _id: user.id,
          secret: codes.seal(secret, user.id),
          enrolmentId: randomToken(),
          createdAt: new Date(now()),
        },
        { upsert: true },
      );
      audit.record('mfa.totp_enrollment_started', { userId: user.id });
      return enrolmentOf(secret, deps.issuer, user.email);
    },

    async confirm(userId, password, code) {
      if (!deps.enabled) throw notEnabled();
      // A stolen session alone must not add a factor: the owner would be locked out of sign-in.
      await deps.users.confirmPassword(userId, password);
      const pending = await models.enrolments.findById(userId).lean();
      if (!pending) throw invalidMfaCode();
      // Pending secrets have no recovery codes: only a TOTP code confirms one.
      await codes.check({ userId, secret: pending.secret, enrolmentId: pending.enrolmentId }, code);
      const recovery = newRecoveryCodes();
      const recoveryHashes = recovery.map((each) =>
        recoveryHash(pending.enrolmentId, recoveryCodeOf(each)!),
      );
      try {
        // An insert: of two confirmations (or a confirmation and an active factor) one wins.
        await models.factors.create({
          _id: userId,
          secret: pending.secret,
          enrolmentId: pending.enrolmentId,
          recoveryHashes,
          confirmedAt: new Date(now()),
        });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw invalidMfaCode();
        throw error;
      }
      await models.enrolments.deleteOne({ _id: userId });
      audit.record('mfa.totp_enabled', { userId });
      return recovery;
    },

    async disable(userId, password, code) {
      await deps.users.confirmPassword(userId, password);
      const factor = await models.factors.findById(userId).lean();
      if (!factor) throw invalidMfaCode();
      await codes.check({ ...factor, userId }, code);
      // Of two racing disables both may pass the checks; deleting twice is harmless.
      await models.factors.deleteOne({ _id: userId });
      audit.record('mfa.totp_disabled', { userId });
    },

    async requireRecent(viewer, maxAgeMs) {
      if (!(await isEnrolled(viewer.userId))) return;
      const fresh =
        viewer.apiKeyId === undefined &&
        viewer.mfaAt !== undefined &&
        now() - viewer.mfaAt <= maxAgeMs;
      if (fresh) return;
      audit.record('mfa.step_up_refused', { userId: viewer.userId });
      throw mfaStepUpRequired();
    },

    async prune() {
      const at = now();
      // Recovery-code claims are kept: they are what makes a recovery code single use.
      const [challenges, steps, tries] = await Promise.all([
        models.challenges.deleteMany({ expiresAt: { $lt: new Date(at) } }),
        models.claims.deleteMany({
          _id: { $regex: /^totp:/ },
          at: { $lt: new Date(at - TOTP_CLAIM_KEEP_MS) },
        }),
        // A challenge is made before its claims: one claimed longer ago than the TTL has expired.
        models.claims.deleteMany({
          _id: { $regex: /^(challenge|attempt):/ },
          at: { $lt: new Date(at - deps.challengeTtlMs) },
        }),
      ]);
      return challenges.deletedCount + steps.deletedCount + tries.deletedCount;
    },

    async forgetUser(userId) {
      await models.factors.deleteOne({ _id: userId });
      await models.enrolments.deleteOne({ _id: userId });
    },
  };
}
