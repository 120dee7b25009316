import type { ApiKeyService } from '../api-key/api-key.service.js';
import type { OneTimeTokens } from '../one-time-token/one-time-token.service.js';
import type { MfaService } from '../mfa/mfa.service.js';
import type { SequenceLogs } from '../../db/sequence-log.js';
import type { AuditService } from '../audit/audit.service.js';
import type { SessionService } from '../session/session.service.js';
import type { Account } from './admin-roster.js';
import { DECOY_USER_ID } from './decoy-account.js';
import { emailChangeKey } from './email-change.js';
import {
  USERS_LOG,
  type CredentialChangeModel,
  type UserEmailModel,
  type UserModel,
} from './user.model.js';

/** Point deletes of credential_changes issued at once. */
const DELETE_BATCH = 100;

export interface Erasure {
  readonly userId: string;
  /** The account as it was when its erasure began (disabled by then). */
  readonly account: Account;
}

export interface ErasureStep {
  readonly name: string;
  run(erasure: Erasure): Promise<unknown>;
}

export interface ErasureDeps {
  users: UserModel;
  emails: UserEmailModel;
  credentialChanges: CredentialChangeModel;
  /** The users log (USERS_LOG): the user's entry is pointed at no account. */
  userLogs: SequenceLogs;
  sessions: Pick<SessionService, 'forgetUser'>;
  audit: Pick<AuditService, 'forgetUser'>;
  apiKeys: Pick<ApiKeyService, 'revokeAllForUser'>;
  /** Password reset, verification and email change links (they name the user and addresses). */
  linkTokens: Pick<OneTimeTokens, 'forgetUser'>;
  mfa: Pick<MfaService, 'forgetUser'>;
}

/**
 * What erasing an account removes, in order: each step finds what it deletes by `_id` and may run
 * again, so an erasure cut short is finished by deleting the account again (its document goes
 * last, and until then it is disabled and marked as being erased). A new kind of per-user data
 * adds one step here, as API keys did.
 */
export function erasureSteps(deps: ErasureDeps): readonly ErasureStep[] {
  const { users, emails, credentialChanges, userLogs, sessions, audit, apiKeys, linkTokens } = deps;
  return [
    // First, so that events recorded from here on are stored under the pseudonym.
    { name: 'audit events', run: ({ userId }) => audit.forgetUser(userId) },
    // Refresh fails at once; a sign-in still in flight is refused by the disabled account.
    { name: 'sessions', run: ({ userId }) => sessions.forgetUser(userId) },
    { name: 'API keys', run: ({ userId }) => apiKeys.revokeAllForUser(userId) },
    { name: 'mailed link tokens', run: ({ userId }) => linkTokens.forgetUser(userId) },
    // The sealed TOTP secret and recovery-code hashes (spent-code claims name only a time step).
    { name: 'two-factor', run: ({ userId }) => deps.mfa.forgetUser(userId) },
    {
      name: 'credential changes',
      // `<userId>:<version>` up to the one a change may hold; the markers of claims given back
      // after a crash are keyed by a time no document keeps, and are not found.
      run: async ({ userId, account }) => {
        const last = (account.credentialVersion ?? 0) + 1;
        for (let from = 1; from <= last; from += DELETE_BATCH) {
          const versions = Array.from(
            { length: Math.min(DELETE_BATCH, last - from + 1) },
            (_, i) => from + i,
          );
          await Promise.all(
            versions.map((version) => credentialChanges.deleteOne({ _id: `${userId}:${version}` })),
          );
        }
        // An email change's hold, if one crashed holding it.
        await credentialChanges.deleteOne({ _id: emailChangeKey(userId) });
      },
    },
    {
      name: 'users log entry',
      // Pointed at the decoy, which is never listed, rather than deleted: a gap would read as
      // the log's end.
      run: ({ userId, account }) =>
        account.seq === undefined
          ? Promise.resolve()
          : userLogs.rewrite(USERS_LOG, account.seq, userId, String(DECOY_USER_ID)),
    },
    {
      name: 'email claim',
      run: async ({ userId, account }) => {
        const claim = await emails.findById(account.email).lean();
        if (claim && String(claim.userId) === userId) {
          await emails.deleteOne({ _id: account.email });
        }
      },
    },
    { name: 'account', run: ({ userId }) => users.deleteOne({ _id: userId }) },
    // Again, for what was written meanwhile: a sign-in that was in flight, and events whose
    // write began before the first step.
    { name: 'late sessions', run: ({ userId }) => sessions.forgetUser(userId) },
    { name: 'late API keys', run: ({ userId }) => apiKeys.revokeAllForUser(userId) },
    { name: 'late link tokens', run: ({ userId }) => linkTokens.forgetUser(userId) },
    // An enrollTotp or confirmTotp that read the account before it was disabled.
    { name: 'late two-factor', run: ({ userId }) => deps.mfa.forgetUser(userId) },
    { name: 'late audit events', run: ({ userId }) => audit.forgetUser(userId) },
  ];
}

export async function erase(steps: readonly ErasureStep[], erasure: Erasure): Promise<void> {
  for (const step of steps) await step.run(erasure);
}
