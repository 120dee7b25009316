import { Types } from 'mongoose';
import type { SequenceLogs } from '../../db/sequence-log.js';
import { AppError, ErrorCode, badUserInput, notFound } from '../../errors.js';
import { pseudonym, type AuditLog, type SecurityEvent } from '../../lib/security-events.js';
import { createKeyedMutex } from '../../lib/keyed-mutex.js';
import type { SessionService } from '../session/session.service.js';
import type { Account, AdminRoster } from './admin-roster.js';
import { DECOY_USER_ID } from './decoy-account.js';
import { createEmailClaims } from './email-claims.js';
import { erase, erasureSteps, type ErasureDeps } from './erasure.js';
import { ROLES, USERS_LOG, toUser, type Role, type User } from './user.model.js';
import { checkedEmail, type UserService } from './user.service.js';

/** Who asked: a signed-in admin (or the user, for deleteAccount), or the operator's CLI. */
export type Actor = { readonly userId: string } | 'operator';

export interface AccountSummary extends User {
  readonly disabled: boolean;
}

/**
 * Managing accounts: roles, disabling, erasure. Every change to an account's roles, disabled
 * flag or existence goes through the roster (admin-roster.ts), one at a time across replicas, so
 * none can leave no active ADMIN. No GraphQL here: the API and the operator's CLI share it.
 */
export interface AdminService {
  setRoles(actor: Actor, userId: string, roles: readonly Role[]): Promise<User>;
  grant(actor: Actor, userId: string, role: Role): Promise<User>;
  revoke(actor: Actor, userId: string, role: Role): Promise<User>;
  /** Its tokens stop working within the revocation bound, its sessions end now. */
  disable(actor: Actor, userId: string): Promise<User>;
  enable(actor: Actor, userId: string): Promise<User>;
  /** Erases the account (erasure.ts); the audit trail keeps it under a pseudonym. */
  deleteUser(actor: Actor, userId: string): Promise<void>;
  /** The signed-in user erases their own account, once the password checks out. */
  deleteAccount(userId: string, password: string): Promise<void>;
  /** For the operator's CLI: a new account with ADMIN (never an existing one). */
  createAdmin(email: string, password: string): Promise<User>;
  findByEmail(email: string): Promise<AccountSummary>;
  /** Every account in sign-up order, walking the users log by _id. */
  accounts(): AsyncGenerator<AccountSummary>;
}

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const ACCOUNT_FIELDS = 'email roles disabled erasingSince createdAt credentialVersion seq';
const LIST_PAGE = 100;
/** An erasure begun this recently may still be running: deleting again waits until then. */
const ERASING_MS = 60_000;

/** In the one spelling ids take everywhere else (roster, audit logs): lower-case hex. */
function checkedUserId(userId: string) {
  if (typeof userId !== 'string' || !OBJECT_ID.test(userId)) {
    throw badUserInput('userId', 'userId must be a user id (24 hexadecimal characters)');
  }
  return String(new Types.ObjectId(userId.toLowerCase()));
}

/** Non-empty, USER always, each role once, in ROLES order. */
function checkedRoles(roles: readonly Role[]): Role[] {
  if (!roles.includes('USER')) {
    throw badUserInput('roles', 'roles must include USER (every account has it)');
  }
  return ROLES.filter((role) => roles.includes(role));
}

const summary = (account: Account): AccountSummary => ({
  ...toUser(account),
  disabled: account.disabled,
});

export function createAdminService(
  deps: ErasureDeps & {
    userLogs: SequenceLogs;
    roster: AdminRoster;
    accounts: Pick<UserService, 'signUp' | 'confirmPassword'>;
    sessions: Pick<SessionService, 'revokeAllForUser' | 'forgetUser'>;
    audit: AuditLog & ErasureDeps['audit'];
  },
): AdminService {
  const { users, userLogs, roster, accounts, sessions, audit } = deps;
  const claims = createEmailClaims(deps.emails, users);
  const steps = erasureSteps(deps);
  // Two erasures of one account in this process run one after the other; the second finds it gone.
  const erasing = createKeyedMutex();

  const witnesses = (actor: Actor) => (actor === 'operator' ? [] : [actor.userId]);
  const actorOf = (actor: Actor) => (actor === 'operator' ? 'operator' : actor.userId);

  /** The account a change may touch: not missing, not the decoy, not being erased. */
  function existing(account: Account | null, erasable = false): Account {
    if (!account || DECOY_USER_ID.equals(account._id) || (account.erasingSince && !erasable)) {
      throw notFound('userId', 'No user has this id');
    }
    return account;
  }

  async function changeRoles(actor: Actor, userId: string, next: (current: Role[]) => Role[]) {
    const id = checkedUserId(userId);
    const { before, after } = await roster.change({
      target: id,
      witnesses: witnesses(actor),
      decide: (account) => {
        const found = existing(account);
        const roles = checkedRoles(next(found.roles));
        const same = roles.join() === found.roles.join();
        return {
          activeAdminAfter: !found.disabled && roles.includes('ADMIN'),
          write: same ? undefined : () => users.updateOne({ _id: id }, { $set: { roles } }),
          result: { before: found, after: { ...found, roles } },
        };
      },
    });
    if (before.roles.join() !== after.roles.join()) {
      audit.record('admin.roles_changed', {
        userId: id,
        actor: actorOf(actor),
        roles: after.roles.join(','),
        previous: before.roles.join(','),
      });
    }
    return toUser(after);
  }

  async function setDisabled(actor: Actor, userId: string, disabled: boolean) {
    const id = checkedUserId(userId);
    const found = await roster.change({
      target: id,
      witnesses: witnesses(actor),
      decide: (account) => {
        const current = existing(account);
        return {
          activeAdminAfter: !disabled && current.roles.includes('ADMIN'),
          write:
            current.disabled === disabled
              ? undefined
              : () => users.updateOne({ _id: id }, { $set: { disabled } }),
          result: current,
        };
      },
    });
    // Again when already disabled: a sign-in that raced the first time ends here. Its API keys go
    // too: enabling the account again must not bring back keys made before it was disabled.
    const ended = disabled ? await sessions.revokeAllForUser(id) : 0;
    if (disabled) await deps.apiKeys.revokeAllForUser(id);
    if (found.disabled !== disabled) {
      const event: SecurityEvent = disabled ? 'admin.user_disabled' : 'admin.user_enabled';
      audit.record(event, {
        userId: id,
        actor: actorOf(actor),
        sessions: disabled ? ended : undefined,
      });
    }
    // The account as it is now, not as it was read before the change.
    return toUser({ ...found, disabled });
  }

  function eraseAccount(actor: Actor, userId: string, event: SecurityEvent) {
    return erasing(userId, async () => {
      const account = await roster.change({
        target: userId,
        witnesses: witnesses(actor),
        decide: (current) => {
          const found = existing(current, true);
          // Another replica is erasing it now; one whose erasure stopped short is finished later.
          if (found.erasingSince && Date.now() - found.erasingSince.getTime() < ERASING_MS) {
            throw notFound('userId', 'No user has this id (it is being deleted)');
          }
          return {
            activeAdminAfter: false,
            // Disabled at once: tokens stop working and sign-ins are refused while the rest goes.
            write: found.erasingSince
              ? undefined
              : () =>
                  users.updateOne(
                    { _id: userId },
                    { $set: { disabled: true, erasingSince: new Date() } },
                  ),
            result: found,
          };
        },
      });
      await erase(steps, { userId, account });
      // Under the pseudonym the audit trail keeps for the user (see audit-erasure.ts).
      const alias = pseudonym(userId);
      const by = actorOf(actor);
      audit.record(event, { userId: alias, actor: by === userId ? alias : by });
    });
  }

  return {
    setRoles: (actor, userId, roles) => changeRoles(actor, userId, () => [...roles]),
    grant: (actor, userId, role) => changeRoles(actor, userId, (roles) => [...roles, role]),
    revoke: (actor, userId, role) =>
      changeRoles(actor, userId, (roles) => roles.filter((held) => held !== role)),
    disable: (actor, userId) => setDisabled(actor, userId, true),
    enable: (actor, userId) => setDisabled(actor, userId, false),

    async deleteUser(actor, userId) {
      await eraseAccount(actor, checkedUserId(userId), 'admin.user_deleted');
    },

    async deleteAccount(userId, password) {
      await accounts.confirmPassword(userId, password);
      try {
        await eraseAccount({ userId }, checkedUserId(userId), 'user.account_deleted');
      } catch (error) {
        // A second deleteAccount of the viewer's that was checking the password meanwhile: what
        // it asked for is done.
        if (error instanceof AppError && error.code === ErrorCode.NOT_FOUND) return;
        throw error;
      }
    },

    async createAdmin(email, password) {
      const user = await accounts.signUp(email, password, ['USER', 'ADMIN']);
      await roster.include(user.id);
      audit.record('admin.user_created', { userId: user.id, actor: 'operator' });
      return user;
    },

    async findByEmail(email) {
      const normalized = checkedEmail(email);
      const userId = await claims.userIdOf(normalized);
      const account = userId ? await users.findById(userId).select(ACCOUNT_FIELDS).lean() : null;
      if (!account || account.email !== normalized || account.erasingSince) {
        throw notFound('email', 'No user has this email');
      }
      return summary(account);
    },

    async *accounts() {
      let from: number | undefined;
      for (;;) {
        const entries = await userLogs.oldest(USERS_LOG, LIST_PAGE, from);
        if (entries.length === 0) return;
        for (const { ref, seq } of entries) {
          if (!OBJECT_ID.test(ref) || DECOY_USER_ID.equals(ref)) continue;
          const doc = await users.findById(ref).select(ACCOUNT_FIELDS).lean();
          // An entry whose user's seq differs is a dead sign-up's (see UserService.signUp).
          if (doc && doc.seq === seq) yield summary(doc);
        }
        from = entries[entries.length - 1]!.seq;
      }
    },
  };
}
