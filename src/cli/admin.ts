import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ConfigError, parseConfig, type Config } from '../config/config.js';
import { EmbeddedDatabaseError } from '../db/ferretdb.js';
import { connectMongo } from '../db/mongo.js';
import { AppError } from '../errors.js';
import { hmacKeyRing } from '../lib/keys.js';
import { createLogger } from '../lib/logger.js';
import { createMetrics } from '../lib/metrics.js';
import { createPasswordHasher } from '../lib/password.js';
import { RequestInfoStore } from '../lib/request-info.js';
import { createServices } from '../services.js';
import { parseCommand, runCommand, USAGE, UsageError, type Command } from './commands.js';
import { CliError, openOperatorDatabase } from './database.js';
import { readPassword } from './password.js';

/**
 * The operator's CLI (`npm run admin -- <command>`): for a deployment with no admin yet, and for
 * recovery. It reads the server's configuration, reaches the server's database and goes through
 * the same services, so audit events, last-admin protection and the password policy all apply.
 * Messages only, never a stack trace, a password or a hash.
 */

const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

async function withServices<T>(
  config: Config,
  work: (services: Awaited<ReturnType<typeof createServices>>['services']) => Promise<T>,
): Promise<T> {
  // Start-up problems of the embedded database go to stderr; the services' log lines (security
  // events among them) are stored as audit events and not printed here.
  const logger = createLogger('error');
  const database = await openOperatorDatabase(config, logger);
  const cleanup: (() => Promise<unknown>)[] = [() => database.close()];
  try {
    const connection = await connectMongo(database.uri).catch((error: Error) => {
      throw new CliError(`Could not connect to the database: ${error.message}`);
    });
    cleanup.unshift(() => connection.close());
    const hasher = await createPasswordHasher({ ...config.hashing, threads: 1 });
    cleanup.unshift(() => hasher.close());
    const built = await createServices({
      config,
      logger: createLogger(config.logLevel, silent),
      connection,
      // The CLI issues no token; a throwaway key keeps the server's keys out of it.
      keys: hmacKeyRing([{ kid: 'cli', secret: randomBytes(32).toString('base64url') }]),
      requests: new RequestInfoStore(),
      metrics: createMetrics(),
      hasher,
    });
    try {
      return await work(built.services);
    } finally {
      await built.services.audit.flush();
      await built.close();
    }
  } finally {
    for (const step of cleanup) await step().catch(() => undefined);
  }
}

function fail(message: string, status: number): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(status);
}

async function main(argv: readonly string[]) {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (command.name === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = parseConfig(process.env);
  const run = command;
  const lines = await withServices(config, (services) =>
    runCommand(run, services.admin, readPassword),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const expected =
    error instanceof AppError ||
    error instanceof CliError ||
    error instanceof ConfigError ||
    error instanceof EmbeddedDatabaseError;
  // Anything else is a fault, not a refusal; its name says which without a stack trace.
  fail(
    expected
      ? error.message
      : `${(error as Error)?.name ?? 'Error'}: ${String((error as Error)?.message ?? error)}`,
    1,
  );
}
