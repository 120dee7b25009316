import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import { LOGIN, ME, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, claimsOf, enrolledUser, verify } from '../helpers/totp.js';

const SECRET = 'backend-secret-0123456789';
const REFRESH = `mutation($token: String) { refreshToken(token: $token) { accessToken } }`;
const LOGIN_FOR_REFRESH = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { refreshToken }
}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

const servers: TestServer[] = [];
async function start(env: Record<string, string> = {}) {
  const server = await startTestServer({
    label: 'oauth',
    env: { TRUST_PROXY: 'loopback', ...env },
  });
  servers.push(server);
  return server;
}
afterAll(() => Promise.all(servers.map((server) => server.close())));

let open: TestServer;
let registered: TestServer;
beforeAll(async () => {
  open = await start();
  registered = await start({
    OAUTH_CLIENTS: `spa, backend:sha256:${sha256(SECRET)}`,
    // The frontend's address: the metadata's endpoints must come from the issuer instead.
    PUBLIC_URL: 'https://app.example.com',
    JWT_ISSUER: 'https://auth.example.com/',
    // A revoked key is refused at once, not after the cache's few seconds.
    REVOCATION_CACHE_TTL: '0',
  });
});

interface TokenReply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

let address = 0;
/** Each request from its own address unless asked otherwise, so per-address limits stay apart. */
const newAddress = () => `203.0.113.${(address++ % 250) + 1}`;

async function post(
  server: TestServer,
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TokenReply> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': newAddress(),
      ...headers,
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

const token = (server: TestServer, params: Record<string, string>, headers = {}) =>
  post(server, '/token', params, headers);
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});
const passwordGrant = (username: string, password = PASSWORD) => ({
  grant_type: 'password',
  username,
  password,
});

async function account(server: TestServer, prefix = 'oauth') {
  const email = uniqueEmail(prefix);
  await signUp(server, email, PASSWORD);
  return email;
}

describe('POST /token, password grant', () => {
  it('answers RFC 6749 §5.1 with a Bearer token, a refresh token and no-store headers', async () => {
    const reply = await token(open, passwordGrant(await account(open)));
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('pragma')).toBe('no-cache');
    expect(reply.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: open.config.accessTokenTtlSeconds,
      refresh_token: expect.any(String),
      scope: expect.stringContaining('profile:read'),
      // An extension: GraphQL login's deviceToken.
      device_token: expect.any(String),
    });
    // Without OAUTH_CLIENTS: the default client, as RFC 9068 asks every token to name one.
    expect(claimsOf(String(reply.body.access_token)).client_id).toBe('default');
  });

  it('names the default client in GraphQL logins too', async () => {
    const email = await account(open);
    const login = await open.graphql(LOGIN, { email, password: PASSWORD });
    const accessToken = (login.body.data?.login as { accessToken: string }).accessToken;
    expect(claimsOf(accessToken).client_id).toBe('default');
  });

  it('refuses a wrong password and an unknown user alike with invalid_grant', async () => {
    const email = await account(open);
    for (const reply of [
      await token(open, passwordGrant(email, 'a wrong password')),
      await token(open, passwordGrant(uniqueEmail('nobody'))),
    ]) {
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid_grant');
      expect(reply.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('refuses a body that is not form-urlencoded, and missing or repeated parameters', async () => {
    const email = await account(open);
    const json = await fetch(`${open.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(passwordGrant(email)),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe('invalid_request');

    const missing = await token(open, { grant_type: 'password', username: email });
    expect([missing.status, missing.body.error]).toEqual([400, 'invalid_request']);

    const repeated = await post(open, '/token', {}, {});
    expect(repeated.body.error).toBe('invalid_request');
    const twice = await fetch(`${open.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&username=${encodeURIComponent(email)}&password=a&password=b`,
    });
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('refuses an unknown grant type and an unknown scope', async () => {
    const email = await account(open);
    const grant = await token(open, { grant_type: 'client_credentials' });
    expect([grant.status, grant.body.error]).toEqual([400, 'unsupported_grant_type']);
    const scope = await token(open, {
      ...passwordGrant(email),
      scope: 'profile:read launch:missiles',
    });
    expect([scope.status, scope.body.error]).toEqual([400, 'invalid_scope']);
    const known = await token(open, { ...passwordGrant(email), scope: 'profile:read' });
    expect(known.status).toBe(200);
  });

  it('locks the account after the same failures as login, with 429 and Retry-After', async () => {
    const server = await start({ LOCKOUT_THRESHOLD: '2' });
    const email = await account(server);
    // Failures through GraphQL and through /token count together.
    await server.graphql(LOGIN, { email, password: 'a wrong password' });
    await token(server, passwordGrant(email, 'a wrong password'));
    const locked = await token(server, passwordGrant(email));
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('invalid_request');
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it("lets a client with its device_token in while others' guesses lock the account", async () => {
    const server = await start({ LOCKOUT_THRESHOLD: '2' });
    const email = await account(server);
    const first = await token(server, passwordGrant(email));
    const deviceToken = String(first.body.device_token);
    expect(deviceToken.length).toBeGreaterThan(20);
    for (let i = 0; i < 3; i += 1) await token(server, passwordGrant(email, 'a wrong password'));
    expect((await token(server, passwordGrant(email))).status).toBe(429);
    const known = await token(server, { ...passwordGrant(email), device_token: deviceToken });
    expect(known.status).toBe(200);
    expect(known.body.device_token).toEqual(expect.any(String));
  });

  it('shares the per-email rate limit with the GraphQL login', async () => {
    const server = await start({ RATE_LIMIT_LOGIN_PER_EMAIL: '2/1m' });
    const email = await account(server);
    const fixed = { 'x-forwarded-for': '198.51.100.7' };
    await server.graphql(LOGIN, { email, password: PASSWORD }, fixed);
    expect((await token(server, passwordGrant(email), fixed)).status).toBe(200);
    const limited = await token(server, passwordGrant(email), fixed);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(errorCode(await server.graphql(LOGIN, { email, password: PASSWORD }, fixed))).toBe(
      'RATE_LIMITED',
    );
  });

  it('refuses an unverified address with invalid_grant when verification is required', async () => {
    const server = await start({ REQUIRE_VERIFIED_EMAIL: 'true' });
    const email = uniqueEmail('unverified');
    await server.app.services.users.signUp(email, PASSWORD);
    const reply = await token(server, passwordGrant(email));
    expect([reply.status, reply.body.error]).toEqual([400, 'invalid_grant']);
    expect(String(reply.body.error_description)).toMatch(/verify/i);
  });

  it('asks for a second factor with mfa_required and finishes with the mfa-otp grant', async () => {
    const user = await enrolledUser(open, 'oauth-mfa');
    const first = await token(open, passwordGrant(user.email));
    expect(first.status).toBe(403);
    expect(first.body.error).toBe('mfa_required');
    const mfaToken = String(first.body.mfa_token);
    const grantType = 'http://auth0.com/oauth/grant-type/mfa-otp';
    const wrong = await token(open, { grant_type: grantType, mfa_token: mfaToken, otp: '000000' });
    expect([wrong.status, wrong.body.error]).toEqual([400, 'invalid_grant']);
    const done = await token(open, {
      grant_type: grantType,
      mfa_token: mfaToken,
      otp: user.recoveryCodes[0]!,
    });
    expect(done.status).toBe(200);
    expect(claimsOf(String(done.body.access_token)).amr).toEqual(['pwd', 'otp']);
  });

  it('never logs the password or the tokens', async () => {
    const email = await account(open);
    const reply = await token(open, passwordGrant(email));
    const logs = open.logs.join('\n');
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(String(reply.body.refresh_token));
    expect(logs).not.toContain(String(reply.body.access_token));
  });
});

describe('POST /token, refresh_token grant', () => {
  it('rotates the refresh token, and refuses the used one with invalid_grant', async () => {
    const first = await token(open, passwordGrant(await account(open)));
    const refreshToken = String(first.body.refresh_token);
    const second = await token(open, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(refreshToken);
    expect(second.headers.get('cache-control')).toBe('no-store');
    const bogus = await token(open, { grant_type: 'refresh_token', refresh_token: 'nonsense' });
    expect([bogus.status, bogus.body.error]).toEqual([400, 'invalid_grant']);
  });
});

describe('refresh tokens bound to their client (RFC 6749 §6, RFC 7009 §2.1)', () => {
  const refreshAs = (refreshToken: string, client: Record<string, string>, headers = {}) =>
    token(
      registered,
      { grant_type: 'refresh_token', refresh_token: refreshToken, ...client },
      headers,
    );

  it('lets only the client a session was issued to refresh or revoke it', async () => {
    const email = await account(registered);
    const spa = await token(registered, { ...passwordGrant(email), client_id: 'spa' });
    const spaRefresh = String(spa.body.refresh_token);

    const byBackend = await refreshAs(spaRefresh, {}, basic('backend', SECRET));
    expect([byBackend.status, byBackend.body.error]).toEqual([400, 'invalid_grant']);
    const byGraphQL = await registered.graphql(REFRESH, { token: spaRefresh });
    expect(errorCode(byGraphQL)).toBe('UNAUTHENTICATED');
    // Answered like any token, but the session stands.
    const revokedByBackend = await post(
      registered,
      '/revoke',
      { token: spaRefresh },
      basic('backend', SECRET),
    );
    expect(revokedByBackend.status).toBe(200);
    const revokeAccess = await post(
      registered,
      '/revoke',
      { token: String(spa.body.access_token) },
      basic('backend', SECRET),
    );
    expect(revokeAccess.status).toBe(200);
    expect(
      (await registered.graphql(ME, {}, bearer(String(spa.body.access_token)))).body.data,
    ).toEqual({ me: expect.objectContaining({ email }) });

    // Refused without being spent: its own client still rotates it.
    const bySpa = await refreshAs(spaRefresh, { client_id: 'spa' });
    expect(bySpa.status).toBe(200);
    expect(claimsOf(String(bySpa.body.access_token)).client_id).toBe('spa');
  });

  it("redeems a login's mfa_token only for the client it was issued to", async () => {
    const user = await enrolledUser(registered, 'oauth-mfa-client');
    const first = await token(registered, { ...passwordGrant(user.email), client_id: 'spa' });
    expect(first.body.error).toBe('mfa_required');
    const mfaToken = String(first.body.mfa_token);
    const otp = { grant_type: 'http://auth0.com/oauth/grant-type/mfa-otp', mfa_token: mfaToken };

    const byBackend = await token(
      registered,
      { ...otp, otp: user.recoveryCodes[0]! },
      basic('backend', SECRET),
    );
    expect([byBackend.status, byBackend.body.error]).toEqual([400, 'invalid_grant']);
    const byGraphQL = await verify(registered, mfaToken, user.recoveryCodes[1]!);
    expect(errorCode(byGraphQL)).toBe('MFA_CHALLENGE_INVALID');
    // Neither spent the challenge nor a code: its own client still finishes the sign-in.
    const bySpa = await token(registered, {
      ...otp,
      otp: user.recoveryCodes[0]!,
      client_id: 'spa',
    });
    expect(bySpa.status).toBe(200);
    expect(claimsOf(String(bySpa.body.access_token)).client_id).toBe('spa');
  });

  it('keeps GraphQL sessions to the default client when clients are registered', async () => {
    const email = await account(registered);
    const login = await registered.graphql(LOGIN_FOR_REFRESH, { email, password: PASSWORD });
    const refreshToken = String((login.body.data?.login as { refreshToken: string }).refreshToken);
    const bySpa = await refreshAs(refreshToken, { client_id: 'spa' });
    expect([bySpa.status, bySpa.body.error]).toEqual([400, 'invalid_grant']);
    const byGraphQL = await registered.graphql(REFRESH, { token: refreshToken });
    expect(byGraphQL.body).toEqual({ data: { refreshToken: { accessToken: expect.any(String) } } });
  });
});

describe('OAuth client authentication', () => {
  it('accepts a public client by client_id, and a confidential one by Basic or body', async () => {
    const email = await account(registered);
    const spa = await token(registered, { ...passwordGrant(email), client_id: 'spa' });
    expect(spa.status).toBe(200);
    expect(claimsOf(String(spa.body.access_token)).client_id).toBe('spa');
    const byBasic = await token(registered, passwordGrant(email), basic('backend', SECRET));
    expect(byBasic.status).toBe(200);
    expect(claimsOf(String(byBasic.body.access_token)).client_id).toBe('backend');
    const byBody = await token(registered, {
      ...passwordGrant(email),
      client_id: 'backend',
      client_secret: SECRET,
    });
    expect(byBody.status).toBe(200);
  });

  it('refuses unknown clients, wrong secrets and missing ones with invalid_client', async () => {
    const email = await account(registered);
    const cases: [Record<string, string>, Record<string, string>, boolean][] = [
      [{ client_id: 'stranger' }, {}, false],
      [{}, {}, false],
      [{ client_id: 'backend' }, {}, false],
      [{ client_id: 'backend', client_secret: 'wrong' }, {}, false],
      [{}, basic('backend', 'wrong'), true],
    ];
    for (const [params, headers, challenged] of cases) {
      const reply = await token(registered, { ...passwordGrant(email), ...params }, headers);
      expect([reply.status, reply.body.error]).toEqual([401, 'invalid_client']);
      expect(reply.headers.get('www-authenticate')?.startsWith('Basic realm=') ?? false).toBe(
        challenged,
      );
    }
  });
});

const CREATE_KEY = `mutation($name: String!, $scopes: [String!]!) {
  createApiKey(name: $name, scopes: $scopes) { key }
}`;

async function apiKeyOf(server: TestServer, accessToken: string, scopes = ['profile:read']) {
  const created = await server.graphql(CREATE_KEY, { name: 'oauth', scopes }, bearer(accessToken));
  const key = (created.body.data?.createApiKey as { key: string } | undefined)?.key;
  if (!key) throw new Error(`createApiKey failed: ${created.text}`);
  return key;
}

const backend = basic('backend', SECRET);

describe('GET /.well-known/oauth-authorization-server', () => {
  it('describes the endpoints, grants, client methods and scopes with absolute URLs', async () => {
    const response = await fetch(`${registered.url}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: 'https://auth.example.com/',
      token_endpoint: 'https://auth.example.com/token',
      revocation_endpoint: 'https://auth.example.com/revoke',
      introspection_endpoint: 'https://auth.example.com/introspect',
      jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
      grant_types_supported: [
        'password',
        'refresh_token',
        'http://auth0.com/oauth/grant-type/mfa-otp',
      ],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    });
    expect(metadata.scopes_supported).toEqual(
      expect.arrayContaining(['profile:read', 'audit:read']),
    );
  });

  it('falls back to PUBLIC_URL for endpoints while the issuer is no URL', async () => {
    const metadata = (await (
      await fetch(`${open.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe('graphql-auth-api');
    expect(metadata.token_endpoint).toBe('http://localhost:4000/token');
  });
});

describe('POST /revoke', () => {
  it('ends the session of a refresh token, after which refreshing fails', async () => {
    const email = await account(registered);
    const signedIn = await token(registered, { ...passwordGrant(email), client_id: 'spa' });
    const refreshToken = String(signedIn.body.refresh_token);
    const revoked = await post(registered, '/revoke', { token: refreshToken, client_id: 'spa' });
    expect(revoked.status).toBe(200);
    const refreshed = await token(registered, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'spa',
    });
    expect([refreshed.status, refreshed.body.error]).toEqual([400, 'invalid_grant']);
    const me = await registered.graphql(ME, {}, bearer(String(signedIn.body.access_token)));
    expect(errorCode(me)).toBe('UNAUTHENTICATED');
  });

  it('deletes an API key, answers 200 for unknown tokens, and wants a known client', async () => {
    const email = await account(registered);
    const signedIn = await token(registered, passwordGrant(email), backend);
    const accessToken = String(signedIn.body.access_token);
    const key = await apiKeyOf(registered, accessToken);
    expect((await registered.graphql(ME, {}, bearer(key))).body.data?.me).toBeTruthy();
    const revoked = await post(
      registered,
      '/revoke',
      { token: key, token_type_hint: 'access_token' },
      backend,
    );
    expect(revoked.status).toBe(200);
    expect(errorCode(await registered.graphql(ME, {}, bearer(key)))).toBe('UNAUTHENTICATED');

    const unknown = await post(registered, '/revoke', { token: 'nothing-of-ours' }, backend);
    expect(unknown.status).toBe(200);
    const anonymous = await post(registered, '/revoke', { token: 'nothing-of-ours' });
    expect([anonymous.status, anonymous.body.error]).toEqual([401, 'invalid_client']);
  });
});

describe('rate limits before client authentication', () => {
  it('limits /revoke, /introspect and client-secret guesses at /token per address', async () => {
    const limited = await start({
      OAUTH_CLIENTS: `spa, backend:sha256:${sha256(SECRET)}`,
      RATE_LIMIT_REVOKE_PER_IP: '2/1m',
      RATE_LIMIT_INTROSPECT_PER_IP: '2/1m',
      RATE_LIMIT_LOGIN_PER_IP: '3/1m',
    });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const statuses = async (count: number, send: () => Promise<TokenReply>) => {
      const replies: TokenReply[] = [];
      for (let i = 0; i < count; i += 1) replies.push(await send());
      return replies;
    };

    const revokes = await statuses(3, () =>
      post(limited, '/revoke', { token: 'junk', client_id: 'spa' }, from('198.51.100.7')),
    );
    expect(revokes.map((reply) => reply.status)).toEqual([200, 200, 429]);
    expect(revokes[2]?.body.error).toBe('invalid_request');
    expect(Number(revokes[2]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const guesses = await statuses(3, () =>
      post(
        limited,
        '/introspect',
        { token: 'junk' },
        { ...basic('backend', 'guess'), ...from('198.51.100.8') },
      ),
    );
    expect(guesses.map((reply) => [reply.status, reply.body.error])).toEqual([
      [401, 'invalid_client'],
      [401, 'invalid_client'],
      [429, 'invalid_request'],
    ]);

    const tokenGuesses = await statuses(4, () =>
      token(limited, passwordGrant('nobody@example.com'), {
        ...basic('backend', 'guess'),
        ...from('198.51.100.9'),
      }),
    );
    expect(tokenGuesses.map((reply) => reply.status)).toEqual([401, 401, 401, 429]);
    // Another address is unaffected.
    const other = await post(
      limited,
      '/revoke',
      { token: 'junk', client_id: 'spa' },
      from('198.51.100.10'),
    );
    expect(other.status).toBe(200);
  });

  it('answers an unknown grant_type, even one named like an object property, with 400', async () => {
    for (const grantType of ['constructor', '__proto__', 'toString', 'client_credentials']) {
      const reply = await token(open, { grant_type: grantType });
      expect([reply.status, reply.body.error]).toEqual([400, 'unsupported_grant_type']);
    }
  });
});

describe('POST /introspect', () => {
  it('describes an active access token and API key to a confidential client', async () => {
    const email = await account(registered);
    const signedIn = await token(registered, passwordGrant(email), backend);
    const accessToken = String(signedIn.body.access_token);
    const claims = claimsOf(accessToken);
    const active = await post(registered, '/introspect', { token: accessToken }, backend);
    expect(active.status).toBe(200);
    expect(active.body).toEqual({
      active: true,
      scope: signedIn.body.scope,
      client_id: 'backend',
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      iss: 'https://auth.example.com/',
      aud: claims.aud,
      token_type: 'Bearer',
    });
    const key = await apiKeyOf(registered, accessToken);
    const keyInfo = await post(registered, '/introspect', { token: key }, backend);
    expect(keyInfo.body).toMatchObject({ active: true, scope: 'profile:read', sub: claims.sub });
  });

  it('reports the scopes the API grants now: a demoted or disabled owner narrows them', async () => {
    const email = uniqueEmail('oauth-admin');
    await registered.app.services.users.ensureBootstrapAdmin(email, PASSWORD);
    const signedIn = await token(registered, passwordGrant(email), backend);
    const accessToken = String(signedIn.body.access_token);
    expect(String(signedIn.body.scope).split(' ')).toContain('users:read');
    const key = await apiKeyOf(registered, accessToken, ['users:read', 'profile:read']);
    const users = registered.connection.collection('users');
    const adminId = new Types.ObjectId(String(claimsOf(accessToken).sub));
    // Demoted: the API no longer lets the token or the key list users.
    await users.updateOne({ _id: adminId }, { $set: { roles: ['USER'] } });
    const tokenInfo = await post(registered, '/introspect', { token: accessToken }, backend);
    expect(tokenInfo.body.active).toBe(true);
    expect(String(tokenInfo.body.scope).split(' ')).not.toContain('users:read');
    const keyInfo = await post(registered, '/introspect', { token: key }, backend);
    expect(keyInfo.body).toMatchObject({ active: true, scope: 'profile:read' });
    // Disabled: the API refuses the key, so it is not active either.
    await users.updateOne({ _id: adminId }, { $set: { disabled: true } });
    const disabled = await post(registered, '/introspect', { token: key }, backend);
    expect(disabled.body).toEqual({ active: false });
  });

  it('answers inactive for revoked, refresh and unknown tokens', async () => {
    const email = await account(registered);
    const signedIn = await token(registered, passwordGrant(email), backend);
    const accessToken = String(signedIn.body.access_token);
    const refreshToken = String(signedIn.body.refresh_token);
    for (const probe of [refreshToken, 'nonsense']) {
      const reply = await post(registered, '/introspect', { token: probe }, backend);
      expect(reply.body).toEqual({ active: false });
    }
    await post(registered, '/revoke', { token: refreshToken }, backend);
    const revoked = await post(registered, '/introspect', { token: accessToken }, backend);
    expect(revoked.body).toEqual({ active: false });
  });

  it('refuses public clients and servers without confidential clients', async () => {
    const email = await account(registered);
    const accessToken = String(
      (await token(registered, { ...passwordGrant(email), client_id: 'spa' })).body.access_token,
    );
    const spa = await post(registered, '/introspect', { token: accessToken, client_id: 'spa' });
    expect([spa.status, spa.body.error]).toEqual([401, 'invalid_client']);
    const none = await post(open, '/introspect', { token: accessToken });
    expect([none.status, none.body.error]).toEqual([401, 'invalid_client']);
  });
});
