import type { SequenceLogs } from '../../db/sequence-log.js';
import { isDuplicateKeyError } from '../../db/mongo.js';
import type { DeliveryDocument, MailModels } from './outbox.model.js';

/**
 * The records of finished messages, in the order they finished: each is appended to the
 * `deliveries` sequence log before it is written, so the retention sweep walks the log from its
 * tail by point lookups and stops at the first record still kept, instead of querying by date
 * (a collection scan on the embedded FerretDB). Finishing order is close to `finishedAt` order;
 * replicas' clocks may put a record slightly out of it, which only delays the sweep of the
 * records after it by that much.
 */
export const RECORDS_LOG = 'deliveries';
/** Records one sweep batch reads and deletes. */
const PRUNE_BATCH = 100;

export function createDeliveryRecords(models: MailModels, logs: SequenceLogs) {
  return {
    /** Keeps the record of a finished message; a second one for the same message is dropped. */
    async write(record: DeliveryDocument): Promise<void> {
      await logs.append(RECORDS_LOG, record._id);
      try {
        await models.deliveries.create(record);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    },

    /** Deletes the records finished before `before`, a batch at a time; returns how many. */
    async prune(before: Date, { maxBatches = Infinity } = {}): Promise<number> {
      let deleted = 0;
      for (let batch = 0; batch < maxBatches; batch += 1) {
        const entries = await logs.oldest(RECORDS_LOG, PRUNE_BATCH);
        const records = await Promise.all(
          entries.map((entry) =>
            models.deliveries.findById(entry.ref).select('finishedAt').lean<DeliveryDocument>(),
          ),
        );
        let old = 0;
        for (const [i, record] of records.entries()) {
          if (record && record.finishedAt >= before) break;
          // A missing record is one deleted already, or one whose write failed; the newest entry
          // may be a write still under way, which must not lose its entry.
          if (!record && i === entries.length - 1 && entries.length < PRUNE_BATCH) break;
          old += 1;
        }
        const pruned = entries.slice(0, old);
        const results = await Promise.all(
          pruned.map((entry) => models.deliveries.deleteOne({ _id: entry.ref })),
        );
        deleted += results.reduce((sum, result) => sum + result.deletedCount, 0);
        await logs.trim(RECORDS_LOG, pruned);
        if (old < PRUNE_BATCH) break;
      }
      return deleted;
    },
  };
}

export type DeliveryRecords = ReturnType<typeof createDeliveryRecords>;
