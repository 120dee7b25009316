import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { freshDatabaseUri } from '../helpers/database.js';
import { countingHasher } from '../helpers/counting-hasher.js';
import { LOGIN, SIGN_UP, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { connectTestRedis } from '../helpers/redis.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.js';

const PER_EMAIL_5 = {
  RATE_LIMIT_LOGIN_PER_IP: '1000/1m',
  RATE_LIMIT_LOGIN_PER_EMAIL: '5/1m',
  LOCKOUT_THRESHOLD: '100',
};

const connections: Redis[] = [];
const servers: TestServer[] = [];
/** A key prefix of its own per test: every suite here shares the client address 127.0.0.1. */
const freshRedis = async () => {
  const connection = await connectTestRedis();
  connections.push(connection);
  return connection;
};
const start = async (...args: Parameters<typeof startTestServer>) => {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
};

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const connection of connections) connection.disconnect();
});

const wrongLogins = (targets: TestServer[], email: string, count: number) =>
  Promise.all(
    Array.from({ length: count }, (_, i) =>
      targets[i % targets.length]!.graphql(LOGIN, { email, password: 'wrong password 123' }),
    ),
  );

function expectLimited(response: GraphQLResponse, windowSeconds = 60) {
  expect(response.status).toBe(429);
  expect(errorCode(response)).toBe('RATE_LIMITED');
  const retryAfter = response.body.errors?.[0]?.extensions?.retryAfter as number;
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(response.headers.get('retry-after')).toBe(String(retryAfter));
}

describe('@rateLimit on login', () => {
  it.each([
    ['in memory, one instance', 1, false],
    ['in Redis, one instance', 1, true],
    ['in Redis, two instances', 2, true],
  ])(
    'lets exactly 5 of 50 parallel wrong-password logins for one account reach verification (%s)',
    async (_name, instances, withRedis) => {
      const { hasher, counter } = await countingHasher();
      const databaseUri = freshDatabaseUri('rate-limit');
      const redis = await freshRedis();
      const targets = await Promise.all(
        Array.from({ length: instances }, () =>
          start({ env: PER_EMAIL_5, databaseUri, hasher, redis: withRedis ? redis : undefined }),
        ),
      );
      const email = uniqueEmail('target');
      await signUp(targets[0]!, email);

      const responses = await wrongLogins(targets, email, 50);
      expect(counter.verifications).toBe(5);
      const codes = responses.map(errorCode);
      // Counted as a whole first, so a failure names any third outcome and its message.
      const outcomes: Record<string, number> = {};
      for (const code of codes) outcomes[String(code)] = (outcomes[String(code)] ?? 0) + 1;
      const others = responses
        .filter((r) => !['UNAUTHENTICATED', 'RATE_LIMITED'].includes(String(errorCode(r))))
        .map((r) => `${r.status} ${r.body.errors?.[0]?.message}`);
      expect({ outcomes, others }).toEqual({
        outcomes: { UNAUTHENTICATED: 5, RATE_LIMITED: 45 },
        others: [],
      });
      for (const response of responses.filter((r) => errorCode(r) === 'RATE_LIMITED')) {
        expectLimited(response);
      }
      expect(responses.every((response) => response.status !== 500)).toBe(true);
    },
  );

  it('counts the same account under every spelling of its email', async () => {
    const server = await start({ env: PER_EMAIL_5, redis: await freshRedis() });
    const email = uniqueEmail('spelling');
    const spellings = [email, email.toUpperCase(), ` ${email} `];
    const responses = [];
    for (let i = 0; i < 7; i += 1) {
      responses.push(
        await server.graphql(LOGIN, { email: spellings[i % 3], password: 'wrong password 123' }),
      );
    }
    expect(responses.map(errorCode).filter((code) => code === 'RATE_LIMITED')).toHaveLength(2);
  });

  it('counts each aliased copy of a limited field in one operation', async () => {
    // login allows one password check per document, so refreshToken shows the counting.
    const server = await start({
      env: { ...PER_EMAIL_5, RATE_LIMIT_REFRESH_PER_IP: '2/1m' },
      redis: await freshRedis(),
    });
    const tokens = await Promise.all(
      [1, 2, 3].map(async () => {
        const response = await server.graphql(
          'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { refreshToken } }',
          { e: uniqueEmail('alias') },
        );
        return (response.body.data?.signUp as { refreshToken: string }).refreshToken;
      }),
    );
    const aliases = ['a', 'b', 'c']
      .map((alias, i) => `${alias}: refreshToken(token: "${tokens[i]}") { expiresIn }`)
      .join('\n');
    const response = await server.graphql(`mutation { ${aliases} }`);
    // Mutation fields run in order: a and b pass, c is the third call in the window.
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]?.path).toEqual(['c']);
    expectLimited(response);
    expect(response.body.data).toBeNull();
  });

  it('lets calls through again once the window has passed', async () => {
    const server = await start({
      env: { ...PER_EMAIL_5, RATE_LIMIT_LOGIN_PER_EMAIL: '2/1s' },
      redis: await freshRedis(),
    });
    const email = uniqueEmail('window');
    const attempt = () => server.graphql(LOGIN, { email, password: 'wrong password 123' });
    expect(errorCode(await attempt())).toBe('UNAUTHENTICATED');
    expect(errorCode(await attempt())).toBe('UNAUTHENTICATED');
    expectLimited(await attempt());
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(errorCode(await attempt())).toBe('UNAUTHENTICATED');
  });

  it('limits each client address across accounts (10 per minute by default)', async () => {
    const server = await start({
      env: { RATE_LIMIT_LOGIN_PER_IP: '3/1m', RATE_LIMIT_LOGIN_PER_EMAIL: '100/1m' },
      redis: await freshRedis(),
    });
    const codes = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await server.graphql(LOGIN, {
        email: uniqueEmail('many'),
        password: 'wrong password 123',
      });
      codes.push(errorCode(response));
    }
    expect(codes).toEqual([
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'RATE_LIMITED',
      'RATE_LIMITED',
    ]);
  });
});

describe('client identity', () => {
  const attemptsFrom = async (server: TestServer, forwardedFor: (i: number) => string) => {
    const codes = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await server.graphql(
        LOGIN,
        { email: uniqueEmail('xff'), password: 'wrong password 123' },
        { 'x-forwarded-for': forwardedFor(i) },
      );
      codes.push(errorCode(response));
    }
    return codes.filter((code) => code === 'RATE_LIMITED').length;
  };
  const env = { RATE_LIMIT_LOGIN_PER_IP: '2/1m', RATE_LIMIT_LOGIN_PER_EMAIL: '100/1m' };

  it('ignores X-Forwarded-For without trusted proxies, so rotating it escapes nothing', async () => {
    const server = await start({ env, redis: await freshRedis() });
    expect(await attemptsFrom(server, (i) => `203.0.113.${i + 1}`)).toBe(2);
  });

  it('uses X-Forwarded-For from a trusted proxy (TRUST_PROXY)', async () => {
    const server = await start({
      env: { ...env, TRUST_PROXY: 'loopback' },
      redis: await freshRedis(),
    });
    expect(await attemptsFrom(server, (i) => `203.0.113.${i + 1}`)).toBe(0);
    expect(await attemptsFrom(server, () => '198.51.100.7')).toBe(2);
  });

  it('trusts only as many hops as TRUST_PROXY counts', async () => {
    const server = await start({ env: { ...env, TRUST_PROXY: '1' }, redis: await freshRedis() });
    // The client forged the first entry; the proxy appended the real address last.
    expect(await attemptsFrom(server, (i) => `10.9.9.${i}, 198.51.100.8`)).toBe(2);
  });
});

describe('@rateLimit on signUp', () => {
  it('refuses sign-ups past the per-address limit with 429', async () => {
    const server = await start({
      env: { RATE_LIMIT_SIGNUP_PER_IP: '2/10m' },
      redis: await freshRedis(),
    });
    const responses = [];
    for (let i = 0; i < 3; i += 1) {
      responses.push(
        await server.graphql(SIGN_UP, {
          email: uniqueEmail('su'),
          password: 'correct horse battery',
        }),
      );
    }
    expect(responses.slice(0, 2).every((response) => response.body.data?.signUp)).toBe(true);
    expectLimited(responses[2]!, 600);
    expect(responses[2]!.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(590);
  });
});

describe('security events', () => {
  it('logs each limit hit as a structured event without secrets', async () => {
    const server = await start({
      env: { ...PER_EMAIL_5, RATE_LIMIT_LOGIN_PER_EMAIL: '1/1m' },
      redis: await freshRedis(),
    });
    const email = uniqueEmail('event');
    await server.graphql(LOGIN, { email, password: 'secret guess 1' });
    await server.graphql(LOGIN, { email, password: 'secret guess 2' });
    const events = server.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.securityEvent === 'rate_limit.hit');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ rule: 'Mutation.login|email', clientIp: '127.0.0.1' });
    const all = server.logs.join('\n');
    expect(all).not.toContain('secret guess');
    expect(all).not.toContain(email);
  });
});
