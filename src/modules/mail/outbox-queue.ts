import type { LogEntry, SequenceLogs } from '../../db/sequence-log.js';
import type { MailModels, OutboxDocument } from './outbox.model.js';

/**
 * The outbox's order: each message is appended to the `outbox` sequence log when it is queued,
 * after its document is written, so an entry whose document is gone names a finished message
 * (documents are deleted only when sent or given up, and ids are never reused). The log's tail is
 * the cursor: the oldest entry that may still be unfinished. It only moves past a run of
 * finished entries, so it may lag behind but never skips a waiting message.
 *
 * A pass looks at three bounded sets of entries, by point lookups only (the embedded FerretDB
 * answers nothing else from an index, see src/db/ferretdb.ts):
 * - the oldest window from the tail, to retry what is due there and move the tail on;
 * - a rolling window past it, which moves on a window each pass and starts again after the tail
 *   at the end of the log: messages stuck on a long backoff at the head never hide later ones
 *   for longer than a few polls, however long the backlog;
 * - the entries this process appended since its last pass, so new mail goes out at once.
 */
export const OUTBOX_LOG = 'outbox';
/** Entries each window reads: a pass costs at most about 2 × 3 × WINDOW point lookups. */
export const WINDOW = 100;
/** A window is read in chunks from this size, doubling: an idle outbox costs a few lookups. */
const FIRST_CHUNK = 8;

export interface Visit {
  readonly entry: LogEntry;
  /** Null once the message is finished (sent or given up). */
  readonly doc: OutboxDocument | null;
}

export interface OutboxPass {
  /** The messages looked at, each once, the oldest window first. */
  readonly visits: readonly Visit[];
  /** Moves the tail past the leading run of the oldest window that is finished now. */
  advance(finished: ReadonlySet<string>): Promise<void>;
}

export function createOutboxQueue(models: MailModels, logs: SequenceLogs) {
  /** Where the rolling window goes on from (this process's; replicas roll independently). */
  let rolling: number | undefined;
  /** Appended here since the last pass: seq → message id. */
  const fresh = new Map<number, string>();

  /** Up to `limit` entries after `after` (from the tail if absent); `end`: the log ended. */
  async function window(after: number | undefined, limit: number) {
    const entries: LogEntry[] = [];
    let chunk = FIRST_CHUNK;
    while (entries.length < limit) {
      const size = Math.min(chunk, limit - entries.length);
      const last = entries[entries.length - 1]?.seq ?? after;
      const read = await logs.oldest(OUTBOX_LOG, size, last);
      entries.push(...read);
      if (read.length < size) return { entries, end: true };
      chunk *= 2;
    }
    return { entries, end: false };
  }

  return {
    /** Adds a message; its document is written first (see above). */
    async enqueue(doc: OutboxDocument): Promise<void> {
      await models.outbox.create(doc);
      try {
        const seq = await logs.append(OUTBOX_LOG, doc._id);
        // Bounded: what does not fit is found by the windows instead.
        if (fresh.size < WINDOW) fresh.set(seq, doc._id);
      } catch (error) {
        // Not in the log, it would never be found: take it back, the caller sees the failure.
        await models.outbox.deleteOne({ _id: doc._id }).catch(() => undefined);
        throw error;
      }
    },

    async pass(): Promise<OutboxPass> {
      const head = await window(undefined, WINDOW);
      const entries = [...head.entries];
      const last = head.entries[head.entries.length - 1]?.seq;
      if (!head.end && last !== undefined) {
        const roll = await window(Math.max(rolling ?? last, last), WINDOW);
        entries.push(...roll.entries);
        rolling = roll.end ? undefined : roll.entries[roll.entries.length - 1]?.seq;
      } else {
        rolling = undefined;
      }
      const seen = new Set(entries.map((entry) => entry.seq));
      for (const [seq, ref] of fresh) if (!seen.has(seq)) entries.push({ seq, ref });
      fresh.clear();

      const docs = await Promise.all(
        entries.map((entry) => models.outbox.findById(entry.ref).lean<OutboxDocument>()),
      );
      const visits = entries.map((entry, i) => ({ entry, doc: docs[i] ?? null }));
      return {
        visits,
        async advance(finished) {
          const done: LogEntry[] = [];
          for (const { entry, doc } of visits.slice(0, head.entries.length)) {
            if (doc && !finished.has(doc._id)) break;
            done.push(entry);
          }
          await logs.trim(OUTBOX_LOG, done);
        },
      };
    },
  };
}

export type OutboxQueue = ReturnType<typeof createOutboxQueue>;
