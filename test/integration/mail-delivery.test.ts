import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/db/mongo.js';
import { createLogger } from '../../src/lib/logger.js';
import { createMailer, type MailService } from '../../src/modules/mail/mailer.js';
import { createMailModels, type MailModels } from '../../src/modules/mail/outbox.model.js';
import { createSmtpTransport } from '../../src/modules/mail/transport.js';
import type { RetryPolicy } from '../../src/modules/mail/delivery.js';
import { WINDOW } from '../../src/modules/mail/outbox-queue.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { captureCalls } from '../helpers/query-plans.js';
import { startSmtpServer, unusedPort, type TestSmtpServer } from '../helpers/smtp.js';

/**
 * The outbox worker against a real database and a real SMTP server, on a clock the test moves:
 * every replica here is a mailer on a connection of its own, as separate processes would be.
 */
const uri = freshDatabaseUri('mail_delivery');
const connections: Connection[] = [];
const mailers: MailService[] = [];
const smtpServers: TestSmtpServer[] = [];
let clock = new Date('2030-01-01T00:00:00Z').getTime();
const now = () => new Date(clock);
const advance = (ms: number) => (clock += ms);

afterAll(async () => {
  await Promise.all(mailers.map((mailer) => mailer.close()));
  await Promise.all(smtpServers.map((server) => server.close()));
  await Promise.all(connections.map((connection) => connection.close()));
});

async function replica(smtpUrl: string, retry: Partial<RetryPolicy> = {}) {
  const connection = await connectMongo(uri);
  connections.push(connection);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const models = createMailModels(connection);
  const mailer = createMailer({
    models,
    transport: createSmtpTransport(smtpUrl, 'Auth API <no-reply@example.test>'),
    logger: createLogger('debug', sink),
    publicUrl: 'https://auth.example.test',
    enabled: true,
    now,
    retry,
  });
  mailers.push(mailer);
  return { mailer, models, logs, connection };
}

async function smtpOn(port = 0, options?: Parameters<typeof startSmtpServer>[1]) {
  const server = await startSmtpServer(port, options);
  smtpServers.push(server);
  return server;
}

const reset = (to: string, token: string) => ({ kind: 'password-reset' as const, to, token });

async function clear(models: MailModels) {
  await Promise.all([
    models.outbox.deleteMany({}),
    models.claims.deleteMany({}),
    models.deliveries.deleteMany({}),
  ]);
}

describe('mail delivery', () => {
  let down: Awaited<ReturnType<typeof replica>>;
  let port: number;

  beforeAll(async () => {
    port = await unusedPort();
    down = await replica(`smtp://127.0.0.1:${port}`);
  });

  it('queues at once while the mail server is down, keeps the message with backoff, and sends it once when the server is back', async () => {
    const { mailer, models } = down;
    const started = Date.now();
    await mailer.enqueue(reset('ada@example.test', 'outage-token'));
    expect(Date.now() - started).toBeLessThan(1000);
    await mailer.settled(); // the attempt the enqueue nudged, which failed

    let [pending] = await models.outbox.find().lean();
    expect(pending).toMatchObject({ kind: 'password-reset', attempts: 1 });
    expect(pending?.dueAt.getTime()).toBe(clock + 30_000);
    expect(pending?.lastError).toMatch(/ECONNREFUSED/);

    // Not due yet: nothing happens; due: the second failure doubles the wait.
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 0 });
    advance(30_000);
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 1, failed: 0 });
    [pending] = await models.outbox.find().lean();
    expect(pending).toMatchObject({ attempts: 2 });
    expect(pending?.dueAt.getTime()).toBe(clock + 60_000);

    const smtp = await smtpOn(port);
    advance(60_000);
    expect(await mailer.deliverDue()).toEqual({ sent: 1, retried: 0, failed: 0 });
    advance(3_600_000);
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]?.parsed.text).toContain('token=outage-token');

    // Sent: the token-bearing message is gone; what ops need stays.
    expect(await models.outbox.countDocuments()).toBe(0);
    expect(await models.claims.countDocuments()).toBe(0);
    const [record] = await models.deliveries.find().lean();
    expect(record).toMatchObject({ status: 'sent', attempts: 3, toDomain: 'example.test' });
    expect(JSON.stringify(record)).not.toMatch(/outage-token|ada@/);
    await smtp.close();
    await clear(models);
  });

  it('gives a message up after the last attempt, logging a warning without its token', async () => {
    const { mailer, models, logs } = await replica(`smtp://127.0.0.1:${await unusedPort()}`, {
      maxAttempts: 3,
      baseMs: 1000,
      capMs: 1500,
    });
    await mailer.enqueue(reset('bob@example.test', 'doomed-token'));
    await mailer.settled();
    advance(1000);
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 1, failed: 0 });
    advance(1500);
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 1 });
    expect(await models.outbox.countDocuments()).toBe(0);
    const [record] = await models.deliveries.find().lean();
    expect(record).toMatchObject({ status: 'failed', attempts: 3, toDomain: 'example.test' });
    expect(record?.lastError).toMatch(/ECONNREFUSED/);
    const warning = logs.map((line) => JSON.parse(line)).find((line) => line.level === 40);
    expect(warning).toMatchObject({ msg: 'mail delivery given up', kind: 'password-reset' });
    expect(logs.join('\n')).not.toMatch(/doomed-token|bob@/);
    await clear(models);
  });

  it('retries a message the server refused, keeping its reason without the address', async () => {
    const smtp = await smtpOn(0, { rejectRecipient: (address) => address.startsWith('gone') });
    const { mailer, models, logs } = await replica(smtp.url);
    await mailer.enqueue(reset('gone@example.test', 'refused-token'));
    await mailer.settled();
    const [pending] = await models.outbox.find().lean();
    expect(pending).toMatchObject({ attempts: 1 });
    expect(pending?.lastError).toMatch(/550/);
    expect(pending?.lastError).toContain('<address>');
    expect(pending?.lastError).not.toContain('gone@');
    expect(logs.join('\n')).not.toMatch(/gone@|refused-token/);
    await clear(models);
  });

  it('leaves an attempt another worker holds alone, and takes over once that worker is gone', async () => {
    const smtp = await smtpOn();
    const { mailer, models } = await replica(smtp.url);
    await mailer.close(); // queue only: the test decides when the worker runs
    await mailer.enqueue(reset('cy@example.test', 'lease-token'));
    const [queued] = await models.outbox.find().lean();
    // A worker claimed the first attempt, then its process died.
    await models.claims.create({ _id: `${queued!._id}:1`, at: now() });
    const { mailer: survivor } = await replica(smtp.url);
    expect(await survivor.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 0 });
    advance(300_000);
    expect(await survivor.deliverDue()).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect(smtp.received).toHaveLength(1);
    expect(await models.deliveries.findById(queued!._id).lean()).toMatchObject({ attempts: 2 });
    await clear(models);
  });

  it('sends each message exactly once while several replicas race over the outbox', async () => {
    const smtp = await smtpOn();
    const replicas = await Promise.all([replica(smtp.url), replica(smtp.url), replica(smtp.url)]);
    // A replica whose worker is stopped still queues: the others deliver.
    const [queuer] = replicas;
    await queuer!.mailer.close();
    const count = 20;
    for (let i = 0; i < count; i++) {
      await queuer!.mailer.enqueue(reset(`user${i}@example.test`, `race-token-${i}`));
    }
    const reports = await Promise.all(
      replicas.slice(1).flatMap(({ mailer }) => [mailer.deliverDue(), mailer.deliverDue()]),
    );
    expect(reports.reduce((sum, report) => sum + report.sent, 0)).toBe(count);
    expect(smtp.received).toHaveLength(count);
    const recipients = smtp.received.map((mail) => mail.to[0]);
    expect(new Set(recipients).size).toBe(count);
    expect(await queuer!.models.outbox.countDocuments()).toBe(0);
    expect(await queuer!.models.deliveries.countDocuments({ status: 'sent' })).toBe(count);
    await clear(queuer!.models);
  });

  it('finds new mail past a backlog waiting on long retries, reading a bounded window per pass', async () => {
    const smtp = await smtpOn();
    const { mailer: queuer, models } = await replica(smtp.url);
    await queuer.close();
    const backlog = 2 * WINDOW + 50;
    for (let i = 0; i < backlog; i++) {
      await queuer.enqueue(reset(`waiting${i}@example.test`, `backlog-token-${i}`));
    }
    // Every one of them failed once and waits an hour for its retry.
    await models.outbox.updateMany(
      {},
      { $set: { attempts: 1, dueAt: new Date(clock + 3_600_000) } },
    );
    await queuer.enqueue(reset('next@example.test', 'next-token'));

    const { mailer: worker, connection } = await replica(smtp.url);
    let sent = 0;
    for (let pass = 0; pass < 3 && sent === 0; pass++) {
      const capture = captureCalls(connection);
      sent += (await worker.deliverDue()).sent;
      capture.stop();
      // Two windows of the log and their messages whatever the backlog, plus the one sent and
      // the trim of the finished entries earlier tests left at the tail.
      const on = (name: string) => capture.calls.filter((call) => call.collection === name);
      expect(on('mail_outbox').length).toBeLessThanOrEqual(2 * WINDOW + 5);
      expect(on('mail_logs').length).toBeLessThanOrEqual(3 * WINDOW + 20);
    }
    expect(sent).toBe(1);
    expect(smtp.received.map((mail) => mail.to[0])).toEqual(['next@example.test']);

    // The backlog finishes (sent by other workers, say) but for three, which fall due: those go
    // out, each once, and the log's tail moves past it all, a window per pass.
    const waiting = await models.outbox.find().lean();
    const keep = new Set(['waiting0@', 'waiting120@', `waiting${backlog - 1}@`]);
    for (const doc of waiting) {
      if (![...keep].some((to) => doc.message.to.startsWith(to))) {
        await models.outbox.deleteOne({ _id: doc._id });
      }
    }
    advance(3_600_000);
    for (let pass = 0; pass < 5; pass++) sent += (await worker.deliverDue()).sent;
    expect(sent).toBe(1 + keep.size);
    expect(smtp.received).toHaveLength(1 + keep.size);
    expect(await models.outbox.countDocuments()).toBe(0);
    expect(await models.logs.countDocuments({ _id: /^outbox#\d+$/ })).toBe(0);
    await clear(models);
  }, 120_000);

  it('prunes the records of messages finished more than 30 days ago, keeping newer ones', async () => {
    const smtp = await smtpOn();
    const { mailer, models } = await replica(smtp.url);
    await mailer.enqueue(reset('old1@example.test', 'old-token-1'));
    await mailer.enqueue(reset('old2@example.test', 'old-token-2'));
    await mailer.settled();
    advance(31 * 86_400_000);
    await mailer.enqueue(reset('new@example.test', 'new-token'));
    await mailer.settled();
    expect(await models.deliveries.countDocuments({ status: 'sent' })).toBe(3);
    expect(await mailer.prune()).toBe(2);
    const kept = await models.deliveries.find().lean();
    expect(kept).toHaveLength(1);
    expect(kept[0]?.finishedAt.getTime()).toBe(clock);
    expect(await mailer.prune()).toBe(0);
    await clear(models);
  });
});
