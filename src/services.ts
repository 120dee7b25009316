import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Config } from './config/config.js';
import { createAuthenticator, type Authenticate, type KeyHolder } from './auth/authenticate.js';
import { createViewerStateCache, loadViewerAccount } from './auth/viewer-state.js';
import type { Services } from './graphql/context.js';
import { createMigrations } from './db/migrations.js';
import { pseudonym } from './lib/security-events.js';
import { createApiKeyModels } from './modules/api-key/api-key.model.js';
import { createApiKeyService } from './modules/api-key/api-key.service.js';
import { createAccountFlows } from './modules/account-recovery/account-flows.js';
import { createBackgroundTasks, type BackgroundTasks } from './lib/background.js';
import type { OneTimeTokens } from './modules/one-time-token/one-time-token.service.js';
import { createTokenService } from './lib/jwt.js';
import type { KeyRing } from './lib/keys.js';
import type { Sealer } from './lib/data-encryption.js';
import { createMfa } from './modules/mfa/mfa.js';
import type { Logger } from './lib/logger.js';
import type { Metrics } from './lib/metrics.js';
import { createPasswordHasher, createPasswordPolicy, type PasswordHasher } from './lib/password.js';
import type { RequestInfoStore } from './lib/request-info.js';
import { SequenceLogs, createSequenceLogModel } from './db/sequence-log.js';
import { backfillAuditLogs } from './modules/audit/audit-backfill.js';
import { createErasedUserModel, createErasedUsers } from './modules/audit/audit-erasure.js';
import { createAuditEventModel } from './modules/audit/audit.model.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createMailer, type MailService } from './modules/mail/mailer.js';
import { createMailModels } from './modules/mail/outbox.model.js';
import { createMailTransport } from './modules/mail/transport.js';
import { createSignInService } from './modules/sign-in/sign-in.service.js';
import { createDeviceTokens } from './modules/sign-in/device-tokens.js';
import { createRefreshCookie } from './modules/session/refresh-cookie.js';
import { migrateLegacySessions } from './modules/session/session-migration.js';
import { createSessionModels } from './modules/session/session.model.js';
import { createSessionService } from './modules/session/session.service.js';
import { createAdminRoster, createRosterModel } from './modules/user/admin-roster.js';
import { createAdminService } from './modules/user/admin.service.js';
import { ensureDecoyAccount } from './modules/user/decoy-account.js';
import { backfillUserEmails, backfillUsersLog } from './modules/user/user-backfills.js';
import {
  createCredentialChangeModel,
  createUserEmailModel,
  createUserModel,
} from './modules/user/user.model.js';
import { createUserService } from './modules/user/user.service.js';
import { MemoryLockoutStore, type LockoutStore } from './rate-limit/lockout.js';
import { RedisLockoutStore } from './rate-limit/lockout-redis.js';
import { createInvalidTokenLimit } from './rate-limit/invalid-tokens.js';
import { BoundedMemoryWindowStore } from './rate-limit/memory-store.js';
import { RedisWindowStore } from './rate-limit/redis-store.js';
import type { SlidingWindowStore } from './rate-limit/store.js';
import { createStoreFallback, type StoreFallback } from './rate-limit/store-fallback.js';

export interface ServiceDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly connection: Connection;
  readonly keys: KeyRing;
  readonly requests: RequestInfoStore;
  readonly metrics: Metrics;
  /** Shared limits and lockouts for every replica; without it they live in this process. */
  readonly redis?: Redis;
  /**
   * The entry point passes the hasher it closes at shutdown; tests pass the real one wrapped to
   * count verifications. Without one, a hasher is made here, and closing the services ends it.
   */
  readonly hasher?: PasswordHasher;
  /** Seals TOTP secrets at rest; absent only in production with TOTP off and no key. */
  readonly sealer?: Sealer;
}

function protectionStores(config: Config, redis: Redis | undefined) {
  const policy = {
    threshold: config.lockout.threshold,
    maxDelayMs: config.lockout.maxDelaySeconds * 1000,
    hourlyCap: config.lockout.hourlyCap,
  };
  const windows: SlidingWindowStore = redis
    ? new RedisWindowStore(redis)
    : new BoundedMemoryWindowStore(config.rateLimit.memoryMaxKeys);
  const lockout: LockoutStore = redis
    ? new RedisLockoutStore(redis, policy)
    : new MemoryLockoutStore(policy, config.rateLimit.memoryMaxKeys);
  // A map of its own in memory: one junk token makes a key, and a flood of them from many
  // addresses must not push the login limits' keys out.
  const invalidTokens: SlidingWindowStore = redis
    ? windows
    : new BoundedMemoryWindowStore(config.rateLimit.memoryMaxKeys);
  return { windows, lockout, invalidTokens };
}

/** Every service, wired once at start-up around one connection, key ring and store backend. */
export async function createServices(deps: ServiceDeps): Promise<{
  services: Services;
  /** The same mailer as services.mail, with its worker's controls (start, deliverDue, close). */
  mailer: MailService;
  /** What requests started to finish after their response (see lib/background.ts). */
  background: BackgroundTasks;
  /** The mailed links' tokens, for the hourly sweep. */
  oneTimeTokens: OneTimeTokens;
  windows: SlidingWindowStore;
  /** Who is calling, from a request's Authorization header. */
  authenticate: Authenticate;
  withFallback: StoreFallback;
  /** Ends what was made here: the mail worker, a hasher's threads (they would outlive the app). */
  close(): Promise<void>;
}> {
  const { config, logger, connection } = deps;
  const userModel = createUserModel(connection);
  const emailModel = createUserEmailModel(connection);
  const sessionModels = createSessionModels(connection);
  const auditModel = createAuditEventModel(connection);
  // Unique indexes exist before the first sign-up can race another. The other collections
  // declare none: every access to them is by _id.
  await Promise.all([userModel, auditModel].map((model) => model.createIndexes()));
  // Before the server listens: login finds users only through user_emails.
  const migrations = createMigrations(connection);
  const userLogs = new SequenceLogs(createSequenceLogModel(connection, 'user_logs'));
  await backfillUserEmails({ users: userModel, emails: emailModel, migrations, logger });
  await backfillUsersLog({ users: userModel, logs: userLogs, migrations, logger });
  await ensureDecoyAccount(userModel);
  const roster = createAdminRoster({ roster: createRosterModel(connection), users: userModel });
  await roster.initialize();
  const migrated = await migrateLegacySessions(connection, sessionModels, new Date());
  if (migrated && migrated.sessions + migrated.refreshTokens > 0) {
    logger.info({ migrated }, 'sessions from before the upgrade converted');
  }
  const auditLogs = new SequenceLogs(createSequenceLogModel(connection, 'audit_logs'));
  await backfillAuditLogs({ events: auditModel, logs: auditLogs, migrations, logger });
  const audit = createAuditService({
    events: auditModel,
    logs: auditLogs,
    logger,
    requests: deps.requests,
    metrics: deps.metrics,
    retentionSeconds: config.auditRetentionSeconds,
    erased: createErasedUsers(createErasedUserModel(connection)),
  });
  const withFallback = createStoreFallback({ failOpen: config.rateLimit.failOpen, audit });
  const stores = protectionStores(config, deps.redis);
  const hasher = deps.hasher ?? (await createPasswordHasher(config.hashing));
  const credentialChanges = createCredentialChangeModel(connection);
  const users = createUserService({
    users: userModel,
    emails: emailModel,
    logs: userLogs,
    credentialChanges,
    hasher,
    policy: createPasswordPolicy(config.passwordMinLength),
    lockout: stores.lockout,
    withFallback,
    logger,
    audit,
    roster,
  });
  const tokens = createTokenService({
    keys: deps.keys,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.accessTokenTtlSeconds,
    defaultClientId: config.oauth.defaultClientId,
  });
  const sessions = createSessionService({
    ...sessionModels,
    policy: {
      ttlSeconds: config.refresh.ttlSeconds,
      idleTtlSeconds: config.refresh.idleTtlSeconds,
      reuseGraceSeconds: config.refresh.reuseGraceSeconds,
    },
    audit,
  });
  const apiKeys = createApiKeyService({
    ...createApiKeyModels(connection),
    audit,
    isUsable: async (userId) => (await users.findUsable(userId)) !== undefined,
  });
  const mailer = createMailer({
    models: createMailModels(connection),
    transport: createMailTransport({
      smtpUrl: config.mail.smtpUrl,
      from: config.mail.from,
      dataDir: config.dataDir,
      logger,
    }),
    logger,
    publicUrl: config.mail.publicUrl,
    enabled: config.mail.enabled,
    sealer: deps.sealer,
  });
  const background = createBackgroundTasks(logger);
  const accountFlows = createAccountFlows({
    config,
    connection,
    users,
    userModels: { users: userModel, emails: emailModel, credentialChanges },
    sessions,
    apiKeys,
    mail: mailer,
    windows: stores.windows,
    audit,
    background,
  });
  const mfa = createMfa({
    connection,
    config,
    sealer: deps.sealer,
    lockout: stores.lockout,
    withFallback,
    audit,
    users,
    mail: mailer,
    background,
  });
  const services: Services = {
    users,
    passwordReset: accountFlows.passwordReset,
    emailVerification: accountFlows.emailVerification,
    emailChange: accountFlows.emailChange,
    mfa: mfa.service,
    apiKeys,
    tokens,
    sessions,
    audit,
    signIn: createSignInService({
      users,
      sessions,
      tokens,
      audit,
      apiKeys,
      background,
      mail: mailer,
      verification: {
        required: config.emailVerification.required,
        mailLink: accountFlows.emailVerification.mailLink,
        notifySignUpAttempt: accountFlows.emailVerification.notifySignUpAttempt,
        mailSignUpLink: accountFlows.emailVerification.mailSignUpLink,
        completeSignUp: accountFlows.emailVerification.completeSignUp,
      },
      mfa: mfa.service,
      challenges: mfa.challenges,
      devices: createDeviceTokens({
        keys: deps.keys,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        ttlSeconds: config.deviceTokenTtlSeconds,
      }),
    }),
    refreshCookie: createRefreshCookie({
      name: config.refresh.cookieName,
      secure: config.refresh.cookieSecure,
    }),
    deviceCookie: createRefreshCookie({
      name: config.deviceCookieName,
      secure: config.refresh.cookieSecure,
    }),
    admin: createAdminService({
      users: userModel,
      emails: emailModel,
      credentialChanges,
      userLogs,
      roster,
      accounts: users,
      sessions,
      audit,
      apiKeys,
      linkTokens: accountFlows.tokens,
      mfa: mfa.service,
    }),
    mail: mailer,
  };
  const perApiKey = config.rateLimit.perApiKey;
  const authenticate = createAuthenticator({
    tokens,
    audit,
    viewerState: createViewerStateCache({
      ttlMs: config.revocationCacheTtlMs,
      load: loadViewerAccount(users, sessions),
    }),
    keyState: createViewerStateCache<KeyHolder>({
      ttlMs: config.revocationCacheTtlMs,
      load: async (keyId, hash) => {
        const key = await apiKeys.verify(keyId, hash);
        const owner = key && (await users.findUsable(key.userId));
        return key && owner ? { key, owner } : undefined;
      },
    }),
    apiKeys,
    perApiKey: async (keyId) => {
      const hit = await withFallback(
        () =>
          stores.windows.hit(
            `rl:${pseudonym(`api-key\n${keyId}`)}`,
            perApiKey.max,
            perApiKey.windowMs,
          ),
        { allowed: true, previous: [], retryAfterMs: 0 },
      );
      return hit.allowed ? 0 : hit.retryAfterMs;
    },
    invalidTokens: createInvalidTokenLimit(
      stores.invalidTokens,
      config.rateLimit.invalidTokensPerIp,
    ),
  });
  return {
    services,
    mailer,
    background,
    oneTimeTokens: accountFlows.tokens,
    windows: stores.windows,
    authenticate,
    withFallback,
    async close() {
      // Work started by requests (a reset's lookup, a sign-up's notice) may still enqueue mail.
      await background.settle();
      await mailer.close();
      // A hasher passed in is its owner's to close.
      if (!deps.hasher) await hasher.close();
    },
  };
}
