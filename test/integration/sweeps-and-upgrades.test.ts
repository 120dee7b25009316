import { describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import { SequenceLogs, createSequenceLogModel } from '../../src/db/sequence-log.js';
import { appendToLogs } from '../../src/modules/audit/audit-logs.js';
import { SESSION_LOG } from '../../src/modules/session/session-sweep.js';
import { USERS_LOG } from '../../src/modules/user/user.model.js';
import { freshDatabaseUri } from '../helpers/database.js';
import {
  LOGIN,
  SIGN_UP,
  bearer,
  errorCode,
  nodesOf,
  uniqueEmail,
  type Connection,
} from '../helpers/operations.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';

const start = serversClosedAfterAll();
const DAY = 86_400_000;
const PASSWORD = 'correct horse battery';

const logsOf = (server: TestServer, collection: string) =>
  new SequenceLogs(
    (server.connection.models[`SequenceLog:${collection}`] as never) ??
      createSequenceLogModel(server.connection, collection),
  );

async function adminOf(server: TestServer) {
  const email = uniqueEmail('admin');
  await server.app.services.users.ensureBootstrapAdmin(email, PASSWORD);
  const login = await server.graphql(LOGIN, { email, password: PASSWORD });
  return bearer((login.body.data?.login as { accessToken: string }).accessToken);
}

describe('the audit retention sweep', () => {
  it('trims entries whose events were never written, however many, and goes on', async () => {
    const server = await start({ label: 'orphan_entries' });
    await server.app.services.audit.flush();
    await server.connection.collection('audit_events').deleteMany({});
    await server.connection.collection('audit_logs').deleteMany({});
    const logs = logsOf(server, 'audit_logs');
    const longAgo = Math.floor((Date.now() - 400 * DAY) / 1000);
    // A burst whose event writes all failed, long ago: 150 entries, more than a batch.
    for (let i = 0; i < 150; i += 1) {
      const ref = String(Types.ObjectId.createFromTime(longAgo));
      await appendToLogs(logs, ref, { type: 'login.failed' });
    }
    const events = server.connection.model('AuditEvent');
    for (let i = 0; i < 50; i += 1) {
      const _id = new Types.ObjectId();
      const event = { type: 'login.failed', at: new Date(Date.now() - 400 * DAY) };
      const seqs = await appendToLogs(logs, String(_id), event);
      await events.create({ _id, ...event, details: {}, seqs });
    }
    expect(await server.app.services.audit.prune()).toBe(50);
    expect(await events.countDocuments({})).toBe(0);
  });

  it('waits for an entry whose event may still be being written', async () => {
    const server = await start({ label: 'in_flight_entry' });
    await server.app.services.audit.flush();
    await server.connection.collection('audit_events').deleteMany({});
    await server.connection.collection('audit_logs').deleteMany({});
    const logs = logsOf(server, 'audit_logs');
    await appendToLogs(logs, String(new Types.ObjectId()), { type: 'login.failed' });
    expect(await server.app.services.audit.prune()).toBe(0);
    expect(await logs.oldest('all', 10)).toHaveLength(1);
  });
});

describe('audit events from before the audit logs', () => {
  it('are listed and swept after the upgrade', async () => {
    const uri = freshDatabaseUri('audit_upgrade');
    const before = await start({ databaseUri: uri });
    const events = before.connection.collection('audit_events');
    const legacy = [
      { _id: new Types.ObjectId(), type: 'login.failed', at: new Date(Date.now() - 400 * DAY) },
      { _id: new Types.ObjectId(), type: 'login.failed', at: new Date(Date.now() - DAY) },
    ];
    await events.insertMany(legacy.map((event) => ({ ...event, details: {}, count: 1 })));
    await before.connection.collection<{ _id: string }>('migrations').deleteOne({
      _id: 'audit_logs_backfill',
    });

    const after = await start({ databaseUri: uri });
    const admin = await adminOf(after);
    const listed = await after.graphql(
      'query { auditEvents(first: 200, type: "login.failed") { edges { node { id } } } }',
      {},
      admin,
    );
    const ids = nodesOf(listed.body.data?.auditEvents as Connection<{ id: string }>).map(
      (event) => event.id,
    );
    expect(ids).toEqual(expect.arrayContaining(legacy.map((event) => String(event._id))));
    expect(await after.app.services.audit.prune()).toBe(1);
    expect(await events.countDocuments({ _id: legacy[0]!._id })).toBe(0);
    expect(await events.countDocuments({ _id: legacy[1]!._id })).toBe(1);
  });
});

describe('the session sweep', () => {
  it('goes on when the entry at its tail is gone', async () => {
    const server = await start({ label: 'session_tail' });
    const { sessions } = server.app.services;
    const userId = String(new Types.ObjectId());
    const meta = { userAgent: 'test', ip: '127.0.0.1' };
    for (let i = 0; i < 5; i += 1) await sessions.start(userId, meta, 0);
    const logs = logsOf(server, 'session_logs');
    const [oldest] = await logs.oldest(SESSION_LOG, 1);
    // As if a sweep had trimmed it and its tail raise were lost.
    await server.connection.collection('session_logs').deleteOne({
      _id: `${SESSION_LOG}#${oldest!.seq}` as never,
    });
    await server.connection
      .collection('sessions')
      .updateMany({}, { $set: { expiresAt: new Date(Date.now() - DAY) } });
    const swept = await sessions.prune();
    expect(swept.sessions).toBe(4);
    expect(await server.connection.collection('sessions').countDocuments({})).toBe(1);
  });
});

describe('sign-up with a registered email', () => {
  it('costs nothing but the refusal, however old the registration', async () => {
    const server = await start({ label: 'registered_claim' });
    const email = uniqueEmail('registered');
    await server.graphql(SIGN_UP, { email, password: PASSWORD });
    // Older than the abandoned-claim grace period.
    await server.connection
      .collection<{ _id: string }>('user_emails')
      .updateOne({ _id: email }, { $set: { createdAt: new Date(Date.now() - DAY) } });
    const usersLog = server.connection.collection('user_logs');
    const entries = await usersLog.countDocuments({ _id: { $regex: `^${USERS_LOG}#` } as never });
    for (let i = 0; i < 5; i += 1) {
      const response = await server.graphql(SIGN_UP, { email, password: 'another password' });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
    }
    expect(await usersLog.countDocuments({ _id: { $regex: `^${USERS_LOG}#` } as never })).toBe(
      entries,
    );
    const login = await server.graphql(LOGIN, { email, password: PASSWORD });
    expect(login.body.data?.login).toBeTruthy();
  });
});
