import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { KeyRing } from '../../lib/keys.js';

/**
 * OWASP's "device cookies", for browsers and API clients alike: a successful sign-in hands the
 * client a signed token naming the account (by pseudonym) and a random device id. A later login
 * that presents it is judged by that device's own lockout, so guessers hammering the account
 * lock out unknown clients only, and the owner still gets in from a client they used before.
 * Signed with the access-token keys but typed differently, so neither passes for the other.
 */
export const DEVICE_TOKEN_TYPE = 'device+jwt';
const MAX_DEVICE_TOKEN_LENGTH = 2048;

export interface DeviceTokens {
  readonly ttlSeconds: number;
  issue(account: string): string;
  /** The device id, if the token is ours, unexpired and issued for this account. */
  deviceOf(token: string, account: string): string | undefined;
}

function kidOf(token: string): string | undefined {
  try {
    const header = jwt.decode(token, { complete: true })?.header;
    return header?.typ === DEVICE_TOKEN_TYPE && typeof header.kid === 'string'
      ? header.kid
      : undefined;
  } catch {
    return undefined;
  }
}

export function createDeviceTokens(options: {
  keys: KeyRing;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}): DeviceTokens {
  const { keys, issuer, audience, ttlSeconds } = options;
  return {
    ttlSeconds,
    issue(account) {
      return jwt.sign({}, keys.signing.key, {
        algorithm: keys.algorithm,
        keyid: keys.signing.kid,
        header: { alg: keys.algorithm, typ: DEVICE_TOKEN_TYPE },
        subject: account,
        issuer,
        audience,
        expiresIn: ttlSeconds,
        jwtid: randomUUID(),
      });
    },
    deviceOf(token, account) {
      if (token.length > MAX_DEVICE_TOKEN_LENGTH) return undefined;
      const kid = kidOf(token);
      const key = kid === undefined ? undefined : keys.verification.get(kid);
      if (!key) return undefined;
      try {
        const payload = jwt.verify(token, key, {
          algorithms: [keys.algorithm],
          issuer,
          audience,
          subject: account,
        });
        return typeof payload === 'object' && typeof payload.jti === 'string'
          ? payload.jti
          : undefined;
      } catch {
        // A stale or foreign token only means the client is not known: it is not an error.
        return undefined;
      }
    },
  };
}
