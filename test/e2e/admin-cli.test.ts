import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freshDatabaseUri } from '../helpers/database.js';
import { LOGIN, ME, SIGN_UP } from '../helpers/operations.js';
import { canConnect } from '../../src/lib/net.js';
import { postGraphQL, runAdminCli, startServerProcess, type Exited } from '../helpers/process.js';

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-admin-cli-'));
});
afterAll(() => rm(workDir, { recursive: true, force: true }));

/** One deployment's settings, shared by its server and the CLI, as an operator's .env would be. */
function deployment(name: string): Record<string, string> {
  return {
    ...(process.env.MONGODB_URI ? { MONGODB_URI: freshDatabaseUri(`cli_${name}`) } : {}),
    DATA_DIR: path.join(workDir, name),
    BCRYPT_COST: '4',
  };
}

/** Command lines of every process that names `text` (Linux /proc). */
function processesMentioning(text: string) {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        return argv.includes(text) ? [argv] : [];
      } catch {
        return []; // it ended while we looked
      }
    });
}

const cli = (env: Record<string, string>, args: string[], stdin = '') =>
  runAdminCli(args, env, workDir, stdin);

type Replies = Record<string, { accessToken: string; user: { roles: string[] } }>;
const call = (url: string, query: string, variables: object = {}, token?: string) =>
  postGraphQL<Replies>(url, query, variables, token);

const roles = async (url: string, email: string, password: string) =>
  (await call(url, LOGIN, { email, password })).body.data?.login?.user.roles;

/** A clear message on stderr, the given status, and nothing that looks like a stack trace. */
function expectRefusal(result: Exited, code: number, message: RegExp) {
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code,
    stderr: expect.stringMatching(message),
  });
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

// Each command boots Node, tsx and the services: seconds apiece on a busy two-core machine.
const CLI_TEST_MS = 180_000;

describe('npm run admin', () => {
  it(
    '--help lists every command; a bad command or argument is a usage error (exit 2)',
    async () => {
      const env = deployment('usage');
      const [help, unknown, missing, badRole, badFlag] = await Promise.all([
        cli(env, ['--help']),
        cli(env, ['frobnicate']),
        cli(env, ['grant', 'someone@example.com']),
        cli(env, ['grant', 'someone@example.com', 'ROOT']),
        cli(env, ['list', '--everything']),
      ]);
      expect(help.code).toBe(0);
      for (const command of ['create-admin', 'grant', 'revoke', 'disable', 'enable', 'list']) {
        expect(help.stdout).toContain(command);
      }
      expectRefusal(unknown, 2, /^error: unknown command: frobnicate\n/);
      expectRefusal(missing, 2, /grant takes <email> <role>/);
      expectRefusal(badRole, 2, /role must be one of USER, ADMIN/);
      expectRefusal(badFlag, 2, /list does not take --everything/);
      expect(unknown.stderr).toContain('Usage: npm run admin');
    },
    CLI_TEST_MS,
  );

  it(
    'with no server running, creates the first admin with the password from stdin, then stops the database it started',
    async () => {
      const env = deployment('first-admin');
      const password = 'first admin password';
      const created = await cli(env, ['create-admin', 'Root@Example.com'], `${password}\n`);
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(
        /^created root@example\.com with roles USER, ADMIN \(id \w+\)/,
      );
      expect(created.stdout + created.stderr).not.toContain(password);
      // The database it started is gone with it: nothing answers on the socket, no process left.
      await expect(canConnect(path.join(env.DATA_DIR!, 'ferretdb', 'ferretdb.sock'))).resolves.toBe(
        false,
      );
      expect(processesMentioning(env.DATA_DIR!)).toEqual([]);

      const listed = await cli(env, ['list', '--role', 'admin']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/root@example\.com\s+USER,ADMIN\s+active/);
      expect(listed.stdout).toContain('1 account\n');

      const server = await startServerProcess({ ...env, PORT: '0' }, workDir);
      try {
        expect(await roles(server.url, 'root@example.com', password)).toEqual(['USER', 'ADMIN']);
      } finally {
        await server.stop();
      }
    },
    CLI_TEST_MS,
  );

  it(
    'refuses a weak password, a taken or invalid email and an unknown account, saying why (exit 1)',
    async () => {
      const env = deployment('refusals');
      expect(
        (await cli(env, ['create-admin', 'taken@example.com'], 'a good long password')).code,
      ).toBe(0);
      const [weak, empty, taken, invalid, unknown] = await Promise.all([
        cli(env, ['create-admin', 'weak@example.com'], 'short'),
        cli(env, ['create-admin', 'empty@example.com'], ''),
        cli(env, ['create-admin', 'taken@example.com'], 'another long password'),
        cli(env, ['disable', 'not an email']),
        cli(env, ['grant', 'nobody@example.com', 'ADMIN']),
      ]);
      expectRefusal(weak, 1, /^error: Password must be at least 8 characters\n$/);
      expect(weak.stderr + weak.stdout).not.toContain('short');
      expectRefusal(empty, 1, /^error: no password on stdin/);
      expectRefusal(taken, 1, /^error: Email is already registered\n$/);
      expectRefusal(invalid, 1, /^error: Email address is not valid\n$/);
      expectRefusal(unknown, 1, /^error: No user has this email\n$/);
    },
    CLI_TEST_MS,
  );

  it(
    'while the server runs, goes through its database: grant, revoke, disable, enable and list apply to the live server',
    async () => {
      const env = deployment('live');
      const server = await startServerProcess(
        { ...env, PORT: '0', REVOCATION_CACHE_TTL: '0' },
        workDir,
      );
      try {
        const password = 'member password';
        const signed = await call(server.url, SIGN_UP, { email: 'member@example.com', password });
        const token = signed.body.data?.signUp?.accessToken as string;
        expect(token).toEqual(expect.any(String));

        const granted = await cli(env, ['grant', 'member@example.com', 'ADMIN']);
        expect(granted.stdout).toBe('member@example.com has roles USER, ADMIN\n');
        expect(await roles(server.url, 'member@example.com', password)).toEqual(['USER', 'ADMIN']);
        const admins = await cli(env, ['list', '--role', 'ADMIN']);
        expect(admins.stdout).toMatch(/member@example\.com\s+USER,ADMIN\s+active/);

        // The only admin: revoking ADMIN or disabling it would leave none.
        const lastAdmin = await Promise.all([
          cli(env, ['revoke', 'member@example.com', 'ADMIN']),
          cli(env, ['disable', 'member@example.com']),
        ]);
        for (const refused of lastAdmin) expectRefusal(refused, 1, /last active ADMIN/);
        const second = await cli(
          env,
          ['create-admin', 'second@example.com'],
          'second admin password',
        );
        expect(second.code).toBe(0);
        const revoked = await cli(env, ['revoke', 'member@example.com', 'admin']);
        expect(revoked.stdout).toBe('member@example.com has roles USER\n');

        const disabled = await cli(env, ['disable', 'member@example.com']);
        expect(disabled.code).toBe(0);
        expect((await call(server.url, ME, {}, token)).status).toBe(401);
        expect(await roles(server.url, 'member@example.com', password)).toBeUndefined();
        const listed = await cli(env, ['list', '--disabled']);
        expect(listed.stdout).toMatch(/member@example\.com\s+USER\s+disabled/);
        expect(listed.stdout).not.toContain('second@example.com');

        expect((await cli(env, ['enable', 'member@example.com'])).stdout).toBe(
          'enabled member@example.com\n',
        );
        expect(await roles(server.url, 'member@example.com', password)).toEqual(['USER']);

        // Audited like the API's changes, by the operator.
        const admin = await call(server.url, LOGIN, {
          email: 'second@example.com',
          password: 'second admin password',
        });
        const events = await call(
          server.url,
          '{ auditEvents(type: "admin.roles_changed") { edges { node { details } } } }',
          {},
          admin.body.data?.login?.accessToken,
        );
        const details = (
          events.body.data?.auditEvents as unknown as { edges: { node: { details: string } }[] }
        ).edges.map(({ node }) => JSON.parse(node.details) as { actor: string; roles: string });
        expect(details).toEqual([
          expect.objectContaining({ actor: 'operator', roles: 'USER' }),
          expect.objectContaining({ actor: 'operator', roles: 'USER,ADMIN' }),
        ]);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    },
    CLI_TEST_MS,
  );
});
