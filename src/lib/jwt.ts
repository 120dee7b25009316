import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

const ALGORITHM = 'HS256';
/** Far above any token we issue; refuses to spend verification work on junk. */
const MAX_TOKEN_LENGTH = 4096;

export interface AccessClaims {
  readonly userId: string;
  readonly roles: readonly string[];
  readonly tokenId: string;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

export type TokenFailure = 'expired' | 'invalid';

export class TokenError extends Error {
  override name = 'TokenError';
  constructor(readonly reason: TokenFailure) {
    super(reason === 'expired' ? 'Token expired' : 'Invalid token');
  }
}

export interface TokenServiceOptions {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
}

export interface TokenService {
  issue(userId: string, roles: readonly string[]): IssuedToken;
  /** Throws TokenError. */
  verify(token: string): AccessClaims;
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  // A KeyObject made once: jsonwebtoken re-imports a string secret on every call (~50x slower).
  const key: KeyObject = createSecretKey(Buffer.from(options.secret, 'utf8'));
  const verifyOptions: jwt.VerifyOptions & { complete?: false } = {
    algorithms: [ALGORITHM],
    issuer: options.issuer,
    audience: options.audience,
  };

  return {
    issue(userId, roles) {
      const token = jwt.sign({ roles }, key, {
        algorithm: ALGORITHM,
        subject: userId,
        issuer: options.issuer,
        audience: options.audience,
        expiresIn: options.ttlSeconds,
        jwtid: randomUUID(),
      });
      return { token, expiresIn: options.ttlSeconds };
    },

    verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid');
      let payload: string | jwt.JwtPayload;
      try {
        payload = jwt.verify(token, key, verifyOptions);
      } catch (error) {
        throw new TokenError(error instanceof jwt.TokenExpiredError ? 'expired' : 'invalid');
      }
      if (
        typeof payload !== 'object' ||
        typeof payload.sub !== 'string' ||
        typeof payload.jti !== 'string' ||
        typeof payload.exp !== 'number' ||
        !Array.isArray(payload.roles) ||
        !payload.roles.every((role): role is string => typeof role === 'string')
      ) {
        throw new TokenError('invalid');
      }
      return { userId: payload.sub, roles: payload.roles, tokenId: payload.jti };
    },
  };
}
