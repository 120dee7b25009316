import { Schema, type Connection, type Model } from 'mongoose';

/**
 * A token mailed to a user (password reset, email verification, email change). The token itself
 * is never stored: `_id` is its SHA-256, so redeeming one is a lookup by `_id` alone (the one
 * filter the embedded FerretDB answers from an index).
 */
interface OneTimeTokenDocument {
  _id: string;
  purpose: string;
  userId: string;
  /** What the flow needs back on redemption (the new address of an email change). */
  data?: string;
  /** The user's credential version at issue: a password change since voids a reset link. */
  credentialVersion: number;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * One document per redeemed token, `_id` = the token's hash. Of two redemptions racing, one
 * insert fails on the unique `_id`: FerretDB gives deletes and conditional updates no such
 * guarantee (both of two racing ones can succeed), an insert under a unique index it does.
 */
interface TokenUseDocument {
  _id: string;
  at: Date;
  /** Its token's: the record must outlive any redemption that read the token before it went. */
  expiresAt: Date;
}

export type OneTimeTokenModel = Model<OneTimeTokenDocument>;
export type TokenUseModel = Model<TokenUseDocument>;
export type StoredOneTimeToken = OneTimeTokenDocument;

export function createOneTimeTokenModels(connection: Connection) {
  const tokens = new Schema<OneTimeTokenDocument>(
    {
      _id: { type: String, required: true },
      purpose: { type: String, required: true },
      userId: { type: String, required: true },
      data: { type: String },
      credentialVersion: { type: Number, required: true },
      createdAt: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
    },
    { collection: 'one_time_tokens', strict: 'throw', versionKey: false },
  );
  const uses = new Schema<TokenUseDocument>(
    {
      _id: { type: String, required: true },
      at: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
    },
    { collection: 'one_time_token_uses', strict: 'throw', versionKey: false },
  );
  return {
    oneTimeTokens: connection.model<OneTimeTokenDocument>('OneTimeToken', tokens),
    tokenUses: connection.model<TokenUseDocument>('OneTimeTokenUse', uses),
  };
}
