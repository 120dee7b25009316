import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Rules below the root: a User's email, roles, state and sessions answer to their owner and
 * admins; a Session to its owner and admins; AuditEvent.user to admins. A denied field is null
 * with its error at its path, and a denied non-null field nulls its parent, per the spec.
 */

let server: TestServer;
const alice = { email: uniqueEmail('alice'), token: '', id: '' };
const bob = { email: uniqueEmail('bob'), token: '', id: '' };
const admin = { email: uniqueEmail('rules-admin'), password: 'rules admin password', token: '' };

beforeAll(async () => {
  server = await startTestServer({ label: 'field-rules' });
  Object.assign(alice, await signUp(server, alice.email).then((r) => ({ ...r, id: r.userId })));
  Object.assign(bob, await signUp(server, bob.email).then((r) => ({ ...r, id: r.userId })));
  await server.app.services.users.ensureBootstrapAdmin(admin.email, admin.password);
  const login = await server.graphql(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: admin.email, p: admin.password },
  );
  admin.token = (login.body.data?.login as { accessToken: string }).accessToken;
});
afterAll(() => server.close());

const USER = `query($id: ID!) { user(id: $id) { id createdAt email } }`;
const errorsOf = (response: Awaited<ReturnType<TestServer['graphql']>>) =>
  (response.body.errors ?? []).map((error) => ({
    path: error.path,
    code: error.extensions?.code,
  }));

describe('User fields', () => {
  it("refuses another user's email: the non-null field nulls `user`, FORBIDDEN at its path", async () => {
    const response = await server.graphql(USER, { id: bob.id }, bearer(alice.token));
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ user: null });
    expect(errorsOf(response)).toEqual([{ path: ['user', 'email'], code: 'FORBIDDEN' }]);
  });

  it("lets any signed-in user read another user's id and createdAt", async () => {
    const response = await server.graphql(
      'query($id: ID!) { user(id: $id) { id createdAt } }',
      { id: bob.id },
      bearer(alice.token),
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.user).toMatchObject({ id: bob.id });
  });

  it('keeps the rest of the response when one selection is refused', async () => {
    const response = await server.graphql(
      `query($id: ID!) { me { id email } other: user(id: $id) { id roles } }`,
      { id: bob.id },
      bearer(alice.token),
    );
    expect(response.body.data).toEqual({ me: { id: alice.id, email: alice.email }, other: null });
    expect(errorsOf(response)).toEqual([{ path: ['other', 'roles'], code: 'FORBIDDEN' }]);
  });

  it('shows the owner their own email, roles and sessions', async () => {
    const response = await server.graphql(
      `query($id: ID!) { user(id: $id) { email roles sessions { id ip userAgent current } } }`,
      { id: alice.id },
      bearer(alice.token),
    );
    expect(response.body.errors).toBeUndefined();
    const user = response.body.data?.user as {
      email: string;
      roles: string[];
      sessions: { current: boolean }[];
    };
    expect(user.email).toBe(alice.email);
    expect(user.roles).toEqual(['USER']);
    expect(user.sessions.some((session) => session.current)).toBe(true);
  });

  it("refuses the owner's own disabled flag (admins only), nulling `me`", async () => {
    const response = await server.graphql('{ me { id disabled } }', {}, bearer(alice.token));
    expect(response.body.data).toEqual({ me: null });
    expect(errorsOf(response)).toEqual([{ path: ['me', 'disabled'], code: 'FORBIDDEN' }]);
  });

  it("refuses another user's sessions", async () => {
    const response = await server.graphql(
      'query($id: ID!) { user(id: $id) { id sessions { id } } }',
      { id: bob.id },
      bearer(alice.token),
    );
    expect(response.body.data).toEqual({ user: null });
    expect(errorsOf(response)).toEqual([{ path: ['user', 'sessions'], code: 'FORBIDDEN' }]);
  });

  it("shows an admin any user's email, roles, state, and sessions with their address", async () => {
    const response = await server.graphql(
      'query($id: ID!) { user(id: $id) { email roles disabled sessions { ip userAgent current } } }',
      { id: bob.id },
      bearer(admin.token),
    );
    expect(response.body.errors).toBeUndefined();
    const user = response.body.data?.user as {
      email: string;
      disabled: boolean;
      sessions: { ip: string; current: boolean }[];
    };
    expect(user).toMatchObject({ email: bob.email, disabled: false });
    expect(user.sessions.length).toBeGreaterThan(0);
    expect(user.sessions.every((session) => !session.current && session.ip !== '')).toBe(true);
  });

  it('answers null for an unknown id and BAD_USER_INPUT for a malformed one', async () => {
    const unknown = await server.graphql(
      USER,
      { id: 'ffffffffffffffffffffffff' },
      bearer(alice.token),
    );
    expect(unknown.body).toEqual({ data: { user: null } });
    const decoy = await server.graphql(
      USER,
      { id: '000000000000000000000000' },
      bearer(alice.token),
    );
    expect(decoy.body).toEqual({ data: { user: null } });
    const malformed = await server.graphql(USER, { id: 'x'.repeat(500) }, bearer(alice.token));
    expect(errorsOf(malformed)).toEqual([{ path: ['user'], code: 'BAD_USER_INPUT' }]);
  });

  it('refuses user(id) without a token', async () => {
    const response = await server.graphql(USER, { id: alice.id });
    expect(errorsOf(response)).toEqual([{ path: ['user'], code: 'UNAUTHENTICATED' }]);
  });
});

describe('the account a sign-in returns', () => {
  it('answers its owner-only fields to the caller who just signed in without a token', async () => {
    const response = await server.graphql(
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { id email roles } } }',
      { e: alice.email, p: 'correct horse battery' },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.login).toEqual({
      user: { id: alice.id, email: alice.email, roles: ['USER'] },
    });
  });

  it('still refuses admin-only fields of that account', async () => {
    const response = await server.graphql(
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { expiresIn user { disabled } } }',
      { e: alice.email, p: 'correct horse battery' },
    );
    // login is non-null: the refusal nulls the whole answer, per the spec.
    expect(response.body.data).toBeNull();
    expect(errorsOf(response)).toEqual([
      { path: ['login', 'user', 'disabled'], code: 'UNAUTHENTICATED' },
    ]);
  });

  it("lists the signed-in account's own sessions, with their addresses", async () => {
    const response = await server.graphql(
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { sessions { id ip } } } }',
      { e: alice.email, p: 'correct horse battery' },
    );
    expect(response.body.errors).toBeUndefined();
    const sessions = (response.body.data?.login as { user: { sessions: { ip: string }[] } }).user
      .sessions;
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((session) => session.ip !== '')).toBe(true);
  });
});

describe('scopes', () => {
  it("puts the scopes of the user's roles in the access token's scope claim", async () => {
    const [, payload] = alice.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { scope: string };
    expect(claims.scope).toBe(
      'profile:read sessions:read sessions:write apikeys:write account:write',
    );
    const [, adminPayload] = admin.token.split('.');
    const adminClaims = JSON.parse(Buffer.from(adminPayload!, 'base64url').toString()) as {
      scope: string;
    };
    expect(adminClaims.scope.split(' ')).toEqual(
      expect.arrayContaining(['users:read', 'users:write', 'audit:read', 'profile:read']),
    );
  });
});

describe('AuditEvent.user', () => {
  it('links an event to its account for an admin', async () => {
    const response = await server.graphql(
      'query($u: ID!) { auditEvents(userId: $u, first: 5) { edges { node { userId user { id email } } } } }',
      { u: bob.id },
      bearer(admin.token),
    );
    expect(response.body.errors).toBeUndefined();
    const events = (
      response.body.data?.auditEvents as {
        edges: { node: { user: { id: string; email: string } } }[];
      }
    ).edges.map((edge) => edge.node);
    expect(events.length).toBeGreaterThan(0);
    expect(
      events.every((event) => event.user.id === bob.id && event.user.email === bob.email),
    ).toBe(true);
  });
});
