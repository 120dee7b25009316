import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import { emailOf, seed } from '../../bench/seed.js';
import { SCAN_BUDGET_PER_REQUEST, decodeCursor, encodeCursor } from '../../src/db/log-cursor.js';
import { SequenceLogs, createSequenceLogModel } from '../../src/db/sequence-log.js';
import { USERS_LOG } from '../../src/modules/user/user.model.js';
import {
  LOGIN,
  bearer,
  errorCode,
  nodesOf,
  signUp,
  uniqueEmail,
  type Connection,
} from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The admin's users connection over real HTTP, on more than a scan budget of seeded users
 * followed by a few signed up through the API: the matches of the sparse filters lie past what
 * one request may look at, so reaching them takes a page that comes back empty with hasNextPage.
 * Tests that are not about the budget start from a cursor near the end (TAIL), to stay quick.
 */
const SEEDED = SCAN_BUDGET_PER_REQUEST + 500;
const TAIL = SEEDED - 300;
const PASSWORD = 'correct horse battery';
const SPARSE = ['sparse-a@example.com', 'sparse+tag@example.com', 'sparse-c@example.com'];
const PROMOTED = SEEDED - 200;
const DISABLED = SEEDED - 100;

type Listed = { id: string; email: string; roles: string[] };
type Filter = { emailPrefix?: string; role?: string; disabled?: boolean };

const USERS_PAGE = `query($first: Int!, $after: String, $filter: UserFilter) {
  users(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id email roles } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

let server: TestServer;
let admin: Record<string, string>;
let adminEmail: string;
let disabledSparse: string;

beforeAll(async () => {
  server = await startTestServer({ label: 'users_connection' });
  const { userIds } = await seed(server.connection, SEEDED, 0);
  const users = server.connection.collection('users');
  await users.updateOne({ _id: userIds[PROMOTED] }, { $set: { roles: ['USER', 'ADMIN'] } });
  await users.updateOne({ _id: userIds[DISABLED] }, { $set: { disabled: true } });
  adminEmail = uniqueEmail('connection-admin');
  await server.app.services.users.ensureBootstrapAdmin(adminEmail, PASSWORD);
  const login = await server.graphql(LOGIN, { email: adminEmail, password: PASSWORD });
  admin = bearer((login.body.data?.login as { accessToken: string }).accessToken);
  for (const email of SPARSE) await signUp(server, email);
  // Disabled by hand: the admin mutation that does it lives elsewhere.
  const { userId } = await signUp(server, 'sparse-disabled@example.com');
  disabledSparse = 'sparse-disabled@example.com';
  await users.updateOne({ _id: new Types.ObjectId(userId) }, { $set: { disabled: true } });
}, 120_000);
afterAll(() => server.close());

type Page = Connection<Listed> & {
  pageInfo: { hasPreviousPage: boolean; startCursor: string | null };
};

async function page(variables: { first: number; after?: string | null; filter?: Filter }) {
  const response = await server.graphql(USERS_PAGE, variables, admin);
  if (!response.body.data) throw new Error(response.text);
  return response.body.data.users as Page;
}

/** Every page of a listing, followed from endCursor until hasNextPage is false. */
async function walk(filter: Filter | undefined, first: number, from: string | null = null) {
  const pages: Page[] = [];
  let after = from;
  for (let i = 0; i < 500; i += 1) {
    const next: Page = await page({ first, after, filter });
    pages.push(next);
    if (!next.pageInfo.hasNextPage) break;
    after = next.pageInfo.endCursor;
  }
  return { pages, users: pages.flatMap((p) => nodesOf(p)) };
}

const seededEmails = Array.from({ length: SEEDED }, (_, i) => emailOf(i));
const everyone = () => [...seededEmails, adminEmail, ...SPARSE, disabledSparse];
/** The users log from TAIL on (its entries are numbered from 0 in sign-up order). */
const tail = () => everyone().slice(TAIL + 1);
const TAIL_CURSOR = encodeCursor({ kind: 'users' }, TAIL);

describe('users as a connection', () => {
  it('pages through every user exactly once, in sign-up order, to hasNextPage false', async () => {
    const { pages, users } = await walk(undefined, 50);
    expect(users.map((user) => user.email)).toEqual(everyone());
    expect(new Set(users.map((user) => user.id)).size).toBe(users.length);
    const last = pages[pages.length - 1]!;
    expect(last.pageInfo.hasNextPage).toBe(false);
    expect(pages.slice(0, -1).every((p) => p.edges.length === 50)).toBe(true);
    for (const p of pages) {
      expect(p.pageInfo.hasPreviousPage).toBe(false);
      expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
      expect(p.pageInfo.endCursor).toBe(p.edges[p.edges.length - 1]?.cursor);
    }
    // The last cursor goes on to an empty page, not back to the start.
    expect(await page({ first: 5, after: last.pageInfo.endCursor })).toMatchObject({
      edges: [],
      pageInfo: { hasNextPage: false },
    });
  });

  it('goes on from any edge cursor, not only endCursor', async () => {
    const first = await page({ first: 5 });
    const fromThird = await page({ first: 2, after: first.edges[2]!.cursor });
    expect(nodesOf(fromThird)).toEqual(nodesOf(first).slice(3, 5));
  });

  it.each<[Filter, number]>([
    [{ emailPrefix: 'sparse' }, 1],
    [{ emailPrefix: 'sparse', role: 'USER', disabled: false }, 100],
  ])('reaches sparse matches past the scan budget (%p, first %i)', async (filter, first) => {
    const { pages, users } = await walk(filter, first);
    const expected = filter.disabled === false ? SPARSE : [...SPARSE, disabledSparse];
    expect(users.map((user) => user.email)).toEqual(expected);
    // The first request looks at a budget of seeded users, finds nothing, and says go on.
    expect(pages[0]).toMatchObject({ edges: [], pageInfo: { hasNextPage: true } });
    expect(pages[0]!.pageInfo.endCursor).toBe(
      encodeCursor({ kind: 'users' }, SCAN_BUDGET_PER_REQUEST - 1),
    );
    expect(pages.every((p) => p.edges.length <= first)).toBe(true);
    expect(pages[pages.length - 1]!.pageInfo.hasNextPage).toBe(false);
  });

  it.each<[string, Filter, () => string[]]>([
    [
      'an email prefix',
      { emailPrefix: 'user-14' },
      () => tail().filter((e) => e.startsWith('user-14')),
    ],
    [
      'an email prefix, normalized',
      { emailPrefix: '  SPARSE-' },
      () => ['sparse-a@example.com', 'sparse-c@example.com', disabledSparse],
    ],
    [
      'a prefix with "+" taken literally',
      { emailPrefix: 'sparse+' },
      () => ['sparse+tag@example.com'],
    ],
    ['a prefix with regex metacharacters', { emailPrefix: 'sparse.' }, () => []],
    ['a prefix that is a regex wildcard', { emailPrefix: '.*' }, () => []],
    ['the ADMIN role', { role: 'ADMIN' }, () => [emailOf(PROMOTED), adminEmail]],
    ['disabled', { disabled: true }, () => [emailOf(DISABLED), disabledSparse]],
    [
      'not disabled',
      { disabled: false },
      () => tail().filter((e) => e !== emailOf(DISABLED) && e !== disabledSparse),
    ],
  ])('filters by %s across pages', async (_name, filter, expected) => {
    const { pages, users } = await walk(filter, 7, TAIL_CURSOR);
    expect(users.map((user) => user.email)).toEqual(expected());
    expect(pages.every((p) => p.edges.length <= 7)).toBe(true);
    if (filter.role) expect(users.every((user) => user.roles.includes(filter.role!))).toBe(true);
  });
});

describe('users refuses what it cannot page by', () => {
  const refusal = async (variables: Record<string, unknown>) => {
    const response = await server.graphql(USERS_PAGE, { first: 5, ...variables }, admin);
    return { code: errorCode(response), field: response.body.errors?.[0]?.extensions?.field };
  };
  const encoded = (text: string) => Buffer.from(text, 'latin1').toString('base64url');

  it.each([
    ['empty', ''],
    ['not base64', 'not a cursor!'],
    ['a user id', '507f1f77bcf86cd799439011'],
    ['padded base64', `${encoded('users::3')}=`],
    ['a negative position', encoded('users::-1')],
    ['a position past the safe integers', encoded('users::99999999999999999')],
    ['a fractional position', encoded('users::1.5')],
    ['another kind', encoded('sessions::3')],
    ['an auditEvents cursor', encodeCursor({ kind: 'audit', log: 'all' }, 3)],
    ['very long', 'A'.repeat(10_000)],
  ])('a malformed or foreign cursor (%s) with BAD_USER_INPUT', async (_name, after) => {
    expect(await refusal({ after })).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('answers a well-formed cursor past the end with an empty last page', async () => {
    const past = await page({ first: 5, after: encodeCursor({ kind: 'users' }, 10 ** 12) });
    expect(past).toMatchObject({ edges: [], pageInfo: { hasNextPage: false } });
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['longer than an email', `${'a'.repeat(250)}@example.com`],
    ['invisible characters', 'sparse\u200b'],
    ['a NUL', 'sparse\u0000'],
  ])('an email prefix that is %s with BAD_USER_INPUT', async (_name, emailPrefix) => {
    expect(await refusal({ filter: { emailPrefix } })).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'emailPrefix',
    });
  });

  it('an unknown role, a filter of the wrong shape or a page size beyond Int before running', async () => {
    for (const variables of [
      { first: 5, filter: { role: 'ROOT' } },
      { first: 5, filter: { disabled: 'yes' } },
      { first: 5, filter: { emailPrefix: ['a'] } },
      { first: 2 ** 31 },
      { first: 1e20 },
      { first: 5, after: 5 },
    ]) {
      const response = await server.graphql(USERS_PAGE, variables, admin);
      expect([response.status, errorCode(response)]).toEqual([400, 'BAD_USER_INPUT']);
      expect(response.body.data ?? null).toBeNull();
    }
  });

  it.each([101, 0, -1, 2 ** 31 - 1])('a page size of %i with BAD_USER_INPUT', async (first) => {
    expect(await refusal({ first })).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('one scan budget per request, however many aliased lists share it', async () => {
    const copies = Array.from(
      { length: 4 },
      (_, i) => `u${i}: users(filter: { emailPrefix: "sparse" }) { ...page }`,
    );
    const response = await server.graphql(
      `query { ${copies.join(' ')} audit: auditEvents(first: 5) { ...events } }
      fragment page on UserConnection { edges { cursor } pageInfo { hasNextPage endCursor } }
      fragment events on AuditEventConnection { edges { cursor } pageInfo { hasNextPage } }`,
      {},
      admin,
    );
    if (!response.body.data) throw new Error(response.text);
    const pages = copies.map((_, i) => response.body.data![`u${i}`] as Page);
    const visited = pages.map((p) =>
      p.pageInfo.endCursor === null
        ? 0
        : decodeCursor({ kind: 'users' }, p.pageInfo.endCursor)! + 1,
    );
    // None reached the sparse users: together they looked at one budget of seeded ones.
    expect(pages.every((p) => p.edges.length === 0 && p.pageInfo.hasNextPage)).toBe(true);
    expect(visited.reduce((a, b) => a + b)).toBeLessThanOrEqual(SCAN_BUDGET_PER_REQUEST);
    expect(Math.max(...visited)).toBeGreaterThan(0);
    // A list that needs few entries still gets them: each walk takes its first batch at once.
    expect((response.body.data.audit as Connection<unknown>).edges).toHaveLength(5);
  });

  it('the connection to a USER (FORBIDDEN) and to anonymous callers (UNAUTHENTICATED)', async () => {
    const { token } = await signUp(server, uniqueEmail('plain'));
    const variables = { first: 5, filter: { role: 'ADMIN' } };
    const asUser = await server.graphql(USERS_PAGE, variables, bearer(token));
    expect(errorCode(asUser)).toBe('FORBIDDEN');
    expect(asUser.body.data ?? null).toBeNull();
    const anonymous = await server.graphql(USERS_PAGE, variables);
    expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');
    expect(anonymous.text).not.toContain(adminEmail);
  });
});

describe('users while others sign up', () => {
  it('gives each of several concurrent walkers every earlier user once, in order', async () => {
    const listed = async (filter?: Filter, first = 10) =>
      (await walk(filter, first, TAIL_CURSOR)).users.map((user) => user.email);
    const before = await listed();
    const signUps = Array.from({ length: 6 }, (_, i) => uniqueEmail(`concurrent-${i}`));
    const [walks] = await Promise.all([
      Promise.all([listed(undefined, 3), listed({ disabled: false }, 7), listed(undefined, 50)]),
      Promise.all(signUps.map((email) => signUp(server, email))),
    ]);
    const after = await listed();
    expect(after).toEqual([...before, ...after.slice(before.length)]);
    expect(after.slice(before.length).sort()).toEqual([...signUps].sort());
    const disabled = new Set([emailOf(DISABLED), disabledSparse]);
    const earlier = [before, before.filter((email) => !disabled.has(email)), before];
    walks.forEach((emails, i) => {
      const seen = new Set(emails);
      expect(seen.size).toBe(emails.length);
      expect(emails).toEqual(after.filter((email) => seen.has(email)));
      expect(earlier[i]!.filter((email) => !seen.has(email))).toEqual([]);
    });
  });

  it('waits at a user whose sign-up is still being written, and reads past one that died', async () => {
    const logs = new SequenceLogs(createSequenceLogModel(server.connection, 'user_logs'));
    const dead = Types.ObjectId.createFromTime(Math.floor(Date.now() / 1000) - 600);
    await logs.append(USERS_LOG, String(dead));
    const inFlight = new Types.ObjectId();
    const seq = await logs.append(USERS_LOG, String(inFlight));
    const tail = await page({ first: 1, after: encodeCursor({ kind: 'users' }, seq - 3) });
    const stalled = await page({ first: 5, after: tail.pageInfo.endCursor });
    // The dead entry is read past; the walk stops before the one still being written.
    expect(stalled).toMatchObject({
      edges: [],
      pageInfo: { hasNextPage: true, endCursor: encodeCursor({ kind: 'users' }, seq - 1) },
    });
    const email = uniqueEmail('in-flight');
    await server.connection.collection('users').insertOne({
      _id: inFlight,
      email,
      passwordHash: 'x',
      roles: ['USER'],
      disabled: false,
      seq,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    const arrived = await page({ first: 5, after: stalled.pageInfo.endCursor });
    expect(nodesOf(arrived).map((user) => user.email)).toEqual([email]);
    expect(arrived.pageInfo.hasNextPage).toBe(false);
  });
});
