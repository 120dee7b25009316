import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pseudonym } from '../../src/lib/security-events.js';
import {
  DELETE_ACCOUNT,
  DELETE_USER,
  DISABLE,
  ENABLE,
  SET_ROLES,
  adminOf,
  as,
  dataOf,
  everyDocument,
  login,
  type SignedIn,
} from '../helpers/admin.js';
import { LOGIN, ME, USERS, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The audit events the service lists, without their connection's edges. */
const auditEvents = async (
  options: Parameters<TestServer['app']['services']['audit']['list']>[0],
) => (await server.app.services.audit.list(options)).edges.map((edge) => edge.node);

const PASSWORD = 'correct horse battery';
const REFRESH = `mutation($t: String!) { refreshToken(token: $t) { accessToken } }`;

let server: TestServer;
let admin: SignedIn;

beforeAll(async () => {
  // Revocation read on every request: "within the bound" is then "at once".
  server = await startTestServer({
    label: 'admin_users',
    env: { REVOCATION_CACHE_TTL: '0', LOCKOUT_THRESHOLD: '3' },
  });
  admin = await adminOf(server, uniqueEmail('admin'), 'admin password 1');
});
afterAll(() => server.close());

/** A fresh USER, signed in with a refresh token. */
async function newUser(prefix = 'member') {
  const email = uniqueEmail(prefix);
  await signUp(server, email, PASSWORD);
  return { email, ...(await login(server, email, PASSWORD)) };
}

describe('admin mutations: who may call them, and what they accept', () => {
  it.each([
    ['setUserRoles', SET_ROLES, { roles: ['USER', 'ADMIN'] }],
    ['disableUser', DISABLE, {}],
    ['enableUser', ENABLE, {}],
    ['deleteUser', DELETE_USER, {}],
  ])('%s: FORBIDDEN to a USER, who stays unchanged', async (_field, mutation, extra) => {
    const caller = await newUser('caller');
    const target = await newUser('target');
    const response = await server.graphql(mutation, { id: target.userId, ...extra }, as(caller));
    expect(errorCode(response)).toBe('FORBIDDEN');
    expect((await login(server, target.email, PASSWORD)).roles).toEqual(['USER']);
  });

  it.each([
    ['not an id', 'BAD_USER_INPUT', 'nope'],
    ['a 12-character string', 'BAD_USER_INPUT', 'abcdefghijkl'],
    ['an oversized id', 'BAD_USER_INPUT', 'a'.repeat(50_000)],
    ['an unknown id', 'NOT_FOUND', '0123456789abcdef01234567'],
    ['the decoy account', 'NOT_FOUND', '000000000000000000000000'],
  ])('refuses %s with %s', async (_name, code, id) => {
    for (const mutation of [DISABLE, ENABLE, DELETE_USER]) {
      const response = await server.graphql(mutation, { id }, as(admin));
      expect(errorCode(response)).toBe(code);
      expect(response.body.errors?.[0]?.extensions?.field).toBe('userId');
    }
  });

  it.each([
    ['no roles', []],
    ['roles without USER', ['ADMIN']],
  ])('refuses %s with BAD_USER_INPUT', async (_name, roles) => {
    const target = await newUser();
    const response = await server.graphql(SET_ROLES, { id: target.userId, roles }, as(admin));
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('roles');
  });
});

describe('setUserRoles', () => {
  it('applies to the user’s live token at once, both ways, and is audited', async () => {
    const target = await newUser();
    expect(errorCode(await server.graphql(USERS, {}, as(target)))).toBe('FORBIDDEN');
    const granted = await server.graphql(
      SET_ROLES,
      { id: target.userId.toUpperCase(), roles: ['ADMIN', 'USER', 'ADMIN'] },
      as(admin),
    );
    expect(dataOf(granted, 'setUserRoles')).toEqual({
      id: target.userId,
      roles: ['USER', 'ADMIN'],
    });
    expect(dataOf(await server.graphql(USERS, {}, as(target)), 'users')).toBeTruthy();
    await server.graphql(SET_ROLES, { id: target.userId, roles: ['USER'] }, as(admin));
    expect(errorCode(await server.graphql(USERS, {}, as(target)))).toBe('FORBIDDEN');

    await server.app.services.audit.flush();
    const events = await auditEvents({
      first: 10,
      userId: target.userId,
      type: 'admin.roles_changed',
    });
    expect(events.map((event) => event.details)).toEqual([
      { actor: admin.userId, roles: 'USER', previous: 'USER,ADMIN' },
      { actor: admin.userId, roles: 'USER,ADMIN', previous: 'USER' },
    ]);
  });
});

describe('disableUser and enableUser', () => {
  it('disabling refuses the access token, the refresh token and login; enabling restores login', async () => {
    const target = await newUser();
    expect(dataOf(await server.graphql(DISABLE, { id: target.userId }, as(admin)), 'disableUser'));
    const me = await server.graphql(ME, {}, as(target));
    expect(me.status).toBe(401);
    expect(me.headers.get('www-authenticate')).toContain('Token revoked');
    expect(errorCode(await server.graphql(REFRESH, { t: target.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    );
    const refused = await server.graphql(LOGIN, { email: target.email, password: PASSWORD });
    expect(errorCode(refused)).toBe('UNAUTHENTICATED');

    expect(dataOf(await server.graphql(ENABLE, { id: target.userId }, as(admin)), 'enableUser'));
    const again = await login(server, target.email, PASSWORD);
    expect(dataOf(await server.graphql(ME, {}, as(again)), 'me')).toMatchObject({
      id: target.userId,
    });
    // The sessions disabling ended stay ended.
    expect((await server.graphql(ME, {}, as(target))).status).toBe(401);

    await server.app.services.audit.flush();
    const types = (await auditEvents({ first: 20, userId: target.userId })).map(
      (event) => event.type,
    );
    expect(types).toEqual(expect.arrayContaining(['admin.user_disabled', 'admin.user_enabled']));
  });

  it('is idempotent: a second disable answers the user and records nothing new', async () => {
    const target = await newUser();
    await server.graphql(DISABLE, { id: target.userId }, as(admin));
    const second = await server.graphql(DISABLE, { id: target.userId }, as(admin));
    expect(dataOf(second, 'disableUser')).toEqual({ id: target.userId });
    await server.app.services.audit.flush();
    const disabled = await auditEvents({
      first: 10,
      userId: target.userId,
      type: 'admin.user_disabled',
    });
    expect(disabled).toHaveLength(1);
  });
});

/** Everything erasure must leave behind: no document that names the user's id. */
async function documentsNaming(userId: string) {
  return (await everyDocument(server.connection)).filter(({ json }) => json.includes(userId));
}

async function expectErased(user: { email: string; userId: string }, event: string) {
  expect(await documentsNaming(user.userId)).toEqual([]);
  // Like an unknown email: the same code and message.
  const gone = await server.graphql(LOGIN, { email: user.email, password: PASSWORD });
  const unknown = await server.graphql(LOGIN, { email: uniqueEmail('nobody'), password: PASSWORD });
  expect(errorCode(gone)).toBe('UNAUTHENTICATED');
  expect(gone.body.errors?.[0]?.message).toBe(unknown.body.errors?.[0]?.message);
  // The audit trail keeps the events, under the pseudonym.
  await server.app.services.audit.flush();
  const alias = pseudonym(user.userId);
  const kept = await auditEvents({ first: 50, userId: alias });
  expect(kept.map((e) => e.type)).toEqual(expect.arrayContaining(['user.signed_up', event]));
  expect(kept.every((e) => e.userId === alias)).toBe(true);
  expect(await auditEvents({ first: 5, userId: user.userId })).toEqual([]);
  // The email is free again, for a new account.
  const again = await signUp(server, user.email, PASSWORD);
  expect(again.userId).not.toBe(user.userId);
}

describe('deleteUser', () => {
  it('erases the account: login fails like an unknown email, the audit trail keeps a pseudonym, the email is free', async () => {
    const target = await newUser('erased');
    await server.graphql(
      `mutation { changePassword(currentPassword: "${PASSWORD}", newPassword: "another password 2") { accessToken } }`,
      {},
      as(target),
    );
    await server.graphql(
      `mutation { changePassword(currentPassword: "another password 2", newPassword: "${PASSWORD}") { accessToken } }`,
      {},
      as(await login(server, target.email, 'another password 2')),
    );
    const live = await login(server, target.email, PASSWORD);
    const response = await server.graphql(DELETE_USER, { id: target.userId }, as(admin));
    expect(dataOf(response, 'deleteUser')).toBe(true);
    await expectErased(target, 'admin.user_deleted');
    expect(errorCode(await server.graphql(REFRESH, { t: live.refreshToken }))).toBe(
      'UNAUTHENTICATED',
    );
    expect((await server.graphql(ME, {}, as(live))).status).toBe(401);
    // The refusal of that token is recorded under the pseudonym too.
    await server.app.services.audit.flush();
    expect(await documentsNaming(target.userId)).toEqual([]);
    // Deleting again: gone.
    const twice = await server.graphql(DELETE_USER, { id: target.userId }, as(admin));
    expect(errorCode(twice)).toBe('NOT_FOUND');
  });
});

describe('deleteAccount', () => {
  it('with a wrong password fails and counts toward the lockout; with the right one erases', async () => {
    const user = await newUser('leaving');
    for (let i = 0; i < 3; i += 1) {
      const wrong = await server.graphql(DELETE_ACCOUNT, { password: 'not my password' }, as(user));
      expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
    }
    const locked = await server.graphql(DELETE_ACCOUNT, { password: PASSWORD }, as(user));
    expect(errorCode(locked)).toBe('RATE_LIMITED');
    expect(dataOf(await server.graphql(ME, {}, as(user)), 'me')).toMatchObject({ id: user.userId });

    await new Promise((resolve) => setTimeout(resolve, 1100)); // the first lock lasts 1 s
    const response = await server.graphql(DELETE_ACCOUNT, { password: PASSWORD }, as(user));
    expect(dataOf(response, 'deleteAccount')).toBe(true);
    expect(response.headers.get('set-cookie')).toContain('__Host-refresh=;');
    await expectErased(user, 'user.account_deleted');
    expect((await server.graphql(ME, {}, bearer(user.token))).status).toBe(401);
  });

  it('refreshes racing the deletion leave no session behind and no usable token', async () => {
    const user = await newUser('racing');
    const [refreshed, deleted] = await Promise.all([
      server.graphql(REFRESH, { t: user.refreshToken }),
      server.graphql(DELETE_ACCOUNT, { password: PASSWORD }, as(user)),
      server.graphql(REFRESH, { t: user.refreshToken }),
    ]);
    expect(dataOf(deleted, 'deleteAccount')).toBe(true);
    const token = (refreshed.body.data?.refreshToken as { accessToken: string } | null)
      ?.accessToken;
    if (token) expect((await server.graphql(ME, {}, bearer(token))).status).toBe(401);
    await server.app.services.audit.flush();
    expect(await documentsNaming(user.userId)).toEqual([]);
  });
});

describe('repeated and concurrent calls on one account', () => {
  const codes = (responses: { body: { errors?: { extensions?: { code?: unknown } }[] } }[]) =>
    responses.map((response) => response.body.errors?.[0]?.extensions?.code ?? 'ok');

  it('deleting one user from many requests at once erases it once; the others find it gone', async () => {
    const target = await newUser('erased-at-once');
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        server.graphql(DELETE_USER, { id: target.userId }, as(admin)),
      ),
    );
    expect(codes(responses).sort()).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'ok']);
    await server.app.services.audit.flush();
    expect(await documentsNaming(target.userId)).toEqual([]);
    const deletions = await auditEvents({
      first: 10,
      userId: pseudonym(target.userId),
      type: 'admin.user_deleted',
    });
    expect(deletions).toHaveLength(1);
  });

  it('a storm of role, disable and enable changes is applied one at a time, ending as the last one said', async () => {
    const target = await newUser('stormed');
    const mutations = Array.from({ length: 12 }, (_, i) =>
      [
        () => server.graphql(SET_ROLES, { id: target.userId, roles: ['USER', 'ADMIN'] }, as(admin)),
        () => server.graphql(DISABLE, { id: target.userId }, as(admin)),
        () => server.graphql(ENABLE, { id: target.userId }, as(admin)),
      ][i % 3]!(),
    );
    expect(codes(await Promise.all(mutations)).filter((code) => code !== 'ok')).toEqual([]);
    // Then one more, alone: whatever the order was, the account follows the last change.
    await server.graphql(SET_ROLES, { id: target.userId, roles: ['USER'] }, as(admin));
    await server.graphql(ENABLE, { id: target.userId }, as(admin));
    expect((await login(server, target.email, PASSWORD)).roles).toEqual(['USER']);
  });

  it('deleteAccount sent twice at once erases once and fails neither request unexpectedly', async () => {
    const user = await newUser('twice');
    const responses = await Promise.all([
      server.graphql(DELETE_ACCOUNT, { password: PASSWORD }, as(user)),
      server.graphql(DELETE_ACCOUNT, { password: PASSWORD }, as(user)),
    ]);
    const outcomes = codes(responses);
    expect(outcomes).toContain('ok');
    for (const outcome of outcomes) expect(['ok', 'UNAUTHENTICATED']).toContain(outcome);
    await server.app.services.audit.flush();
    expect(await documentsNaming(user.userId)).toEqual([]);
  });

  it('refuses an aliased pair of deleteAccount calls before running either', async () => {
    const user = await newUser('aliased');
    const response = await server.graphql(
      `mutation($p: String!) { a: deleteAccount(password: $p) b: deleteAccount(password: $p) }`,
      { p: PASSWORD },
      as(user),
    );
    expect(errorCode(response)).toBe('TOO_MANY_PASSWORD_CHECKS');
    expect(dataOf(await server.graphql(ME, {}, as(user)), 'me')).toMatchObject({ id: user.userId });
  });
});
