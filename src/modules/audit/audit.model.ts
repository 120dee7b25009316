import { Schema, type Connection, type Model } from 'mongoose';

interface AuditEventDocument {
  type: string;
  at: Date;
  userId?: string;
  clientIp?: string;
  requestId?: string;
  /** Other identifiers of the event (pseudonymous account keys, rules, reasons); never secrets. */
  details: Record<string, string | number>;
  /** How many times it happened: repeats from one client within a minute fold into one. */
  count: number;
  /** The last repeat, when there were any. */
  lastAt?: Date;
  /** Where it stands in each audit log that lists it (see audit-logs.ts): paging starts there. */
  seqs?: AuditSeqs;
}

export interface AuditSeqs {
  all: number;
  type: number;
  user?: number;
  userType?: number;
}

export interface AuditEvent {
  readonly id: string;
  readonly type: string;
  readonly at: Date;
  readonly userId: string | null;
  readonly clientIp: string | null;
  readonly requestId: string | null;
  readonly details: Record<string, string | number>;
  readonly count: number;
  readonly lastAt: Date | null;
}

export type AuditEventModel = Model<AuditEventDocument>;

export function createAuditEventModel(connection: Connection) {
  const schema = new Schema<AuditEventDocument>(
    {
      // No secondary indexes: pages and the retention sweep walk the audit logs by _id.
      type: { type: String, required: true },
      at: { type: Date, required: true },
      userId: { type: String },
      clientIp: { type: String },
      requestId: { type: String },
      details: { type: Schema.Types.Mixed, default: {} },
      count: { type: Number, default: 1 },
      lastAt: { type: Date },
      seqs: { type: Schema.Types.Mixed },
    },
    { collection: 'audit_events', strict: 'throw', minimize: false },
  );
  return connection.model<AuditEventDocument>('AuditEvent', schema);
}

export function toAuditEvent(doc: AuditEventDocument & { _id: unknown }): AuditEvent {
  return {
    id: String(doc._id),
    type: doc.type,
    at: doc.at,
    userId: doc.userId ?? null,
    clientIp: doc.clientIp ?? null,
    requestId: doc.requestId ?? null,
    details: doc.details ?? {},
    count: doc.count ?? 1,
    lastAt: doc.lastAt ?? null,
  };
}
