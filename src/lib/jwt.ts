import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { BoundedMap } from './bounded-map.js';
import type { KeyRing } from './keys.js';

/** RFC 9068 / RFC 8725: access tokens say what they are, so no other JWT passes for one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** RFC 9068 requires client_id; GraphQL sign-ins name this one unless configured otherwise. */
export const DEFAULT_CLIENT_ID = 'default';
/** Far above any token we issue; refuses to spend verification work on junk. */
const MAX_TOKEN_LENGTH = 4096;
/**
 * Tokens verified recently, by their exact text, until they expire. A token is presented on
 * every request of its lifetime, and re-checking its signature each time was the largest cost
 * of authentication on the hot path. Only tokens that verified are kept (junk cannot fill it);
 * the keys cannot change while the process runs, so an exact match verifies the same way again.
 */
const VERIFIED_CACHE_SIZE = 10_000;

export interface AccessClaims {
  readonly userId: string;
  readonly roles: readonly string[];
  readonly tokenId: string;
  /** The session (refresh-token family) the token was issued in. */
  readonly sessionId: string;
  /** RFC 8176 methods the sign-in used: ['pwd'], or ['pwd', 'otp'] after a second factor. */
  readonly amr: readonly string[];
  /** When the second factor was proved (ms since the epoch), if it was. */
  readonly mfaAt?: number;
}

/** A second factor proved at sign-in: what the token's `amr` and `mfa_time` claims say. */
export interface SecondFactor {
  /** ms since the epoch. */
  readonly at: number;
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
  readonly keys: KeyRing;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** RFC 9068's client_id of tokens issued without a client: GraphQL sign-ins. */
  readonly defaultClientId?: string;
  /** For tests: the clock the verified-token cache expires entries by. */
  readonly now?: () => number;
}

export interface TokenService {
  /** `scopes`: what the roles give (src/auth/scope-vocabulary.ts), as the `scope` claim. */
  issue(
    userId: string,
    roles: readonly string[],
    sessionId: string,
    scopes: readonly string[],
    secondFactor?: SecondFactor,
    /** RFC 9068 client_id; the default client's when absent. */
    clientId?: string,
  ): IssuedToken;
  /** Throws TokenError. */
  verify(token: string): AccessClaims;
}

/** Just the JOSE header, to pick the key; jsonwebtoken decodes the whole token again anyway. */
function headerOf(token: string): Record<string, unknown> | undefined {
  const end = token.indexOf('.');
  if (end <= 0) return undefined;
  try {
    const text = Buffer.from(token.slice(0, end), 'base64url').toString('utf8');
    const header: unknown = JSON.parse(text);
    return header && typeof header === 'object' ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  const { keys } = options;
  const now = options.now ?? Date.now;
  const verified = new BoundedMap<AccessClaims>(VERIFIED_CACHE_SIZE);
  const verifyOptions: jwt.VerifyOptions & { complete?: false } = {
    // Exactly the configured algorithm: a token naming another one (alg confusion) is refused.
    algorithms: [keys.algorithm],
    issuer: options.issuer,
    audience: options.audience,
  };

  /** The full check: size, header, key, signature, claims; `at` is the clock in ms. */
  function verifySignedToken(token: string, at: number) {
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid');
    const header = headerOf(token);
    const key = typeof header?.kid === 'string' ? keys.verification.get(header.kid) : undefined;
    if (!header || header.typ !== ACCESS_TOKEN_TYPE || !key) throw new TokenError('invalid');
    // RFC 7515 §4.1.11: a token that marks extensions as critical is invalid unless every one is
    // understood, and jsonwebtoken understands none (it would silently ignore them).
    if ('crit' in header) throw new TokenError('invalid');
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key, { ...verifyOptions, clockTimestamp: Math.floor(at / 1000) });
    } catch (error) {
      throw new TokenError(error instanceof jwt.TokenExpiredError ? 'expired' : 'invalid');
    }
    if (
      typeof payload !== 'object' ||
      typeof payload.sub !== 'string' ||
      typeof payload.jti !== 'string' ||
      typeof payload.sid !== 'string' ||
      typeof payload.exp !== 'number' ||
      !Array.isArray(payload.roles) ||
      !payload.roles.every((role): role is string => typeof role === 'string') ||
      // Absent from tokens issued before amr was: they proved a password.
      (payload.amr !== undefined &&
        !(Array.isArray(payload.amr) && payload.amr.every((m) => typeof m === 'string'))) ||
      (payload.mfa_time !== undefined && typeof payload.mfa_time !== 'number')
    ) {
      throw new TokenError('invalid');
    }
    const claims: AccessClaims = {
      userId: payload.sub,
      roles: Object.freeze(payload.roles),
      tokenId: payload.jti,
      sessionId: payload.sid,
      amr: Object.freeze((payload.amr as string[] | undefined) ?? ['pwd']),
      ...(typeof payload.mfa_time === 'number' ? { mfaAt: payload.mfa_time * 1000 } : {}),
    };
    // jsonwebtoken refuses a token once the clock reaches exp; the cache forgets it then too.
    return { claims: Object.freeze(claims), expiresAtMs: payload.exp * 1000 };
  }

  return {
    issue(userId, roles, sessionId, scopes, secondFactor, clientId) {
      // `scope` as RFC 9068 names it, for resource servers; this service checks each call
      // against the account's current roles instead.
      const scope = scopes.join(' ');
      const methods = secondFactor
        ? { amr: ['pwd', 'otp'], mfa_time: Math.floor(secondFactor.at / 1000) }
        : { amr: ['pwd'] };
      const client_id = clientId ?? options.defaultClientId ?? DEFAULT_CLIENT_ID;
      const claims = { roles, scope, client_id, sid: sessionId, ...methods };
      const token = jwt.sign(claims, keys.signing.key, {
        algorithm: keys.algorithm,
        keyid: keys.signing.kid,
        header: { alg: keys.algorithm, typ: ACCESS_TOKEN_TYPE },
        subject: userId,
        issuer: options.issuer,
        audience: options.audience,
        expiresIn: options.ttlSeconds,
        jwtid: randomUUID(),
      });
      return { token, expiresIn: options.ttlSeconds };
    },

    verify(token) {
      const at = now();
      const cached = verified.get(token, at);
      if (cached) return cached;
      const { claims, expiresAtMs } = verifySignedToken(token, at);
      verified.set(token, claims, expiresAtMs, at);
      return claims;
    },
  };
}
