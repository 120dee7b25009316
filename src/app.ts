import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Config } from './config.js';
import type { Services } from './context.js';
import { isDatabaseReady } from './db/mongo.js';
import { createClientIpResolver, createProxyTrust } from './lib/client-ip.js';
import { createTokenService } from './lib/jwt.js';
import type { KeyRing } from './lib/keys.js';
import type { Logger } from './lib/logger.js';
import { createPasswordHasher, createPasswordPolicy, type PasswordHasher } from './lib/password.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createRefreshCookie } from './modules/session/refresh-cookie.js';
import { createSessionModels } from './modules/session/session.model.js';
import { createSessionService } from './modules/session/session.service.js';
import { createViewerStateCache } from './modules/session/viewer-state.js';
import { createUserModel } from './modules/user/user.model.js';
import { createUserService } from './modules/user/user.service.js';
import { MemoryLockoutStore, RedisLockoutStore, type LockoutStore } from './rate-limit/lockout.js';
import { BoundedMemoryWindowStore } from './rate-limit/memory-store.js';
import { RedisWindowStore } from './rate-limit/redis-store.js';
import type { SlidingWindowStore } from './rate-limit/store.js';
import { createStoreGuard } from './rate-limit/store-guard.js';
import { createServer, type Server } from './server.js';

export interface App {
  readonly server: Server;
  readonly services: Services;
}

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly connection: Connection;
  readonly keys: KeyRing;
  /** Shared limits and lockouts for every replica; without it they live in this process. */
  readonly redis?: Redis;
  /** Tests pass the real hasher wrapped to count verifications. */
  readonly hasher?: PasswordHasher;
}

function createProtectionStores(config: Config, redis: Redis | undefined) {
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
  return { windows, lockout };
}

/** Wires services and the Yoga server around an open database connection and a signing secret. */
export async function createApp(deps: AppDeps): Promise<App> {
  const { config, logger, connection } = deps;
  const userModel = createUserModel(connection);
  const sessionModels = createSessionModels(connection);
  // Build unique indexes before the first sign-up can race another.
  await Promise.all([
    userModel.createIndexes(),
    sessionModels.sessions.createIndexes(),
    sessionModels.refreshTokens.createIndexes(),
  ]);
  const guard = createStoreGuard({ failOpen: config.rateLimit.failOpen, logger });
  const stores = createProtectionStores(config, deps.redis);
  const users = createUserService({
    users: userModel,
    hasher: deps.hasher ?? (await createPasswordHasher(config.bcryptCost)),
    policy: createPasswordPolicy(config.passwordMinLength),
    lockout: stores.lockout,
    guard,
    logger,
  });
  const tokens = createTokenService({
    keys: deps.keys,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.accessTokenTtlSeconds,
  });
  const sessions = createSessionService({
    ...sessionModels,
    policy: {
      ttlSeconds: config.refresh.ttlSeconds,
      idleTtlSeconds: config.refresh.idleTtlSeconds,
      reuseGraceSeconds: config.refresh.reuseGraceSeconds,
    },
    logger,
  });
  const services: Services = {
    users,
    tokens,
    sessions,
    auth: createAuthService({ users, sessions, tokens, logger }),
    viewerState: createViewerStateCache({
      ttlMs: config.revocationCacheTtlMs,
      load: async (userId, sessionId) =>
        Boolean(await users.findUsable(userId)) && (await sessions.isActive(userId, sessionId)),
    }),
    refreshCookie: createRefreshCookie({
      name: config.refresh.cookieName,
      secure: config.refresh.cookieSecure,
    }),
  };
  const server = createServer({
    services,
    logger,
    developerTools: !config.isProduction,
    keys: deps.keys,
    corsOrigins: config.corsOrigins,
    isReady: () => isDatabaseReady(connection),
    clientIp: createClientIpResolver(config.trustProxy),
    httpsOnly: config.requireHttps ? createProxyTrust(config.trustProxy) : undefined,
    rateLimits: {
      store: stores.windows,
      limits: config.rateLimit.limits,
      guard,
      logger,
    },
  });
  return { server, services };
}
