import { beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ME as APOLLO_ME, createApolloClient } from '../../examples/clients/apollo.js';
import type { RecipeClient } from '../../examples/clients/demo.js';
import { createGraphQLRequestClient } from '../../examples/clients/graphql-request.js';
import { createUrqlClient } from '../../examples/clients/urql.js';
import { ME, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';

/**
 * The client recipes in examples/clients, each run against the real server: login, `me`, the
 * access token expiring, the refresh the next `me` makes, and logout.
 */

const PASSWORD = 'correct horse battery';
const REFRESH = `mutation($token: String) { refreshToken(token: $token) { accessToken } }`;

interface Tokens {
  accessToken: string;
  refreshToken: string;
}
interface RecipeOptions {
  url: string;
  fetch: typeof fetch;
  onTokens: (tokens: Tokens | null) => void;
}
const recipes: { name: string; create: (options: RecipeOptions) => RecipeClient }[] = [
  { name: 'graphql-request', create: createGraphQLRequestClient },
  { name: 'Apollo Client', create: createApolloClient },
  { name: 'urql', create: createUrqlClient },
];

/** A fetch that records each request's method, operation name and response status. */
function recordingFetch() {
  const calls: { method: string; operation: string; status: number; csrfHeader: boolean }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const operation =
      request.method === 'GET'
        ? new URL(request.url).searchParams.get('operationName')
        : ((await request.clone().json()) as { operationName?: string }).operationName;
    const response = await fetch(request);
    calls.push({
      method: request.method,
      operation: operation ?? '?',
      status: response.status,
      csrfHeader: request.headers.has('x-graphql-yoga-csrf'),
    });
    return response;
  };
  return { fetch: recording, calls };
}

const getServer = serversClosedAfterAll();
let server: TestServer;
beforeAll(async () => {
  server = await getServer({
    label: 'client-recipes',
    env: {
      // Short, yet long enough that a busy machine does not see a fresh token expire mid-step.
      ACCESS_TOKEN_TTL: '3s',
      // Any refresh token presented twice ends the session at once, with no grace for two tabs:
      // a recipe that refreshed twice would lose its session.
      REFRESH_REUSE_GRACE: '0',
      // A revoked access token is refused at once, not within the usual 1 s.
      REVOCATION_CACHE_TTL: '0',
    },
  });
});

/** A new account, and a recipe's client recording its requests and every change of its tokens. */
async function setUp<Client extends RecipeClient>(create: (options: RecipeOptions) => Client) {
  const email = uniqueEmail('recipe');
  await signUp(server, email, PASSWORD);
  const tokens: (Tokens | null)[] = [];
  const { fetch, calls } = recordingFetch();
  const client = create({ url: `${server.url}/graphql`, fetch, onTokens: (t) => tokens.push(t) });
  return { email, client, tokens, calls };
}

/** Waits (no assertion on how long) until the server refuses the access token. */
async function expired(accessToken: string) {
  for (let attempt = 0; attempt < 60; attempt++) {
    const response = await server.graphql(ME, {}, bearer(accessToken));
    if (response.status === 401) return response.body.errors?.[0]?.message;
    await sleep(250);
  }
  throw new Error('the access token did not expire');
}

async function reuseEvents() {
  await server.app.services.audit.flush();
  return server.connection
    .collection('audit_events')
    .countDocuments({ type: 'session.refresh_token_reuse' });
}

describe.each(recipes)('$name recipe', ({ name, create }) => {
  it('logs in, refreshes once when the access token has expired, and logs out', async () => {
    const { email, client, tokens, calls } = await setUp(create);

    // 1. login
    const user = await client.login(email, PASSWORD);
    expect(user).toMatchObject({ email });
    expect(tokens.length).toBe(1);
    const first = tokens[0]!;

    // 2. me
    expect(await client.me()).toMatchObject({ id: user.id, email });

    // 3. the access token expires
    expect(await expired(first.accessToken)).toBe('Token expired');

    // 4. the next me is refused, the recipe refreshes, and 5. its retry is answered
    expect(await client.me()).toMatchObject({ id: user.id, email });
    expect(tokens.length).toBe(2);
    const refreshed = tokens[1]!;
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect(refreshed.refreshToken).not.toBe(first.refreshToken);
    expect(calls.map((call) => `${call.operation} ${call.status}`)).toEqual([
      'Login 200',
      'Me 200',
      'Me 401',
      'Refresh 200',
      'Me 200',
    ]);

    // 6. logout: the tokens are dropped, and the server refuses them from now on
    expect(await client.logout()).toBe(true);
    expect(tokens.length).toBe(3);
    expect(tokens[2]).toBeNull();
    const refreshAfterLogout = await server.graphql(REFRESH, { token: refreshed.refreshToken });
    expect(errorCode(refreshAfterLogout)).toBe('UNAUTHENTICATED');
    expect(refreshAfterLogout.body.data).toBeNull();
    const meAfterLogout = await server.graphql(ME, {}, bearer(refreshed.accessToken));
    expect(meAfterLogout.status).toBe(401);
    expect(errorCode(meAfterLogout)).toBe('UNAUTHENTICATED');

    expect(await reuseEvents()).toBe(0);
    if (name === 'urql') {
      // urql's default: queries as GET, accepted without a CSRF header as they carry no cookie
      const queries = calls.filter((call) => call.operation === 'Me');
      expect(queries.map((call) => call.method)).toEqual(['GET', 'GET', 'GET']);
      expect(queries.some((call) => call.csrfHeader)).toBe(false);
      expect(calls.filter((call) => call.operation !== 'Me').map((call) => call.method)).toEqual([
        'POST',
        'POST',
        'POST',
      ]);
    }
  });
});

describe('Apollo Client recipe', () => {
  it('makes operations that fail together wait on one refresh, then retries them all', async () => {
    const { email, client, tokens, calls } = await setUp(createApolloClient);
    const user = await client.login(email, PASSWORD);
    await expired(tokens[0]!.accessToken);

    // Three requests, not one: Apollo would otherwise send identical concurrent queries once.
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        client.apollo.query<{ me: { id: string; email: string } }>({
          query: APOLLO_ME,
          fetchPolicy: 'network-only',
          context: { queryDeduplication: false },
        }),
      ),
    );
    for (const { data } of results) expect(data?.me).toMatchObject({ id: user.id, email });
    expect(tokens.length).toBe(2); // login, one refresh
    const counts: Record<string, number> = {};
    for (const call of calls) {
      const key = `${call.operation} ${call.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    expect(counts).toEqual({ 'Login 200': 1, 'Me 401': 3, 'Refresh 200': 1, 'Me 200': 3 });

    // The session lives on: its current refresh token was never presented twice.
    await expired(tokens[1]!.accessToken);
    expect(await client.me()).toMatchObject({ id: user.id, email });
    expect(tokens.length).toBe(3);
    expect(await reuseEvents()).toBe(0);
    expect(await client.logout()).toBe(true);
  });
});
