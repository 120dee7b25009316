import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { connect } from 'node:net';
import { hmacKeyRing, parseSecrets } from '../../src/lib/keys.js';
import { errorCode } from '../helpers/operations.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { TEST_JWT_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The bad-input corpus: each request gets its documented status and error code, no request
 * gets a 5xx or leaks internals, and the server is healthy afterwards.
 */
let server: TestServer;
let token: string;
let refreshToken: string;

const ring = hmacKeyRing(parseSecrets(TEST_JWT_SECRET));
const JSON_HEADERS = { 'content-type': 'application/json' };
const json = (value: unknown) => JSON.stringify(value);
const query = (text: string, extra: object = {}) => json({ query: text, ...extra });
const aliases = (count: number) =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: __typename`).join(' ')} }`;

interface Case {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]> | (() => Record<string, string | string[]>);
  body?: string | Buffer;
  status: number | number[];
  code?: string;
}

const forged =
  (options: jwt.SignOptions, payload: object = {}) =>
  () => ({
    ...JSON_HEADERS,
    authorization: `Bearer ${jwt.sign({ roles: ['USER'], sid: 'x', ...payload }, ring.signing.key, {
      algorithm: 'HS256',
      keyid: ring.signing.kid,
      header: { alg: 'HS256', typ: 'at+jwt' },
      subject: 'someone',
      issuer: server.config.jwtIssuer,
      audience: server.config.jwtAudience,
      jwtid: 'j',
      expiresIn: 60,
      ...options,
    })}`,
  });
const bearer = (value: string | (() => string)) => () => ({
  ...JSON_HEADERS,
  authorization: typeof value === 'function' ? value() : value,
});

const CORPUS: Case[] = [
  // Malformed JSON and wrong shapes
  {
    name: 'truncated JSON',
    headers: JSON_HEADERS,
    body: '{"query": ',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'plain text in a JSON request',
    headers: JSON_HEADERS,
    body: 'hello',
    status: 400,
    code: 'BAD_REQUEST',
  },
  { name: 'JSON null', headers: JSON_HEADERS, body: 'null', status: 400, code: 'BAD_REQUEST' },
  { name: 'empty body', headers: JSON_HEADERS, body: '', status: 400, code: 'BAD_REQUEST' },
  {
    name: 'object without query',
    headers: JSON_HEADERS,
    body: '{}',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'query that is a number',
    headers: JSON_HEADERS,
    body: json({ query: 42 }),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'variables that are a string',
    headers: JSON_HEADERS,
    body: query('{ __typename }', { variables: 'x' }),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'extensions that are a number',
    headers: JSON_HEADERS,
    body: query('{ __typename }', { extensions: 5 }),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a batch (arrays are off)',
    headers: JSON_HEADERS,
    body: json([{ query: '{ __typename }' }]),
    status: 400,
    code: 'BAD_REQUEST',
  },
  { name: 'an empty batch', headers: JSON_HEADERS, body: '[]', status: 400, code: 'BAD_REQUEST' },
  // Wrong content types (simple requests need the CSRF header)
  {
    name: 'text/plain without CSRF header',
    headers: { 'content-type': 'text/plain' },
    body: query('{ __typename }'),
    status: 403,
  },
  {
    name: 'form-urlencoded without CSRF header',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'query=%7B__typename%7D',
    status: 403,
  },
  {
    name: 'multipart without CSRF header',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    body: '--x--',
    status: 403,
  },
  {
    name: 'application/xml',
    headers: { 'content-type': 'application/xml', 'x-graphql-yoga-csrf': '1' },
    body: '<q/>',
    status: [400, 415],
  },
  // Syntax and validation
  {
    name: 'a syntax error',
    headers: JSON_HEADERS,
    body: query('{ me { id }'),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
  },
  {
    name: 'a NUL in the query',
    headers: JSON_HEADERS,
    body: query('{ __typename \u0000 }'),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
  },
  {
    name: 'an unknown field',
    headers: JSON_HEADERS,
    body: query('{ nope }'),
    status: [200, 400],
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'a missing operation name among several',
    headers: JSON_HEADERS,
    body: query('query A { __typename } query B { __typename }'),
    status: [200, 400],
  },
  {
    name: 'an operation name that does not exist',
    headers: JSON_HEADERS,
    body: query('query A { __typename }', { operationName: 'B' }),
    status: [200, 400],
  },
  {
    name: 'wrongly typed variables',
    headers: JSON_HEADERS,
    body: query('mutation($e: String!) { login(email: $e, password: "x") { expiresIn } }', {
      variables: { e: 42 },
    }),
    status: [200, 400],
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a missing required variable',
    headers: JSON_HEADERS,
    body: query('mutation($e: String!) { login(email: $e, password: "x") { expiresIn } }'),
    status: [200, 400],
    code: 'BAD_USER_INPUT',
  },
  // Size and shape limits
  {
    name: 'a deeply nested query',
    headers: JSON_HEADERS,
    body: query(`{ me ${'{ id '.repeat(12)}${'}'.repeat(12)} }`),
    status: 400,
    code: 'QUERY_TOO_DEEP',
  },
  {
    name: '20 aliases',
    headers: JSON_HEADERS,
    body: query(aliases(20)),
    status: 400,
    code: 'TOO_MANY_ALIASES',
  },
  {
    name: '10,000 aliases',
    headers: JSON_HEADERS,
    body: query(aliases(10_000)),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: '600 aliases (under the body limit)',
    headers: JSON_HEADERS,
    body: query(aliases(600)),
    status: 400,
    code: 'TOO_MANY_TOKENS',
  },
  {
    name: '30 directives',
    headers: JSON_HEADERS,
    body: query(`{ __typename ${'@include(if: true) '.repeat(30)}}`),
    status: 400,
    code: 'TOO_MANY_DIRECTIVES',
  },
  {
    name: 'a 200 kB query',
    headers: JSON_HEADERS,
    body: query(`{ __typename } #${'x'.repeat(200_000)}`),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'oversized variables',
    headers: JSON_HEADERS,
    body: query('{ __typename }', { variables: { blob: 'x'.repeat(150_000) } }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a chunked body without Content-Length',
    headers: { ...JSON_HEADERS, 'transfer-encoding': 'chunked' },
    body: query('{ __typename }'),
    status: 411,
    code: 'LENGTH_REQUIRED',
  },
  {
    name: 'invalid UTF-8 inside the JSON',
    headers: JSON_HEADERS,
    body: Buffer.concat([
      Buffer.from('{"query":"{ __typename } #'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]),
    status: 200,
  },
  // Work before validation
  {
    name: '990 copies of one field',
    headers: JSON_HEADERS,
    body: query(`{ ${'__typename '.repeat(990)}}`),
    status: 400,
    code: 'TOO_MANY_SELECTIONS',
  },
  {
    name: '166 copies of one field with an argument (2.6 kB; ~200 ms of validation before)',
    headers: JSON_HEADERS,
    body: query(`{ ${'__typename(a: 1) '.repeat(166)}}`),
    status: 400,
    code: 'TOO_MANY_REPEATED_FIELDS',
  },
  {
    name: '15 copies of one field with 20 arguments each (30 ms of validation before)',
    headers: JSON_HEADERS,
    body: query(
      `{ ${`__typename(${Array.from({ length: 20 }, (_, i) => `a${i}: ${i}`).join(' ')}) `.repeat(15)}}`,
    ),
    status: 400,
    code: 'TOO_MANY_REPEATED_FIELDS',
  },
  {
    name: 'repeated fields merged from twelve copies of one parent',
    headers: JSON_HEADERS,
    body: query(`{ ${`me { ${'__typename(a: 1) '.repeat(13)}} `.repeat(12)}}`),
    status: 400,
    code: 'TOO_MANY_REPEATED_FIELDS',
  },
  {
    name: '30,000 newlines before 100 unknown fields (97 kB of them cost 1.3 s of error locations)',
    headers: JSON_HEADERS,
    body: query(
      `${'\n'.repeat(30_000)}{ ${Array.from({ length: 100 }, (_, i) => `x${i}`).join(' ')} }`,
    ),
    status: 400,
    code: 'QUERY_TOO_LONG',
  },
  {
    name: '5,000 empty lines before ten unknown fields (20,000 of them cost ~60 ms)',
    headers: JSON_HEADERS,
    body: query(`{${'\n'.repeat(5000)} a b c d e f g h i j }`),
    status: 400,
    code: 'QUERY_TOO_LONG',
  },
  {
    name: '975 fields in a fragment no operation uses',
    headers: JSON_HEADERS,
    body: query(`{ __typename } fragment Unused on Query { ${'__typename '.repeat(975)}}`),
    status: 400,
    code: 'TOO_MANY_SELECTIONS',
  },
  {
    name: 'a fragment spread into a bomb of 2^20 fields',
    headers: JSON_HEADERS,
    body: query(
      `{ ...F0 } ${Array.from({ length: 20 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F20 on Query { __typename }`,
    ),
    status: 400,
    code: 'TOO_MANY_SELECTIONS',
  },
  {
    name: 'two aliased logins in one document',
    headers: JSON_HEADERS,
    body: query(
      'mutation { a: login(email: "a@example.com", password: "p") { accessToken } b: login(email: "a@example.com", password: "q") { accessToken } }',
    ),
    status: 400,
    code: 'TOO_MANY_PASSWORD_CHECKS',
  },
  {
    name: 'a lone surrogate in a variable',
    headers: JSON_HEADERS,
    body: '{"query":"mutation($e: String!) { login(email: $e, password: \\"whatever\\") { accessToken } }","variables":{"e":"a\\ud800@example.com"}}',
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a lone surrogate in the query text',
    headers: JSON_HEADERS,
    body: '{"query":"{ __typename } # \\udc00"}',
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  // Header abuse
  {
    name: 'a 10 kB Authorization header',
    headers: bearer(`Bearer ${'a'.repeat(10_000)}`),
    body: query('{ __typename }'),
    status: 400,
    code: 'UNAUTHENTICATED',
  },
  {
    name: '20 kB of headers',
    headers: { ...JSON_HEADERS, 'x-padding': 'p'.repeat(20_000) },
    body: query('{ __typename }'),
    status: 431,
  },
  {
    name: 'a long, odd X-Request-Id',
    headers: { ...JSON_HEADERS, 'x-request-id': `<script>${'x'.repeat(200)}` },
    body: query('{ __typename }'),
    status: 200,
  },
  {
    name: 'a garbage X-Forwarded-For',
    headers: { ...JSON_HEADERS, 'x-forwarded-for': '"; DROP TABLE users; --' },
    body: query('{ __typename }'),
    status: 200,
  },
  // Every bad-token form
  {
    name: 'Bearer without a token',
    headers: bearer('Bearer'),
    body: query('{ __typename }'),
    status: 400,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'Bearer with spaces only',
    headers: bearer('Bearer    '),
    body: query('{ __typename }'),
    status: 400,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'the Basic scheme',
    headers: bearer('Basic dXNlcjpwYXNz'),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'Bearer, 8,000 spaces, then two words (a backtracking pattern once took ~1 s on this)',
    headers: bearer(`Bearer${' '.repeat(8000)}x y`),
    body: query('{ __typename }'),
    status: 400,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token with a critical header extension',
    headers: forged({ header: { alg: 'HS256', typ: 'at+jwt', crit: ['x'] } as jwt.JwtHeader }),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token without a scheme',
    headers: bearer('abc.def.ghi'),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a random string',
    headers: bearer('Bearer not-a-jwt'),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'an expired token',
    headers: forged({ expiresIn: -10 }),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token for another audience',
    headers: forged({ audience: 'elsewhere' }),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token from another issuer',
    headers: forged({ issuer: 'elsewhere' }),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token with an unknown kid',
    headers: forged({ keyid: 'nobody' }),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'an alg: none token',
    headers: bearer(
      () =>
        `Bearer ${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`,
    ),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a token with a broken signature',
    headers: bearer(() => `Bearer ${token.slice(0, -4)}AAAA`),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a refresh token as bearer',
    headers: bearer(() => `Bearer ${refreshToken}`),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a session that does not exist',
    headers: forged({}, { sid: '0123456789abcdef01234567' }),
    body: query('{ __typename }'),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  // Methods and paths
  {
    name: 'a mutation over GET',
    method: 'GET',
    path: `/graphql?query=${encodeURIComponent('mutation { logoutAll }')}`,
    headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
    status: 405,
  },
  {
    name: 'GET without a query',
    method: 'GET',
    path: '/graphql',
    headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
    status: 400,
  },
  { name: 'PUT', method: 'PUT', headers: JSON_HEADERS, body: query('{ __typename }'), status: 405 },
  { name: 'DELETE', method: 'DELETE', headers: JSON_HEADERS, status: 405 },
  { name: 'an unknown path', method: 'GET', path: '/admin', status: 404 },
  // Production schema exposure
  // The server adapter builds the URL from Host: one it cannot parse must not reach it.
  {
    name: 'Host with a space',
    headers: { ...JSON_HEADERS, host: 'a b' },
    body: query('{ __typename }'),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'Host with a port out of range',
    headers: { ...JSON_HEADERS, host: 'localhost:99999' },
    body: query('{ __typename }'),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'Host with a path',
    headers: { ...JSON_HEADERS, host: 'localhost/graphql' },
    body: query('{ __typename }'),
    status: 400,
    code: 'BAD_REQUEST',
  },
  // An empty query or fragment, or empty user info, parses as a bare host but moves the real
  // path: Yoga would serve GraphiQL without the headers the /graphql path gets.
  ...['localhost#', 'localhost?', ':pw@localhost'].map((host) => ({
    name: `Host ${host}`,
    headers: { ...JSON_HEADERS, host },
    body: query('{ __typename }'),
    status: 400,
    code: 'BAD_REQUEST',
  })),
  {
    name: 'introspection in production',
    headers: JSON_HEADERS,
    body: query('{ __schema { types { name } } }'),
    status: [200, 400],
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
];

beforeAll(async () => {
  server = await startTestServer({
    env: {
      NODE_ENV: 'production',
      REQUIRE_HTTPS: 'false',
      EMAIL_FLOWS: 'false',
      // The forged tokens below are HS256, signed with the secret this server opts in to.
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_ALLOW_HS256: 'true',
    },
  });
  const response = await server.graphql(
    'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { accessToken refreshToken } }',
    { e: `corpus-${Date.now()}@example.com` },
  );
  ({ accessToken: token, refreshToken } = response.body.data?.signUp as {
    accessToken: string;
    refreshToken: string;
  });
});
afterAll(() => server.close());

describe('the bad-input corpus', () => {
  it(`answers all ${CORPUS.length} bad requests with their documented error and no 5xx`, async () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    const failures: string[] = [];
    for (const entry of CORPUS) {
      const headers = typeof entry.headers === 'function' ? entry.headers() : entry.headers;
      let response: RawResponse;
      try {
        response = await rawRequest(server.url, { ...entry, headers });
      } catch (error) {
        failures.push(`${entry.name}: request failed (${(error as Error).message})`);
        continue;
      }
      const statuses = Array.isArray(entry.status) ? entry.status : [entry.status];
      if (!statuses.includes(response.status)) {
        failures.push(
          `${entry.name}: status ${response.status}, expected ${statuses.join('/')}: ${response.body.slice(0, 200)}`,
        );
      }
      if (entry.code) {
        const codes = (() => {
          try {
            return (
              (
                JSON.parse(response.body) as { errors?: { extensions?: { code?: string } }[] }
              ).errors?.map((e) => e.extensions?.code) ?? []
            );
          } catch {
            return [];
          }
        })();
        if (!codes.includes(entry.code))
          failures.push(`${entry.name}: codes ${codes.join(',')}, expected ${entry.code}`);
      }
      if (/originalError|stack|at .+\.(js|ts):\d+/.test(response.body)) {
        failures.push(`${entry.name}: leaks internals: ${response.body.slice(0, 200)}`);
      }
      if (response.status >= 500) failures.push(`${entry.name}: ${response.status}`);
    }
    expect(failures).toEqual([]);

    // Healthy afterwards: probes answer and a real operation works.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const me = await server.graphql('{ me { id } }', {}, { authorization: `Bearer ${token}` });
    expect(me.body.data?.me).toBeTruthy();
  });

  it('refuses request targets the URL cannot be built from (absolute form, *) with 400', async () => {
    const { port } = new URL(server.url);
    // Without a port in Host, `http://<Host><target>` parses for an absolute target too.
    const cases = ['http://x/graphql', '*'].flatMap((target) =>
      [`localhost:${port}`, 'localhost'].map((host) => ({ target, host })),
    );
    for (const { target, host } of cases) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.end(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(answer).not.toMatch(/TypeError|at .+\.(js|ts):\d+/);
    }
  });

  it('reports at most 10 validation errors, however many the query has', async () => {
    const fields = Array.from({ length: 100 }, (_, i) => `unknown${i}`).join(' ');
    const response = await server.graphql(`{ ${fields} }`);
    expect(response.status).toBe(400);
    expect(response.body.errors?.length).toBeLessThanOrEqual(11);
    expect(response.body.errors?.[0]?.message).toMatch(/unknown0/);
  });

  it('keeps error messages short even when they echo a 90 kB variable', async () => {
    const response = await server.graphql('query Q($a: Boolean!) { __typename @include(if: $a) }', {
      a: Array.from({ length: 15_000 }, () => 'x'),
    });
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.message.length).toBeLessThanOrEqual(501);
    expect(response.text.length).toBeLessThan(2000);
  });

  it('reports validation errors where they are, lines and columns', async () => {
    const response = await server.graphql('{\n  __typename\n  nope\n}');
    expect((response.body.errors?.[0] as { locations?: unknown }).locations).toEqual([
      { line: 3, column: 3 },
    ]);
  });

  it('gives no "Did you mean" hints in production, not even a placeholder that marks a near miss', async () => {
    for (const text of ['{ mee { id } }', '{ users(first: 1, role: ADMN) { id } }', '{ Me }']) {
      const response = await server.graphql(text);
      expect(response.body.errors?.length).toBeGreaterThan(0);
      expect(response.text).not.toMatch(/Did you mean|Suggestion hidden/);
    }
    const near = (await server.graphql('{ mee { id } }')).body.errors?.[0]?.message;
    const far = (await server.graphql('{ zzzzzz { id } }')).body.errors?.[0]?.message;
    expect(near?.replace('mee', 'X')).toBe(far?.replace('zzzzzz', 'X'));
  });
});
