import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const ROLES = ['USER', 'ADMIN'] as const;
/** The sequence log (src/db/sequence-log.ts) of every user, in sign-up order. */
export const USERS_LOG = 'users';
export type Role = (typeof ROLES)[number];

interface UserDocument {
  email: string;
  passwordHash: string;
  roles: Role[];
  /** A disabled account cannot sign in, and its tokens stop working. */
  disabled: boolean;
  /** Its owner followed a verification link mailed to `email` (absent before this existed). */
  emailVerified?: boolean;
  /**
   * Raised when the password changes or every session is ended: device tokens name the version
   * they were issued under and stop counting as a known device once it moves on.
   */
  credentialVersion?: number;
  /** Its place in the users log (USERS_LOG), the order the admin's user list walks. */
  seq?: number;
  /** Set (with disabled) when its erasure began: only deleting it again may touch it since. */
  erasingSince?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** What leaves the model layer: never the password hash. */
export interface User {
  readonly id: string;
  readonly email: string;
  readonly roles: readonly Role[];
  readonly disabled: boolean;
  readonly emailVerified: boolean;
  readonly createdAt: Date;
  readonly credentialVersion: number;
}

const userSchema = new Schema<UserDocument>(
  {
    // Unique in the database itself, so concurrent sign-ups cannot both win a check-then-insert.
    email: { type: String, required: true, unique: true },
    // Excluded from every query unless a caller asks for it with select('+passwordHash').
    passwordHash: { type: String, required: true, select: false },
    roles: { type: [String], enum: ROLES, default: ['USER'] },
    disabled: { type: Boolean, default: false },
    emailVerified: { type: Boolean, default: false },
    credentialVersion: { type: Number, default: 0 },
    seq: { type: Number },
    erasingSince: { type: Date },
  },
  { timestamps: true, collection: 'users', strict: 'throw' },
);

export type UserModel = Model<UserDocument>;

/**
 * One document per raise of a user's credential version, `_id` = `<userId>:<version>`. Of two
 * changes racing from one version, one insert fails on the unique _id: the embedded FerretDB
 * gives conditional updates and $inc no such guarantee (both of two racing ones can apply, or
 * one can be lost), while an insert under a unique index is atomic on it as on MongoDB.
 */
interface CredentialChangeDocument {
  _id: string;
  at: Date;
}

export type CredentialChangeModel = Model<CredentialChangeDocument>;

export function createCredentialChangeModel(connection: Connection): CredentialChangeModel {
  const schema = new Schema<CredentialChangeDocument>(
    { _id: { type: String, required: true }, at: { type: Date, required: true } },
    { collection: 'credential_changes', strict: 'throw', versionKey: false },
  );
  return connection.model<CredentialChangeDocument>('CredentialChange', schema);
}

/**
 * How login finds a user: one document per registered email, `_id` = the normalized email, naming
 * the user's `_id`. The embedded FerretDB answers only an exact `{_id}` filter from its index and
 * decodes the whole collection for any other (`{email}` included), so every request-path lookup
 * goes by `_id`. Written before the user (see email-claims.ts); the unique `email` index on
 * users stays, as the guard MongoDB enforces.
 */
interface UserEmailDocument {
  _id: string;
  userId: Types.ObjectId;
  /** When the email was claimed: a claim whose user was never written is given up after a while. */
  createdAt: Date;
}

export type UserEmailModel = Model<UserEmailDocument>;

export function createUserEmailModel(connection: Connection): UserEmailModel {
  const schema = new Schema<UserEmailDocument>(
    {
      _id: { type: String, required: true },
      userId: { type: Schema.Types.ObjectId, required: true },
      createdAt: { type: Date, required: true },
    },
    { collection: 'user_emails', strict: 'throw', versionKey: false },
  );
  return connection.model<UserEmailDocument>('UserEmail', schema);
}

/** A lean user document read with select('+passwordHash'): for verification only. */
export type UserWithHash = UserDocument & { _id: Types.ObjectId };
/** A lean user document without its hash: what admin changes decide from. */
export type StoredUser = Omit<UserDocument, 'passwordHash'> & { _id: Types.ObjectId };

export function createUserModel(connection: Connection): UserModel {
  return connection.model<UserDocument>('User', userSchema);
}

export function toUser(doc: {
  _id: unknown;
  email: string;
  roles: Role[];
  disabled?: boolean;
  emailVerified?: boolean;
  createdAt: Date;
  credentialVersion?: number;
}): User {
  return {
    id: String(doc._id),
    email: doc.email,
    roles: [...doc.roles],
    disabled: doc.disabled ?? false,
    emailVerified: doc.emailVerified ?? false,
    createdAt: doc.createdAt,
    credentialVersion: doc.credentialVersion ?? 0,
  };
}
