import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { access, chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config.js';
import {
  EmbeddedDatabaseError,
  startFerretDB,
  type EmbeddedDatabase,
} from '../../src/db/ferretdb.js';
import { connectMongo } from '../../src/db/mongo.js';
import { MAX_SOCKET_PATH_BYTES } from '../../src/db/unix-socket.js';
import { createLogger } from '../../src/lib/logger.js';
import { canConnect } from '../../src/lib/net.js';
import { listeningSockets } from '../helpers/proc.js';

/** FerretDB checks no credentials: reaching its socket is all it takes to read every hash. */
let workDir: string;
const running: EmbeddedDatabase[] = [];
const logs: string[] = [];

const start = async (dataDir: string) => {
  const database = await startFerretDB({
    binary: parseConfig({}).ferretdbBinary,
    dataDir,
    logger: createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString('utf8'));
          done();
        },
      }),
    ),
  });
  running.push(database);
  return database;
};

/** A round trip through the connection string the app would use. */
async function storesAndReads(database: EmbeddedDatabase) {
  const connection = await connectMongo(database.uri);
  try {
    const things = connection.collection('things');
    await things.insertOne({ name: 'kept' });
    return (await things.findOne({ name: 'kept' }))?.name;
  } finally {
    await connection.close();
  }
}

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-ferretdb-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((database) => database.stop()));
});
afterAll(() => rm(workDir, { recursive: true, force: true }));

describe('the embedded database (FerretDB)', () => {
  it('listens only on a Unix socket inside its data directory, made 0700 even if it existed', async () => {
    const dataDir = path.join(workDir, 'loose');
    await mkdir(path.join(dataDir, 'ferretdb'), { recursive: true });
    await chmod(path.join(dataDir, 'ferretdb'), 0o755);

    const database = await start(dataDir);
    expect(await modeOf(path.join(dataDir, 'ferretdb'))).toBe(0o700);
    expect(database.socket).toBe(path.join(dataDir, 'ferretdb', 'ferretdb.sock'));
    expect((await stat(database.socket)).isSocket()).toBe(true);
    expect(listeningSockets(database.pid)).toEqual({ tcp: [], unix: [database.socket] });
    expect(await storesAndReads(database)).toBe('kept');
  });

  it('starts again over the socket file that a killed FerretDB left behind', async () => {
    const dataDir = path.join(workDir, 'crashed');
    const crashed = await start(dataDir);
    expect(await storesAndReads(crashed)).toBe('kept');
    process.kill(crashed.pid, 'SIGKILL');
    await crashed.stop(); // returns once the process is gone
    expect((await stat(crashed.socket)).isSocket()).toBe(true);
    expect(await canConnect(crashed.socket)).toBe(false);

    const restarted = await start(dataDir);
    expect(restarted.socket).toBe(crashed.socket);
    expect(await storesAndReads(restarted)).toBe('kept');
  });

  it('refuses to start on a data directory that a running FerretDB serves, leaving it be', async () => {
    const dataDir = path.join(workDir, 'busy');
    const first = await start(dataDir);
    await expect(start(dataDir)).rejects.toThrow(EmbeddedDatabaseError);
    expect(await canConnect(first.socket)).toBe(true);
    expect(await storesAndReads(first)).toBe('kept');
  });

  it('puts the socket in a fresh private temporary directory when DATA_DIR is too deep for one', async () => {
    const dataDir = path.join(workDir, 'd'.repeat(MAX_SOCKET_PATH_BYTES));
    const database = await start(dataDir);
    const socketDir = path.dirname(database.socket);
    expect(socketDir.startsWith(os.tmpdir())).toBe(true);
    expect(Buffer.byteLength(database.socket)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(await modeOf(socketDir)).toBe(0o700);
    expect(await modeOf(path.join(dataDir, 'ferretdb'))).toBe(0o700);
    expect(listeningSockets(database.pid)).toEqual({ tcp: [], unix: [database.socket] });
    expect(logs.join('')).toContain('too long for a Unix socket path');
    expect(await storesAndReads(database)).toBe('kept');

    await database.stop();
    await expect(access(socketDir)).rejects.toThrow();
  });
});
