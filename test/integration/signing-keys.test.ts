import { describe, expect, it } from '@jest/globals';
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { ME, bearer, signUp, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll, startTestServer, type TestServer } from '../helpers/server.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { loadOrCreateDevSigningKey } from '../../src/lib/dev-signing-key.js';

const start = serversClosedAfterAll();

interface Jwk {
  kid: string;
  kty: string;
  alg?: string;
  use?: string;
  d?: string;
}

async function jwksOf(server: TestServer) {
  const response = await fetch(`${server.url}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { keys: Jwk[] }).keys;
}

/** Verifies a token the way another service would: with nothing but the published JWKS. */
async function verifiedByJwks(server: TestServer, token: string) {
  const header = jwt.decode(token, { complete: true })?.header;
  const jwk = (await jwksOf(server)).find((key) => key.kid === header?.kid);
  if (!jwk) throw new Error(`no published key has kid ${header?.kid}`);
  const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
  return jwt.verify(token, publicKey, {
    algorithms: ['ES256'],
    issuer: server.config.jwtIssuer,
    audience: server.config.jwtAudience,
  }) as jwt.JwtPayload;
}

describe('signing keys without any JWT setting', () => {
  it('signs ES256 access tokens that another service can verify with the JWKS alone', async () => {
    const server = await start({ label: 'signing_keys' });
    const keys = await jwksOf(server);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]?.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keys[0]).not.toHaveProperty('d');

    const { token, userId } = await signUp(server, uniqueEmail('signing-keys'));
    expect(jwt.decode(token, { complete: true })?.header).toMatchObject({
      alg: 'ES256',
      kid: keys[0]?.kid,
    });
    expect((await verifiedByJwks(server, token)).sub).toBe(userId);
    expect((await server.graphql(ME, {}, bearer(token))).status).toBe(200);
  });

  it('keeps its key in DATA_DIR (mode 0600) and signs with the same key after a restart', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-keys-'));
    try {
      const databaseUri = freshDatabaseUri('signing_keys_restart');
      // Empty reads as unset: without it, servers on a shared database share a configured key.
      const noKey = { JWT_PRIVATE_KEY: '' };
      // Started and closed here: the second server must find the key the first one left.
      const first = await startTestServer({ env: { DATA_DIR: dataDir, ...noKey }, databaseUri });
      const keyFile = path.join(dataDir, 'jwt-signing-key.pem');
      let token: string, pem: string, before: Jwk[];
      try {
        ({ token } = await signUp(first, uniqueEmail('restart')));
        expect((await stat(keyFile)).mode & 0o077).toBe(0);
        pem = await readFile(keyFile, 'utf8');
        before = await jwksOf(first);
      } finally {
        await first.close();
      }

      const second = await startTestServer({ env: { DATA_DIR: dataDir, ...noKey }, databaseUri });
      try {
        expect(await jwksOf(second)).toEqual(before);
        expect(await readFile(keyFile, 'utf8')).toBe(pem);
        // A token from before the restart still verifies, on the server and by the JWKS.
        expect((await second.graphql(ME, {}, bearer(token))).status).toBe(200);
        expect((await verifiedByJwks(second, token)).sub).toBeTruthy();
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('gives servers starting at once on one DATA_DIR the same key, and never replaces a file', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'auth-api-keys-'));
    try {
      const keyFile = path.join(dataDir, 'jwt-signing-key.pem');
      const loaded = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateDevSigningKey(dataDir)));
      const stored = await readFile(keyFile, 'utf8');
      expect(loaded).toEqual([stored, stored, stored, stored]);

      // Not a PKCS #8 key (an EC key in SEC1 form, say): refused, and left as it was.
      const other = '-----BEGIN EC PRIVATE KEY-----\nnot ours\n-----END EC PRIVATE KEY-----\n';
      await writeFile(keyFile, other);
      await expect(loadOrCreateDevSigningKey(dataDir)).rejects.toThrow(/not a PKCS #8/);
      expect(await readFile(keyFile, 'utf8')).toBe(other);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('signs HS256 and publishes no key when JWT_SECRET is set outside production', async () => {
    const server = await start({
      env: { JWT_SECRET: 'signing-keys-test-secret-0123456789-abcdefghij' },
    });
    expect(await jwksOf(server)).toEqual([]);
    const { token } = await signUp(server, uniqueEmail('hs256'));
    expect(jwt.decode(token, { complete: true })?.header.alg).toBe('HS256');
  });
});
