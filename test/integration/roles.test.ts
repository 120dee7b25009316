import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ME,
  USERS,
  bearer,
  errorCode,
  signUp,
  uniqueEmail,
  type Connection,
} from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const tokens: Record<'USER' | 'ADMIN', string> = { USER: '', ADMIN: '' };

beforeAll(async () => {
  server = await startTestServer({ label: 'roles' });
  tokens.USER = (await signUp(server, uniqueEmail('plain'))).token;
  const adminEmail = uniqueEmail('admin');
  await server.app.services.users.ensureBootstrapAdmin(adminEmail, 'admin password 1');
  const login = await server.graphql(
    `mutation($e: String!) { login(email: $e, password: "admin password 1") { accessToken user { roles } } }`,
    { e: adminEmail },
  );
  const payload = login.body.data?.login as { accessToken: string; user: { roles: string[] } };
  expect(payload.user.roles).toEqual(['USER', 'ADMIN']);
  tokens.ADMIN = payload.accessToken;
});
afterAll(() => server.close());

type Viewer = 'anonymous' | 'USER' | 'ADMIN';
const headersFor = (viewer: Viewer) => (viewer === 'anonymous' ? {} : bearer(tokens[viewer]));

describe('role matrix', () => {
  const matrix: [string, Viewer, string | null, string][] = [
    ['me', 'anonymous', 'UNAUTHENTICATED', ME],
    ['me', 'USER', null, ME],
    ['me', 'ADMIN', null, ME],
    ['users', 'anonymous', 'UNAUTHENTICATED', USERS],
    ['users', 'USER', 'FORBIDDEN', USERS],
    ['users', 'ADMIN', null, USERS],
  ];

  it.each(matrix)('%s as %s: %s', async (field, viewer, expectedCode, query) => {
    const response = await server.graphql(query, {}, headersFor(viewer));
    expect(response.status).toBe(200);
    if (expectedCode === null) {
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data?.[field]).toBeTruthy();
    } else {
      expect(errorCode(response)).toBe(expectedCode);
      expect(response.body.data?.[field] ?? null).toBeNull();
    }
  });

  it('lets an admin page through users with first and after', async () => {
    const PAGE = `query($after: String) {
      users(first: 1, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
    }`;
    const first = (await server.graphql(PAGE, {}, bearer(tokens.ADMIN))).body.data
      ?.users as Connection<{ id: string }>;
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[0]!.cursor });
    const next = (
      await server.graphql(PAGE, { after: first.pageInfo.endCursor }, bearer(tokens.ADMIN))
    ).body.data?.users as Connection<{ id: string }>;
    expect(next.edges).toHaveLength(1);
    expect(next.edges[0]!.node.id).not.toBe(first.edges[0]!.node.id);
  });

  it.each([
    ['first above 100', '{ users(first: 101) { edges { cursor } } }', 'first'],
    ['first of 0', '{ users(first: 0) { edges { cursor } } }', 'first'],
    ['a negative first', '{ users(first: -5) { edges { cursor } } }', 'first'],
    ['after that is not a cursor', '{ users(after: "nope") { edges { cursor } } }', 'after'],
  ])('refuses %s with BAD_USER_INPUT', async (_name, query, field) => {
    const response = await server.graphql(query, {}, bearer(tokens.ADMIN));
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe(field);
  });

  it('never exposes the password hash through the schema', async () => {
    const response = await server.graphql(
      '{ users { edges { node { passwordHash } } } }',
      {},
      bearer(tokens.ADMIN),
    );
    expect(errorCode(response)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.text).not.toMatch(/\$2[aby]\$/);
  });
});
