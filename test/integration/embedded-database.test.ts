import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { access, chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Types, type Connection } from 'mongoose';
import { parseConfig } from '../../src/config/config.js';
import {
  EmbeddedDatabaseError,
  startFerretDB,
  type EmbeddedDatabase,
} from '../../src/db/ferretdb.js';
import { idIndexHelperPath } from '../../src/db/ferretdb-id-index.js';
import { connectMongo } from '../../src/db/mongo.js';
import { MAX_SOCKET_PATH_BYTES } from '../../src/db/unix-socket.js';
import { createLogger } from '../../src/lib/logger.js';
import { canConnect } from '../../src/lib/net.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { childProcesses, listeningSockets } from '../helpers/proc.js';

/** FerretDB checks no credentials: reaching its socket is all it takes to read every hash. */
let workDir: string;
const running: EmbeddedDatabase[] = [];
const logs: string[] = [];

const BINARY = parseConfig({}).ferretdbBinary;

const start = async (dataDir: string, binary = BINARY) => {
  const database = await startFerretDB({
    binary,
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

/** This process's children that work on the SQLite directory of a data directory. */
const helpersOf = (dataDir: string) =>
  childProcesses(process.pid)
    .map(({ argv }) => argv)
    .filter((argv) => argv.includes(path.join(dataDir, 'ferretdb')));

/**
 * The SQLite plan FerretDB reports for a find by _id. A lookup first: `explain` may plan with the
 * schema its connection loaded before the helper's index existed, and a real query reloads it.
 */
async function idLookupPlan(db: NonNullable<Connection['db']>, _id: Types.ObjectId) {
  await db.collection('things').findOne({ _id });
  const explained = await db.command({ explain: { find: 'things', filter: { _id } } });
  return ((explained.queryPlanner as { Plan?: string[] }).Plan ?? []).join('\n');
}

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

  it('runs the _id index helper on its SQLite directory, and stops it with the database', async () => {
    const dataDir = path.join(workDir, 'helper');
    const database = await start(dataDir);
    expect(helpersOf(dataDir)).toEqual([
      [idIndexHelperPath(BINARY), '-watch', path.join(dataDir, 'ferretdb')],
    ]);

    await database.stop();
    expect(helpersOf(dataDir)).toEqual([]);
  });

  it('serves without the _id index helper when it fails, with a warning', async () => {
    const binDir = path.join(workDir, 'failing-helper-bin');
    await mkdir(binDir);
    await symlink(BINARY, path.join(binDir, 'ferretdb'));
    const brokenHelper = '#!/bin/sh\necho broken >&2\nexit 3\n';
    await writeFile(idIndexHelperPath(path.join(binDir, 'ferretdb')), brokenHelper, {
      mode: 0o755,
    });

    const database = await start(path.join(workDir, 'no-helper'), path.join(binDir, 'ferretdb'));
    expect(await storesAndReads(database)).toBe('kept');
    expect(logs.join('')).toContain('"detail":"broken"');
    expect(logs.join('')).toContain('FerretDB _id index helper exited');
  });
});

describe("lookups by _id on the suite's database", () => {
  it('use an index: on FerretDB, the one its helper adds within seconds of the collection', async () => {
    const connection = await connectMongo(freshDatabaseUri('id_lookup'));
    try {
      const db = connection.db as NonNullable<Connection['db']>;
      const ids = Array.from({ length: 3000 }, () => new Types.ObjectId());
      await db.collection('things').insertMany(ids.map((_id, n) => ({ _id, n })));
      const wanted = ids[1234] as Types.ObjectId;
      expect((await db.collection('things').findOne({ _id: wanted }))?.n).toBe(1234);

      // A real MongoDB indexes _id itself; only FerretDB's SQLite plan needs the helper.
      const { ferretdbVersion } = await db.admin().command({ buildInfo: 1 });
      if (!ferretdbVersion) return;
      let plan = await idLookupPlan(db, wanted);
      for (let tries = 0; tries < 50 && !plan.includes('USING INDEX'); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        plan = await idLookupPlan(db, wanted);
      }
      expect(plan).toMatch(/SEARCH things_\w+ USING INDEX/);
    } finally {
      await connection.close();
    }
  });
});
