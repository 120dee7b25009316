import { Schema, type Connection, type Model } from 'mongoose';
import { createSequenceLogModel } from '../../db/sequence-log.js';

/*
 * Every access names one document by `_id` (the one filter the embedded FerretDB answers from an
 * index), and every single-use step is an insert under the unique _id: FerretDB applies neither
 * conditional updates nor $inc atomically, while an insert that collides fails on both databases.
 */

/** A TOTP secret waiting for its first code; `_id` = the user's id, so a new one replaces it. */
interface TotpEnrolmentDocument {
  _id: string;
  /** Sealed (src/lib/data-encryption.ts): never stored in the clear. */
  secret: string;
  enrolmentId: string;
  createdAt: Date;
}

/**
 * A confirmed factor; `_id` = the user's id. Created only by an insert, so of two confirmations
 * one wins, and re-enrolling (which writes the other collection) can never replace it.
 */
interface TotpFactorDocument {
  _id: string;
  secret: string;
  enrolmentId: string;
  /** SHA-256 of each recovery code with the enrolment id; a used one has a claim (below). */
  recoveryHashes: string[];
  confirmedAt: Date;
}

/** A login's second step; `_id` = SHA-256 of the challenge handed to the client. */
interface MfaChallengeDocument {
  _id: string;
  userId: string;
  /** The sign-in is void if the password changed (or every session ended) in between. */
  credentialVersion: number;
  expiresAt: Date;
  /**
   * The known device the password was given from (a device token of this account), if any: its
   * code attempts count toward that device's lockout, not the account's.
   */
  deviceId?: string;
  /**
   * The registered OAuth client the login came from; absent for the default client (GraphQL).
   * Only that client may redeem it, as only it may refresh the session it leads to.
   */
  clientId?: string;
}

/**
 * Single-use claims, by what they claim: `totp:<userId>:<step>` (a time step's code was used),
 * `recovery:<enrolmentId>:<hash>`, `challenge:<hash>` (a challenge was spent),
 * `attempt:<hash>:<n>` (a challenge's n-th try).
 */
interface MfaClaimDocument {
  _id: string;
  at: Date;
}

/**
 * The sweep's logs (src/db/sequence-log.ts, collection `mfa_logs`), in the order things were
 * written, so the sweep walks them from the oldest end by point lookups instead of a range query:
 * step claims by their claim id, challenges as `<expiresAt ms>:<hash>` (their claims are named
 * after the hash). Recovery-code claims are in no log: they go with their factor.
 */
export const STEP_CLAIM_LOG = 'totp_step_claims';
export const CHALLENGE_LOG = 'mfa_challenges';

export type TotpEnrolmentModel = Model<TotpEnrolmentDocument>;
export type TotpFactorModel = Model<TotpFactorDocument>;
export type MfaChallengeModel = Model<MfaChallengeDocument>;
export type MfaClaimModel = Model<MfaClaimDocument>;
export type StoredTotpFactor = TotpFactorDocument;

const options = (collection: string) =>
  ({ collection, strict: 'throw', versionKey: false }) as const;

export function createMfaModels(connection: Connection) {
  const enrolments = new Schema<TotpEnrolmentDocument>(
    {
      _id: { type: String, required: true },
      secret: { type: String, required: true },
      enrolmentId: { type: String, required: true },
      createdAt: { type: Date, required: true },
    },
    options('totp_enrolments'),
  );
  const factors = new Schema<TotpFactorDocument>(
    {
      _id: { type: String, required: true },
      secret: { type: String, required: true },
      enrolmentId: { type: String, required: true },
      recoveryHashes: { type: [String], required: true },
      confirmedAt: { type: Date, required: true },
    },
    options('totp_factors'),
  );
  const challenges = new Schema<MfaChallengeDocument>(
    {
      _id: { type: String, required: true },
      userId: { type: String, required: true },
      credentialVersion: { type: Number, required: true },
      expiresAt: { type: Date, required: true },
      deviceId: { type: String },
      clientId: { type: String },
    },
    options('mfa_challenges'),
  );
  const claims = new Schema<MfaClaimDocument>(
    { _id: { type: String, required: true }, at: { type: Date, required: true } },
    options('mfa_claims'),
  );
  return {
    enrolments: connection.model<TotpEnrolmentDocument>('TotpEnrolment', enrolments),
    factors: connection.model<TotpFactorDocument>('TotpFactor', factors),
    challenges: connection.model<MfaChallengeDocument>('MfaChallenge', challenges),
    claims: connection.model<MfaClaimDocument>('MfaClaim', claims),
    logs: createSequenceLogModel(connection, 'mfa_logs'),
  };
}

export type MfaModels = ReturnType<typeof createMfaModels>;
