import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { embeddedSocketPath, embeddedUri, startFerretDB } from '../db/ferretdb.js';
import type { Logger } from '../lib/logger.js';
import { canConnect } from '../lib/net.js';
import { MAX_SOCKET_PATH_BYTES, privateDirectory } from '../db/unix-socket.js';

/** How long a command waits for another one that has the embedded database to itself. */
const LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 100;

export class CliError extends Error {
  override name = 'CliError';
}

function isRunning(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `DATA_DIR/ferretdb/cli.lock`, holding this process's id: one command at a time decides whether
 * to start the embedded database, and keeps it while it runs one, so that no other command uses
 * (and sees stopped under it) a database this one started. A lock whose process is gone is taken.
 */
async function lockEmbedded(dir: string): Promise<() => Promise<void>> {
  const lock = path.join(dir, 'cli.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const file = await open(lock, 'wx', 0o600);
      await file.writeFile(String(process.pid));
      await file.close();
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
    if (holder > 0 && !isRunning(holder)) {
      await rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `another admin command is using the embedded database (${lock}); try again`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

export interface OperatorDatabase {
  readonly uri: string;
  /** How it was reached, for the operator: MONGODB_URI, the running server, or started here. */
  readonly via: 'MONGODB_URI' | 'running server' | 'started for this command';
  close(): Promise<void>;
}

/**
 * The database the server uses, as its configuration names it. MONGODB_URI: that. Otherwise the
 * embedded FerretDB in DATA_DIR: through the running server's socket when something answers
 * there (two FerretDB processes must never open one set of SQLite files), or else one started for
 * this command and stopped after it, holding a lock that makes other commands wait; a server
 * starting meanwhile refuses to start, naming the socket, and starts once the command is done. When DATA_DIR is too long for a
 * socket path the server puts its socket in a fresh temporary directory that cannot be found
 * from here, so the command refuses rather than risk a second FerretDB on the same files.
 */
export async function openOperatorDatabase(
  config: Config,
  logger: Logger,
): Promise<OperatorDatabase> {
  const done = () => Promise.resolve();
  if (config.mongodbUri) return { uri: config.mongodbUri, via: 'MONGODB_URI', close: done };
  const socket = embeddedSocketPath(config.dataDir);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new CliError(
      `DATA_DIR (${config.dataDir}) is too long for the embedded database's socket, so a running server could not be found. Use a shorter DATA_DIR, or set MONGODB_URI.`,
    );
  }
  await privateDirectory(path.dirname(socket));
  const unlock = await lockEmbedded(path.dirname(socket));
  try {
    if (await canConnect(socket)) {
      await unlock();
      return { uri: embeddedUri(socket), via: 'running server', close: done };
    }
    const embedded = await startFerretDB({
      binary: config.ferretdbBinary,
      dataDir: config.dataDir,
      logger,
    });
    return {
      uri: embedded.uri,
      via: 'started for this command',
      close: () => embedded.stop().finally(unlock),
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}
