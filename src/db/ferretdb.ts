import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.js';
import type { Logger } from '../lib/logger.js';
import { canConnect, freeLoopbackPort } from '../lib/net.js';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const INSTALL_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'install-ferretdb.sh');

export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

export interface EmbeddedDatabase {
  readonly uri: string;
  stop(): Promise<void>;
}

const isExecutable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

/** Builds FerretDB with the project's script the first time; later starts reuse the binary. */
export async function ensureFerretDB(binary: string, logger: Logger): Promise<void> {
  if (await isExecutable(binary)) return;
  logger.info('FerretDB is not built yet; building it now (first run only)');
  const result = spawnSync('bash', [INSTALL_SCRIPT], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FERRETDB_BIN: binary },
  });
  if (result.status !== 0 || !(await isExecutable(binary))) {
    throw new EmbeddedDatabaseError(
      'Could not install the embedded database (FerretDB). Install Go 1.24+ and run `npm run setup:ferretdb`, or set MONGODB_URI to a MongoDB server.',
    );
  }
}

async function waitUntilListening(child: ChildProcess, port: number, output: () => string) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EmbeddedDatabaseError(`FerretDB exited during start-up:\n${output()}`);
    }
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new EmbeddedDatabaseError(
    `FerretDB did not accept connections within ${START_TIMEOUT_MS} ms`,
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts FerretDB (SQLite backend, files in dataDir) on a free loopback port. */
export async function startFerretDB(options: {
  binary: string;
  dataDir: string;
  logger: Logger;
  /** A fixed port (tests that restart the database); default: a free one. */
  port?: number;
}): Promise<EmbeddedDatabase> {
  const { binary, logger } = options;
  await ensureFerretDB(binary, logger);
  const dataDir = path.join(options.dataDir, 'ferretdb');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const port = options.port ?? (await freeLoopbackPort());
  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
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

  await waitUntilListening(child, port, () => recentOutput);
  logger.info({ port, dataDir }, 'embedded FerretDB started');
  return { uri: `mongodb://127.0.0.1:${port}/auth`, stop: () => stopChild(child) };
}
