import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (the TOTP seeds): AES-256-GCM, each value sealed as
 * `v2.<key id>.<iv>.<tag>.<ciphertext>` (base64url), so a value names the key that opens it and
 * keys can rotate: the current key seals and opens, the previous one only opens. The key id and
 * the value's context (the account it belongs to) are authenticated data: a value copied to
 * another account, or under another key's id, does not open. `v1` values (the key id alone
 * authenticated) still open, and count as stale so that their next use seals them as v2.
 */
const VERSION = 'v2';
const UNBOUND_VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
/** The full GCM tag: a shorter one would open with far fewer guesses. */
const TAG_BYTES = 16;

const aadOf = (version: string, keyId: string, context: string) =>
  Buffer.from(version === UNBOUND_VERSION ? keyId : `${keyId}\n${context}`);

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
  /** `context` names what the value belongs to (a user id): only the same context opens it. */
  seal(plaintext: string, context: string): string;
  /**
   * Throws DataKeyError when no configured key opens it, it was tampered with, or it was sealed
   * for another context.
   */
  open(sealed: string, context: string): string;
  /** Sealed under an older key or format: worth sealing again under the current one. */
  isStale(sealed: string): boolean;
}

export function createSealer(current: DataKey, previous: readonly DataKey[] = []): Sealer {
  const keys = new Map([...previous, current].map((key) => [key.id, key.key]));
  return {
    currentKeyId: current.id,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
      // The key id and context are authenticated too: a value cannot be moved under another key's
      // id, nor to another account.
      cipher.setAAD(aadOf(VERSION, current.id, context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'));
      return [VERSION, current.id, ...parts].join('.');
    },
    isStale: (sealed) => {
      const [version, keyId] = sealed.split('.', 2);
      return version !== VERSION || keyId !== current.id;
    },
    open(sealed, context) {
      const [version = '', keyId = '', iv = '', tag = '', body = ''] = sealed.split('.');
      const key = keys.get(keyId);
      if ((version !== VERSION && version !== UNBOUND_VERSION) || !key) {
        throw new DataKeyError('No configured key opens this value');
      }
      const authTag = Buffer.from(tag, 'base64url');
      // GCM would check a truncated tag on its first bytes alone: only the full length opens.
      if (authTag.length !== TAG_BYTES) {
        throw new DataKeyError('The value does not open under its key (altered or wrong key)');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(aadOf(version, keyId, context));
        decipher.setAuthTag(authTag);
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
