import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DELETE_ACCOUNT,
  DELETE_USER,
  DISABLE,
  SET_ROLES,
  adminOf,
  as,
  dataOf,
  login,
  type SignedIn,
} from '../helpers/admin.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { USERS, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Two replicas on one database, each reading revocation on every request: what one does, the
 * other sees at once, and no in-process lock can serialize them.
 */
let replicas: [TestServer, TestServer];
let first: SignedIn;
const FIRST = { email: uniqueEmail('first-admin'), password: 'first admin password' };

beforeAll(async () => {
  const databaseUri = freshDatabaseUri('last_admin');
  const env = { REVOCATION_CACHE_TTL: '0' };
  const a = await startTestServer({ databaseUri, env });
  const b = await startTestServer({ databaseUri, env });
  replicas = [a, b];
  first = await adminOf(a, FIRST.email, FIRST.password);
});
afterAll(() => Promise.all(replicas.map((server) => server.close())));

/** The accounts that are enabled ADMINs, read from the database itself. */
async function activeAdmins() {
  const users = replicas[0].connection.collection<{ roles: string[]; disabled?: boolean }>('users');
  const admins = await users.find({ roles: 'ADMIN', disabled: { $ne: true } }).toArray();
  return admins.map((admin) => String(admin._id));
}

async function secondAdmin(server: TestServer) {
  const email = uniqueEmail('second-admin');
  const { userId } = await signUp(server, email, 'second admin password');
  const granted = await server.graphql(
    SET_ROLES,
    { id: userId, roles: ['USER', 'ADMIN'] },
    as(await login(server, FIRST.email, FIRST.password)),
  );
  expect(dataOf(granted, 'setUserRoles')).toMatchObject({ roles: ['USER', 'ADMIN'] });
  return login(server, email, 'second admin password');
}

describe('the last active ADMIN', () => {
  it('cannot be demoted, disabled or deleted, nor delete its own account', async () => {
    const [server] = replicas;
    expect(await activeAdmins()).toEqual([first.userId]);
    const attempts = [
      server.graphql(SET_ROLES, { id: first.userId, roles: ['USER'] }, as(first)),
      server.graphql(DISABLE, { id: first.userId }, as(first)),
      server.graphql(DELETE_USER, { id: first.userId }, as(first)),
      server.graphql(DELETE_ACCOUNT, { password: FIRST.password }, as(first)),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(errorCode(response)).toBe('LAST_ADMIN');
    }
    expect(await activeAdmins()).toEqual([first.userId]);
    expect(dataOf(await server.graphql(USERS, {}, as(first)), 'users')).toBeTruthy();
  });

  it('can step down once another admin exists', async () => {
    const [server] = replicas;
    const second = await secondAdmin(server);
    const demoted = await server.graphql(
      SET_ROLES,
      { id: second.userId, roles: ['USER'] },
      as(second),
    );
    expect(dataOf(demoted, 'setUserRoles')).toMatchObject({ roles: ['USER'] });
    expect(errorCode(await server.graphql(USERS, {}, as(second)))).toBe('FORBIDDEN');
    expect(await activeAdmins()).toEqual([first.userId]);
  });

  it.each([1, 2, 3, 4, 5])(
    'race %i: two admins on two replicas demoting each other at once leave exactly one',
    async () => {
      const [a, b] = replicas;
      const second = await secondAdmin(a);
      const me = await login(a, FIRST.email, FIRST.password);
      const outcomes = await Promise.all([
        a.graphql(SET_ROLES, { id: second.userId, roles: ['USER'] }, as(me)),
        b.graphql(SET_ROLES, { id: me.userId, roles: ['USER'] }, as(second)),
      ]);
      const codes = outcomes.map((response) => errorCode(response) ?? 'ok').sort();
      expect(codes).toEqual(['LAST_ADMIN', 'ok']);
      const survivors = await activeAdmins();
      expect(survivors).toHaveLength(1);
      if (!survivors.includes(first.userId)) {
        // The second one won: it hands the role back, and steps down, for the next round.
        const winner = outcomes[1]?.body.data ? second : me;
        await b.graphql(SET_ROLES, { id: first.userId, roles: ['USER', 'ADMIN'] }, as(winner));
        await b.graphql(SET_ROLES, { id: winner.userId, roles: ['USER'] }, as(winner));
      }
      expect(await activeAdmins()).toEqual([first.userId]);
    },
  );

  it('two admins disabling and deleting each other at once leave exactly one', async () => {
    const [a, b] = replicas;
    const second = await secondAdmin(a);
    const me = await login(a, FIRST.email, FIRST.password);
    const outcomes = await Promise.all([
      a.graphql(DISABLE, { id: second.userId }, as(me)),
      b.graphql(DELETE_USER, { id: me.userId }, as(second)),
    ]);
    expect(outcomes.map((response) => errorCode(response) ?? 'ok').sort()).toEqual([
      'LAST_ADMIN',
      'ok',
    ]);
    expect(await activeAdmins()).toHaveLength(1);
  });

  it('deleting one user on two replicas at once erases it once', async () => {
    const [a, b] = replicas;
    // The test before may have deleted the first admin: a new one, as the bootstrap makes it.
    const me = await adminOf(a, uniqueEmail('third-admin'), 'third admin password');
    const { userId } = await signUp(a, uniqueEmail('erased-twice'));
    const outcomes = await Promise.all(
      [a, b].map((server) => server.graphql(DELETE_USER, { id: userId }, as(me))),
    );
    expect(outcomes.map((response) => errorCode(response) ?? 'ok').sort()).toEqual([
      'NOT_FOUND',
      'ok',
    ]);
    await Promise.all(replicas.map((server) => server.app.services.audit.flush()));
    const deletions = await replicas[0].connection
      .collection('audit_events')
      .countDocuments({ type: 'admin.user_deleted', 'details.actor': me.userId });
    expect(deletions).toBe(1);
    expect(
      await replicas[0].connection.collection('users').countDocuments({ _id: userId as never }),
    ).toBe(0);
  });
});
