import { isValidObjectId } from 'mongoose';
import { AppError, badUserInput, invalidCredentials } from '../../errors.js';
import { isValidEmail, normalizeEmail } from '../../lib/email.js';
import {
  MAX_PASSWORD_BYTES,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  type PasswordHasher,
} from '../../lib/password.js';
import type { Logger } from '../../lib/logger.js';
import { isDuplicateKeyError, toUser, type Role, type User, type UserModel } from './user.model.js';

const PASSWORD_MESSAGES = {
  too_short: `Password must be at least ${MIN_PASSWORD_LENGTH} characters`,
  too_long: `Password must be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8)`,
  nul_character: 'Password must not contain NUL characters',
} as const;

export const MAX_PAGE_SIZE = 100;

export interface UserService {
  signUp(email: string, password: string, roles?: Role[]): Promise<User>;
  /** Throws invalidCredentials for an unknown email and a wrong password alike. */
  authenticate(email: string, password: string): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  list(first: number, after: string | undefined): Promise<User[]>;
  /** Creates the account with ADMIN if the email is free; never touches an existing account. */
  ensureBootstrapAdmin(email: string, password: string): Promise<'created' | 'exists'>;
}

function checkedEmail(email: string) {
  const normalized = normalizeEmail(email);
  if (!isValidEmail(normalized)) throw badUserInput('email', 'Email address is not valid');
  return normalized;
}

function checkPassword(password: string) {
  const problem = passwordProblem(password);
  if (problem) throw badUserInput('password', PASSWORD_MESSAGES[problem]);
}

export function createUserService(deps: {
  users: UserModel;
  hasher: PasswordHasher;
  logger: Logger;
}): UserService {
  const { users, hasher, logger } = deps;

  async function signUp(email: string, password: string, roles: Role[] = ['USER']) {
    const normalized = checkedEmail(email);
    checkPassword(password);
    const passwordHash = await hasher.hash(password);
    try {
      const created = await users.create({ email: normalized, passwordHash, roles });
      return toUser(created);
    } catch (error) {
      if (isDuplicateKeyError(error)) throw badUserInput('email', 'Email is already registered');
      throw error;
    }
  }

  return {
    signUp,

    async authenticate(email, password) {
      const normalized = normalizeEmail(email);
      // bcrypt ignores bytes after the 72nd, so such a password could match a different stored one;
      // sign-up never stores either kind, so refusing them here loses nothing.
      const problem = passwordProblem(password);
      if (problem === 'too_long' || problem === 'nul_character') {
        throw badUserInput('password', PASSWORD_MESSAGES[problem]);
      }
      const found = isValidEmail(normalized)
        ? await users.findOne({ email: normalized }).select('+passwordHash').lean()
        : null;
      const matches = await hasher.verify(password, found?.passwordHash);
      if (!found || !matches) throw invalidCredentials();
      if (hasher.needsRehash(found.passwordHash)) {
        const passwordHash = await hasher.hash(password);
        await users.updateOne({ _id: found._id }, { $set: { passwordHash } });
        logger.info({ userId: String(found._id) }, 'password re-hashed at the configured cost');
      }
      return toUser(found);
    },

    async findById(id) {
      if (!isValidObjectId(id)) return undefined;
      const found = await users.findById(id).lean();
      return found ? toUser(found) : undefined;
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
        await signUp(normalized, password, ['USER', 'ADMIN']);
        return 'created';
      } catch (error) {
        // Another replica created it between our check and insert.
        if (error instanceof AppError && error.details.field === 'email') return 'exists';
        throw error;
      }
    },
  };
}
