import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/config.js';
import { startFerretDB, type EmbeddedDatabase } from '../../src/db/ferretdb.js';
import { createLogger } from '../../src/lib/logger.js';
import { LOGIN, ME, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A database of this test's own, on the embedded server, which the test stops and restarts on the
 * same data directory, and so on the same socket.
 */
let dataDir: string;
let database: EmbeddedDatabase;
let server: TestServer;

const startDatabase = async () =>
  startFerretDB({
    binary: parseConfig({}).ferretdbBinary,
    dataDir,
    logger: createLogger('silent'),
  });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-outage-'));
  database = await startDatabase();
  const uri = new URL(database.uri);
  uri.pathname = '/outage';
  server = await startTestServer({ databaseUri: uri.toString() });
}, 60_000);
afterAll(async () => {
  await server.close().catch(() => undefined);
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('when the database goes away', () => {
  it('answers SERVICE_UNAVAILABLE, turns /ready to 503, keeps /health, and recovers with no user lost', async () => {
    const email = uniqueEmail('outage');
    const { token } = await signUp(server, email);
    const login = () => server.graphql(LOGIN, { email, password: 'correct horse battery' });
    expect((await login()).body.data?.login).toBeTruthy();

    await database.stop();
    const refused = await login();
    expect(refused.status).toBe(503);
    expect(errorCode(refused)).toBe('SERVICE_UNAVAILABLE');
    expect(refused.text).not.toMatch(/Mongo|ECONNREFUSED|\bat /);
    // The OAuth endpoints run before Yoga's error masking: the same 503, no stack either.
    for (const [endpoint, form] of [
      ['/token', { grant_type: 'password', username: email, password: 'correct horse battery' }],
      ['/revoke', { token: 'some-refresh-token' }],
    ] as const) {
      const reply = await fetch(`${server.url}${endpoint}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      const text = await reply.text();
      expect([reply.status, text]).toEqual([
        503,
        expect.stringContaining('temporarily_unavailable'),
      ]);
      expect(text).not.toMatch(/Mongo|ECONNREFUSED|\bat /);
    }
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the revocation cache
    const me = await server.graphql(ME, {}, bearer(token));
    expect(me.status).toBe(503);
    expect(errorCode(me)).toBe('SERVICE_UNAVAILABLE');
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);

    const socket = database.socket;
    database = await startDatabase();
    expect(database.socket).toBe(socket); // the server's connection string still leads to it
    const deadline = Date.now() + 30_000;
    let recovered = await login();
    while (!recovered.body.data?.login && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      recovered = await login();
    }
    expect(recovered.body.data?.login).toBeTruthy();
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect((await server.graphql(ME, {}, bearer(token))).body.data?.me).toBeTruthy();
  });
});
