import { Types, isValidObjectId } from 'mongoose';
import { decodeCursor, pageOf, requestScanBudget, type Page } from '../../db/log-cursor.js';
import type { LogEntry, ScanBudget, SequenceLogs } from '../../db/sequence-log.js';
import { badUserInput } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { RequestInfoStore } from '../../lib/request-info.js';
import type { AuditLog, SecurityEvent } from '../../lib/security-events.js';
import { detailsNaming, pseudonymizeUserEvents, type ErasedUsers } from './audit-erasure.js';
import { appendToLogs, entriesOutsideAll, logName, roleOf } from './audit-logs.js';
import { toAuditEvent, type AuditEvent, type AuditEventModel } from './audit.model.js';
import { REPEATABLE_EVENTS, RepeatAggregator, type Repeat } from './repeat-aggregator.js';

export const MAX_AUDIT_PAGE = 200;
/** Events the retention sweep looks at per batch: each one costs a few point operations. */
export const PRUNE_BATCH = 100;
/** Longer than any event's write takes: a missing event younger than this may still arrive. */
const IN_FLIGHT_MS = 60_000;

/** When the event an entry names was made, from its ObjectId; 0 for anything else. */
const madeAt = (ref: string) =>
  isValidObjectId(ref) ? new Types.ObjectId(ref).getTimestamp().getTime() : 0;

export interface AuditService extends AuditLog {
  list(options: {
    first: number;
    after?: string;
    type?: string;
    userId?: string;
    /** The request's, when it reads more than one list; a budget of its own otherwise. */
    budget?: ScanBudget;
  }): Promise<Page<AuditEvent>>;
  /** Resolves once every write started so far has finished (tests, shutdown). */
  flush(): Promise<void>;
  /**
   * Deletes events older than the retention period, oldest first, in batches of PRUNE_BATCH
   * (at most `maxBatches` of them); returns how many.
   */
  prune(options?: { maxBatches?: number }): Promise<number>;
  /**
   * Erasure: the user's events name a pseudonym instead of the user, those stored so far (once
   * this process's pending writes are) and those recorded from now on (see audit-erasure.ts).
   * Returns the pseudonym. Safe to run again.
   */
  forgetUser(userId: string): Promise<string>;
}

const LOGIN_OUTCOMES: Partial<Record<SecurityEvent, string>> = {
  'login.succeeded': 'success',
  'login.failed': 'failure',
  'login.refused_while_locked': 'locked',
};

/** Repeats of one event from one client within this window fold into one document. */
const REPEAT_WINDOW_MS = 60_000;
/** Repeat counts are written at most this long after they happen. */
const REPEAT_FLUSH_MS = 5_000;
const MAX_OPEN_REPEATS = 10_000;
/** New folded events stored per window; beyond it, events of a kind fold for all clients. */
const MAX_FOLDED_PER_WINDOW = 600;

interface StoredEvent {
  readonly id: Types.ObjectId;
  /**
   * The last write to the document: its creation, then each count update. Updates chain on it,
   * so none updates a missing document, and none runs beside another: FerretDB applies `$inc` as
   * read-then-write, and a timed flush racing a final one lost one of the two counts.
   */
  written: Promise<unknown>;
}

/** Fields that differ between repeats of one event and so do not tell repeats apart. */
const VOLATILE_DETAILS = new Set(['retryAfterMs', 'lockedForMs']);

/**
 * Every security event becomes a JSON log line and a document in audit_events (kept for
 * AUDIT_RETENTION, see prune), stamped with the request id and client address. Events a client
 * can repeat at will are folded per client and window (repeat-aggregator.ts). Writes never
 * block or fail the request: a database outage costs the stored copy, not the log line.
 */
export function createAuditService(deps: {
  events: AuditEventModel;
  /** The audit logs (audit-logs.ts): the order pages and the sweep walk, by _id alone. */
  logs: SequenceLogs;
  logger: Logger;
  requests: RequestInfoStore;
  metrics: Metrics;
  retentionSeconds: number;
  /** Users whose erasure began: events naming them are stored under their pseudonym. */
  erased: ErasedUsers;
}): AuditService {
  const { events, logs, logger, requests, metrics, retentionSeconds, erased } = deps;
  const pending = new Set<Promise<unknown>>();
  const repeats = new RepeatAggregator<StoredEvent>(
    REPEAT_WINDOW_MS,
    MAX_OPEN_REPEATS,
    MAX_FOLDED_PER_WINDOW,
  );
  let flushTimer: NodeJS.Timeout | undefined;

  const track = (write: Promise<unknown>, event: string) => {
    const settled = write.catch((error: Error) => {
      logger.warn(
        { err: { message: error.message }, securityEvent: event },
        'audit event not stored',
      );
    });
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
    return settled;
  };

  function writeRepeats(due: Repeat<StoredEvent>[]) {
    for (const { handle, pending: count, lastAt } of due) {
      logger.warn({ repeats: count, eventId: String(handle.id) }, 'security event repeated');
      handle.written = track(
        handle.written.then(() =>
          events.updateOne({ _id: handle.id }, { $inc: { count }, $set: { lastAt } }),
        ),
        'repeat',
      );
    }
  }

  function scheduleRepeatFlush() {
    flushTimer ??= setTimeout(() => {
      flushTimer = undefined;
      writeRepeats(repeats.drain(Date.now()));
      if (repeats.size > 0) scheduleRepeatFlush();
    }, REPEAT_FLUSH_MS).unref();
  }

  /** The entry as it may be stored: under the pseudonym if its user has been erased. */
  async function storable<T extends { userId?: string; details: Record<string, string | number> }>(
    entry: T,
  ): Promise<T> {
    const alias = entry.userId === undefined ? undefined : await erased.aliasOf(entry.userId);
    if (alias === undefined || entry.userId === undefined) return entry;
    return { ...entry, userId: alias, details: detailsNaming(entry.details, entry.userId, alias) };
  }

  const service: AuditService = {
    record(event, fields = {}) {
      const request = requests.current();
      const { userId, clientIp, ...details } = fields;
      const entry = {
        _id: new Types.ObjectId(),
        type: event,
        at: new Date(),
        userId: userId === undefined ? undefined : String(userId),
        clientIp: clientIp === undefined ? request?.clientIp : String(clientIp),
        requestId: request?.requestId,
        details: Object.fromEntries(
          Object.entries(details).filter(
            (pair): pair is [string, string | number] => pair[1] !== undefined,
          ),
        ),
      };
      const outcome = LOGIN_OUTCOMES[event];
      if (outcome) metrics.logins.inc({ outcome });
      if (event === 'rate_limit.hit') metrics.rateLimitHits.inc({ rule: String(fields.rule) });
      if (event === 'login.refused_while_locked') metrics.rateLimitHits.inc({ rule: 'lockout' });

      let repeatKey = REPEATABLE_EVENTS.has(event)
        ? [
            event,
            request?.clientKey ?? entry.clientIp,
            entry.userId,
            JSON.stringify(
              Object.entries(entry.details).filter(([name]) => !VOLATILE_DETAILS.has(name)),
            ),
          ].join('\n')
        : undefined;
      if (repeatKey !== undefined && !repeats.canStart(entry.at)) {
        // Too many clients at once: one event of this kind stands for all of them this minute.
        repeatKey = `${event}\n*`;
        Object.assign(entry, {
          userId: undefined,
          clientIp: undefined,
          requestId: undefined,
          details: { clients: 'many' },
        });
      }
      if (repeatKey !== undefined && repeats.repeat(repeatKey, entry.at)) {
        scheduleRepeatFlush();
        return;
      }
      logger.warn(
        { securityEvent: event, ...fields, clientIp: entry.clientIp },
        `security event: ${event}`,
      );
      const stored = track(
        storable(entry).then((kept) =>
          appendToLogs(logs, String(kept._id), kept).then((seqs) =>
            events.create({ ...kept, seqs }),
          ),
        ),
        event,
      );
      if (repeatKey !== undefined) {
        writeRepeats(repeats.start(repeatKey, { id: entry._id, written: stored }, entry.at));
      }
    },

    async list({ first, after, type, userId, budget = requestScanBudget() }) {
      if (!Number.isInteger(first) || first < 1 || first > MAX_AUDIT_PAGE) {
        throw badUserInput('first', `first must be between 1 and ${MAX_AUDIT_PAGE}`);
      }
      const listing = { type, userId };
      const role = roleOf(listing);
      // The cursor names its log: one from another listing is refused, not read in this one.
      const cursor = { kind: 'audit', log: logName(role, listing) };
      const from = after === undefined ? undefined : decodeCursor(cursor, after);
      if (after !== undefined && from === undefined) {
        throw badUserInput('after', 'after must be an endCursor or cursor of this listing');
      }
      // Every entry of the log is an event of this listing, so the scan budget is spent only on
      // entries whose event was never written; swept ones are below the tail, where walks end.
      const walk = await logs.walk(
        cursor.log,
        { first, from, newestFirst: true, budget },
        async ({ ref, seq }) => {
          const doc = await events.findById(ref).lean();
          return doc && doc.seqs?.[role] === seq ? { keep: toAuditEvent(doc) } : 'skip';
        },
      );
      return pageOf(cursor, walk);
    },

    async flush() {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      writeRepeats(repeats.drain(Date.now(), true));
      await Promise.all(pending);
    },

    async forgetUser(userId) {
      const alias = await erased.mark(userId);
      await service.flush();
      await pseudonymizeUserEvents({ events, logs }, userId, alias);
      return alias;
    },

    async prune({ maxBatches = Infinity } = {}) {
      const cutoff = Date.now() - retentionSeconds * 1000;
      let deleted = 0;
      for (let batch = 0; batch < maxBatches; batch += 1) {
        const entries = await logs.oldest('all', PRUNE_BATCH);
        const found = await Promise.all(
          entries.map(({ ref }) => events.findById(ref).select('type userId at seqs').lean()),
        );
        // Logs are in the order events happened: the first one still kept ends the sweep. An
        // entry whose event is missing was a failed write, unless the event is so recent that
        // its write may still be under way (an event's id tells when it was made); one whose
        // event names another entry is a duplicate. Either kind is trimmed, and the sweep goes on.
        let due = 0;
        for (; due < entries.length; due += 1) {
          const doc = found[due];
          const entry = entries[due] as LogEntry;
          if (!doc) {
            if (madeAt(entry.ref) > Date.now() - IN_FLIGHT_MS) break;
          } else if (doc.seqs?.all === entry.seq && doc.at.getTime() >= cutoff) break;
        }
        const dueEvents = found
          .slice(0, due)
          .flatMap((doc, i) => (doc && doc.seqs?.all === entries[i]?.seq ? [doc] : []));
        // Point operations, many at once: none holds the database for long, and together they
        // wait on round trips rather than on each other.
        await Promise.all(
          [...entriesOutsideAll(dueEvents)].map(([name, logEntries]) =>
            logs.trim(name, logEntries),
          ),
        );
        await Promise.all(dueEvents.map((doc) => events.deleteOne({ _id: doc._id })));
        await logs.trim('all', entries.slice(0, due));
        deleted += dueEvents.length;
        if (due < PRUNE_BATCH) break;
      }
      return deleted;
    },
  };
  return service;
}
