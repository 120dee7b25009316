import type { Connection } from 'mongoose';
import type { Config } from '../../config/config.js';
import { SequenceLogs, createSequenceLogModel } from '../../db/sequence-log.js';
import type { BackgroundTasks } from '../../lib/background.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { SlidingWindowStore } from '../../rate-limit/store.js';
import type { ApiKeyService } from '../api-key/api-key.service.js';
import type { Mailer } from '../mail/mail.js';
import { createOneTimeTokenModels } from '../one-time-token/one-time-token.model.js';
import { createOneTimeTokens } from '../one-time-token/one-time-token.service.js';
import type { SessionService } from '../session/session.service.js';
import { createEmailChange } from '../user/email-change.js';
import type { CredentialChangeModel, UserEmailModel, UserModel } from '../user/user.model.js';
import type { UserService } from '../user/user.service.js';
import { createEmailChangeFlow } from './email-change.js';
import { createEmailVerification } from './email-verification.js';
import { createPasswordReset } from './password-reset.js';

/** The flows that work by mailed links, over one store of one-time tokens. */
export function createAccountFlows(deps: {
  config: Config;
  connection: Connection;
  users: UserService;
  userModels: {
    users: UserModel;
    emails: UserEmailModel;
    credentialChanges: CredentialChangeModel;
  };
  sessions: Pick<SessionService, 'revokeAllForUser'>;
  apiKeys: Pick<ApiKeyService, 'revokeAllForUser'>;
  mail: Mailer;
  windows: SlidingWindowStore;
  audit: AuditLog;
  background: BackgroundTasks;
}) {
  const { config, connection, users, mail, windows, audit, background } = deps;
  const tokens = createOneTimeTokens({
    ...createOneTimeTokenModels(connection),
    logs: new SequenceLogs(createSequenceLogModel(connection, 'link_token_logs')),
  });
  const emailVerification = createEmailVerification(
    { users, tokens, mail, windows, audit, background },
    config.emailVerification,
  );
  return {
    tokens,
    emailVerification,
    passwordReset: createPasswordReset({ ...deps, tokens, users }, config.passwordReset),
    emailChange: createEmailChangeFlow(
      {
        users,
        tokens,
        mail,
        windows,
        audit,
        change: createEmailChange({ ...deps.userModels, audit }),
      },
      {
        ttlMs: config.emailVerification.ttlMs,
        mailsPerRecipient: config.emailVerification.mailsPerAccount,
      },
    ),
  };
}
