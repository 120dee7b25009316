import type { Migrations } from '../../db/migrations.js';
import type { SequenceLogs } from '../../db/sequence-log.js';
import type { Logger } from '../../lib/logger.js';
import { appendToLogs } from './audit-logs.js';
import type { AuditEventModel } from './audit.model.js';

const MIGRATION = 'audit_logs_backfill';
/** Indexes the audit_events of before declared; pages and the sweep walk the logs instead. */
const LEGACY_INDEXES = ['type_1', 'at_1', 'userId_1'];

/**
 * Lists the events stored before the audit logs existed, so that pages show them and the
 * retention sweep deletes them on time. Runs at start-up before the server listens, once (a
 * marker in `migrations`): events recorded from then on are appended after these, so each log
 * stays in the order things happened. One pass in the collection's own order (insertion order,
 * which is the order they happened); an event that already has its places is left alone, and an
 * entry an interrupted run made twice is skipped by readers and trimmed by the sweep, so a start
 * that dies half-way simply carries on. It may scan: it is not a request path, and it runs once.
 */
export async function backfillAuditLogs(deps: {
  events: AuditEventModel;
  logs: SequenceLogs;
  migrations: Migrations;
  logger: Logger;
}): Promise<number> {
  const { events, logs, migrations, logger } = deps;
  if (await migrations.isDone(MIGRATION)) return 0;
  let listed = 0;
  const cursor = events.find({}, { type: 1, userId: 1, seqs: 1 }).lean().cursor({ batchSize: 500 });
  for await (const event of cursor) {
    if (event.seqs !== undefined) continue;
    const listing = { type: event.type, userId: event.userId ?? undefined };
    const seqs = await appendToLogs(logs, String(event._id), listing);
    await events.updateOne({ _id: event._id }, { $set: { seqs } });
    listed += 1;
    if (listed % 10_000 === 0) logger.info({ listed }, 'listing earlier audit events');
  }
  for (const name of LEGACY_INDEXES) {
    await events.collection.dropIndex(name).catch(() => undefined); // absent on new databases
  }
  await migrations.markDone(MIGRATION);
  if (listed > 0) logger.info({ listed }, 'audit events from before the audit logs listed');
  return listed;
}
