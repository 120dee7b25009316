import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { SequenceLogs } from '../../db/sequence-log.js';
import type { Sealer } from '../../lib/data-encryption.js';
import type { Logger } from '../../lib/logger.js';
import {
  createDelivery,
  DEFAULT_RETRY,
  type DeliveryReport,
  type RetryPolicy,
} from './delivery.js';
import { createDeliveryRecords } from './delivery-records.js';
import type { Mailer, MailMessage } from './mail.js';
import type { MailModels } from './outbox.model.js';
import { createOutboxQueue } from './outbox-queue.js';
import { renderMail } from './templates.js';
import type { MailTransport } from './transport.js';

/** The mailer the app holds: the flows' Mailer, plus the worker's controls. */
export interface MailService extends Mailer {
  /** Runs the worker once over what is due; resolves with what it did. */
  deliverDue(): Promise<DeliveryReport>;
  /** Resolves once no delivery pass is running (the one a nudge started, say). */
  settled(): Promise<void>;
  /** Polls for due messages (retries, other replicas' mail) until close(). */
  start(): void;
  /** Removes finished messages' records older than the retention; returns how many. */
  prune(options?: { maxBatches?: number }): Promise<number>;
  /** Stops polling and nudges, waits for the pass under way, closes the transport. */
  close(): Promise<void>;
}

const POLL_MS = 15_000;
/** Marks a token stored sealed (a token itself is base64url: it never starts like this). */
const SEALED = 'sealed:';
/** How long the record of a sent or failed message (no body, no recipient) is kept. */
const RECORD_RETENTION_MS = 30 * 86_400_000;

export function createMailer(deps: {
  models: MailModels;
  transport: MailTransport;
  logger: Logger;
  publicUrl: string;
  /** EMAIL_FLOWS: off, messages are dropped rather than stored. */
  enabled: boolean;
  /**
   * Seals a link's token while its message waits in the outbox (DATA_ENCRYPTION_KEY): whoever
   * reads the database during an SMTP outage must not be able to reset passwords. Absent only in
   * production with TOTP off and no key, where the token waits in clear until it is sent.
   */
  sealer?: Pick<Sealer, 'seal' | 'open'>;
  now?: () => Date;
  retry?: Partial<RetryPolicy>;
}): MailService {
  const { models, transport, logger, sealer } = deps;
  const sealed = (message: MailMessage): MailMessage =>
    sealer && 'token' in message
      ? { ...message, token: `${SEALED}${sealer.seal(message.token, `mail:${message.to}`)}` }
      : { ...message };
  const unsealed = (message: MailMessage): MailMessage =>
    sealer && 'token' in message && message.token.startsWith(SEALED)
      ? { ...message, token: sealer.open(message.token.slice(SEALED.length), `mail:${message.to}`) }
      : message;
  const now = deps.now ?? (() => new Date());
  const logs = new SequenceLogs(models.logs);
  const queue = createOutboxQueue(models, logs);
  const records = createDeliveryRecords(models, logs);
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const delivery = createDelivery({
    models,
    queue,
    records,
    transport,
    logger,
    now,
    policy: { ...DEFAULT_RETRY, ...deps.retry },
    render: (message) => renderMail(unsealed(message), deps.publicUrl),
    stopped: () => closed,
  });

  /**
   * Passes run in the context the mailer was made in, not in that of the request whose mail
   * started them: they deliver every request's mail, and would log it all under that request's id.
   */
  const deliveryPasses = AsyncResource.bind(async () => {
    do {
      again = false;
      await delivery.deliverDue().catch((error: Error) => {
        logger.warn({ err: { message: error.message } }, 'mail delivery pass failed');
      });
    } while (again && !closed);
  });

  /** Delivery after the response, never on it: one pass at a time, another if nudged meanwhile. */
  const nudge = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = deliveryPasses().finally(() => {
      running = undefined;
    });
  };

  return {
    async enqueue(message: MailMessage) {
      if (!deps.enabled) {
        logger.debug({ kind: message.kind }, 'EMAIL_FLOWS is off: mail not sent');
        return;
      }
      const at = now();
      await queue.enqueue({
        _id: randomUUID(),
        kind: message.kind,
        message: sealed(message),
        attempts: 0,
        dueAt: at,
        createdAt: at,
      });
      nudge();
    },
    deliverDue: () => delivery.deliverDue(),
    async settled() {
      while (running) await running;
    },
    start() {
      if (closed || timer) return;
      timer = setInterval(nudge, POLL_MS).unref();
      nudge();
    },
    prune(options) {
      return records.prune(new Date(now().getTime() - RECORD_RETENTION_MS), options);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      transport.close();
    },
  };
}
