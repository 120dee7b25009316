import { describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { TokenError, createTokenService } from '../../src/lib/jwt.js';

const options = {
  secret: 'unit-test-secret-0123456789-abcdefghijklmnop',
  issuer: 'issuer-a',
  audience: 'audience-a',
  ttlSeconds: 60,
};

describe('token service', () => {
  it('issues an HS256 token with sub, iss, aud, iat, exp, jti and roles', () => {
    const tokens = createTokenService(options);
    const { token, expiresIn } = tokens.issue('user-1', ['USER']);
    expect(expiresIn).toBe(60);
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded?.header.alg).toBe('HS256');
    const payload = decoded?.payload as jwt.JwtPayload;
    expect(payload).toMatchObject({
      sub: 'user-1',
      iss: 'issuer-a',
      aud: 'audience-a',
      roles: ['USER'],
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    expect(typeof payload.jti).toBe('string');
    expect(tokens.verify(token)).toMatchObject({
      userId: 'user-1',
      roles: ['USER'],
      tokenId: payload.jti,
    });
  });

  it('gives every token a different jti', () => {
    const tokens = createTokenService(options);
    const ids = new Set(
      Array.from({ length: 5 }, () => tokens.verify(tokens.issue('u', []).token).tokenId),
    );
    expect(ids.size).toBe(5);
  });

  it('refuses tokens from a service with another issuer, audience or secret', () => {
    const token = createTokenService(options).issue('u', []).token;
    for (const other of [
      { ...options, issuer: 'issuer-b' },
      { ...options, audience: 'audience-b' },
      { ...options, secret: 'another-unit-test-secret-0123456789-abcdef' },
    ]) {
      expect(() => createTokenService(other).verify(token)).toThrow(TokenError);
    }
  });

  it('reports an expired token as expired', () => {
    const token = jwt.sign({ roles: [] }, options.secret, {
      algorithm: 'HS256',
      subject: 'u',
      issuer: options.issuer,
      audience: options.audience,
      jwtid: 'j',
      expiresIn: -1,
    });
    expect(() => createTokenService(options).verify(token)).toThrow('Token expired');
  });
});
