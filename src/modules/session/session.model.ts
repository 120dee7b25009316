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
  /**
   * The user's credential version when the session began (absent on older sessions: 0). Once a
   * password change or logoutAll raises it, the session is over even if its revokedAt write was
   * lost: the embedded FerretDB rewrites whole documents, so a racing refresh can undo one.
   */
  credentialVersion?: number;
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
  /** Rotations of the session before it was issued (absent on older tokens: 0). */
  generation?: number;
  /**
   * `<sessionId>:<generation>`, only on the token a rotation issued; unique, so each generation
   * of a session is rotated out of once, however many copies of it exist. A copy issued for a
   * replay within the grace period has none.
   */
  rotation?: string;
  /** The token whose rotation issued this one. */
  rotatedFrom?: Types.ObjectId;
  /** Set when another copy of its generation rotated: presenting it is reuse, with no grace. */
  endedAt?: Date;
}

const sessionSchema = new Schema<SessionDocument>(
  {
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    // Indexed for the sweep (session-sweep.ts), which looks for ended sessions hourly.
    expiresAt: { type: Date, required: true, index: true },
    userAgent: { type: String, default: '' },
    ip: { type: String, default: '' },
    revokedAt: { type: Date, index: true },
    revokedReason: { type: String },
    credentialVersion: { type: Number },
  },
  { collection: 'sessions', strict: 'throw' },
);

const refreshTokenSchema = new Schema<RefreshTokenDocument>(
  {
    tokenHash: { type: String, required: true, unique: true },
    sessionId: { type: Schema.Types.ObjectId, required: true, index: true },
    createdAt: { type: Date, required: true },
    idleExpiresAt: { type: Date, required: true, index: true },
    usedAt: { type: Date },
    generation: { type: Number },
    rotation: { type: String, unique: true, sparse: true },
    rotatedFrom: { type: Schema.Types.ObjectId },
    endedAt: { type: Date },
  },
  { collection: 'refresh_tokens', strict: 'throw' },
);

export type StoredSession = SessionDocument & { _id: Types.ObjectId };
export type StoredRefreshToken = RefreshTokenDocument & { _id: Types.ObjectId };
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
