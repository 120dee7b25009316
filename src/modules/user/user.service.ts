import { isValidObjectId } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import { AppError, badUserInput, invalidCredentials, rateLimited } from '../../errors.js';
import { isValidEmail, normalizeEmail } from '../../lib/email.js';
import type { Logger } from '../../lib/logger.js';
import {
  MAX_PASSWORD_BYTES,
  passwordProblem,
  type PasswordHasher,
  type PasswordPolicy,
  type PasswordProblem,
} from '../../lib/password.js';
import { pseudonym, type AuditLog } from '../../lib/security-events.js';
import type { Gate, LockoutStore } from '../../rate-limit/lockout.js';
import type { StoreGuard } from '../../rate-limit/store-guard.js';
import { toUser, type Role, type User, type UserModel } from './user.model.js';

export const MAX_PAGE_SIZE = 100;
const OPEN_GATE: Gate = { allowed: true, retryAfterMs: 0 };

const passwordMessage = (problem: PasswordProblem, minLength: number) =>
  ({
    too_short: `Password must be at least ${minLength} characters`,
    too_long: `Password must be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8)`,
    nul_character: 'Password must not contain NUL characters',
    common: 'Password is too common; choose one that is harder to guess',
  })[problem];

export interface UserService {
  signUp(email: string, password: string, roles?: Role[]): Promise<User>;
  /** Throws invalidCredentials for an unknown email and a wrong password alike. */
  authenticate(email: string, password: string): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  /** The user if the account exists and is not disabled. */
  findUsable(id: string): Promise<User | undefined>;
  /** Checks the current password (with the login protections), then stores the new one. */
  changePassword(id: string, currentPassword: string, newPassword: string): Promise<User>;
  list(first: number, after: string | undefined): Promise<User[]>;
  /** Creates the account with ADMIN if the email is free; never touches an existing account. */
  ensureBootstrapAdmin(email: string, password: string): Promise<'created' | 'exists'>;
}

export interface UserServiceDeps {
  users: UserModel;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  lockout: LockoutStore;
  guard: StoreGuard;
  logger: Logger;
  audit: AuditLog;
}

function checkedEmail(email: string) {
  const normalized = normalizeEmail(email);
  if (!isValidEmail(normalized)) throw badUserInput('email', 'Email address is not valid');
  return normalized;
}

export function createUserService(deps: UserServiceDeps): UserService {
  const { users, hasher, policy, lockout, guard, logger, audit } = deps;

  async function signUp(email: string, password: string, roles: Role[] = ['USER']) {
    const normalized = checkedEmail(email);
    const problem = policy.problem(password);
    if (problem) throw badUserInput('password', passwordMessage(problem, policy.minLength));
    const passwordHash = await hasher.hash(password);
    try {
      const created = await users.create({ email: normalized, passwordHash, roles });
      audit.record('user.signed_up', { userId: String(created._id) });
      return toUser(created);
    } catch (error) {
      if (isDuplicateKeyError(error)) throw badUserInput('email', 'Email is already registered');
      throw error;
    }
  }

  async function verifyPassword(normalizedEmail: string, password: string) {
    const found = isValidEmail(normalizedEmail)
      ? await users.findOne({ email: normalizedEmail }).select('+passwordHash').lean()
      : null;
    const matches = await hasher.verify(password, found?.passwordHash);
    return found && matches ? found : undefined;
  }

  async function authenticate(email: string, password: string): Promise<User> {
    // bcrypt ignores bytes after the 72nd, so such a password could match a different stored one;
    // sign-up never stores either kind, so refusing them here loses nothing.
    const problem = passwordProblem(password, 1);
    if (problem === 'too_long' || problem === 'nul_character') {
      throw badUserInput('password', passwordMessage(problem, policy.minLength));
    }
    const normalized = normalizeEmail(email);
    // Keyed by email whether or not the account exists, so lockouts reveal nothing.
    const account = `lockout:${pseudonym(normalized)}`;
    const gate = await guard(() => lockout.begin(account), OPEN_GATE);
    if (!gate.allowed) {
      audit.record('login.refused_while_locked', { account: pseudonym(normalized) });
      throw rateLimited(gate.retryAfterMs);
    }

    const found = await verifyPassword(normalized, password);
    if (!found || found.disabled) {
      audit.record('login.failed', { account: pseudonym(normalized) });
      const lockedForMs = await guard(() => lockout.recordFailure(account), 0);
      if (lockedForMs > 0) {
        audit.record('login.locked_out', {
          account: pseudonym(normalized),
          lockedForMs,
        });
      }
      throw invalidCredentials();
    }
    await guard(() => lockout.recordSuccess(account), undefined);
    audit.record('login.succeeded', { userId: String(found._id) });
    if (hasher.needsRehash(found.passwordHash)) {
      const passwordHash = await hasher.hash(password);
      await users.updateOne({ _id: found._id }, { $set: { passwordHash } });
      logger.info({ userId: String(found._id) }, 'password re-hashed at the configured cost');
    }
    return toUser(found);
  }

  return {
    signUp,

    authenticate,

    async findById(id) {
      if (!isValidObjectId(id)) return undefined;
      const found = await users.findById(id).lean();
      return found ? toUser(found) : undefined;
    },

    async findUsable(id) {
      if (!isValidObjectId(id)) return undefined;
      const found = await users.findOne({ _id: id, disabled: { $ne: true } }).lean();
      return found ? toUser(found) : undefined;
    },

    async changePassword(id, currentPassword, newPassword) {
      const current = await users.findById(id).lean();
      if (!current) throw invalidCredentials();
      const problem = policy.problem(newPassword);
      if (problem) throw badUserInput('newPassword', passwordMessage(problem, policy.minLength));
      const user = await authenticate(current.email, currentPassword);
      const passwordHash = await hasher.hash(newPassword);
      await users.updateOne({ _id: id }, { $set: { passwordHash } });
      return user;
    },

    async list(first, after) {
      if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
        throw badUserInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`);
      }
      if (after !== undefined && !isValidObjectId(after)) {
        throw badUserInput('after', 'after must be a user id');
      }
      const filter = after === undefined ? {} : { _id: { $gt: after } };
      const found = await users.find(filter).sort({ _id: 1 }).limit(first).lean();
      return found.map(toUser);
    },

    async ensureBootstrapAdmin(email, password) {
      const normalized = checkedEmail(email);
      if (await users.exists({ email: normalized })) return 'exists';
      try {
        const admin = await signUp(normalized, password, ['USER', 'ADMIN']);
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
