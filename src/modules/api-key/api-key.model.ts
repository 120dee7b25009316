import { Schema, type Connection, type Model } from 'mongoose';

/*
 * Every access names one document by `_id` alone (the one filter the embedded FerretDB answers
 * from an index): a key by its public id, a user's keys by the user's id.
 */

/** A personal access token. The secret is never stored: only the SHA-256 of the whole key. */
interface ApiKeyDocument {
  /** The key's public id, also the second part of the key itself (gqa_<id>_<secret>). */
  _id: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  userId: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt?: Date;
}

/** The ids of one user's keys, newest last: listing and erasure need no scan. */
interface UserApiKeysDocument {
  _id: string;
  keyIds: string[];
}

export type StoredApiKey = ApiKeyDocument;
export type ApiKeyModel = Model<ApiKeyDocument>;
export type UserApiKeysModel = Model<UserApiKeysDocument>;

export function createApiKeyModels(connection: Connection) {
  const keys = new Schema<ApiKeyDocument>(
    {
      _id: { type: String, required: true },
      hash: { type: String, required: true },
      userId: { type: String, required: true },
      name: { type: String, required: true },
      scopes: { type: [String], required: true },
      createdAt: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
      lastUsedAt: { type: Date },
    },
    { collection: 'api_keys', strict: 'throw', versionKey: false },
  );
  const lists = new Schema<UserApiKeysDocument>(
    { _id: { type: String, required: true }, keyIds: { type: [String], required: true } },
    { collection: 'user_api_keys', strict: 'throw', versionKey: false },
  );
  return {
    apiKeys: connection.model<ApiKeyDocument>('ApiKey', keys),
    userApiKeys: connection.model<UserApiKeysDocument>('UserApiKeys', lists),
  };
}

/** What leaves the model layer: never the hash. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly lastUsedAt: Date | null;
}

export const toApiKeyInfo = (doc: StoredApiKey): ApiKeyInfo => ({
  id: doc._id,
  userId: doc.userId,
  name: doc.name,
  scopes: [...doc.scopes],
  createdAt: doc.createdAt,
  expiresAt: doc.expiresAt,
  lastUsedAt: doc.lastUsedAt ?? null,
});
