import { beforeAll, describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import {
  LOGIN,
  ME,
  SIGN_UP,
  bearer,
  errorCode,
  nodesOf,
  uniqueEmail,
  type Connection,
} from '../helpers/operations.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse battery';
const start = serversClosedAfterAll();
let server: TestServer;

beforeAll(async () => {
  server = await start({ label: 'user_emails' });
});

/** What the server asks of users and user_emails while `run` runs: collection, method, filter. */
async function databaseWork(run: () => Promise<unknown>) {
  const work: { collection: string; method: string; filter: unknown }[] = [];
  server.connection.set('debug', (collection: string, method: string, filter: unknown) => {
    if (collection === 'users' || collection === 'user_emails') {
      work.push({ collection, method, filter });
    }
  });
  try {
    await run();
  } finally {
    server.connection.set('debug', false);
  }
  return work;
}

interface EmailDocument {
  _id: string;
  userId: Types.ObjectId;
  createdAt: Date;
}

const emailDoc = (email: string) =>
  server.connection.collection<EmailDocument>('user_emails').findOne({ _id: email });

describe('login through user_emails', () => {
  it('writes the email document naming the user signed up', async () => {
    const email = uniqueEmail('claim');
    const response = await server.graphql(SIGN_UP, { email, password: PASSWORD });
    const { id } = (response.body.data?.signUp as { user: { id: string } }).user;
    expect(String((await emailDoc(email))?.userId)).toBe(id);
  });

  it('does the same database work for an unknown email as for a wrong password', async () => {
    const known = uniqueEmail('known');
    await server.graphql(SIGN_UP, { email: known, password: PASSWORD });
    const login = (email: string) => () => server.graphql(LOGIN, { email, password: 'wrong one' });
    const wrongPassword = await databaseWork(login(known));
    const unknownEmail = await databaseWork(login(uniqueEmail('unknown')));
    const shape = (work: typeof wrongPassword) =>
      work.map(({ collection, method, filter }) => [
        collection,
        method,
        Object.keys(filter as object),
      ]);
    expect(shape(unknownEmail)).toEqual(shape(wrongPassword));
    expect(shape(wrongPassword)).toEqual([
      ['user_emails', 'findOne', ['_id']],
      ['users', 'findOne', ['_id']],
    ]);
    // Both user lookups find a document (a miss is cheaper than a hit): the unknown email's is
    // the decoy account.
    const users = server.connection.collection('users');
    for (const work of [wrongPassword, unknownEmail]) {
      const { _id } = work[1]!.filter as { _id: Types.ObjectId };
      expect(await users.findOne({ _id: new Types.ObjectId(String(_id)) })).not.toBeNull();
    }
  });

  it('never lets the decoy account in, nor lists it', async () => {
    const users = server.connection.collection('users');
    const decoy = await users.findOne({ _id: new Types.ObjectId('000000000000000000000000') });
    expect(decoy).toMatchObject({ disabled: true });
    const login = await server.graphql(LOGIN, { email: decoy!.email, password: PASSWORD });
    expect(errorCode(login)).toBe('UNAUTHENTICATED');
    expect(await users.countDocuments({ _id: decoy!._id, seq: { $exists: true } })).toBe(0);
  });

  it('looks users up by _id alone in sign-up, login and the revocation check', async () => {
    const email = uniqueEmail('by-id');
    const work = await databaseWork(async () => {
      await server.graphql(SIGN_UP, { email, password: PASSWORD });
      const login = await server.graphql(LOGIN, { email, password: PASSWORD });
      const { accessToken } = login.body.data?.login as { accessToken: string };
      expect((await server.graphql(ME, {}, bearer(accessToken))).body.errors).toBeUndefined();
    });
    const lookups = work.filter(({ method }) => !method.startsWith('insert'));
    expect(lookups.length).toBeGreaterThan(0);
    for (const { filter } of lookups) {
      // Exactly {_id: value}: the one filter the embedded FerretDB answers from its index.
      expect(Object.keys(filter as object)).toEqual(['_id']);
      const id: unknown = (filter as { _id: unknown })._id;
      expect(typeof id === 'string' || id instanceof Types.ObjectId).toBe(true);
    }
  });
});

describe('a sign-up that failed half-way', () => {
  const orphanClaim = async (email: string, ageMs: number) => {
    const userId = new Types.ObjectId();
    await server.connection
      .collection<EmailDocument>('user_emails')
      .insertOne({ _id: email, userId, createdAt: new Date(Date.now() - ageMs) });
    return String(userId);
  };

  it('leaves a claim that login treats as an unknown email', async () => {
    const email = uniqueEmail('orphan');
    await orphanClaim(email, 0);
    expect(errorCode(await server.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('refuses a sign-up while the claim may still be written', async () => {
    const email = uniqueEmail('fresh-claim');
    await orphanClaim(email, 1000);
    const response = await server.graphql(SIGN_UP, { email, password: PASSWORD });
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('email');
  });

  it('lets the next sign-up complete an abandoned claim, exactly once', async () => {
    const email = uniqueEmail('abandoned');
    const claimedId = await orphanClaim(email, 61_000);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => server.graphql(SIGN_UP, { email, password: PASSWORD })),
    );
    const created = responses.flatMap((r) => (r.body.data?.signUp ? [r.body.data.signUp] : []));
    expect(created).toHaveLength(1);
    expect((created[0] as { user: { id: string } }).user.id).toBe(claimedId);
    expect(responses.filter((r) => errorCode(r) === 'BAD_USER_INPUT')).toHaveLength(4);
    const login = await server.graphql(LOGIN, { email, password: PASSWORD });
    expect((login.body.data?.login as { user: { id: string } }).user.id).toBe(claimedId);
  });

  it('lets the bootstrap admin complete an abandoned claim, never an existing account', async () => {
    const { users } = server.app.services;
    const [abandoned, taken] = [uniqueEmail('admin-claim'), uniqueEmail('admin-taken')];
    const claimedId = await orphanClaim(abandoned, 61_000);
    expect(await users.ensureBootstrapAdmin(abandoned, PASSWORD)).toBe('created');
    const admin = await server.connection
      .collection('users')
      .findOne({ _id: new Types.ObjectId(claimedId) });
    expect(admin?.roles).toEqual(['USER', 'ADMIN']);
    await server.graphql(SIGN_UP, { email: taken, password: PASSWORD });
    expect(await users.ensureBootstrapAdmin(taken, 'another password 1')).toBe('exists');
    expect((await server.graphql(LOGIN, { email: taken, password: PASSWORD })).body.errors).toBe(
      undefined,
    );
  });
});

describe('users from before user_emails', () => {
  it('can log in after the start-up backfill, which runs once and adds only what is missing', async () => {
    const uri = freshDatabaseUri('backfill');
    const before = await start({ databaseUri: uri });
    const [kept, legacy] = [uniqueEmail('kept'), uniqueEmail('legacy')];
    for (const email of [kept, legacy]) {
      await before.graphql(SIGN_UP, { email, password: PASSWORD });
    }
    const emails = before.connection.collection<EmailDocument>('user_emails');
    const migrations = before.connection.collection<{ _id: string }>('migrations');
    const canLogIn = async (on: TestServer, email: string) =>
      Boolean((await on.graphql(LOGIN, { email, password: PASSWORD })).body.data?.login);
    // As if `legacy` had signed up before user_emails existed.
    await emails.deleteOne({ _id: legacy });
    await migrations.deleteOne({ _id: 'user_emails_backfill' });
    expect(await canLogIn(before, legacy)).toBe(false);

    const after = await start({ databaseUri: uri });
    expect(await canLogIn(after, legacy)).toBe(true);
    expect(await canLogIn(after, kept)).toBe(true);
    expect(await emails.countDocuments()).toBe(2);
    const filledIn = after.logs.find((line) => line.includes('user_emails filled in'));
    expect(JSON.parse(filledIn ?? '{}')).toMatchObject({ added: 1 });

    // Done once: a later start does not walk the users again.
    await emails.deleteOne({ _id: legacy });
    await start({ databaseUri: uri });
    expect(await emails.findOne({ _id: legacy })).toBeNull();
  });
});

describe('the admin list of users', () => {
  const USERS_PAGE = `query($first: Int!, $after: String) {
    users(first: $first, after: $after) {
      edges { node { id email } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  type Listed = { id: string; email: string };

  it('pages through every user in sign-up order, one written before the users log included', async () => {
    const uri = freshDatabaseUri('users_log');
    const adminEmail = uniqueEmail('admin');
    const before = await start({ databaseUri: uri });
    await before.app.services.users.ensureBootstrapAdmin(adminEmail, PASSWORD);
    const signedUp = [uniqueEmail('first'), uniqueEmail('second'), uniqueEmail('third')];
    for (const email of signedUp) await before.graphql(SIGN_UP, { email, password: PASSWORD });
    // As if the first user had signed up before the users log existed.
    const users = before.connection.collection<{ email: string }>('users');
    await users.updateOne({ email: signedUp[0]! }, { $unset: { seq: '' } });
    await before.connection.collection<{ _id: string }>('migrations').deleteOne({
      _id: 'users_log_backfill',
    });

    const restarted = await start({ databaseUri: uri });
    const login = await restarted.graphql(LOGIN, { email: adminEmail, password: PASSWORD });
    if (!login.body.data) throw new Error(login.text);
    const admin = bearer((login.body.data?.login as { accessToken: string }).accessToken);
    const list = async (first: number, after?: string | null) =>
      (await restarted.graphql(USERS_PAGE, { first, after }, admin)).body.data
        ?.users as Connection<Listed>;
    const whole = nodesOf(await list(100));
    // The backfilled one comes after those already listed: the log is in the order it learned of them.
    expect(whole.map((user) => user.email)).toEqual([
      adminEmail,
      ...signedUp.slice(1),
      signedUp[0],
    ]);
    const paged: Listed[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const page: Connection<Listed> = await list(2, cursor);
      paged.push(...nodesOf(page));
      cursor = page.pageInfo.endCursor;
      if (!page.pageInfo.hasNextPage) break;
    }
    expect(paged).toEqual(whole);
  });
});
