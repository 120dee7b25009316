import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { access, constants, rm } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/config.js';
import type { Logger } from '../lib/logger.js';
import { canConnect } from '../lib/net.js';
import { stopChild } from './child-process.js';
import { idIndexHelperPath, startIdIndexHelper } from './ferretdb-id-index.js';
import { clearStaleSocket, placeSocket, privateDirectory } from './unix-socket.js';

const START_TIMEOUT_MS = 30_000;
const INSTALL_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'install-ferretdb.sh');
// The MongoDB driver reads a host that ends in `.sock` as the path of a Unix socket.
const SOCKET_NAME = 'ferretdb.sock';

/** Where the server's FerretDB listens for DATA_DIR, unless that path is too long for a socket. */
export const embeddedSocketPath = (dataDir: string) =>
  path.join(path.resolve(dataDir, 'ferretdb'), SOCKET_NAME);

/** The connection string of an embedded FerretDB listening on `socket`. */
export const embeddedUri = (socket: string) => `mongodb://${encodeURIComponent(socket)}/auth`;

export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

export interface EmbeddedDatabase {
  readonly uri: string;
  /** The FerretDB process. */
  readonly pid: number;
  /** Its Unix socket, the only way in. */
  readonly socket: string;
  stop(): Promise<void>;
}

const isExecutable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

/**
 * Builds FerretDB and its _id index helper with the project's script the first time; later starts
 * reuse the binaries. Only FerretDB is required: without the helper, startFerretDB warns.
 */
export async function ensureFerretDB(binary: string, logger: Logger): Promise<void> {
  if ((await isExecutable(binary)) && (await isExecutable(idIndexHelperPath(binary)))) return;
  logger.info('FerretDB or its _id index helper is not built yet; building now (first run only)');
  spawnSync('bash', [INSTALL_SCRIPT], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FERRETDB_BIN: binary },
  });
  if (!(await isExecutable(binary))) {
    throw new EmbeddedDatabaseError(
      'Could not install the embedded database (FerretDB). Install Go 1.24+ and run `npm run setup:ferretdb`, or set MONGODB_URI to a MongoDB server.',
    );
  }
}

async function waitUntilListening(child: ChildProcess, socket: string, output: () => string) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EmbeddedDatabaseError(`FerretDB exited during start-up:\n${output()}`);
    }
    if (await canConnect(socket)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new EmbeddedDatabaseError(
    `FerretDB did not accept connections within ${START_TIMEOUT_MS} ms`,
  );
}

/**
 * Starts FerretDB (SQLite backend, files in dataDir/ferretdb) listening on a Unix socket in that
 * directory and on no TCP port. FerretDB checks no credentials, so whoever can connect can read
 * every password hash and grant themselves ADMIN: the socket sits in a directory only this user
 * may enter, where a TCP port would be open to every local user and to SSRF.
 */
export async function startFerretDB(options: {
  binary: string;
  dataDir: string;
  logger: Logger;
}): Promise<EmbeddedDatabase> {
  const { binary, logger } = options;
  await ensureFerretDB(binary, logger);
  // Absolute: the socket's path is also the host of the connection string.
  const dataDir = path.resolve(options.dataDir, 'ferretdb');
  await privateDirectory(dataDir);
  const socket = await placeSocket(dataDir, SOCKET_NAME, logger);
  const removeOwnDir = () =>
    socket.ownDir ? rm(socket.ownDir, { recursive: true, force: true }) : Promise.resolve();
  if (!(await clearStaleSocket(socket.path))) {
    throw new EmbeddedDatabaseError(
      `Another process is already serving the embedded database at ${socket.path}; stop it or use another DATA_DIR.`,
    );
  }
  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      '--listen-addr=', // empty: no TCP listener at all
      `--listen-unix=${socket.path}`,
      `--state-dir=${dataDir}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let recentOutput = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    recentOutput = (recentOutput + chunk).slice(-4000);
  });
  child.once('exit', (code, signal) => logger.debug({ code, signal }, 'FerretDB exited'));

  try {
    await waitUntilListening(child, socket.path, () => recentOutput);
  } catch (error) {
    await removeOwnDir();
    throw error;
  }
  logger.info({ pid: child.pid, socket: socket.path, dataDir }, 'embedded FerretDB started');
  const idIndex = startIdIndexHelper(idIndexHelperPath(binary), dataDir, logger);
  return {
    uri: embeddedUri(socket.path),
    pid: child.pid as number,
    socket: socket.path,
    async stop() {
      await idIndex.stop();
      await stopChild(child);
      await removeOwnDir();
    },
  };
}
