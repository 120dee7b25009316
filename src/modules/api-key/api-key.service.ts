import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { badUserInput, notAuthenticated } from '../../errors.js';
import { createKeyedMutex } from '../../lib/keyed-mutex.js';
import type { AuditLog } from '../../lib/security-events.js';
import { DELEGABLE_SCOPES, isScope } from '../../auth/scope-vocabulary.js';
import {
  toApiKeyInfo,
  type ApiKeyInfo,
  type ApiKeyModel,
  type UserApiKeysModel,
} from './api-key.model.js';

/** Every key starts with this, so leaked keys are easy to recognise (and to scan for). */
export const API_KEY_PREFIX = 'gqa_';
export const MAX_KEYS_PER_USER = 50;
export const MAX_KEY_NAME_LENGTH = 100;
const DAY_SECONDS = 86_400;
export const DEFAULT_KEY_TTL_SECONDS = 90 * DAY_SECONDS;
export const MAX_KEY_TTL_SECONDS = 365 * DAY_SECONDS;
const MIN_KEY_TTL_SECONDS = 60;
/** lastUsedAt is written at most this often per key and replica. */
const TOUCH_INTERVAL_MS = 60_000;

const ID_BYTES = 12;
const SECRET_BYTES = 32;
/** gqa_ + 16 base64url characters of id + _ + 43 of secret (256 bits). */
const KEY_PATTERN = /^gqa_([A-Za-z0-9_-]{16})_([A-Za-z0-9_-]{43})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export const isApiKeyShaped = (token: string) => token.startsWith(API_KEY_PREFIX);

export interface ApiKeyService {
  /** The key (shown once) and what is stored about it; `holder` is what the creator may do. */
  create(
    holder: { userId: string; scopes: ReadonlySet<string> },
    name: string,
    scopes: readonly string[],
    expiresInSeconds?: number | null,
  ): Promise<{ key: string; apiKey: ApiKeyInfo }>;
  list(userId: string): Promise<ApiKeyInfo[]>;
  /** False when the user has no such key. */
  revoke(userId: string, keyId: string): Promise<boolean>;
  /** Deletes every key of the user (erasure); how many. */
  revokeAllForUser(userId: string): Promise<number>;
  /** The id and SHA-256 (hex) of a presented key, if it has a key's shape. */
  parse(presented: string): { keyId: string; hash: string } | undefined;
  /** The key with this id, if `hash` is its hash and it has not expired. */
  verify(keyId: string, hash: string, now?: Date): Promise<ApiKeyInfo | undefined>;
  /** Records a use (at most once a minute per key here). */
  touch(keyId: string): void;
}

export function createApiKeyService(deps: {
  apiKeys: ApiKeyModel;
  userApiKeys: UserApiKeysModel;
  audit: AuditLog;
  /** Whether the account may still act (not disabled, not being erased). */
  isUsable: (userId: string) => Promise<boolean>;
}): ApiKeyService {
  const { apiKeys, userApiKeys, audit } = deps;
  // The per-user list is read, changed and written: one change at a time per user here.
  const exclusive = createKeyedMutex();
  const touchedAt = new Map<string, number>();

  async function keyIdsOf(userId: string) {
    return (await userApiKeys.findById(userId).lean())?.keyIds ?? [];
  }

  function validated(
    holder: { scopes: ReadonlySet<string> },
    name: string,
    scopes: readonly string[],
    expiresInSeconds: number | null | undefined,
  ) {
    const trimmed = name.trim();
    // No control or format characters (NUL, right-to-left overrides): names are shown in lists.
    if (/[\p{Cc}\p{Cf}]/u.test(trimmed)) {
      throw badUserInput('name', 'The name may not contain control or format characters');
    }
    if (trimmed.length === 0 || trimmed.length > MAX_KEY_NAME_LENGTH) {
      throw badUserInput('name', `Give the key a name of 1 to ${MAX_KEY_NAME_LENGTH} characters`);
    }
    if (scopes.length === 0) throw badUserInput('scopes', 'Give the key at least one scope');
    const unknown = scopes.filter((scope) => !isScope(scope));
    if (unknown.length > 0) {
      throw badUserInput('scopes', `Unknown scope; scopes: ${DELEGABLE_SCOPES.join(', ')}`);
    }
    if (scopes.some((scope) => !(DELEGABLE_SCOPES as readonly string[]).includes(scope))) {
      throw badUserInput('scopes', 'account:write cannot be given to an API key');
    }
    if (scopes.some((scope) => !holder.scopes.has(scope))) {
      throw badUserInput('scopes', 'A key cannot have a scope its creator does not have');
    }
    const ttl = expiresInSeconds ?? DEFAULT_KEY_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < MIN_KEY_TTL_SECONDS || ttl > MAX_KEY_TTL_SECONDS) {
      throw badUserInput(
        'expiresIn',
        `expiresIn is in seconds, from ${MIN_KEY_TTL_SECONDS} to ${MAX_KEY_TTL_SECONDS}`,
      );
    }
    return { name: trimmed, scopes: [...new Set(scopes)], ttl };
  }

  return {
    async create(holder, name, scopes, expiresInSeconds) {
      const wanted = validated(holder, name, scopes, expiresInSeconds);
      return exclusive(holder.userId, async () => {
        // Checked under the lock erasure's key step takes too: no key outlives its account.
        if (!(await deps.isUsable(holder.userId))) throw notAuthenticated();
        const keyIds = await keyIdsOf(holder.userId);
        if (keyIds.length >= MAX_KEYS_PER_USER) {
          throw badUserInput('name', `At most ${MAX_KEYS_PER_USER} keys; revoke one first`);
        }
        const id = randomBytes(ID_BYTES).toString('base64url');
        const key = `${API_KEY_PREFIX}${id}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
        const createdAt = new Date();
        const stored = await apiKeys.create({
          _id: id,
          hash: sha256(key).toString('hex'),
          userId: holder.userId,
          name: wanted.name,
          scopes: wanted.scopes,
          createdAt,
          expiresAt: new Date(createdAt.getTime() + wanted.ttl * 1000),
        });
        await userApiKeys.updateOne(
          { _id: holder.userId },
          { $set: { keyIds: [...keyIds, id] } },
          { upsert: true },
        );
        audit.record('apikey.created', { userId: holder.userId, keyId: id });
        return { key, apiKey: toApiKeyInfo(stored.toObject()) };
      });
    },

    async list(userId) {
      const keyIds = await keyIdsOf(userId);
      const found = await Promise.all(keyIds.map((id) => apiKeys.findById(id).lean()));
      return found.flatMap((doc) => (doc ? [toApiKeyInfo(doc)] : [])).reverse();
    },

    revoke(userId, keyId) {
      return exclusive(userId, async () => {
        const keyIds = await keyIdsOf(userId);
        if (!keyIds.includes(keyId)) return false;
        await apiKeys.deleteOne({ _id: keyId });
        await userApiKeys.updateOne(
          { _id: userId },
          { $set: { keyIds: keyIds.filter((id) => id !== keyId) } },
        );
        audit.record('apikey.revoked', { userId, keyId });
        return true;
      });
    },

    revokeAllForUser(userId) {
      return exclusive(userId, async () => {
        const keyIds = await keyIdsOf(userId);
        await Promise.all(keyIds.map((id) => apiKeys.deleteOne({ _id: id })));
        await userApiKeys.deleteOne({ _id: userId });
        return keyIds.length;
      });
    },

    parse(presented) {
      const match = KEY_PATTERN.exec(presented);
      return match ? { keyId: match[1]!, hash: sha256(presented).toString('hex') } : undefined;
    },

    async verify(keyId, hash, now = new Date()) {
      const found = await apiKeys.findById(keyId).lean();
      // Compared in constant time, and for unknown ids too.
      const stored = Buffer.from(found?.hash ?? '0'.repeat(64), 'hex');
      const presented = Buffer.from(hash, 'hex');
      const same = stored.length === presented.length && timingSafeEqual(stored, presented);
      if (!found || !same || found.expiresAt.getTime() <= now.getTime()) return undefined;
      return toApiKeyInfo(found);
    },

    touch(keyId) {
      const at = Date.now();
      if (at - (touchedAt.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return;
      touchedAt.set(keyId, at);
      if (touchedAt.size > 100_000) touchedAt.clear();
      void apiKeys.updateOne({ _id: keyId }, { $set: { lastUsedAt: new Date(at) } }).catch(() => {
        touchedAt.delete(keyId);
      });
    },
  };
}
