import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { KeyRing } from '../../lib/keys.js';

/**
 * OWASP's "device cookies", for browsers and API clients alike: a successful sign-in hands the
 * client a signed token naming the account (by pseudonym and user id), the user's credential
 * version and a random device id. A later login that presents it, while the version is still
 * current, is judged by that device's own lockout, so guessers hammering the account lock out
 * unknown clients only, and the owner still gets in from a client they used before. A password
 * change or logoutAll raises the version and so ends every device token issued before it.
 * Signed with the access-token keys but typed differently, so neither passes for the other.
 */
const DEVICE_TOKEN_TYPE = 'device+jwt';
const MAX_DEVICE_TOKEN_LENGTH = 2048;

export interface DeviceClaims {
  readonly deviceId: string;
  readonly userId: string;
  readonly credentialVersion: number;
  /**
   * Issued by a sign-in that proved a second factor: only such a device gets a two-factor
   * lockout of its own. Devices a password alone can mint (before TOTP was turned on, or by
   * whoever has just the password) share the account's, so they cannot multiply code guesses.
   */
  readonly secondFactor: boolean;
}

export interface DeviceTokens {
  readonly ttlSeconds: number;
  issue(account: string, userId: string, credentialVersion: number, secondFactor: boolean): string;
  /** The claims, if the token is ours, unexpired and issued for this account. */
  read(token: string, account: string): DeviceClaims | undefined;
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
    issue(account, userId, credentialVersion, secondFactor) {
      const claims = {
        uid: userId,
        ver: credentialVersion,
        ...(secondFactor ? { mfa: true } : {}),
      };
      return jwt.sign(claims, keys.signing.key, {
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
    read(token, account) {
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
        if (
          typeof payload !== 'object' ||
          typeof payload.jti !== 'string' ||
          typeof payload.uid !== 'string' ||
          typeof payload.ver !== 'number'
        ) {
          return undefined;
        }
        return {
          deviceId: payload.jti,
          userId: payload.uid,
          credentialVersion: payload.ver,
          secondFactor: payload.mfa === true,
        };
      } catch {
        // A stale or foreign token only means the client is not known: it is not an error.
        return undefined;
      }
    },
  };
}
