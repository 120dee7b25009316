import type { Connection } from 'mongoose';
import type { Config } from '../../config/config.js';
import { SequenceLogs } from '../../db/sequence-log.js';
import type { BackgroundTasks } from '../../lib/background.js';
import type { Sealer } from '../../lib/data-encryption.js';
import type { AuditLog } from '../../lib/security-events.js';
import type { LockoutStore } from '../../rate-limit/lockout.js';
import type { StoreFallback } from '../../rate-limit/store-fallback.js';
import type { Mailer } from '../mail/mail.js';
import type { UserService } from '../user/user.service.js';
import { createFactorCodes } from './factor-codes.js';
import { createMfaChallenges } from './mfa-challenges.js';
import { createMfaModels } from './mfa.model.js';
import { createMfaService } from './mfa.service.js';

/** The two-factor services, wired around one connection, key and lockout store. */
export function createMfa(deps: {
  connection: Connection;
  config: Config;
  /** Absent only in production with TOTP_ENABLED=false and no DATA_ENCRYPTION_KEY. */
  sealer: Sealer | undefined;
  lockout: LockoutStore;
  withFallback: StoreFallback;
  audit: AuditLog;
  users: UserService;
  mail: Pick<Mailer, 'enqueue'>;
  background: BackgroundTasks;
  now?: () => number;
}) {
  const { config, audit, users } = deps;
  const now = deps.now ?? Date.now;
  const models = createMfaModels(deps.connection);
  const logs = new SequenceLogs(models.logs);
  const codes = createFactorCodes({ ...deps, models, logs, now });
  return {
    service: createMfaService({
      models,
      codes,
      users,
      audit,
      issuer: config.jwtIssuer,
      enabled: config.mfa.totpEnabled,
      challengeAttempts: config.mfa.challengeAttempts,
      logs,
      mail: deps.mail,
      background: deps.background,
      now,
    }),
    challenges: createMfaChallenges({
      models,
      codes,
      users,
      audit,
      logs,
      ttlSeconds: config.mfa.challengeTtlSeconds,
      attempts: config.mfa.challengeAttempts,
      now,
    }),
  };
}
