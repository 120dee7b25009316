import { Types, isValidObjectId } from 'mongoose';
import { badUserInput } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { RequestScope } from '../../lib/request-scope.js';
import type { AuditLog, SecurityEvent } from '../../lib/security-events.js';
import { toAuditEvent, type AuditEvent, type AuditEventModel } from './audit.model.js';
import { REPEATABLE_EVENTS, RepeatAggregator, type Repeat } from './repeat-aggregator.js';

export const MAX_AUDIT_PAGE = 200;

export interface AuditService extends AuditLog {
  list(options: {
    first: number;
    after?: string;
    type?: string;
    userId?: string;
  }): Promise<AuditEvent[]>;
  /** Resolves once every write started so far has finished (tests, shutdown). */
  flush(): Promise<void>;
  /** Deletes events older than the retention period; returns how many. */
  prune(): Promise<number>;
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
  /** Resolves once the first document is stored, so counts never update a missing one. */
  readonly stored: Promise<unknown>;
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
  logger: Logger;
  scope: RequestScope;
  metrics: Metrics;
  retentionSeconds: number;
}): AuditService {
  const { events, logger, scope, metrics, retentionSeconds } = deps;
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
      track(
        handle.stored.then(() =>
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

  return {
    record(event, fields = {}) {
      const request = scope.current();
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
      const stored = track(events.create(entry), event);
      if (repeatKey !== undefined) {
        writeRepeats(repeats.start(repeatKey, { id: entry._id, stored }, entry.at));
      }
    },

    async list({ first, after, type, userId }) {
      if (!Number.isInteger(first) || first < 1 || first > MAX_AUDIT_PAGE) {
        throw badUserInput('first', `first must be between 1 and ${MAX_AUDIT_PAGE}`);
      }
      if (after !== undefined && !isValidObjectId(after)) {
        throw badUserInput('after', 'after must be an audit event id');
      }
      const filter: Record<string, unknown> = {};
      if (after !== undefined) filter._id = { $lt: after };
      if (type !== undefined) filter.type = type;
      if (userId !== undefined) filter.userId = userId;
      const found = await events.find(filter).sort({ _id: -1 }).limit(first).lean();
      return found.map(toAuditEvent);
    },

    async flush() {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      writeRepeats(repeats.drain(Date.now(), true));
      await Promise.all(pending);
    },

    async prune() {
      const cutoff = new Date(Date.now() - retentionSeconds * 1000);
      const { deletedCount } = await events.deleteMany({ at: { $lt: cutoff } });
      return deletedCount;
    },
  };
}
