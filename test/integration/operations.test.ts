import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  LOGIN,
  ME,
  bearer,
  errorCode,
  nodesOf,
  signUp,
  uniqueEmail,
  type Connection,
} from '../helpers/operations.js';
import { TEST_JWT_PRIVATE_KEY, startTestServer, type TestServer } from '../helpers/server.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let server: TestServer;
let adminToken: string;
let userToken: string;
let userId: string;

const entries = (target: TestServer) =>
  target.logs.map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  server = await startTestServer({ env: { METRICS_TOKEN }, label: 'operations' });
  const adminEmail = uniqueEmail('ops-admin');
  await server.app.services.users.ensureBootstrapAdmin(adminEmail, 'admin password 1');
  const login = await server.graphql(LOGIN, { email: adminEmail, password: 'admin password 1' });
  adminToken = (login.body.data?.login as { accessToken: string }).accessToken;
  ({ token: userToken, userId } = await signUp(server, uniqueEmail('ops-user')));
});
afterAll(() => server.close());

describe('request ids and request logs', () => {
  it('keeps a valid X-Request-Id, returns it, and stamps the log line and audit event with it', async () => {
    const email = uniqueEmail('rid');
    const response = await server.graphql(
      LOGIN,
      { email, password: 'wrong password 1' },
      { 'x-request-id': 'client-chosen-id-1' },
    );
    expect(response.headers.get('x-request-id')).toBe('client-chosen-id-1');
    const line = entries(server).find(
      (entry) => entry.msg === 'request' && entry.requestId === 'client-chosen-id-1',
    );
    expect(line).toMatchObject({
      method: 'POST',
      path: '/graphql',
      status: 200,
      operation: 'mutation.login',
      operationName: 'Login',
      outcome: 'error',
      errorCodes: ['UNAUTHENTICATED'],
    });
    expect(typeof line?.durationMs).toBe('number');
    await server.app.services.audit.flush();
    const stored = await server.connection
      .collection('audit_events')
      .findOne({ requestId: 'client-chosen-id-1', type: 'login.failed' });
    expect(stored).toMatchObject({ clientIp: '127.0.0.1' });
    expect(JSON.stringify(stored)).not.toContain(email);
  });

  it('replaces an unusable X-Request-Id with a generated one', async () => {
    const response = await server.graphql(ME, {}, { 'x-request-id': 'has spaces and <tags>' });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('/metrics', () => {
  it('needs the configured bearer token', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${server.url}/metrics`, { headers: bearer('not-the-token-000000') });
    expect(wrong.status).toBe(401);
  });

  it('reports requests, errors by code, logins by outcome, rate-limit hits and event-loop lag', async () => {
    await server.graphql(ME, {}, bearer(userToken));
    const text = await (
      await fetch(`${server.url}/metrics`, { headers: bearer(METRICS_TOKEN) })
    ).text();
    expect(text).toMatch(/graphql_requests_total\{operation="query\.me",status="200"\} \d+/);
    expect(text).toMatch(
      /graphql_request_duration_seconds_bucket\{le="0\.005",operation="query\.me"\}/,
    );
    expect(text).toMatch(/graphql_errors_total\{code="UNAUTHENTICATED"\} \d+/);
    expect(text).toMatch(/auth_logins_total\{outcome="success"\} \d+/);
    expect(text).toMatch(/auth_logins_total\{outcome="failure"\} \d+/);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).not.toContain(userToken);
  });

  it('is off when no token is configured', async () => {
    const plain = await startTestServer({ label: 'no-metrics' });
    try {
      expect((await fetch(`${plain.url}/metrics`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('auditEvents', () => {
  const AUDIT = `query($first: Int!, $after: String, $type: String, $userId: ID) {
    auditEvents(first: $first, after: $after, type: $type, userId: $userId) {
      edges { cursor node { id type at userId clientIp requestId details } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }`;
  type Event = { id: string; type: string; userId: string | null; details: string };
  type Page = Connection<Event> & {
    pageInfo: { hasPreviousPage: boolean; startCursor: string | null };
  };
  const list = async (variables: Record<string, unknown>) => {
    const response = await server.graphql(AUDIT, variables, bearer(adminToken));
    if (!response.body.data) throw new Error(response.text);
    return response.body.data.auditEvents as Page;
  };

  it('is for admins only', async () => {
    expect(errorCode(await server.graphql(AUDIT, { first: 5 }, bearer(userToken)))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await server.graphql(AUDIT, { first: 5 }))).toBe('UNAUTHENTICATED');
  });

  it('lists events newest first, filtered by type and user, page by page', async () => {
    await server.app.services.audit.flush();
    const byUser = nodesOf(await list({ first: 10, userId }));
    expect(byUser.map((event) => event.type)).toContain('user.signed_up');
    expect(byUser.every((event) => event.userId === userId)).toBe(true);

    const failures = nodesOf(await list({ first: 50, type: 'login.failed' }));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((event) => event.type === 'login.failed')).toBe(true);
    expect(JSON.parse(failures[0]!.details)).toHaveProperty('account');

    const firstPage = await list({ first: 2 });
    expect(firstPage.edges).toHaveLength(2);
    expect(firstPage.pageInfo).toMatchObject({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: firstPage.edges[0]!.cursor,
      endCursor: firstPage.edges[1]!.cursor,
    });
    const secondPage = await list({ first: 2, after: firstPage.pageInfo.endCursor });
    expect(secondPage.edges[0]!.node.id < firstPage.edges[1]!.node.id).toBe(true);
  });

  it('pages through every listing without skipping or repeating an event', async () => {
    await server.graphql(LOGIN, { email: 'nobody@example.com', password: 'wrong password' });
    await server.app.services.audit.flush();
    const listings = [{}, { type: 'login.failed' }, { userId }, { userId, type: 'user.signed_up' }];
    for (const listing of listings) {
      const whole = await list({ ...listing, first: 200 });
      expect([listing, whole.edges.length]).not.toEqual([listing, 0]);
      expect(whole.pageInfo.hasNextPage).toBe(false);
      const paged: Event[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 200; pages += 1) {
        const page: Page = await list({ ...listing, first: 2, after });
        paged.push(...nodesOf(page));
        after = page.pageInfo.endCursor;
        if (!page.pageInfo.hasNextPage) break;
      }
      expect(paged.map((event) => event.id)).toEqual(nodesOf(whole).map((event) => event.id));
      // At the end, the last cursor answers an empty last page.
      expect(await list({ ...listing, first: 2, after })).toMatchObject({
        edges: [],
        pageInfo: { hasNextPage: false },
      });
    }
  });

  it('refuses a cursor from another listing, an event id, or the users list', async () => {
    const signedUp = await list({ first: 1, type: 'user.signed_up' });
    const users = (
      await server.graphql('{ users(first: 1) { pageInfo { endCursor } } }', {}, bearer(adminToken))
    ).body.data?.users as Connection<unknown>;
    for (const after of [
      signedUp.pageInfo.endCursor,
      signedUp.edges[0]!.node.id,
      users.pageInfo.endCursor,
    ]) {
      const response = await server.graphql(
        AUDIT,
        { first: 1, type: 'login.failed', after },
        bearer(adminToken),
      );
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.extensions?.field).toBe('after');
    }
  });

  it.each([500, 201, 0, -1])('refuses a page size of %i', async (first) => {
    const response = await server.graphql(AUDIT, { first }, bearer(adminToken));
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('first');
  });

  it('forgets events older than the retention period', async () => {
    const events = server.connection.collection('audit_events');
    await server.app.services.audit.flush();
    const before = await events.countDocuments({});
    // Everything recorded so far becomes 100 days old: the sweep walks the log from its oldest
    // end and stops at the first event still kept, so all of them must go, and nothing else.
    await events.updateMany({}, { $set: { at: new Date(Date.now() - 100 * 86_400_000) } });
    await server.graphql(LOGIN, { email: 'nobody@example.com', password: 'wrong password' });
    await server.app.services.audit.flush();
    expect(await server.app.services.audit.prune()).toBe(before);
    expect(
      await events.countDocuments({ at: { $lt: new Date(Date.now() - 95 * 86_400_000) } }),
    ).toBe(0);
    expect(await events.countDocuments({})).toBe(1);
  });
});

describe('production exposure', () => {
  it('turns introspection and GraphiQL off in production, and back on when configured', async () => {
    const production = await startTestServer({
      env: {
        NODE_ENV: 'production',
        REQUIRE_HTTPS: 'false',
        EMAIL_FLOWS: 'false',
        JWT_PRIVATE_KEY: TEST_JWT_PRIVATE_KEY,
      },
    });
    const opened = await startTestServer({
      env: {
        NODE_ENV: 'production',
        REQUIRE_HTTPS: 'false',
        EMAIL_FLOWS: 'false',
        JWT_PRIVATE_KEY: TEST_JWT_PRIVATE_KEY,
        ENABLE_INTROSPECTION: 'true',
        ENABLE_GRAPHIQL: 'true',
      },
    });
    try {
      const introspect = '{ __schema { queryType { name } } }';
      expect(errorCode(await production.graphql(introspect))).toBe('GRAPHQL_VALIDATION_FAILED');
      const page = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('<html');
      expect((await opened.graphql(introspect)).body.data).toEqual({
        __schema: { queryType: { name: 'Query' } },
      });
      const openPage = await fetch(`${opened.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await openPage.text()).toContain('GraphQL Auth API');
    } finally {
      await production.close();
      await opened.close();
    }
  });

  it('refuses queries over the cost limit before running them', async () => {
    const cheap = await startTestServer({ env: { MAX_QUERY_COST: '10' } });
    try {
      const response = await cheap.graphql(
        '{ sessions { id createdAt lastUsedAt expiresAt userAgent ip current } }',
        {},
        bearer(userToken),
      );
      expect(response.status).toBe(400);
      expect(errorCode(response)).toBe('QUERY_TOO_COMPLEX');
    } finally {
      await cheap.close();
    }
  });
});
