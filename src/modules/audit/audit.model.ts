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
      type: { type: String, required: true, index: true },
      // Retention is enforced by AuditService.prune: FerretDB v1 has no TTL indexes.
      at: { type: Date, required: true, index: true },
      userId: { type: String, index: true },
      clientIp: { type: String },
      requestId: { type: String },
      details: { type: Schema.Types.Mixed, default: {} },
      count: { type: Number, default: 1 },
      lastAt: { type: Date },
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
