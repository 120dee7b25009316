import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (the TOTP seeds): AES-256-GCM, each value sealed as
 * `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url), so a value names the key that opens it and
 * keys can rotate: the current key seals and opens, the previous one only opens.
 */
const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;

export class DataKeyError extends Error {
  override name = 'DataKeyError';
}

export interface DataKey {
  /** Derived from the key itself: nothing to configure, and the same on every replica. */
  readonly id: string;
  readonly key: Buffer;
}

/** A 32-byte key given as 64 hex digits or base64 (either alphabet). */
export function parseDataKey(text: string, setting: string): DataKey {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) {
    throw new DataKeyError(
      `${setting} must be ${KEY_BYTES} random bytes as base64 or hex (openssl rand -base64 32)`,
    );
  }
  // A hash of the key, not the key: a value's id reveals nothing of it.
  const id = createHash('sha256').update('data-key\n').update(key).digest('base64url').slice(0, 8);
  return { id, key };
}

export interface Sealer {
  /** The id of the key new values are sealed under. */
  readonly currentKeyId: string;
  seal(plaintext: string): string;
  /** Throws DataKeyError when no configured key opens it or it was tampered with. */
  open(sealed: string): string;
  /** Sealed under an older key: worth sealing again under the current one. */
  isStale(sealed: string): boolean;
}

export function createSealer(current: DataKey, previous: readonly DataKey[] = []): Sealer {
  const keys = new Map([...previous, current].map((key) => [key.id, key.key]));
  return {
    currentKeyId: current.id,
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      // The key id is authenticated too: a value cannot be moved under another key's id.
      cipher.setAAD(Buffer.from(current.id));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'));
      return [VERSION, current.id, ...parts].join('.');
    },
    isStale: (sealed) => sealed.split('.', 2)[1] !== current.id,
    open(sealed) {
      const [version, keyId = '', iv = '', tag = '', body = ''] = sealed.split('.');
      const key = keys.get(keyId);
      if (version !== VERSION || !key) throw new DataKeyError('No configured key opens this value');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(keyId));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const text = Buffer.concat([
          decipher.update(Buffer.from(body, 'base64url')),
          decipher.final(),
        ]);
        return text.toString('utf8');
      } catch {
        throw new DataKeyError('The value does not open under its key (altered or wrong key)');
      }
    },
  };
}
