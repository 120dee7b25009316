import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { signUp, uniqueEmail } from '../helpers/operations.js';
import { startFastApiApp, type FastApiApp } from '../helpers/fastapi.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';

/**
 * A resource server written the way FastAPI's security guides show (OAuth2PasswordBearer and
 * PyJWT, here with PyJWKClient) accepts our access tokens and refuses forged or stale ones.
 */

const PASSWORD = 'correct horse battery';
const ecPrivateKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;

/** RFC 6749 §5.1: what a token endpoint answers to a password grant. */
interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

/** RFC 6749 §4.3: the password grant at POST /token, form-encoded. */
async function tokenEndpointGrant(server: TestServer, username: string, password: string) {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /token: ${response.status} ${text}`);
  return JSON.parse(text) as TokenResponse;
}

/** How the FastAPI guides' clients get a token: OAuth2PasswordBearer's tokenUrl. */
const passwordGrant = tokenEndpointGrant;

const startServer = serversClosedAfterAll();
const privateKey = ecPrivateKeyPem();
let server: TestServer;
/** The same key, with tokens that expire after a second. */
let shortLived: TestServer;
let fastapi: FastApiApp;

beforeAll(async () => {
  server = await startServer({ env: { JWT_PRIVATE_KEY: privateKey }, label: 'fastapi' });
  shortLived = await startServer({
    env: { JWT_PRIVATE_KEY: privateKey, ACCESS_TOKEN_TTL: '1s' },
    label: 'fastapi_short',
  });
  fastapi = await startFastApiApp({
    AUTH_TOKEN_URL: `${server.url}/token`,
    AUTH_JWKS_URL: `${server.url}/.well-known/jwks.json`,
    AUTH_ISSUER: server.config.jwtIssuer,
    AUTH_AUDIENCE: server.config.jwtAudience,
  });
}, 60_000);
/** Whether the app answered 5xx: its traceback, in uvicorn's stderr, then explains the failure. */
let crashed = false;
afterAll(async () => {
  await fastapi?.close();
  if (crashed) process.stderr.write(`uvicorn's stderr:\n${fastapi.stderr()}\n`);
});

/** GET /me on the FastAPI app. */
async function fastapiMe(token: string) {
  const response = await fetch(`${fastapi.url}/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  if (response.status >= 500) crashed = true;
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get('www-authenticate'),
    body: response.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text,
  };
}

const unauthorized = {
  status: 401,
  wwwAuthenticate: 'Bearer',
  body: { detail: 'Could not validate credentials' },
};

async function signedUpToken(on: TestServer = server) {
  const email = uniqueEmail('fastapi');
  const { userId } = await signUp(on, email, PASSWORD);
  const grant = await passwordGrant(on, email, PASSWORD);
  return { userId, token: grant.access_token };
}

const segments = (token: string) => token.split('.') as [string, string, string];
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(segments(token)[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

describe('a FastAPI resource server verifying our tokens with PyJWT and our JWKS', () => {
  it('accepts our access token and sees our user id as sub, and the scope', async () => {
    const { userId, token } = await signedUpToken();
    expect(await fastapiMe(token)).toEqual({
      status: 200,
      wwwAuthenticate: null,
      body: { sub: userId, scope: claimsOf(token).scope },
    });
    expect(typeof claimsOf(token).scope).toBe('string');
  });

  it('refuses a token whose signature was altered', async () => {
    const { token } = await signedUpToken();
    const [header, payload, signature] = segments(token);
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = bytes[0]! ^ 0x01;
    expect(await fastapiMe(`${header}.${payload}.${bytes.toString('base64url')}`)).toEqual(
      unauthorized,
    );
  });

  it('refuses a token whose claims were altered', async () => {
    const { token } = await signedUpToken();
    const other = await signedUpToken();
    const [header, , signature] = segments(token);
    const forged = { ...claimsOf(token), sub: other.userId };
    const payload = Buffer.from(JSON.stringify(forged)).toString('base64url');
    expect(await fastapiMe(`${header}.${payload}.${signature}`)).toEqual(unauthorized);
  });

  it('refuses an expired token', async () => {
    const { token } = await signedUpToken(shortLived);
    const exp = claimsOf(token).exp as number;
    // PyJWT refuses a token once its clock reaches exp; wait that out by the wall clock.
    while (Date.now() < (exp + 1) * 1000) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await fastapiMe(token)).toEqual(unauthorized);
  });

  it('refuses a token signed by another key, even under our key id', async () => {
    const { token } = await signedUpToken();
    const { kid } = JSON.parse(Buffer.from(segments(token)[0], 'base64url').toString('utf8')) as {
      kid: string;
    };
    const claims = claimsOf(token);
    delete claims.iat; // jsonwebtoken sets its own
    const forged = jwt.sign(claims, ecPrivateKeyPem(), {
      algorithm: 'ES256',
      header: { alg: 'ES256', typ: 'at+jwt', kid },
    });
    expect(await fastapiMe(forged)).toEqual(unauthorized);
  });
});
