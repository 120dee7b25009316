import {
  AppError,
  ErrorCode,
  invalidMfaCode,
  mfaStepUpRequired,
  totpNeedsVerifiedEmail,
} from '../../errors.js';
import type { BackgroundTasks } from '../../lib/background.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { SignedInViewer } from '../../auth/viewer.js';
import type { Mailer } from '../mail/mail.js';
import type { User } from '../user/user.model.js';
import type { UserService } from '../user/user.service.js';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { SequenceLogs } from '../../db/sequence-log.js';
import type { FactorCodes } from './factor-codes.js';
import {
  CHALLENGE_LOG,
  STEP_CLAIM_LOG,
  type MfaModels,
  type StoredTotpFactor,
} from './mfa.model.js';
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
  /**
   * A new pending secret (replacing a pending one); refused while a factor is active, and while
   * the address is unverified (EMAIL_NOT_VERIFIED).
   */
  enroll(user: User): Promise<TotpEnrollment>;
  /**
   * With the password and a code from the pending secret, activates it; returns the recovery
   * codes, once. Refused, like enroll, while the address is unverified.
   */
  confirm(userId: string, password: string, code: string): Promise<string[]>;
  /** With the password and a code (TOTP or recovery), removes the factor. */
  disable(userId: string, password: string, code: string): Promise<void>;
  /**
   * Throws MFA_STEP_UP_REQUIRED unless the viewer has no factor, or its token proved one within
   * `maxAgeMs`. An API key proves none: its owner's factor always refuses it.
   */
  requireRecent(viewer: SignedInViewer, maxAgeMs: number): Promise<void>;
  /** Erasure: the factor, its recovery-code claims and a pending secret (by _id; may run again). */
  forgetUser(userId: string): Promise<void>;
  /**
   * The hourly sweep: expired challenges and claims nothing can need any more; how many. Walks
   * the logs from their oldest end by point lookups (no range query: the embedded FerretDB would
   * scan the collection for one), stopping at the first entry not due yet. `at`: as of when
   * (now by default).
   */
  prune(at?: number): Promise<number>;
}

/** A code's step stays acceptable for three steps (±1): its claim must outlive that. */
const TOTP_CLAIM_KEEP_MS = 5 * 60_000;
/** Log entries the sweep reads at once: each costs a few point operations. */
const SWEEP_BATCH = 100;

const sum = (results: readonly { deletedCount: number }[]) =>
  results.reduce((total, result) => total + result.deletedCount, 0);

const notEnabled = () =>
  new AppError(ErrorCode.BAD_USER_INPUT, 'TOTP enrolment is turned off', { field: 'totp' });

export function createMfaService(deps: {
  models: MfaModels;
  codes: FactorCodes;
  users: Pick<UserService, 'confirmPassword' | 'findById'>;
  audit: AuditLog;
  issuer: string;
  enabled: boolean;
  /** Tries per challenge: the `attempt:<hash>:<n>` claims a challenge may have. */
  challengeAttempts: number;
  logs: SequenceLogs;
  /** Notices to the account's address when TOTP is turned on or off. */
  mail: Pick<Mailer, 'enqueue'>;
  background: BackgroundTasks;
  now: () => number;
}): MfaService {
  const { models, codes, audit, logs, now } = deps;
  const isEnrolled = async (userId: string) =>
    (await models.factors.exists({ _id: userId })) !== null;

  /**
   * Tells the owner, so a factor added or removed by someone else does not go unnoticed. After
   * the response: a slow or failing outbox must neither hold it up nor fail it.
   */
  const notify = (userId: string, kind: 'totp-enabled' | 'totp-disabled') =>
    deps.background.run(`${kind} notice`, async () => {
      const user = await deps.users.findById(userId);
      if (user) await deps.mail.enqueue({ kind, to: user.email });
    });

  /**
   * Read afresh, not from the viewer (cached up to REVOCATION_CACHE_TTL): an address verified a
   * moment ago counts at once.
   */
  async function requireVerifiedEmail(userId: string) {
    const user = await deps.users.findById(userId);
    if (!user?.emailVerified) throw totpNeedsVerifiedEmail();
  }

  /**
   * Recovery-code claims make a code single use for as long as its factor lives; with the factor
   * gone (its enrolment id is never used again) they are deleted, by _id. A recovery code used
   * while the factor is being removed may leave its claim behind: it names no user.
   */
  const forgetRecoveryClaims = (factor: Pick<StoredTotpFactor, 'enrolmentId' | 'recoveryHashes'>) =>
    Promise.all(
      factor.recoveryHashes.map((hash) =>
        models.claims.deleteOne({ _id: `recovery:${factor.enrolmentId}:${hash}` }),
      ),
    );

  /**
   * Removes what the oldest entries of `log` name while `isDue` says so, a batch at a time, and
   * trims those entries; stops at the first entry not due (later ones were written after it).
   */
  async function sweepLog(
    log: string,
    isDue: (ref: string) => Promise<boolean>,
    remove: (ref: string) => Promise<number>,
  ) {
    let removed = 0;
    for (;;) {
      const entries = await logs.oldest(log, SWEEP_BATCH);
      const due = await Promise.all(entries.map((entry) => isDue(entry.ref)));
      let done = 0;
      while (done < entries.length && due[done]) done += 1;
      const swept = entries.slice(0, done);
      removed += (await Promise.all(swept.map((entry) => remove(entry.ref)))).reduce(
        (total, count) => total + count,
        0,
      );
      await logs.trim(log, swept);
      if (done < SWEEP_BATCH) return removed;
    }
  }

  return {
    isEnrolled,

    async enroll(user) {
      if (!deps.enabled) throw notEnabled();
      await requireVerifiedEmail(user.id);
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
      // Before the password: the viewer is signed in, so this costs no bcrypt and tells nothing.
      await requireVerifiedEmail(userId);
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
      notify(userId, 'totp-enabled');
      return recovery;
    },

    async disable(userId, password, code) {
      await deps.users.confirmPassword(userId, password);
      const factor = await models.factors.findById(userId).lean();
      if (!factor) throw invalidMfaCode();
      await codes.check({ ...factor, userId }, code);
      // Of two racing disables both may pass the checks; deleting twice is harmless.
      await models.factors.deleteOne({ _id: userId });
      await forgetRecoveryClaims(factor);
      audit.record('mfa.totp_disabled', { userId });
      notify(userId, 'totp-disabled');
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

    async prune(at = now()) {
      // Step claims in the order they were made: due once their step can no longer be accepted.
      const steps = await sweepLog(
        STEP_CLAIM_LOG,
        async (id) => {
          const claim = await models.claims.findById(id).lean();
          return !claim || claim.at.getTime() + TOTP_CLAIM_KEEP_MS <= at;
        },
        async (id) => (await models.claims.deleteOne({ _id: id })).deletedCount,
      );
      // Challenges in the order they were issued, all with one lifetime: once one has expired, it
      // and its claims (spent, tries) answer nothing any more, whether it was redeemed or not.
      const challenges = await sweepLog(
        CHALLENGE_LOG,
        (ref) => Promise.resolve(Number(ref.slice(0, ref.indexOf(':'))) <= at),
        async (ref) => {
          const hash = ref.slice(ref.indexOf(':') + 1);
          const attempts = Array.from(
            { length: deps.challengeAttempts },
            (_, i) => `attempt:${hash}:${i + 1}`,
          );
          return sum(
            await Promise.all([
              models.challenges.deleteOne({ _id: hash }),
              ...[`challenge:${hash}`, ...attempts].map((id) =>
                models.claims.deleteOne({ _id: id }),
              ),
            ]),
          );
        },
      );
      return steps + challenges;
    },

    async forgetUser(userId) {
      const factor = await models.factors.findById(userId).lean();
      await models.factors.deleteOne({ _id: userId });
      if (factor) await forgetRecoveryClaims(factor);
      await models.enrolments.deleteOne({ _id: userId });
    },
  };
}
