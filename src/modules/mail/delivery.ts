import { isDuplicateKeyError } from '../../db/mongo.js';
import type { Logger } from '../../lib/logger.js';
import type { MailMessage } from './mail.js';
import type { DeliveryRecords } from './delivery-records.js';
import type { MailModels, OutboxDocument } from './outbox.model.js';
import type { OutboxQueue } from './outbox-queue.js';
import type { RenderedMail } from './templates.js';
import type { MailTransport } from './transport.js';

export interface RetryPolicy {
  /** Wait after the first failure; it doubles with each further one, up to capMs. */
  readonly baseMs: number;
  readonly capMs: number;
  /** After this many failed attempts the message is given up (marked failed). */
  readonly maxAttempts: number;
  /**
   * A claimed attempt not finished within this long was abandoned (its process died): another
   * worker may make the next one. Well above the SMTP timeouts (transport.ts).
   */
  readonly leaseMs: number;
}

/** 30 s, 1 min, 2 min ... 1 h: ten attempts span about four hours of a mail server outage. */
export const DEFAULT_RETRY: RetryPolicy = {
  baseMs: 30_000,
  capMs: 3_600_000,
  maxAttempts: 10,
  leaseMs: 300_000,
};

export const backoffMs = (failedAttempts: number, policy: RetryPolicy) =>
  Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failedAttempts - 1));

export interface DeliveryReport {
  sent: number;
  retried: number;
  failed: number;
}

/** Messages one pass sends at most, one at a time: the rest wait for the next poll. */
const BATCH = 50;
const claimId = (id: string, attempt: number) => `${id}:${attempt}`;
const domainOf = (to: string) => to.slice(to.lastIndexOf('@') + 1).toLowerCase();
/**
 * What a mail server or the network said, bounded. The message is never part of it; addresses a
 * server echoes ("550 <bob@example.com>: no such user") are masked, as the records keep none.
 */
const describe = (error: unknown) =>
  (error instanceof Error ? error.message : String(error))
    .replace(/[^\s<>()[\]"',;:@]+@[^\s<>()[\]"',;:@]+/g, '<address>')
    .slice(0, 300);

/**
 * One pass over the due messages the outbox queue finds (see outbox-queue.ts). Each attempt is
 * claimed first (a unique insert, see ClaimDocument), so however many workers run, a message is
 * sent at most once per attempt and never again after it was sent.
 */
export function createDelivery(deps: {
  models: MailModels;
  queue: OutboxQueue;
  records: DeliveryRecords;
  transport: MailTransport;
  render: (message: MailMessage) => RenderedMail;
  logger: Logger;
  now: () => Date;
  policy: RetryPolicy;
  /** True once the mailer closes: the pass ends after the message in hand. */
  stopped?: () => boolean;
}) {
  const { models, queue, records, transport, logger, now, policy } = deps;

  /** The attempt this worker may make, or undefined while another worker is making one. */
  async function claim(doc: OutboxDocument): Promise<number | undefined> {
    for (let attempt = doc.attempts + 1; attempt <= policy.maxAttempts + 1; attempt++) {
      try {
        await models.claims.create({ _id: claimId(doc._id, attempt), at: now() });
        return attempt;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const held = await models.claims.findById(claimId(doc._id, attempt)).lean();
        if (held && now().getTime() - held.at.getTime() < policy.leaseMs) return undefined;
        // Abandoned (or finished and since retried): count it and try the next attempt.
      }
    }
    return undefined;
  }

  async function finish(
    doc: OutboxDocument,
    outcome: { status: 'sent' | 'failed'; attempts: number; messageId?: string; error?: string },
  ) {
    await records.write({
      _id: doc._id,
      kind: doc.kind,
      status: outcome.status,
      attempts: outcome.attempts,
      createdAt: doc.createdAt,
      finishedAt: now(),
      toDomain: domainOf(doc.message.to),
      ...(outcome.messageId ? { messageId: outcome.messageId } : {}),
      ...(outcome.error ? { lastError: outcome.error } : {}),
    });
    // The token-bearing message goes; claims after the document, so a stale claim finds it gone.
    await models.outbox.deleteOne({ _id: doc._id });
    // One point delete per attempt: the embedded FerretDB scans for an `_id: {$in}` filter.
    const attempts = Array.from({ length: policy.maxAttempts + 1 }, (_, i) =>
      claimId(doc._id, i + 1),
    );
    await Promise.all(attempts.map((_id) => models.claims.deleteOne({ _id })));
  }

  async function deliverOne(due: OutboxDocument): Promise<keyof DeliveryReport | undefined> {
    const attempt = await claim(due);
    if (attempt === undefined) return undefined;
    // Read again under the claim: another worker may have sent it, or retried and postponed it.
    const doc = await models.outbox.findById(due._id).lean();
    if (!doc || doc.attempts >= attempt || doc.dueAt > now()) {
      await models.claims.deleteOne({ _id: claimId(due._id, attempt) });
      return undefined;
    }
    const give = async (error: string | undefined, attempts: number) => {
      await finish(doc, { status: 'failed', attempts, error });
      logger.warn({ mailId: doc._id, kind: doc.kind, attempts, error }, 'mail delivery given up');
      return 'failed' as const;
    };
    if (attempt > policy.maxAttempts) return give(doc.lastError, attempt - 1);
    try {
      const { messageId } = await transport.send(deps.render(doc.message));
      await finish(doc, { status: 'sent', attempts: attempt, messageId });
      logger.info({ mailId: doc._id, kind: doc.kind, attempts: attempt }, 'mail sent');
      return 'sent';
    } catch (sendError) {
      const error = describe(sendError);
      if (attempt >= policy.maxAttempts) return give(error, attempt);
      const dueAt = new Date(now().getTime() + backoffMs(attempt, policy));
      await models.outbox.updateOne(
        { _id: doc._id },
        { $set: { attempts: attempt, dueAt, lastError: error } },
      );
      logger.info(
        { mailId: doc._id, kind: doc.kind, attempts: attempt, dueAt, error },
        'mail delivery will be retried',
      );
      return 'retried';
    }
  }

  return {
    /** Sends what is due now, one message at a time; tests call it to run the worker once. */
    async deliverDue(): Promise<DeliveryReport> {
      const report: DeliveryReport = { sent: 0, retried: 0, failed: 0 };
      const pass = await queue.pass();
      const at = now();
      // By id: a message appended twice (an append retried after it landed) is sent once anyway,
      // by its claims, but need not be tried twice in one pass.
      const due = [
        ...new Map(
          pass.visits.flatMap(({ doc }) => (doc && doc.dueAt <= at ? [[doc._id, doc]] : [])),
        ).values(),
      ].slice(0, BATCH);
      const finished = new Set<string>();
      for (const doc of due) {
        if (deps.stopped?.()) break;
        const outcome = await deliverOne(doc);
        if (outcome) report[outcome]++;
        if (outcome === 'sent' || outcome === 'failed') finished.add(doc._id);
      }
      await pass.advance(finished);
      return report;
    },
  };
}
