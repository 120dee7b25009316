import { isValidObjectId } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { Page } from '../../db/log-cursor.js';
import type { SequenceLogs } from '../../db/sequence-log.js';
import { AppError, badUserInput, invalidCredentials, serviceUnavailable } from '../../errors.js';
import {
  hasPunycodeDomain,
  isAcceptableEmailInput,
  isValidEmail,
  normalizeEmail,
} from '../../lib/email.js';
import type { Logger } from '../../lib/logger.js';
import {
  MAX_PASSWORD_BYTES,
  normalizePassword,
  passwordProblem,
  type PasswordHasher,
  type PasswordPolicy,
  type PasswordProblem,
} from '../../lib/password.js';
import { pseudonym, type AuditLog } from '../../lib/security-events.js';
import type { LockoutStore } from '../../rate-limit/lockout.js';
import type { StoreFallback } from '../../rate-limit/store-fallback.js';
import {
  USERS_LOG,
  toUser,
  type CredentialChangeModel,
  type Role,
  type User,
  type UserEmailModel,
  type UserModel,
  type UserWithHash,
} from './user.model.js';
import { createCredentialVersions } from './credential-version.js';
import { DECOY_USER_ID } from './decoy-account.js';
import { createEmailClaims } from './email-claims.js';
import { createPasswordCheck } from './password-check.js';
import { createUserList, type UserListing } from './user-list.js';
import type { AdminRoster } from './admin-roster.js';

export { MAX_PAGE_SIZE } from './user-list.js';

const passwordMessage = (problem: PasswordProblem, minLength: number) =>
  ({
    too_short: `Password must be at least ${minLength} characters`,
    too_long: `Password must be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8)`,
    nul_character: 'Password must not contain NUL characters',
    common: 'Password is too common; choose one that is harder to guess',
  })[problem];

/** A sign-up checked and hashed, not stored yet. */
export interface PreparedSignUp {
  readonly email: string;
  readonly passwordHash: string;
}

export interface UserService {
  signUp(email: string, password: string, roles?: Role[]): Promise<User>;
  /** signUp in two steps, for a caller that must answer alike whether or not the email is free. */
  prepareSignUp(email: string, password: string): Promise<PreparedSignUp>;
  completeSignUp(prepared: PreparedSignUp): Promise<User | undefined>;
  /**
   * Throws invalidCredentials for an unknown email and a wrong password alike. A known device
   * (a device id from a verified device token) is judged by its own lockout, not the account's.
   */
  authenticate(email: string, password: string, knownDevice?: string): Promise<User>;
  /** The user if the account exists and is not disabled. */
  findUsable(id: string): Promise<User | undefined>;
  /** Any account by id, disabled or not; undefined when there is none (or for the decoy). */
  findById(id: string): Promise<User | undefined>;
  /**
   * The usable account an email is registered to, for the flows that mail it; undefined for an
   * unknown, invalid or disabled one alike.
   */
  findUsableByEmail(email: string): Promise<User | undefined>;
  /** Throws BAD_USER_INPUT on `field` if the password policy refuses `password`. */
  checkNewPassword(password: string, field: string): void;
  /**
   * Stores a password chosen through a reset link issued at credential version `from` (no old
   * password to check); undefined, storing nothing, if the version has moved on since: a
   * password change, another reset or logoutAll voids the links sent before it.
   */
  resetPassword(id: string, from: number, newPassword: string): Promise<User | undefined>;
  /**
   * Marks the address verified if the usable account still has `email` (a link mailed to an
   * address it has since left verifies nothing); false otherwise.
   */
  markEmailVerified(id: string, email: string): Promise<boolean>;
  /** Ends every device token issued so far (see credentialVersion). */
  forgetDevices(id: string): Promise<void>;
  /** The current credential version of a usable account (undefined if gone or disabled). */
  credentialVersion(id: string): Promise<number | undefined>;
  /**
   * Checks the current password (under a lockout of the user's own, so guessers hammering the
   * account's logins cannot block it), then stores the new one, which must differ.
   */
  changePassword(id: string, currentPassword: string, newPassword: string): Promise<User>;
  /**
   * Checks a signed-in user's password before an irreversible step (deleteAccount), under the
   * user's own lockout that changePassword uses too. Throws invalidCredentials or RATE_LIMITED.
   */
  confirmPassword(id: string, password: string): Promise<void>;
  /**
   * The same check for whoever follows a mailed link on the account's behalf (confirming an email
   * change), under a lockout of its own: a stranger holding the link cannot use up the owner's.
   */
  confirmPasswordForLink(id: string, password: string): Promise<void>;
  /** The admin's list: a page of users in sign-up order, filtered (see user-list.ts). */
  list(listing: UserListing): Promise<Page<User>>;
  /** Creates the account with ADMIN if the email is free; never touches an existing account. */
  ensureBootstrapAdmin(email: string, password: string): Promise<'created' | 'exists'>;
}

export interface UserServiceDeps {
  users: UserModel;
  emails: UserEmailModel;
  /** Holds USERS_LOG, every user in sign-up order: what the admin's list walks, by _id. */
  logs: SequenceLogs;
  credentialChanges: CredentialChangeModel;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  lockout: LockoutStore;
  withFallback: StoreFallback;
  logger: Logger;
  audit: AuditLog;
  /** Where an account created as ADMIN is listed (admin-roster.ts). */
  roster: Pick<AdminRoster, 'include'>;
}

const invalidEmail = () => badUserInput('email', 'Email address is not valid');
// Said explicitly by design: sign-up is the one answer that tells whether an email is registered.
const emailTaken = () => badUserInput('email', 'Email is already registered');

export function checkedEmail(email: string) {
  if (!isAcceptableEmailInput(email)) throw invalidEmail();
  const normalized = normalizeEmail(email);
  if (!isValidEmail(normalized)) throw invalidEmail();
  return normalized;
}

/**
 * checkedEmail for an address about to be taken (sign-up, email change), not looked up: an
 * `xn--` domain is refused, as one mailbox would otherwise hold two accounts (see
 * hasPunycodeDomain). Lookups keep checkedEmail, so accounts stored that way still sign in.
 */
export function checkedNewEmail(email: string) {
  const normalized = checkedEmail(email);
  if (hasPunycodeDomain(normalized)) {
    throw badUserInput('email', 'Write the domain in its Unicode form, not as xn-- (Punycode)');
  }
  return normalized;
}

export function createUserService(deps: UserServiceDeps): UserService {
  const { users, logs, hasher, policy, logger, audit } = deps;
  const passwordCheck = createPasswordCheck(deps);
  const versions = createCredentialVersions(deps);
  const emails = createEmailClaims(deps.emails, deps.users);

  /** The checks and the hash of a sign-up, before anything is stored (BAD_USER_INPUT). */
  async function prepareSignUp(email: string, password: string): Promise<PreparedSignUp> {
    const normalized = checkedNewEmail(email);
    const problem = policy.problem(password);
    if (problem) throw badUserInput('password', passwordMessage(problem, policy.minLength));
    return { email: normalized, passwordHash: await hasher.hash(password) };
  }

  /** Stores a prepared sign-up; undefined if the email is registered already. */
  async function completeSignUp(prepared: PreparedSignUp, roles: Role[] = ['USER']) {
    const { email: normalized, passwordHash } = prepared;
    // The email first, then the user under the id it names: a sign-up that dies in between
    // leaves a claim without a user, which login treats as an unknown email (see email-claims.ts).
    const userId = await emails.claim(normalized);
    if (!userId) return undefined;
    // Listed before it is written, like an audit event: an entry whose user never arrives is
    // skipped, and one left by a sign-up that died is outranked by the seq its completion writes.
    const seq = await logs.append(USERS_LOG, String(userId));
    try {
      const created = await users.create({
        _id: userId,
        email: normalized,
        passwordHash,
        roles,
        seq,
      });
      audit.record('user.signed_up', { userId: String(created._id) });
      return toUser(created);
    } catch (error) {
      // The unique _id (the claim's user exists after all, or another sign-up completed it first)
      // or the unique email (the guard MongoDB keeps whatever user_emails says).
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  async function signUp(email: string, password: string, roles: Role[] = ['USER']) {
    const created = await completeSignUp(await prepareSignUp(email, password), roles);
    if (!created) throw emailTaken();
    return created;
  }

  /**
   * Two point lookups by _id whether or not the email is registered: an unknown email reads the
   * decoy account (decoy-account.ts), so it costs the database the same work as a known email
   * with a wrong password, as the dummy hash does for bcrypt. Otherwise the response time would
   * tell which emails have accounts.
   */
  async function findWithHash(normalizedEmail: string) {
    // No account has an invalid email, so refusing one at once tells nothing.
    if (!isValidEmail(normalizedEmail)) return null;
    const userId = (await emails.userIdOf(normalizedEmail)) ?? DECOY_USER_ID;
    const found = await users.findById(userId).select('+passwordHash').lean();
    // The email document counts only while its user still has that email.
    return found?.email === normalizedEmail ? found : null;
  }

  // bcrypt ignores bytes after the 72nd, so such a password could match a different stored one;
  // sign-up never stores either kind, so refusing them loses nothing.
  function refuseUnhashable(password: string, field: string) {
    const problem = passwordProblem(password, 1);
    if (problem === 'too_long' || problem === 'nul_character') {
      throw badUserInput(field, passwordMessage(problem, policy.minLength));
    }
  }

  async function rehashIfNeeded(found: UserWithHash, password: string) {
    if (!hasher.needsRehash(found.passwordHash)) return;
    const passwordHash = await hasher.hash(password);
    // Only over the hash it checked: a password change that landed meanwhile must not be
    // overwritten by a stronger hash of the old password. A conditional update on
    // {_id, passwordHash} said that in one write on MongoDB, but the embedded FerretDB reads every
    // user for any filter other than {_id} (and does not isolate conditional updates anyway).
    // So the write holds the claim on the next credential version, which every password change
    // takes first (an insert, atomic on both), and re-reads the hash by _id under it. The price:
    // a change arriving during those two round trips is refused as in progress (retryable), and a
    // write from outside the app between the re-read and the write would be lost.
    const userId = String(found._id);
    const rehashed = await versions.hold(userId, found.credentialVersion ?? 0, async () => {
      const current = await users.findById(found._id).select('passwordHash').lean();
      if (current?.passwordHash !== found.passwordHash) return false;
      await users.updateOne({ _id: found._id }, { $set: { passwordHash } });
      return true;
    });
    if (rehashed) logger.info({ userId }, 'password re-hashed at the configured cost');
  }

  /** The user's own lockout: guessers hammering the account's logins cannot block it. */
  function verifyOwnPassword(id: string, password: string, lockoutKey = `lockout:user:${id}`) {
    return passwordCheck.verify({
      lockoutKey,
      account: pseudonym(id),
      password,
      find: () => users.findById(id).select('+passwordHash').lean(),
    });
  }

  async function authenticate(email: string, password: string, knownDevice?: string) {
    // A malformed email says nothing about which accounts exist; refusing it costs no hash.
    if (!isAcceptableEmailInput(email)) throw invalidEmail();
    refuseUnhashable(password, 'password');
    const normalized = normalizeEmail(email);
    const account = pseudonym(normalized);
    // Keyed by email whether or not the account exists, so lockouts reveal nothing.
    const lockoutKey = knownDevice ? `lockout:device:${knownDevice}` : `lockout:${account}`;
    const found = await passwordCheck.verify({
      lockoutKey,
      account,
      password,
      find: () => findWithHash(normalized),
      knownDevice: knownDevice !== undefined,
    });
    audit.record('login.succeeded', { userId: String(found._id) });
    await rehashIfNeeded(found, password);
    return toUser(found);
  }

  return {
    signUp,
    prepareSignUp,
    completeSignUp: (prepared) => completeSignUp(prepared),

    authenticate,

    credentialVersion: versions.current,

    async forgetDevices(id) {
      const from = await versions.current(id);
      if (from === undefined || (await versions.raise(id, from))) return;
      // Another change raising it at the same moment serves as well: either ends the devices.
      // A change still in progress holds the version: the caller should try again.
      if ((await versions.settled(id, from)) === from) throw serviceUnavailable();
    },

    async findUsable(id) {
      if (!isValidObjectId(id)) return undefined;
      // By _id alone (the embedded FerretDB reads every user for any other filter); disabled here.
      const found = await users.findById(id).lean();
      return found && !found.disabled ? toUser(found) : undefined;
    },

    async findById(id) {
      if (!isValidObjectId(id) || DECOY_USER_ID.equals(id)) return undefined;
      const found = await users.findById(id).lean();
      return found ? toUser(found) : undefined;
    },

    async findUsableByEmail(email) {
      if (!isAcceptableEmailInput(email)) return undefined;
      const normalized = normalizeEmail(email);
      if (!isValidEmail(normalized)) return undefined;
      const userId = await emails.userIdOf(normalized);
      if (!userId) return undefined;
      const found = await users.findById(userId).lean();
      // The email document counts only while its user still has that email.
      return found && !found.disabled && found.email === normalized ? toUser(found) : undefined;
    },

    async markEmailVerified(id, email) {
      if (!isValidObjectId(id)) return false;
      const found = await users.findById(id).select('email disabled emailVerified').lean();
      if (!found || found.disabled || found.email !== email) return false;
      if (!found.emailVerified) {
        await users.updateOne({ _id: id }, { $set: { emailVerified: true } });
        audit.record('user.email_verified', { userId: id });
      }
      return true;
    },

    checkNewPassword(password, field) {
      const problem = policy.problem(password);
      if (problem) throw badUserInput(field, passwordMessage(problem, policy.minLength));
    },

    async resetPassword(id, from, newPassword) {
      if (!isValidObjectId(id)) return undefined;
      const problem = policy.problem(newPassword);
      if (problem) throw badUserInput('newPassword', passwordMessage(problem, policy.minLength));
      if ((await versions.current(id)) !== from) return undefined;
      const passwordHash = await hasher.hash(newPassword);
      // Following the mailed link proves the mailbox, as a verification link would.
      if (!(await versions.raise(id, from, { passwordHash, emailVerified: true }))) {
        return undefined;
      }
      audit.record('user.password_reset', { userId: id });
      const found = await users.findById(id).lean();
      return found && !found.disabled ? toUser(found) : undefined;
    },

    async changePassword(id, currentPassword, newPassword) {
      if (!isValidObjectId(id)) throw invalidCredentials();
      refuseUnhashable(currentPassword, 'currentPassword');
      const problem = policy.problem(newPassword);
      if (problem) throw badUserInput('newPassword', passwordMessage(problem, policy.minLength));
      if (normalizePassword(newPassword) === normalizePassword(currentPassword)) {
        throw badUserInput('newPassword', 'The new password must differ from the current one');
      }
      const found = await verifyOwnPassword(id, currentPassword);
      const passwordHash = await hasher.hash(newPassword);
      // Two changes racing from the same current password: only the first takes effect; for the
      // other, the password it checked is no longer the current one.
      const from = found.credentialVersion ?? 0;
      if (!(await versions.raise(id, from, { passwordHash }))) {
        // The version moved: another change won, and the password checked is not current now.
        // It did not: a change still in progress holds it; this one may be tried again.
        if ((await versions.settled(id, from)) !== from) throw invalidCredentials();
        throw serviceUnavailable();
      }
      audit.record('user.password_changed', { userId: id });
      return toUser({ ...found, credentialVersion: from + 1 });
    },

    async confirmPassword(id, password) {
      if (!isValidObjectId(id)) throw invalidCredentials();
      refuseUnhashable(password, 'password');
      await verifyOwnPassword(id, password);
    },

    async confirmPasswordForLink(id, password) {
      if (!isValidObjectId(id)) throw invalidCredentials();
      refuseUnhashable(password, 'password');
      await verifyOwnPassword(id, password, `lockout:link:${id}`);
    },

    list: createUserList(deps),

    async ensureBootstrapAdmin(email, password) {
      const normalized = checkedEmail(email);
      // Registered: an email document whose user exists. Run from configuration at start-up, not
      // by clients, so its timing tells nobody anything. An abandoned claim is sign-up's to complete.
      const userId = await emails.userIdOf(normalized);
      if (userId && (await users.exists({ _id: userId }))) return 'exists';
      try {
        const admin = await signUp(normalized, password, ['USER', 'ADMIN']);
        await deps.roster.include(admin.id);
        audit.record('admin.bootstrap_created', { userId: admin.id });
        return 'created';
      } catch (error) {
        // Another replica created it between our check and insert.
        if (error instanceof AppError && error.details.field === 'email') return 'exists';
        throw error;
      }
    },
  };
}
