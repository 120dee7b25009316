import { existsSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createApp, type App } from './app.js';
import { ConfigError, parseConfig, type Config } from './config/config.js';
import { EmbeddedDatabaseError, startFerretDB, type EmbeddedDatabase } from './db/ferretdb.js';
import { connectMongo } from './db/mongo.js';
import { AppError } from './errors.js';
import { createLogger, type Logger } from './lib/logger.js';
import { createPasswordHasher, type PasswordHasher } from './lib/password.js';
import { createRedis } from './lib/redis.js';

/** Entry point: the only place that reads the process environment, owns resources and exits. */

interface Resources {
  embedded?: EmbeddedDatabase;
  connection?: Connection;
  redis?: Redis;
  hasher?: PasswordHasher;
  app?: App;
  shutdownGraceMs?: number;
}

async function release(resources: Resources) {
  await resources.app?.close(resources.shutdownGraceMs);
  await resources.hasher?.close();
  await resources.connection?.close().catch(() => undefined);
  resources.redis?.disconnect();
  await resources.embedded?.stop();
}

async function bootstrapAdmin(
  config: Config,
  app: Awaited<ReturnType<typeof createApp>>,
  logger: Logger,
) {
  if (!config.bootstrapAdmin) return;
  const { email, password } = config.bootstrapAdmin;
  try {
    const outcome = await app.services.users.ensureBootstrapAdmin(email, password);
    logger.info(
      { outcome },
      outcome === 'created'
        ? 'bootstrap admin created'
        : 'bootstrap admin already exists; left unchanged',
    );
  } catch (error) {
    if (error instanceof AppError) {
      throw new ConfigError(
        `Invalid configuration:\n  BOOTSTRAP_ADMIN_${String(error.details.field ?? '').toUpperCase()}: ${error.message}`,
      );
    }
    throw error;
  }
}

async function start(config: Config, logger: Logger, resources: Resources) {
  let uri = config.mongodbUri;
  if (uri === undefined) {
    resources.embedded = await startFerretDB({
      binary: config.ferretdbBinary,
      dataDir: config.dataDir,
      logger,
    });
    uri = resources.embedded.uri;
  }
  resources.connection = await connectMongo(uri).catch((error: Error) => {
    throw new ConfigError(`Could not connect to the database: ${error.message}`);
  });
  if (config.redisUrl) {
    resources.redis = createRedis(config.redisUrl, logger);
    // Not fatal: until Redis answers, protected operations fail closed (or open, if configured).
    await resources.redis.connect().catch(() => undefined);
  }
  resources.hasher = await createPasswordHasher(config.hashing);
  const app = (resources.app = await createApp(config, {
    connection: resources.connection,
    redis: resources.redis,
    hasher: resources.hasher,
  }));
  await bootstrapAdmin(config, app, logger);
  const http = await app.listen();
  resources.shutdownGraceMs = config.shutdownGraceSeconds * 1000;
  await app.startSweeps();
  logger.info(
    {
      url: `${http.url}/graphql`,
      graphiql: !config.isProduction,
      embeddedDatabase: !config.mongodbUri,
    },
    'listening',
  );
}

async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  // Start-up and shutdown lines only: the app has a logger of its own, with the request scope.
  const logger = createLogger(config.logLevel);
  const resources: Resources = {};

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await release(resources);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await start(config, logger, resources);
  } catch (error) {
    const expected = error instanceof ConfigError || error instanceof EmbeddedDatabaseError;
    if (expected) process.stderr.write(`${error.message}\n`);
    else logger.fatal({ err: error }, 'start-up failed');
    await release(resources);
    process.exit(1);
  }
}

await main();
