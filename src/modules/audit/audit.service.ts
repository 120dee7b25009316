import { isValidObjectId } from 'mongoose';
import { badUserInput } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { RequestScope } from '../../lib/request-scope.js';
import type { AuditLog, SecurityEvent } from '../../lib/security-events.js';
import { toAuditEvent, type AuditEvent, type AuditEventModel } from './audit.model.js';

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

/**
 * Every security event becomes a JSON log line and a document in audit_events (kept for
 * AUDIT_RETENTION, see prune), stamped with the request id and client address. Writes never
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

  return {
    record(event, fields = {}) {
      const request = scope.current();
      const { userId, clientIp, ...details } = fields;
      const entry = {
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
      logger.warn(
        { securityEvent: event, ...fields, clientIp: entry.clientIp },
        `security event: ${event}`,
      );
      const outcome = LOGIN_OUTCOMES[event];
      if (outcome) metrics.logins.inc({ outcome });
      if (event === 'rate_limit.hit') metrics.rateLimitHits.inc({ rule: String(fields.rule) });
      if (event === 'login.refused_while_locked') metrics.rateLimitHits.inc({ rule: 'lockout' });
      const write = events.create(entry).catch((error: Error) => {
        logger.warn(
          { err: { message: error.message }, securityEvent: event },
          'audit event not stored',
        );
      });
      pending.add(write);
      void write.finally(() => pending.delete(write));
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
      await Promise.all(pending);
    },

    async prune() {
      const cutoff = new Date(Date.now() - retentionSeconds * 1000);
      const { deletedCount } = await events.deleteMany({ at: { $lt: cutoff } });
      return deletedCount;
    },
  };
}
