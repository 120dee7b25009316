import { Schema, type Connection, type Model } from 'mongoose';
import { createSequenceLogModel, type SequenceLogModel } from '../../db/sequence-log.js';
import type { MailKind, MailMessage } from './mail.js';

/**
 * A message waiting to go out, from enqueue until it is sent or given up. It holds the message,
 * token included, and is deleted once the message is sent or has failed for good. The worker
 * never queries this collection by anything but `_id` (the embedded FerretDB answers only `_id`
 * filters from an index): it finds messages through the outbox log (see outbox-queue.ts).
 */
export interface OutboxDocument {
  _id: string;
  kind: MailKind;
  message: MailMessage;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt may start. */
  dueAt: Date;
  createdAt: Date;
  /** The last failure, as the mail server or the network stated it (never the message). */
  lastError?: string;
}

/**
 * One document per delivery attempt, `_id` = `<messageId>:<attempt>`. The worker that inserts it
 * makes that attempt; another one's insert fails on the unique _id. Conditional updates would not
 * do: the embedded FerretDB does not apply them atomically (two racing ones can both succeed),
 * while an insert under the unique _id index is atomic there as on MongoDB.
 */
export interface ClaimDocument {
  _id: string;
  at: Date;
}

/** What ops keep of a finished message: no body, no token, no recipient (only its domain). */
export interface DeliveryDocument {
  _id: string;
  kind: MailKind;
  status: 'sent' | 'failed';
  attempts: number;
  createdAt: Date;
  finishedAt: Date;
  /** The recipient's domain, to see which provider refuses or delays mail. */
  toDomain: string;
  /** The Message-ID the mail server knows it by (sent). */
  messageId?: string;
  lastError?: string;
}

export interface MailModels {
  readonly outbox: Model<OutboxDocument>;
  readonly claims: Model<ClaimDocument>;
  readonly deliveries: Model<DeliveryDocument>;
  /**
   * The sequence logs (src/db/sequence-log.ts) that order the outbox and the delivery records,
   * so the worker and the record sweep walk them by `_id` instead of querying by date.
   */
  readonly logs: SequenceLogModel;
}

export function createMailModels(connection: Connection): MailModels {
  const options = { strict: 'throw', versionKey: false } as const;
  const outbox = new Schema<OutboxDocument>(
    {
      _id: { type: String, required: true },
      kind: { type: String, required: true },
      message: { type: Schema.Types.Mixed, required: true },
      attempts: { type: Number, required: true },
      dueAt: { type: Date, required: true },
      createdAt: { type: Date, required: true },
      lastError: { type: String },
    },
    { ...options, collection: 'mail_outbox' },
  );
  const claims = new Schema<ClaimDocument>(
    { _id: { type: String, required: true }, at: { type: Date, required: true } },
    { ...options, collection: 'mail_claims' },
  );
  const deliveries = new Schema<DeliveryDocument>(
    {
      _id: { type: String, required: true },
      kind: { type: String, required: true },
      status: { type: String, enum: ['sent', 'failed'], required: true },
      attempts: { type: Number, required: true },
      createdAt: { type: Date, required: true },
      finishedAt: { type: Date, required: true },
      toDomain: { type: String, required: true },
      messageId: { type: String },
      lastError: { type: String },
    },
    { ...options, collection: 'mail_deliveries' },
  );
  return {
    outbox: connection.model<OutboxDocument>('MailOutbox', outbox),
    claims: connection.model<ClaimDocument>('MailClaim', claims),
    deliveries: connection.model<DeliveryDocument>('MailDelivery', deliveries),
    logs: createSequenceLogModel(connection, 'mail_logs'),
  };
}
