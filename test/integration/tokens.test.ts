import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { Types } from 'mongoose';
import { ME, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { hmacKeyRing, parseSecrets } from '../../src/lib/keys.js';
import { TEST_JWT_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let userId: string;
let validToken: string;
let sessionId: string;

const ring = hmacKeyRing(parseSecrets(TEST_JWT_SECRET));
const key = ring.signing.key;
const claims = () => ({ roles: ['USER'], sub: userId, jti: 'test-jti', sid: sessionId });
const signed = (options: jwt.SignOptions, secret: jwt.Secret = key, payload: object = claims()) =>
  jwt.sign(payload, secret, {
    algorithm: 'HS256',
    keyid: ring.signing.kid,
    header: { alg: options.algorithm ?? 'HS256', typ: 'at+jwt' },
    issuer: server.config.jwtIssuer,
    audience: server.config.jwtAudience,
    expiresIn: 60,
    ...options,
  });
const unsigned = (payload: object) =>
  `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
    JSON.stringify(payload),
  ).toString('base64url')}.`;

beforeAll(async () => {
  // HS256, so this suite can forge tokens with the shared secret.
  server = await startTestServer({ label: 'tokens', env: { JWT_SECRET: TEST_JWT_SECRET } });
  ({ userId, token: validToken } = await signUp(server, uniqueEmail('tokens')));
  sessionId = (jwt.decode(validToken) as jwt.JwtPayload).sid as string;
});
afterAll(() => server.close());

describe('access tokens in the Authorization header', () => {
  it('accepts a valid token and answers me', async () => {
    const response = await server.graphql(ME, {}, bearer(validToken));
    expect(response.status).toBe(200);
    expect((response.body.data?.me as { id: string }).id).toBe(userId);
  });

  it('treats a request without the header as anonymous, not as an error', async () => {
    const response = await server.graphql('{ __typename }');
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ __typename: 'Query' });
  });

  const invalid: [string, () => string, string][] = [
    ['an expired token', () => signed({ expiresIn: -10 }), 'Token expired'],
    [
      'a token signed with another key',
      () => signed({}, 'another-secret-of-enough-length-0123456789'),
      'Invalid token',
    ],
    [
      'an alg: none token',
      () =>
        unsigned({
          ...claims(),
          iss: server.config.jwtIssuer,
          aud: server.config.jwtAudience,
          exp: Math.floor(Date.now() / 1000) + 60,
        }),
      'Invalid token',
    ],
    [
      'an HS512 token made with the right key',
      () => signed({ algorithm: 'HS512' }),
      'Invalid token',
    ],
    ['a token with the wrong issuer', () => signed({ issuer: 'someone-else' }), 'Invalid token'],
    ['a token with the wrong audience', () => signed({ audience: 'another-api' }), 'Invalid token'],
    [
      'a token without roles',
      () => signed({}, key, { sub: userId, jti: 'x', sid: sessionId }),
      'Invalid token',
    ],
    [
      'a token without the at+jwt typ',
      () =>
        jwt.sign(claims(), key, {
          algorithm: 'HS256',
          keyid: ring.signing.kid,
          issuer: server.config.jwtIssuer,
          audience: server.config.jwtAudience,
          expiresIn: 60,
        }),
      'Invalid token',
    ],
    ['a token with an unknown kid', () => signed({ keyid: 'someone-else' }), 'Invalid token'],
    ['a malformed token', () => 'not.a.jwt', 'Invalid token'],
    ['a token of random text', () => 'abc', 'Invalid token'],
    [
      'a valid token with its signature cut off',
      () => validToken.split('.').slice(0, 2).join('.') + '.',
      'Invalid token',
    ],
    ['an oversized token', () => 'a'.repeat(5000), 'Invalid token'],
  ];

  it.each(invalid)(
    'answers %s with 401, a Bearer challenge and UNAUTHENTICATED',
    async (_name, token, message) => {
      const response = await server.graphql(ME, {}, bearer(token()));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer error="invalid_token", error_description="${message}"`,
      );
      expect(errorCode(response)).toBe('UNAUTHENTICATED');
      expect(response.body.errors?.[0]?.message).toBe(message);
      expect(response.body.data).toBeUndefined();
    },
  );

  it.each([
    ['Bearer with no token', 'Bearer'],
    ['Bearer and spaces only', 'Bearer   '],
    ['Bearer and two words', 'Bearer abc def'],
    ['Bearer and a token with a quote', 'Bearer abc"def'],
  ])('answers %s with 400 invalid_request (RFC 6750 §3.1)', async (_name, header) => {
    const response = await server.graphql(ME, {}, { authorization: header });
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/);
    expect(errorCode(response)).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a token without a scheme', 'eyJhbGciOiJIUzI1NiJ9.e30.x'],
  ])(
    'answers %s with 401 and a bare challenge: no error code (RFC 6750 §3.1)',
    async (_n, header) => {
      const response = await server.graphql(ME, {}, { authorization: header });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(errorCode(response)).toBe('UNAUTHENTICATED');
    },
  );

  it('puts only characters RFC 6750 allows in every error_description: no quotes or backslashes', async () => {
    for (const header of ['Bearer', 'Bearer a b', `Bearer ${'x'.repeat(9000)}`, 'Bearer abc']) {
      const challenge = (await server.graphql(ME, {}, { authorization: header })).headers.get(
        'www-authenticate',
      );
      const description = /error_description="(.*)"$/.exec(challenge ?? '')?.[1];
      expect(description).toBeDefined();
      expect(description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
    }
  });

  it('accepts the scheme name in any case', async () => {
    const response = await server.graphql(ME, {}, { authorization: `bearer ${validToken}` });
    expect((response.body.data?.me as { id: string }).id).toBe(userId);
  });

  it('refuses a token whose account was deleted', async () => {
    const { token, userId: goneId } = await signUp(server, uniqueEmail('gone'));
    const deleted = await server.connection
      .collection('users')
      .deleteOne({ _id: new Types.ObjectId(goneId) });
    expect(deleted.deletedCount).toBe(1);
    const response = await server.graphql(ME, {}, bearer(token));
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.message).toBe('Token revoked');
  });
});

describe('a refused token on public operations', () => {
  const PASSWORD = 'correct horse battery';
  const PAYLOAD = '{ accessToken refreshToken }';
  const SIGN_UP_FOR_REFRESH = `mutation($email: String!, $useCookie: Boolean!) {
    signUp(email: $email, password: "${PASSWORD}", useCookie: $useCookie) ${PAYLOAD} }`;
  const LOGIN = `mutation($email: String!) { login(email: $email, password: "${PASSWORD}") ${PAYLOAD} }`;
  const REFRESH = `mutation($token: String) { refreshToken(token: $token) ${PAYLOAD} }`;
  const expired = () => signed({ expiresIn: -10 });
  const accessTokenOf = (
    response: { body: { data?: Record<string, unknown> | null } },
    field: string,
  ) => (response.body.data?.[field] as { accessToken?: string } | undefined)?.accessToken;

  it('runs login as anonymous with an expired token or a garbage one', async () => {
    const email = uniqueEmail('stale-login');
    await signUp(server, email, PASSWORD);
    for (const token of [expired(), 'garbage', 'not.a.jwt']) {
      const response = await server.graphql(LOGIN, { email }, bearer(token));
      expect(response.status).toBe(200);
      expect(accessTokenOf(response, 'login')).toEqual(expect.any(String));
    }
  });

  it('runs refreshToken with an expired token, from the argument and from the cookie', async () => {
    const byArgument = await server.graphql(SIGN_UP_FOR_REFRESH, {
      email: uniqueEmail('stale-refresh'),
      useCookie: false,
    });
    const refreshToken = (byArgument.body.data?.signUp as { refreshToken: string }).refreshToken;
    const refreshed = await server.graphql(REFRESH, { token: refreshToken }, bearer(expired()));
    expect(refreshed.status).toBe(200);
    expect(accessTokenOf(refreshed, 'refreshToken')).toEqual(expect.any(String));

    const byCookie = await server.graphql(SIGN_UP_FOR_REFRESH, {
      email: uniqueEmail('stale-cookie'),
      useCookie: true,
    });
    const cookie = byCookie.headers.get('set-cookie')!.split(';')[0]!;
    const fromCookie = await server.graphql(
      REFRESH,
      {},
      { ...bearer(expired()), cookie, 'x-graphql-yoga-csrf': '1' },
    );
    expect(fromCookie.status).toBe(200);
    expect(accessTokenOf(fromCookie, 'refreshToken')).toEqual(expect.any(String));
  });

  it('still refuses a protected field, alone or beside a public one, with 401 and the challenge', async () => {
    const email = uniqueEmail('stale-mixed');
    await signUp(server, email, PASSWORD);
    const mixed = `mutation($email: String!) {
      login(email: $email, password: "${PASSWORD}") { accessToken }
      logoutAll
    }`;
    const viaFragment = `query { ...F } fragment F on Query { me { id } }`;
    for (const [query, variables] of [
      [ME, {}],
      [mixed, { email }],
      [viaFragment, {}],
    ] as const) {
      const response = await server.graphql(query, variables, bearer(expired()));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer error="invalid_token", error_description="Token expired"',
      );
      expect(errorCode(response)).toBe('UNAUTHENTICATED');
      expect(response.body.data).toBeUndefined();
    }
    const garbage = await server.graphql(mixed, { email }, bearer('garbage'));
    expect(garbage.status).toBe(401);
  });

  it('counts refused tokens on public operations towards the invalid-token limit', async () => {
    const limited = await startTestServer({
      label: 'stale-limit',
      env: { RATE_LIMIT_INVALID_TOKENS_PER_IP: '2/1m' },
    });
    try {
      const email = uniqueEmail('stale-limit');
      await signUp(limited, email, PASSWORD);
      const statuses = [];
      for (let i = 0; i < 3; i += 1) {
        statuses.push((await limited.graphql(LOGIN, { email }, bearer('garbage'))).status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      const me = await limited.graphql(ME, {}, bearer('garbage'));
      expect(me.status).toBe(429);
      expect(errorCode(me)).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });

  it('does not hold back a malformed Authorization header', async () => {
    const response = await server.graphql(
      LOGIN,
      { email: uniqueEmail('malformed') },
      { authorization: 'Bearer a b' },
    );
    expect(response.status).toBe(400);
  });
});
