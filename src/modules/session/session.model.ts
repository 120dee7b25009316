import type { Types } from 'mongoose';
import { Schema, type Connection, type Model } from 'mongoose';
import { createSequenceLogModel } from '../../db/sequence-log.js';

/*
 * Every read, update and delete on these collections names one document by `_id` alone: the one
 * filter the embedded FerretDB answers without decoding the whole collection, and a point lookup
 * on MongoDB, which therefore needs no secondary index on any of them.
 */

/**
 * One sign-in on one device: the family of refresh tokens that rotation produces. Ending a
 * session deletes it; a missing session is refused everywhere.
 */
interface SessionDocument {
  userId: Types.ObjectId;
  createdAt: Date;
  lastUsedAt: Date;
  /** Absolute end, however often it is refreshed. */
  expiresAt: Date;
  userAgent: string;
  ip: string;
  /**
   * The user's credential version when the session began (absent on older sessions: 0). Once a
   * password change or logoutAll raises it, the session is over even if the revocation did not
   * see it: a sign-in racing it may add its session after the list of sessions was read.
   */
  credentialVersion?: number;
  /**
   * When the sign-in that began the session proved a second factor (a TOTP or recovery code);
   * absent if it proved the password alone, and on sessions older than the field. Refreshing
   * carries this time into every access token of the session, never a later one: a refresh
   * proves no factor, so it must not extend the window of a step-up.
   */
  mfaAt?: Date;
  /**
   * The registered OAuth client the session was issued to (src/modules/oauth); absent for the
   * default client (GraphQL sign-ins, /token without a client registry). Only that client may
   * refresh or revoke it (RFC 6749 §6, RFC 7009 §2.1).
   */
  clientId?: string;
}

/** A refresh token, keyed by its SHA-256 hash: the token itself is never stored. */
interface RefreshTokenDocument {
  _id: string;
  sessionId: Types.ObjectId;
  createdAt: Date;
  /** Ends the token if it is not used by then. */
  idleExpiresAt: Date;
  /** Rotations of the session before it was issued. */
  generation: number;
}

/**
 * That generation `<generation>` of a session was issued by rotating a token: keyed
 * `<sessionId>:<generation>`, so inserting it is how one copy of the previous generation wins the
 * rotation however many copies exist (see refresh-rotation.ts).
 */
interface RotationDocument {
  _id: string;
  /** Hash of the token whose rotation this was. */
  rotatedFrom: string;
  createdAt: Date;
}

/** A user's sessions, oldest sign-in first (see user-sessions.ts). */
interface UserSessionsDocument {
  _id: Types.ObjectId;
  sessions: Types.ObjectId[];
}

/** The `_id` of the rotation record that began `generation` of a session. */
export const rotationKey = (sessionId: Types.ObjectId, generation: number) =>
  `${String(sessionId)}:${generation}`;

const sessionSchema = new Schema<SessionDocument>(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    userAgent: { type: String, default: '' },
    ip: { type: String, default: '' },
    credentialVersion: { type: Number },
    mfaAt: { type: Date },
    clientId: { type: String },
  },
  { collection: 'sessions', strict: 'throw' },
);

const refreshTokenSchema = new Schema<RefreshTokenDocument>(
  {
    _id: { type: String, required: true },
    sessionId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    idleExpiresAt: { type: Date, required: true },
    generation: { type: Number, required: true },
  },
  { collection: 'refresh_tokens', strict: 'throw', versionKey: false },
);

const rotationSchema = new Schema<RotationDocument>(
  {
    _id: { type: String, required: true },
    rotatedFrom: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'refresh_rotations', strict: 'throw', versionKey: false },
);

const userSessionsSchema = new Schema<UserSessionsDocument>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    sessions: { type: [Schema.Types.ObjectId], default: [] },
  },
  { collection: 'user_sessions', strict: 'throw', versionKey: false },
);

export type StoredSession = SessionDocument & { _id: Types.ObjectId };
export type StoredRefreshToken = RefreshTokenDocument;
export type SessionModel = Model<SessionDocument>;
export type RefreshTokenModel = Model<RefreshTokenDocument>;
export type RotationModel = Model<RotationDocument>;
export type UserSessionsModel = Model<UserSessionsDocument>;

export function createSessionModels(connection: Connection) {
  return {
    sessions: connection.model<SessionDocument>('Session', sessionSchema),
    refreshTokens: connection.model<RefreshTokenDocument>('RefreshToken', refreshTokenSchema),
    rotations: connection.model<RotationDocument>('RefreshRotation', rotationSchema),
    userSessions: connection.model<UserSessionsDocument>('UserSessions', userSessionsSchema),
    /** What the sweep walks: sessions and refresh tokens in the order they were created. */
    logs: createSequenceLogModel(connection, 'session_logs'),
  };
}

export type SessionModels = ReturnType<typeof createSessionModels>;

export interface SessionInfo {
  readonly id: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  readonly expiresAt: Date;
  readonly userAgent: string;
  readonly ip: string;
}

export function toSessionInfo(doc: StoredSession): SessionInfo {
  return {
    id: String(doc._id),
    createdAt: doc.createdAt,
    lastUsedAt: doc.lastUsedAt,
    expiresAt: doc.expiresAt,
    userAgent: doc.userAgent,
    ip: doc.ip,
  };
}
