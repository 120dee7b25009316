import type { Types } from 'mongoose';
import { Schema, type Connection, type Model } from 'mongoose';

/** One sign-in on one device: the family of refresh tokens that rotation produces. */
interface SessionDocument {
  userId: Types.ObjectId;
  createdAt: Date;
  lastUsedAt: Date;
  /** Absolute end, however often it is refreshed. */
  expiresAt: Date;
  userAgent: string;
  ip: string;
  revokedAt?: Date;
  revokedReason?: string;
}

/** A refresh token, stored only as its SHA-256 hash. */
interface RefreshTokenDocument {
  tokenHash: string;
  sessionId: Types.ObjectId;
  createdAt: Date;
  /** Ends the token if it is not used by then. */
  idleExpiresAt: Date;
  /** Set when rotated; presenting it again after the grace period is reuse. */
  usedAt?: Date;
}

const sessionSchema = new Schema<SessionDocument>(
  {
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    userAgent: { type: String, default: '' },
    ip: { type: String, default: '' },
    revokedAt: { type: Date },
    revokedReason: { type: String },
  },
  { collection: 'sessions', strict: 'throw' },
);

const refreshTokenSchema = new Schema<RefreshTokenDocument>(
  {
    tokenHash: { type: String, required: true, unique: true },
    sessionId: { type: Schema.Types.ObjectId, required: true, index: true },
    createdAt: { type: Date, required: true },
    idleExpiresAt: { type: Date, required: true },
    usedAt: { type: Date },
  },
  { collection: 'refresh_tokens', strict: 'throw' },
);

export type SessionModel = Model<SessionDocument>;
export type RefreshTokenModel = Model<RefreshTokenDocument>;

export function createSessionModels(connection: Connection) {
  return {
    sessions: connection.model<SessionDocument>('Session', sessionSchema),
    refreshTokens: connection.model<RefreshTokenDocument>('RefreshToken', refreshTokenSchema),
  };
}

export interface SessionInfo {
  readonly id: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  readonly expiresAt: Date;
  readonly userAgent: string;
  readonly ip: string;
}

export function toSessionInfo(doc: SessionDocument & { _id: Types.ObjectId }): SessionInfo {
  return {
    id: String(doc._id),
    createdAt: doc.createdAt,
    lastUsedAt: doc.lastUsedAt,
    expiresAt: doc.expiresAt,
    userAgent: doc.userAgent,
    ip: doc.ip,
  };
}
