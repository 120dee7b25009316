import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { DestinationStream } from 'pino';
import type { Config } from './config/config.js';
import type { Services } from './graphql/context.js';
import { isDatabaseReady } from './db/mongo.js';
import { listen as listenHttp, type Listening } from './http/listen.js';
import { createClientIpResolver, createProxyTrust } from './lib/client-ip.js';
import { loadOrCreateDevSigningKey } from './lib/dev-signing-key.js';
import { loadOrCreateDevDataKey } from './lib/dev-data-key.js';
import { createSealer, parseDataKey, type Sealer } from './lib/data-encryption.js';
import { asymmetricKeyRing, type KeyRing } from './lib/keys.js';
import { createLogger, type Logger } from './lib/logger.js';
import { createMetrics, type Metrics } from './lib/metrics.js';
import type { PasswordHasher } from './lib/password.js';
import { RequestInfoStore } from './lib/request-info.js';
import type { MailService } from './modules/mail/mailer.js';
import type { OneTimeTokens } from './modules/one-time-token/one-time-token.service.js';
import { createPasswordGate } from './rate-limit/password-gate.js';
import { createServer, type Server } from './graphql/server.js';
import { createServices } from './services.js';
import { startSweeps } from './sweeps.js';

/** What the app is given rather than makes: the caller opens these and closes them. */
export interface AppResources {
  readonly connection: Connection;
  /** Shared limits and lockouts for every replica; without it they live in this process. */
  readonly redis?: Redis;
  /**
   * The entry point passes the hasher it closes at shutdown; tests pass the real one wrapped to
   * count verifications. Without one, the app makes its own and closing the app ends it.
   */
  readonly hasher?: PasswordHasher;
  /** Where log lines go (stdout if absent): tests read them. */
  readonly logDestination?: DestinationStream;
}

export interface App {
  /** The Yoga server: `yoga.fetch` runs a request without HTTP (benchmarks, schema tests). */
  readonly yoga: Server;
  readonly services: Services;
  /** services.mail with its worker: tests run it once with deliverDue(). */
  readonly mail: MailService;
  /**
   * Resolves once the work requests started after their responses (see lib/background.ts) is
   * done and the mail it queued has had a delivery attempt: tests wait on it.
   */
  settle(): Promise<void>;
  /** The mailed links' tokens: the hourly sweep's, run once by tests. */
  readonly linkTokens: OneTimeTokens;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly config: Config;
  /**
   * Starts the hourly sweeps (audit retention, expired sessions, mail records) and the mail
   * worker's polling, and resolves after the first audit sweep; close() stops them. The entry point runs them; tests call the sweeps directly.
   */
  startSweeps(): Promise<void>;
  /** Serves the app over HTTP (config.host and config.port unless given); once per app. */
  listen(host?: string, port?: number): Promise<Listening>;
  /**
   * Stops the listener (in-flight requests get graceMs), waits for pending audit writes, and
   * ends what the app made for itself. The connection and Redis are the caller's to close.
   */
  close(graceMs?: number): Promise<void>;
}

/** The signing keys: configured, or outside production an ES256 key kept in DATA_DIR. */
async function keyRingOf(config: Config, logger: Logger): Promise<KeyRing> {
  if (config.keyRing) return config.keyRing;
  logger.warn(
    'Neither JWT_PRIVATE_KEY nor JWT_SECRET is set; signing ES256 with a development key kept in DATA_DIR',
  );
  return asymmetricKeyRing(await loadOrCreateDevSigningKey(config.dataDir));
}

/** The data key: configured, or outside production one kept in DATA_DIR (config refuses else). */
async function sealerOf(config: Config, logger: Logger): Promise<Sealer | undefined> {
  const { dataKey, previousDataKeys } = config.mfa;
  if (dataKey) return createSealer(dataKey, previousDataKeys);
  if (config.isProduction) return undefined;
  logger.warn('DATA_ENCRYPTION_KEY is not set; using a development key kept in DATA_DIR');
  const key = parseDataKey(await loadOrCreateDevDataKey(config.dataDir), 'the development key');
  return createSealer(key, previousDataKeys);
}

/**
 * The one place the app is put together, for the entry point, the tests and the benchmarks alike:
 * request info store, logger, metrics, keys, services and the Yoga server around an open connection.
 */
export async function createApp(config: Config, resources: AppResources): Promise<App> {
  const { connection } = resources;
  const requests = new RequestInfoStore();
  const logger = createLogger(config.logLevel, resources.logDestination, requests);
  const metrics = createMetrics();
  const keys = await keyRingOf(config, logger);
  const {
    services,
    mailer,
    background,
    oneTimeTokens,
    windows,
    authenticate,
    withFallback,
    close,
  } = await createServices({
    config,
    logger,
    connection,
    keys,
    requests,
    metrics,
    redis: resources.redis,
    hasher: resources.hasher,
    sealer: await sealerOf(config, logger),
  });
  const yoga = createServer({
    config,
    services,
    logger,
    requests,
    metrics,
    keys,
    isReady: () => isDatabaseReady(connection),
    clientIp: createClientIpResolver(config.trustProxy),
    httpsOnly: config.requireHttps ? createProxyTrust(config.trustProxy) : undefined,
    authenticate,
    rateLimits: {
      store: windows,
      limits: config.rateLimit.limits,
      withFallback,
      audit: services.audit,
      passwordGate: createPasswordGate({
        perClient: config.rateLimit.passwordChecksPerClient,
        ipv6ClientPrefix: config.ipv6ClientPrefix,
      }),
    },
  });
  let http: Listening | undefined;
  let sweeps: ReturnType<typeof startSweeps> | undefined;
  return {
    yoga,
    services,
    mail: mailer,
    async settle() {
      await background.settle();
      await mailer.deliverDue();
      await mailer.settled();
    },
    linkTokens: oneTimeTokens,
    logger,
    metrics,
    config,
    startSweeps() {
      sweeps ??= startSweeps(services, mailer, oneTimeTokens, logger);
      return sweeps.first;
    },
    async listen(host = config.host, port = config.port) {
      if (http) throw new Error('The app is already listening');
      http = await listenHttp(yoga, host, port, {
        requests,
        maxBodyBytes: config.limits.bodyBytes,
      });
      return http;
    },
    async close(graceMs) {
      sweeps?.stop();
      await http?.close(graceMs);
      await services.audit.flush();
      await close();
    },
  };
}
