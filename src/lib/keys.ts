import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
} from 'node:crypto';

export type SigningAlgorithm = 'HS256' | 'ES256' | 'RS256';

export interface VerificationKey {
  readonly kid: string;
  readonly key: KeyObject;
}

/** Keys for one algorithm: one signs, every one verifies (so rotation needs no forced logout). */
export interface KeyRing {
  readonly algorithm: SigningAlgorithm;
  readonly signing: { readonly kid: string; readonly key: KeyObject };
  readonly verification: ReadonlyMap<string, KeyObject>;
  /** Public keys as a JWKS document; empty for HMAC, whose keys are secret. */
  readonly jwks: { keys: Record<string, unknown>[] };
}

export class KeyConfigError extends Error {
  override name = 'KeyConfigError';
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * `JWT_SECRET` is either one secret, or several as `kid:secret,kid:secret`. The signing key is
 * JWT_SIGNING_KEY_ID, else the last one listed. A single secret gets a kid derived from it.
 */
export function parseSecrets(value: string): { kid: string; secret: string }[] {
  const items = value.split(',').map((item) => item.trim());
  const named = items.map((item) => /^([A-Za-z0-9_-]{1,32}):(.+)$/.exec(item));
  if (items.length > 1 || named[0]) {
    if (named.some((match) => !match)) {
      throw new KeyConfigError(
        'JWT_SECRET with several keys must be kid:secret pairs separated by commas',
      );
    }
    return named.map((match) => ({ kid: match![1]!, secret: match![2]! }));
  }
  const kid = createHash('sha256').update(value).digest('base64url').slice(0, 8);
  return [{ kid, secret: value }];
}

export function hmacKeyRing(
  secrets: { kid: string; secret: string }[],
  signingKid?: string,
): KeyRing {
  const verification = new Map(
    secrets.map(({ kid, secret }) => [kid, createSecretKey(Buffer.from(secret, 'utf8'))]),
  );
  if (verification.size !== secrets.length) throw new KeyConfigError('JWT_SECRET repeats a key id');
  const kid = signingKid ?? secrets[secrets.length - 1]!.kid;
  const key = verification.get(kid);
  if (!key || !KEY_ID.test(kid))
    throw new KeyConfigError(`JWT_SIGNING_KEY_ID ${kid} is not in JWT_SECRET`);
  return { algorithm: 'HS256', signing: { kid, key }, verification, jwks: { keys: [] } };
}

const PEM_BLOCK = /-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g;

/** RFC 7638 thumbprint of a public key: a stable kid that needs no configuration. */
function thumbprint(publicKey: KeyObject) {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['e', 'kty', 'n'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ES256';
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) {
    return 'RS256';
  }
  throw new KeyConfigError(
    'JWT_PRIVATE_KEY must be an EC P-256 key (ES256) or an RSA key of 2048+ bits (RS256)',
  );
}

/** `\n` escapes are accepted so a PEM fits in one environment line. */
const pemBlocks = (text: string) => text.replace(/\\n/g, '\n').match(PEM_BLOCK) ?? [];

export function asymmetricKeyRing(privatePem: string, extraPublicPems = ''): KeyRing {
  const [privateBlock] = pemBlocks(privatePem);
  if (!privateBlock) throw new KeyConfigError('JWT_PRIVATE_KEY is not a PEM private key');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateBlock);
  } catch {
    throw new KeyConfigError('JWT_PRIVATE_KEY is not a PEM private key');
  }
  const algorithm = algorithmOf(privateKey);
  const publicKeys = [createPublicKey(privateKey)];
  for (const block of pemBlocks(extraPublicPems)) {
    const key = createPublicKey(block);
    if (algorithmOf(key) !== algorithm) {
      throw new KeyConfigError('JWT_PUBLIC_KEYS must use the same algorithm as JWT_PRIVATE_KEY');
    }
    publicKeys.push(key);
  }
  const verification = new Map(publicKeys.map((key) => [thumbprint(key), key]));
  const jwks = {
    keys: [...verification].map(([kid, key]) => ({
      ...(key.export({ format: 'jwk' }) as Record<string, unknown>),
      kid,
      alg: algorithm,
      use: 'sig',
    })),
  };
  return {
    algorithm,
    signing: { kid: thumbprint(publicKeys[0]!), key: privateKey },
    verification,
    jwks,
  };
}
