import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { TokenError, createTokenService } from '../../src/lib/jwt.js';
import { asymmetricKeyRing, hmacKeyRing, parseSecrets } from '../../src/lib/keys.js';

const SECRET = 'unit-test-secret-0123456789-abcdefghijklmnop';
const options = {
  keys: hmacKeyRing(parseSecrets(SECRET)),
  issuer: 'issuer-a',
  audience: 'audience-a',
  ttlSeconds: 60,
};

/** An access token signed with the test key, bypassing the service, with these sign options. */
const signedToken = (overrides: jwt.SignOptions) =>
  jwt.sign({ roles: [], sid: 's' }, options.keys.signing.key, {
    algorithm: 'HS256',
    keyid: options.keys.signing.kid,
    header: { alg: 'HS256', typ: 'at+jwt' },
    subject: 'u',
    issuer: options.issuer,
    audience: options.audience,
    jwtid: 'j',
    ...overrides,
  });

describe('token service', () => {
  it('issues an HS256 at+jwt with kid, sub, iss, aud, iat, exp, jti, sid, roles and scope', () => {
    const tokens = createTokenService(options);
    const { token, expiresIn } = tokens.issue('user-1', ['USER'], 'session-1', [
      'profile:read',
      'sessions:read',
    ]);
    expect(expiresIn).toBe(60);
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded?.header).toMatchObject({
      alg: 'HS256',
      typ: 'at+jwt',
      kid: options.keys.signing.kid,
    });
    const payload = decoded?.payload as jwt.JwtPayload;
    expect(payload).toMatchObject({
      sub: 'user-1',
      iss: 'issuer-a',
      aud: 'audience-a',
      roles: ['USER'],
      scope: 'profile:read sessions:read',
      sid: 'session-1',
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    expect(tokens.verify(token)).toMatchObject({
      userId: 'user-1',
      roles: ['USER'],
      tokenId: payload.jti,
      sessionId: 'session-1',
    });
  });

  it('gives every token a different jti', () => {
    const tokens = createTokenService(options);
    const ids = new Set(
      Array.from({ length: 5 }, () => tokens.verify(tokens.issue('u', [], 's', []).token).tokenId),
    );
    expect(ids.size).toBe(5);
  });

  it('refuses tokens from a service with another issuer, audience or key', () => {
    const token = createTokenService(options).issue('u', [], 's', []).token;
    for (const other of [
      { ...options, issuer: 'issuer-b' },
      { ...options, audience: 'audience-b' },
      { ...options, keys: hmacKeyRing(parseSecrets('another-unit-test-secret-0123456789-abcdef')) },
    ]) {
      expect(() => createTokenService(other).verify(token)).toThrow(TokenError);
    }
  });

  it('reports an expired token as expired', () => {
    const token = signedToken({ expiresIn: -1 });
    expect(() => createTokenService(options).verify(token)).toThrow('Token expired');
  });

  it('refuses a token without the access-token typ (RFC 8725 explicit typing)', () => {
    const token = jwt.sign({ roles: [], sid: 's' }, options.keys.signing.key, {
      algorithm: 'HS256',
      keyid: options.keys.signing.kid,
      subject: 'u',
      issuer: options.issuer,
      audience: options.audience,
      jwtid: 'j',
      expiresIn: 60,
    });
    expect(() => createTokenService(options).verify(token)).toThrow('Invalid token');
  });
});

describe('verified-token cache', () => {
  it('refuses a token with a crit header, which jsonwebtoken would ignore (RFC 7515 §4.1.11)', () => {
    const tokens = createTokenService(options);
    const critical = signedToken({
      expiresIn: 60,
      header: { alg: 'HS256', typ: 'at+jwt', crit: ['exp-policy'] } as jwt.JwtHeader,
    });
    expect(jwt.verify(critical, options.keys.signing.key)).toBeTruthy();
    expect(() => tokens.verify(critical)).toThrow('Invalid token');
    expect(tokens.verify(signedToken({ expiresIn: 60 })).userId).toBe('u');
  });

  it('keeps answering for a verified token until its exp, then reports it expired', () => {
    let clock = Date.now();
    const tokens = createTokenService({ ...options, now: () => clock });
    const { token } = tokens.issue('user-1', ['USER'], 'session-1', []);
    const first = tokens.verify(token);
    expect(tokens.verify(token)).toBe(first); // served from the cache, not decoded again
    const exp = (jwt.decode(token) as jwt.JwtPayload).exp!;
    clock = exp * 1000 - 1;
    expect(tokens.verify(token).userId).toBe('user-1');
    clock = exp * 1000;
    expect(() => tokens.verify(token)).toThrow('Token expired');
    clock = exp * 1000 + 60_000;
    expect(() => tokens.verify(token)).toThrow('Token expired');
  });

  it('does not let a token that differs in any character ride on a cached one', () => {
    const tokens = createTokenService(options);
    const { token } = tokens.issue('u', ['USER'], 's', []);
    tokens.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = signature.at(-2) === 'A' ? 'B' : 'A';
    const tampered = [
      `${header}.${payload}.${signature.slice(0, -2)}${flipped}${signature.at(-1)}`,
      `${header}.${Buffer.from(JSON.stringify({ ...(jwt.decode(token) as object), roles: ['ADMIN'] })).toString('base64url')}.${signature}`,
      `${token} `,
    ];
    for (const candidate of tampered) {
      expect(() => tokens.verify(candidate)).toThrow('Invalid token');
    }
    expect(tokens.verify(token).roles).toEqual(['USER']);
  });

  it('does not remember failures: a token refused before its nbf is accepted once valid', () => {
    let clock = Date.now();
    const tokens = createTokenService({ ...options, now: () => clock });
    const token = signedToken({ expiresIn: 120, notBefore: 30 });
    expect(() => tokens.verify(token)).toThrow('Invalid token');
    clock += 31_000;
    expect(tokens.verify(token).userId).toBe('u');
  });
});

describe('key rotation', () => {
  const oldKey = 'old:old-secret-0123456789-abcdefghijklmnopqrstu';
  const newKey = 'new:new-secret-0123456789-abcdefghijklmnopqrstu';

  it('signs with the newest key and verifies tokens from every listed key', () => {
    const before = createTokenService({ ...options, keys: hmacKeyRing(parseSecrets(oldKey)) });
    const during = createTokenService({
      ...options,
      keys: hmacKeyRing(parseSecrets(`${oldKey},${newKey}`)),
    });
    const oldToken = before.issue('u', [], 's', []).token;
    const newToken = during.issue('u', [], 's', []).token;
    expect(jwt.decode(newToken, { complete: true })?.header.kid).toBe('new');
    expect(during.verify(oldToken).userId).toBe('u');
    expect(() => before.verify(newToken)).toThrow('Invalid token');
  });

  it('can keep signing with an older key while a new one is rolled out (JWT_SIGNING_KEY_ID)', () => {
    const keys = hmacKeyRing(parseSecrets(`${oldKey},${newKey}`), 'old');
    const token = createTokenService({ ...options, keys }).issue('u', [], 's', []).token;
    expect(jwt.decode(token, { complete: true })?.header.kid).toBe('old');
  });

  it('refuses an unknown kid', () => {
    const stranger = createTokenService({
      ...options,
      keys: hmacKeyRing(parseSecrets(`other:${SECRET}`)),
    });
    const token = stranger.issue('u', [], 's', []).token;
    expect(() => createTokenService(options).verify(token)).toThrow('Invalid token');
  });
});

describe('asymmetric signing', () => {
  const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

  it('signs ES256 and publishes the public key as a JWKS entry', () => {
    const keys = asymmetricKeyRing(ecPem);
    const tokens = createTokenService({ ...options, keys });
    const token = tokens.issue('u', ['USER'], 's', []).token;
    expect(jwt.decode(token, { complete: true })?.header).toMatchObject({
      alg: 'ES256',
      kid: keys.signing.kid,
    });
    expect(tokens.verify(token).userId).toBe('u');
    expect(keys.jwks.keys).toHaveLength(1);
    expect(keys.jwks.keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      kid: keys.signing.kid,
      alg: 'ES256',
      use: 'sig',
    });
    expect(keys.jwks.keys[0]).not.toHaveProperty('d');
  });

  it('refuses an HS256 token signed with the public key as secret (algorithm confusion)', () => {
    const keys = asymmetricKeyRing(ecPem);
    const publicPem = keys.verification
      .get(keys.signing.kid)!
      .export({ type: 'spki', format: 'pem' });
    const forged = jwt.sign({ roles: ['ADMIN'], sid: 's' }, publicPem.toString(), {
      algorithm: 'HS256',
      keyid: keys.signing.kid,
      header: { alg: 'HS256', typ: 'at+jwt' },
      subject: 'u',
      issuer: options.issuer,
      audience: options.audience,
      jwtid: 'j',
      expiresIn: 60,
    });
    expect(() => createTokenService({ ...options, keys }).verify(forged)).toThrow('Invalid token');
  });
});
