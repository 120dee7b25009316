import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { canConnect } from '../../src/lib/net.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { LOGIN, ME, SIGN_UP, USERS, type Connection } from '../helpers/operations.js';
import { listeningSockets, parentPid } from '../helpers/proc.js';
import {
  postGraphQL,
  runUntilExit,
  startServerProcess,
  type ServerProcess,
} from '../helpers/process.js';

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-e2e-'));
});
afterAll(() => rm(workDir, { recursive: true, force: true }));

/** Against MONGODB_URI when the suite runs on a real MongoDB; otherwise the embedded default. */
const databaseEnv = (): Record<string, string> =>
  process.env.MONGODB_URI ? { MONGODB_URI: freshDatabaseUri('e2e') } : {};

type Replies = Record<string, { accessToken: string; email: string; user: { roles: string[] } }>;
/** The body of the server's answer: these tests read data and errors, not the status. */
const call = async (url: string, query: string, variables: object = {}, token?: string) =>
  (await postGraphQL<Replies>(url, query, variables, token)).body;

/** The embedded FerretDB a server process started, as its start-up log line names it. */
function embeddedDatabase(server: ServerProcess) {
  const line = server
    .stdout()
    .split('\n')
    .find((text) => text.includes('"msg":"embedded FerretDB started"'));
  if (!line) throw new Error(`no embedded FerretDB in the server's log:\n${server.stdout()}`);
  return JSON.parse(line) as { pid: number; socket: string };
}

describe('the server process (npm start)', () => {
  it('keeps users, the admin and tokens across a restart on the same DATA_DIR', async () => {
    const env = {
      ...databaseEnv(),
      DATA_DIR: path.join(workDir, 'data'),
      PORT: '0',
      BCRYPT_COST: '4',
      BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
      BOOTSTRAP_ADMIN_PASSWORD: 'first admin password',
    };
    const first = await startServerProcess(env, workDir);
    const signed = await call(first.url, SIGN_UP, {
      email: 'keep@example.com',
      password: 'kept password',
    });
    const token = signed.data?.signUp?.accessToken as string;
    expect(token).toEqual(expect.any(String));
    const admin = await call(first.url, LOGIN, {
      email: 'root@example.com',
      password: 'first admin password',
    });
    expect(admin.data?.login?.user.roles).toEqual(['USER', 'ADMIN']);
    expect(first.stdout()).toContain('bootstrap admin created');
    expect(await first.stop()).toBe(0);
    if (!process.env.MONGODB_URI) {
      // The embedded database stopped with the server.
      await expect(canConnect(embeddedDatabase(first).socket)).resolves.toBe(false);
    }

    if (!process.env.MONGODB_URI) {
      expect((await stat(path.join(env.DATA_DIR, 'ferretdb'))).isDirectory()).toBe(true);
    }
    expect((await stat(path.join(env.DATA_DIR, 'jwt-signing-key.pem'))).mode & 0o077).toBe(0);

    const second = await startServerProcess(
      { ...env, BOOTSTRAP_ADMIN_PASSWORD: 'second admin password' },
      workDir,
    );
    try {
      const me = await call(second.url, ME, {}, token);
      expect(me.data?.me?.email).toBe('keep@example.com');
      const login = await call(second.url, LOGIN, {
        email: 'keep@example.com',
        password: 'kept password',
      });
      expect(login.errors).toBeUndefined();
      const oldAdmin = await call(second.url, LOGIN, {
        email: 'root@example.com',
        password: 'first admin password',
      });
      const newAdmin = await call(second.url, LOGIN, {
        email: 'root@example.com',
        password: 'second admin password',
      });
      expect(newAdmin.data).toBeNull();
      const users = await call(second.url, USERS, {}, oldAdmin.data?.login?.accessToken);
      expect((users.data?.users as unknown as Connection<unknown>).edges).toHaveLength(2);
      expect(second.stdout()).toContain('bootstrap admin already exists');
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('without MONGODB_URI, runs FerretDB as its child on a Unix socket in DATA_DIR, with no TCP port', async () => {
    // FerretDB checks no credentials: a TCP port would let any local user or SSRF read every
    // password hash and grant itself ADMIN. The directory starts too open, as an older run left it.
    const dataDir = path.join(workDir, 'socket');
    await mkdir(path.join(dataDir, 'ferretdb'), { recursive: true });
    await chmod(path.join(dataDir, 'ferretdb'), 0o755);
    const server = await startServerProcess(
      { DATA_DIR: dataDir, PORT: '0', BCRYPT_COST: '4' },
      workDir,
    );
    let socket: string | undefined;
    try {
      const embedded = embeddedDatabase(server);
      socket = embedded.socket;
      expect(parentPid(embedded.pid)).toBe(server.pid);
      expect(listeningSockets(embedded.pid)).toEqual({ tcp: [], unix: [socket] });
      expect(socket).toBe(path.join(dataDir, 'ferretdb', 'ferretdb.sock'));
      expect((await stat(socket)).isSocket()).toBe(true);
      expect((await stat(path.join(dataDir, 'ferretdb'))).mode & 0o777).toBe(0o700);
      const signed = await call(server.url, SIGN_UP, {
        email: 'unix@example.com',
        password: 'socket password',
      });
      expect(signed.data?.signUp?.accessToken).toEqual(expect.any(String));
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // FerretDB stopped with the server (it is set: the block above would have thrown otherwise).
    await expect(canConnect(socket as string)).resolves.toBe(false);
  });

  it('on SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const server = await startServerProcess(
      { ...databaseEnv(), DATA_DIR: path.join(workDir, 'shutdown'), PORT: '0', BCRYPT_COST: '13' },
      workDir,
    );
    // A cost-13 bcrypt hash takes hundreds of milliseconds: still running when SIGTERM arrives.
    const inFlight = call(server.url, SIGN_UP, {
      email: 'slow@example.com',
      password: 'slow password 1',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const exited = server.stop();
    const response = await inFlight;
    expect(response.data?.signUp?.accessToken).toEqual(expect.any(String));
    expect(await exited).toBe(0);
    expect(server.stdout()).toContain('"signal":"SIGTERM"');
  });

  it('refuses to start in production without JWT_PRIVATE_KEY, saying why, without a stack trace', async () => {
    const result = await runUntilExit(
      { ...databaseEnv(), NODE_ENV: 'production', PORT: '0' },
      workDir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('JWT_PRIVATE_KEY');
    expect(result.stderr).toContain('JWT_ALLOW_HS256=true');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses to start in production without DATA_ENCRYPTION_KEY while TOTP is on', async () => {
    const result = await runUntilExit(
      {
        ...databaseEnv(),
        NODE_ENV: 'production',
        JWT_SECRET: 'process-test-secret-0123456789-abcdefghijklmnop',
        JWT_ALLOW_HS256: 'true',
        // The mail refusal would come first otherwise.
        EMAIL_FLOWS: 'false',
        PORT: '0',
      },
      workDir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATA_ENCRYPTION_KEY');
    expect(result.stderr).toContain('TOTP_ENABLED');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a weak JWT_SECRET in production', async () => {
    const result = await runUntilExit(
      {
        ...databaseEnv(),
        NODE_ENV: 'production',
        JWT_SECRET: 'short',
        JWT_ALLOW_HS256: 'true',
        PORT: '0',
      },
      workDir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/JWT_SECRET: must be at least 32 bytes/);
    expect(result.stderr).not.toContain('short');
  });

  it('says what to install or set when FerretDB is missing and Go is not available', async () => {
    const result = await runUntilExit(
      {
        DATA_DIR: path.join(workDir, 'no-go'),
        PORT: '0',
        FERRETDB_BIN: path.join(workDir, 'missing', 'ferretdb'),
        PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
      },
      workDir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Go');
    expect(result.stderr).toContain('MONGODB_URI');
  });

  it('says so clearly when MONGODB_URI cannot be reached', async () => {
    const result = await runUntilExit(
      {
        MONGODB_URI: 'mongodb://127.0.0.1:1/unreachable',
        PORT: '0',
        DATA_DIR: path.join(workDir, 'x'),
      },
      workDir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Could not connect to the database');
  });
});
