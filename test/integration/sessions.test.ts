import { afterAll, describe, expect, it } from '@jest/globals';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { freshDatabaseUri } from '../helpers/database.js';
import { ME, bearer, errorCode, uniqueEmail } from '../helpers/operations.js';
import { Types } from 'mongoose';
import { SequenceLogs } from '../../src/db/sequence-log.js';
import { createSessionModels } from '../../src/modules/session/session.model.js';
import { createSessionService } from '../../src/modules/session/session.service.js';
import { SESSION_LOG, TOKEN_LOG } from '../../src/modules/session/session-sweep.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.js';

const PAYLOAD = '{ accessToken expiresIn refreshToken refreshExpiresIn user { id email } }';
const SIGN_UP = `mutation($email: String!, $password: String!, $useCookie: Boolean! = false) {
  signUp(email: $email, password: $password, useCookie: $useCookie) ${PAYLOAD} }`;
const LOGIN = `mutation($email: String!, $password: String!, $useCookie: Boolean! = false) {
  login(email: $email, password: $password, useCookie: $useCookie) ${PAYLOAD} }`;
const REFRESH = `mutation($token: String) { refreshToken(token: $token) ${PAYLOAD} }`;
const PASSWORD = 'correct horse battery';

interface Payload {
  accessToken: string;
  refreshToken: string | null;
  refreshExpiresIn: number;
  user: { id: string; email: string };
}

const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));
async function start(env: Record<string, string> = {}, databaseUri?: string) {
  const server = await startTestServer({ env, databaseUri, label: 'sessions' });
  servers.push(server);
  return server;
}

async function signUpOn(server: TestServer, email = uniqueEmail('session')) {
  const response = await server.graphql(SIGN_UP, { email, password: PASSWORD });
  return { email, ...(response.body.data?.signUp as Payload) };
}
const refresh = async (server: TestServer, token: string | null) => {
  const response = await server.graphql(REFRESH, { token });
  return { response, payload: response.body.data?.refreshToken as Payload | undefined };
};
/** Stored reuse events: the audit trail an operator reads, not just the log line. */
async function reuseEvents(server: TestServer) {
  await server.app.services.audit.flush();
  return server.connection
    .collection('audit_events')
    .countDocuments({ type: 'session.refresh_token_reuse' });
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the access token is refused; returns how long that took. */
async function msUntilRefused(server: TestServer, token: string) {
  const started = Date.now();
  while (Date.now() - started < 5000) {
    const response = await server.graphql(ME, {}, bearer(token));
    if (response.status === 401) return Date.now() - started;
    await sleep(50);
  }
  return Infinity;
}

describe('refresh tokens', () => {
  it('come with sign-up and login, and rotate: each works once and yields a new pair', async () => {
    const server = await start();
    const first = await signUpOn(server);
    expect(first.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.refreshExpiresIn).toBe(7 * 86400);
    const { payload: second } = await refresh(server, first.refreshToken);
    expect(second?.refreshToken).toBeTruthy();
    expect(second?.refreshToken).not.toBe(first.refreshToken);
    expect(second?.user.id).toBe(first.user.id);
    const me = await server.graphql(ME, {}, bearer(second!.accessToken));
    expect((me.body.data?.me as { id: string }).id).toBe(first.user.id);
    // The stored form is a hash: the database never holds the token itself.
    const stored = await server.connection.collection('refresh_tokens').find().toArray();
    expect(JSON.stringify(stored)).not.toContain(first.refreshToken);
  });

  it('lets two tabs refresh with the same token at once (grace period)', async () => {
    const server = await start({ REFRESH_REUSE_GRACE: '10s' });
    const { refreshToken } = await signUpOn(server);
    const results = await Promise.all([
      refresh(server, refreshToken),
      refresh(server, refreshToken),
    ]);
    expect(results.every((result) => result.payload?.accessToken)).toBe(true);
  });

  it('treats a spent token presented after the grace period as theft and ends the whole session', async () => {
    const server = await start({ REFRESH_REUSE_GRACE: '0' });
    const original = await signUpOn(server);
    const { payload: rotated } = await refresh(server, original.refreshToken);
    await sleep(5);
    const reuse = await refresh(server, original.refreshToken);
    expect(errorCode(reuse.response)).toBe('UNAUTHENTICATED');
    // The thief's replay also killed the legitimate successor and the session's access tokens.
    expect(errorCode((await refresh(server, rotated!.refreshToken)).response)).toBe(
      'UNAUTHENTICATED',
    );
    expect(await msUntilRefused(server, rotated!.accessToken)).toBeLessThanOrEqual(1500);
    expect(server.logs.some((line) => line.includes('session.refresh_token_reuse'))).toBe(true);
  });

  it('ends the other copy of a token replayed within the grace period at the next rotation', async () => {
    for (const rotatesFirst of ['A', 'B'] as const) {
      const server = await start({ REFRESH_REUSE_GRACE: '60s' });
      const { refreshToken } = await signUpOn(server);
      const { payload: a } = await refresh(server, refreshToken);
      const { payload: b } = await refresh(server, refreshToken); // B replays within the grace
      expect(a?.refreshToken).toBeTruthy();
      expect(b?.refreshToken).toBeTruthy();
      const [winner, loser] = rotatesFirst === 'A' ? [a!, b!] : [b!, a!];
      const { payload: next } = await refresh(server, winner.refreshToken);
      expect(next?.refreshToken).toBeTruthy();
      expect(await reuseEvents(server)).toBe(0);
      // The outrun copy is refused and ends the session: if its holder was the victim, the thief
      // who rotated first loses the session too.
      expect(errorCode((await refresh(server, loser.refreshToken)).response)).toBe(
        'UNAUTHENTICATED',
      );
      expect(errorCode((await refresh(server, next!.refreshToken)).response)).toBe(
        'UNAUTHENTICATED',
      );
      expect(await reuseEvents(server)).toBe(1);
    }
  });

  it('lets only one of two copies win when both rotate at once, and then ends the session', async () => {
    const server = await start({ REFRESH_REUSE_GRACE: '60s' });
    const { refreshToken } = await signUpOn(server);
    const { payload: a } = await refresh(server, refreshToken);
    const { payload: b } = await refresh(server, refreshToken);
    const raced = await Promise.all([
      refresh(server, a!.refreshToken),
      refresh(server, b!.refreshToken),
    ]);
    const winners = raced.flatMap((result) => result.payload?.refreshToken ?? []);
    expect(winners).toHaveLength(1);
    expect(errorCode((await refresh(server, winners[0]!)).response)).toBe('UNAUTHENTICATED');
    expect(await reuseEvents(server)).toBeGreaterThanOrEqual(1);
  });

  it('keeps a session going for two tabs sharing a cookie, whichever Set-Cookie lands last', async () => {
    const cookieOf = (response: GraphQLResponse) =>
      (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    const refreshWith = (server: TestServer, cookie: string) =>
      server.graphql(REFRESH, {}, { cookie, 'x-graphql-yoga-csrf': '1' });
    for (const last of [0, 1]) {
      const server = await start({ REFRESH_REUSE_GRACE: '60s' });
      const signedUp = await server.graphql(SIGN_UP, {
        email: uniqueEmail('tabs'),
        password: PASSWORD,
        useCookie: true,
      });
      const raced = await Promise.all([0, 1].map(() => refreshWith(server, cookieOf(signedUp))));
      expect(raced.every((response) => response.body.data?.refreshToken)).toBe(true);
      let cookie = cookieOf(raced[last]!);
      for (let i = 0; i < 2; i += 1) {
        const response = await refreshWith(server, cookie);
        expect(response.body.data?.refreshToken).toBeTruthy();
        cookie = cookieOf(response);
      }
    }
  });

  it('expires after the idle time unused, and at the absolute end however often it is used', async () => {
    const idle = await start({ REFRESH_TOKEN_IDLE_TTL: '1s', REFRESH_TOKEN_TTL: '1h' });
    const { refreshToken } = await signUpOn(idle);
    await sleep(1100);
    const expired = await refresh(idle, refreshToken);
    expect(expired.response.body.errors?.[0]?.message).toBe('Refresh token expired');

    const absolute = await start({ REFRESH_TOKEN_IDLE_TTL: '1h', REFRESH_TOKEN_TTL: '2s' });
    let token = (await signUpOn(absolute)).refreshToken;
    await sleep(1000);
    token = (await refresh(absolute, token)).payload!.refreshToken;
    await sleep(1100);
    const ended = await refresh(absolute, token);
    expect(ended.response.body.errors?.[0]?.message).toBe('Refresh token expired');
  });

  it('never accepts an access token as a refresh token, or a refresh token as an access token', async () => {
    const server = await start();
    const { accessToken, refreshToken } = await signUpOn(server);
    expect(errorCode((await refresh(server, accessToken)).response)).toBe('UNAUTHENTICATED');
    const asBearer = await server.graphql(ME, {}, bearer(refreshToken!));
    expect(asBearer.status).toBe(401);
  });

  it('answers garbage and missing tokens with UNAUTHENTICATED, not a 5xx', async () => {
    const server = await start();
    for (const token of ['', 'x', 'a'.repeat(500), null]) {
      const { response } = await refresh(server, token);
      expect(response.status).toBeLessThan(500);
      expect(errorCode(response)).toBe('UNAUTHENTICATED');
    }
  });
});

describe('cookies for browsers', () => {
  it('sets the refresh token as a __Host- cookie with HttpOnly, Secure, SameSite=Strict and Path=/', async () => {
    const server = await start();
    const response = await server.graphql(SIGN_UP, {
      email: uniqueEmail('cookie'),
      password: PASSWORD,
      useCookie: true,
    });
    const payload = response.body.data?.signUp as Payload;
    expect(payload.refreshToken).toBeNull();
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-refresh=[A-Za-z0-9_-]{43};/);
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/', 'Max-Age=604800']) {
      expect(cookie).toContain(attribute);
    }
    expect(cookie).not.toContain('Domain');
  });

  it('refreshes from the cookie only with the CSRF header', async () => {
    const server = await start();
    const response = await server.graphql(SIGN_UP, {
      email: uniqueEmail('csrf'),
      password: PASSWORD,
      useCookie: true,
    });
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    const without = await server.graphql(REFRESH, {}, { cookie });
    expect(without.status).toBe(403);
    expect(errorCode(without)).toBe('CSRF_REJECTED');
    const withHeader = await server.graphql(REFRESH, {}, { cookie, 'x-graphql-yoga-csrf': '1' });
    expect((withHeader.body.data?.refreshToken as Payload).refreshToken).toBeNull();
    expect(withHeader.headers.get('set-cookie')).toMatch(/^__Host-refresh=[A-Za-z0-9_-]{43};/);
  });

  it('refuses simple (non-preflighted) requests without the CSRF header, and mutations over GET', async () => {
    const server = await start();
    const simple = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(simple.status).toBe(403);
    const query = encodeURIComponent('mutation { logoutAll }');
    const overGet = await fetch(`${server.url}/graphql?query=${query}`, {
      headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
    });
    expect(overGet.status).toBe(405);
  });

  it('lets a GET without cookies through without the CSRF header, and no other request', async () => {
    const server = await start();
    const get = (headers: Record<string, string>) =>
      fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers });
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...headers },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
    const cookie = '__Host-refresh=x';
    // urql's default: queries over GET, no cookies, no CSRF header.
    const plainGet = await get({});
    expect(plainGet.status).toBe(200);
    expect(await plainGet.json()).toEqual({ data: { __typename: 'Query' } });
    // A browser attaches cookies by itself: then the header is needed again.
    expect((await get({ cookie })).status).toBe(403);
    expect((await get({ cookie, 'x-graphql-yoga-csrf': '1' })).status).toBe(200);
    expect((await post({})).status).toBe(403);
    // Past the CSRF check with the header; text/plain itself is then unsupported.
    expect((await post({ 'x-graphql-yoga-csrf': '1' })).status).toBe(415);
  });

  it('sends CORS headers with credentials only to configured origins', async () => {
    const server = await start({ CORS_ORIGINS: 'https://app.example.com' });
    const preflight = (origin: string) =>
      fetch(`${server.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight('https://evil.example.net');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('revocation', () => {
  it('logout ends the current session: its access token within the 1 s bound, its refresh token at once, its cookie', async () => {
    const server = await start();
    const { accessToken, refreshToken } = await signUpOn(server);
    expect((await server.graphql(ME, {}, bearer(accessToken))).status).toBe(200); // now cached
    const logout = await server.graphql('mutation { logout }', {}, bearer(accessToken));
    expect(logout.body.data?.logout).toBe(true);
    expect(logout.headers.get('set-cookie')).toMatch(/^__Host-refresh=;.*Max-Age=0/);
    expect(await msUntilRefused(server, accessToken)).toBeLessThanOrEqual(1500);
    expect(errorCode((await refresh(server, refreshToken)).response)).toBe('UNAUTHENTICATED');
  });

  it('is seen by every replica within the bound', async () => {
    const databaseUri = freshDatabaseUri('replicas');
    const [a, b] = [await start({}, databaseUri), await start({}, databaseUri)];
    const { accessToken } = await signUpOn(a);
    expect((await b.graphql(ME, {}, bearer(accessToken))).status).toBe(200); // cached on b
    await a.graphql('mutation { logout }', {}, bearer(accessToken));
    expect(await msUntilRefused(b!, accessToken)).toBeLessThanOrEqual(1500);
  });

  it('logoutAll ends every session of the viewer', async () => {
    const server = await start();
    const { email, accessToken: first } = await signUpOn(server);
    const second = (await server.graphql(LOGIN, { email, password: PASSWORD })).body.data
      ?.login as Payload;
    await server.graphql('mutation { logoutAll }', {}, bearer(first));
    expect(await msUntilRefused(server, first)).toBeLessThanOrEqual(1500);
    expect(await msUntilRefused(server, second.accessToken)).toBeLessThanOrEqual(1500);
    expect(errorCode((await refresh(server, second.refreshToken)).response)).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('changePassword checks the current password, ends every other session and returns a new one', async () => {
    const server = await start();
    const { email, accessToken, refreshToken } = await signUpOn(server);
    const other = (await server.graphql(LOGIN, { email, password: PASSWORD })).body.data
      ?.login as Payload;
    const CHANGE = `mutation($current: String!, $next: String!) {
      changePassword(currentPassword: $current, newPassword: $next) ${PAYLOAD} }`;
    const wrong = await server.graphql(
      CHANGE,
      { current: 'not my password', next: 'brand new passphrase' },
      bearer(accessToken),
    );
    expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
    const changed = await server.graphql(
      CHANGE,
      { current: PASSWORD, next: 'brand new passphrase' },
      bearer(accessToken),
    );
    const fresh = changed.body.data?.changePassword as Payload;
    expect(fresh.accessToken).toBeTruthy();
    expect(await msUntilRefused(server, other.accessToken)).toBeLessThanOrEqual(1500);
    expect(errorCode((await refresh(server, refreshToken)).response)).toBe('UNAUTHENTICATED');
    expect((await server.graphql(ME, {}, bearer(fresh.accessToken))).status).toBe(200);
    expect(errorCode(await server.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'UNAUTHENTICATED',
    );
    const login = await server.graphql(LOGIN, { email, password: 'brand new passphrase' });
    expect(login.body.data?.login).toBeTruthy();
  });

  it("stops a disabled user's access and refresh tokens and refuses their login", async () => {
    const server = await start();
    const { email, user, accessToken, refreshToken } = await signUpOn(server);
    await server.connection.collection('users').updateOne({ email }, { $set: { disabled: true } });
    expect(await msUntilRefused(server, accessToken)).toBeLessThanOrEqual(1500);
    expect(errorCode((await refresh(server, refreshToken)).response)).toBe('UNAUTHENTICATED');
    expect(errorCode(await server.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(user.id).toBeTruthy();
  });
});

describe('sessions and revokeSession', () => {
  const SESSIONS = '{ sessions { id createdAt lastUsedAt userAgent ip current } }';

  it("lists the viewer's active sessions and ends one by id", async () => {
    const server = await start();
    const { email, accessToken } = await signUpOn(server);
    await server.graphql(LOGIN, { email, password: PASSWORD }, { 'user-agent': 'second-device' });
    const listed = (await server.graphql(SESSIONS, {}, bearer(accessToken))).body.data
      ?.sessions as { id: string; current: boolean; userAgent: string; ip: string }[];
    expect(listed).toHaveLength(2);
    expect(listed.filter((session) => session.current)).toHaveLength(1);
    const other = listed.find((session) => !session.current)!;
    expect(other.userAgent).toBe('second-device');
    expect(other.ip).toBe('127.0.0.1');
    const revoked = await server.graphql(
      'mutation($id: ID!) { revokeSession(id: $id) }',
      { id: other.id },
      bearer(accessToken),
    );
    expect(revoked.body.data?.revokeSession).toBe(true);
    const after = (await server.graphql(SESSIONS, {}, bearer(accessToken))).body.data
      ?.sessions as unknown[];
    expect(after).toHaveLength(1);
  });

  it("answers another user's session id exactly like a missing one", async () => {
    const server = await start();
    const alice = await signUpOn(server);
    const bob = await signUpOn(server);
    const bobSession = (jwt.decode(bob.accessToken) as jwt.JwtPayload).sid as string;
    const REVOKE = 'mutation($id: ID!) { revokeSession(id: $id) }';
    const foreign = await server.graphql(REVOKE, { id: bobSession }, bearer(alice.accessToken));
    const missing = await server.graphql(
      REVOKE,
      { id: '0123456789abcdef01234567' },
      bearer(alice.accessToken),
    );
    expect(foreign.body).toEqual(missing.body);
    expect((await server.graphql(ME, {}, bearer(bob.accessToken))).status).toBe(200);
  });
});

describe('sessions paging', () => {
  const PAGE = `query($first: Int, $after: ID) {
    sessions(first: $first, after: $after) { id current } }`;

  it('returns each session exactly once across pages, even while they are used meanwhile', async () => {
    const server = await start();
    const holders = [await signUpOn(server)];
    for (let i = 0; i < 6; i += 1) {
      const response = await server.graphql(LOGIN, {
        email: holders[0]!.email,
        password: PASSWORD,
      });
      holders.push({ email: holders[0]!.email, ...(response.body.data?.login as Payload) });
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const response = await server.graphql(
        PAGE,
        { first: 3, after },
        bearer(holders[0]!.accessToken),
      );
      const page = response.body.data?.sessions as { id: string }[];
      expect(page.length).toBeLessThanOrEqual(3);
      if (page.length === 0) break;
      seen.push(...page.map((session) => session.id));
      after = page.at(-1)!.id;
      // Every session is refreshed between pages: the order must not follow lastUsedAt.
      for (const holder of holders) {
        holder.refreshToken = (await refresh(server, holder.refreshToken)).payload!.refreshToken;
      }
    }
    const all = holders.map((holder) => (jwt.decode(holder.accessToken) as jwt.JwtPayload).sid);
    expect(seen).toHaveLength(7);
    expect([...seen].sort()).toEqual([...all].sort());
  });

  it('refuses a page size outside 1-100 and an after that is not a session id', async () => {
    const server = await start();
    const { accessToken } = await signUpOn(server);
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 0 }, 'first'],
      [{ first: -1 }, 'first'],
      [{ first: 101 }, 'first'],
      [{ after: 'not-a-session-id' }, 'after'],
    ];
    for (const [variables, field] of cases) {
      const response = await server.graphql(PAGE, variables, bearer(accessToken));
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.extensions?.field).toBe(field);
    }
    const largest = await server.graphql(PAGE, { first: 100 }, bearer(accessToken));
    expect(largest.body.data?.sessions).toHaveLength(1);
  });
});

describe('session storage', () => {
  const DAY = 86_400_000;
  const META = { userAgent: 'sweep-test', ip: '127.0.0.1' };
  const sidOf = (accessToken: string) => (jwt.decode(accessToken) as jwt.JwtPayload).sid as string;
  /** The server's own models, through a session service of its own (clock `ago` ms behind). */
  const serviceOn = (
    server: TestServer,
    options: { ago?: number; maxSessionsPerUser?: number; sweepBatchSize?: number } = {},
  ) =>
    createSessionService({
      ...createSessionModels(server.connection),
      policy: { ttlSeconds: 30 * 86400, idleTtlSeconds: 7 * 86400, reuseGraceSeconds: 0 },
      audit: server.app.services.audit,
      now: () => Date.now() - (options.ago ?? 0),
      maxSessionsPerUser: options.maxSessionsPerUser,
      sweepBatchSize: options.sweepBatchSize,
    });
  const idsOf = async (server: TestServer, collection: string, field = '_id') =>
    (await server.connection.collection(collection).find().toArray())
      .map((doc) => String(doc[field]))
      .sort();
  const listOf = async (server: TestServer, userId: string) =>
    (
      await server.connection
        .collection('user_sessions')
        .findOne({ _id: new Types.ObjectId(userId) })
    )?.sessions.map(String);
  /** A user with no session yet, so that a test decides the order sessions are logged in. */
  const newUser = (server: TestServer, label: string) =>
    server.app.services.users.signUp(uniqueEmail(label), PASSWORD);

  it('deletes a revoked session at once and takes it off its user list', async () => {
    const server = await start();
    const { email, accessToken, user } = await signUpOn(server);
    const second = (await server.graphql(LOGIN, { email, password: PASSWORD })).body.data
      ?.login as Payload;
    const REVOKE = 'mutation($id: ID!) { revokeSession(id: $id) }';
    const revoked = await server.graphql(
      REVOKE,
      { id: sidOf(second.accessToken) },
      bearer(accessToken),
    );
    expect(revoked.body.data?.revokeSession).toBe(true);
    expect(await idsOf(server, 'sessions')).toEqual([sidOf(accessToken)]);
    expect(await listOf(server, user.id)).toEqual([sidOf(accessToken)]);
    expect(errorCode((await refresh(server, second.refreshToken)).response)).toBe(
      'UNAUTHENTICATED',
    );
    const again = await server.graphql(
      REVOKE,
      { id: sidOf(second.accessToken) },
      bearer(accessToken),
    );
    expect(again.body.data?.revokeSession).toBe(false);
    await server.graphql('mutation { logoutAll }', {}, bearer(accessToken));
    expect(await idsOf(server, 'sessions')).toEqual([]);
    expect(await listOf(server, user.id)).toEqual([]);
  });

  it("remembers its sign-in's second factor through every rotation, and older sessions none", async () => {
    const server = await start();
    const sessions = server.app.services.sessions;
    const user = await newUser(server, 'session-mfa');
    const provedAt = Date.now() - 60_000;
    const started = await sessions.start(user.id, META, 0, provedAt);
    expect(started.mfaAt).toBe(provedAt);
    const stored = await server.connection
      .collection('sessions')
      .findOne({ _id: new Types.ObjectId(started.sessionId) });
    expect(stored?.mfaAt).toEqual(new Date(provedAt));

    const rotated = await sessions.refresh(started.refreshToken, META);
    expect(rotated.mfaAt).toBe(provedAt);
    // The copy a spent token gets within the grace period, too.
    const copy = await sessions.refresh(started.refreshToken, META);
    expect(copy.mfaAt).toBe(provedAt);
    expect((await sessions.refresh(copy.refreshToken, META)).mfaAt).toBe(provedAt);

    // A sign-in by password alone, and a session written before the field: none.
    const plain = await sessions.start(user.id, META, 0);
    expect(plain.mfaAt).toBeUndefined();
    expect((await sessions.refresh(plain.refreshToken, META)).mfaAt).toBeUndefined();
    const older = await sessions.start(user.id, META, 0, provedAt);
    await server.connection
      .collection('sessions')
      .updateOne({ _id: new Types.ObjectId(older.sessionId) }, { $unset: { mfaAt: '' } });
    expect((await sessions.refresh(older.refreshToken, META)).mfaAt).toBeUndefined();
  });

  it('ends the oldest session when a sign-in goes beyond the cap', async () => {
    const server = await start();
    const { user, accessToken, refreshToken } = await signUpOn(server);
    const capped = serviceOn(server, { maxSessionsPerUser: 3 });
    const later: string[] = [];
    for (let i = 0; i < 3; i += 1) later.push((await capped.start(user.id, META, 0)).sessionId);
    // The sign-up's session was the oldest of four: it is gone, and its tokens with it.
    expect(await idsOf(server, 'sessions')).toEqual([...later].sort());
    expect(errorCode((await refresh(server, refreshToken)).response)).toBe('UNAUTHENTICATED');
    expect(await msUntilRefused(server, accessToken)).toBeLessThanOrEqual(1500);
    const listed = await capped.listActive(user.id, { first: 10 });
    expect(listed.map((session) => session.id)).toEqual([...later].reverse());
  });

  it('sweeps expired sessions and idle-expired tokens, keeping what reuse detection needs', async () => {
    const server = await start({ REFRESH_REUSE_GRACE: '0' });
    const user = await newUser(server, 'sweep');
    const expired = await serviceOn(server, { ago: 31 * DAY }).start(user.id, META, 0);
    // Within its 30 days but unused for 8: its only token is idle-expired, the session is not.
    const idle = await serviceOn(server, { ago: 8 * DAY }).start(user.id, META, 0);
    const login = async () =>
      (await server.graphql(LOGIN, { email: user.email, password: PASSWORD })).body.data
        ?.login as Payload;
    const live = await login();
    const { payload: rotated } = await refresh(server, live.refreshToken); // a spent token to keep
    const revoked = await login();
    await server.graphql('mutation { logout }', {}, bearer(revoked.accessToken));
    expect(await idsOf(server, 'sessions')).toHaveLength(3);
    expect(await idsOf(server, 'refresh_tokens')).toHaveLength(5);

    const removed = await server.app.services.sessions.prune();

    expect(removed).toEqual({ sessions: 1, refreshTokens: 2 });
    const liveId = sidOf(live.accessToken);
    expect(await idsOf(server, 'sessions')).toEqual([liveId, idle.sessionId].sort());
    expect(await listOf(server, user.id)).toEqual([idle.sessionId, liveId]);
    expect(await idsOf(server, 'sessions')).not.toContain(expired.sessionId);
    // The revoked session's token waits for its own idle expiry: refused meanwhile all the same.
    expect(await idsOf(server, 'refresh_tokens', 'sessionId')).toEqual(
      [liveId, liveId, sidOf(revoked.accessToken)].sort(),
    );
    expect(await idsOf(server, 'refresh_rotations')).toEqual([`${liveId}:1`]);
    // The live session still refreshes, and its spent token still gives the theft away.
    const { payload: next } = await refresh(server, rotated!.refreshToken);
    expect(next?.refreshToken).toBeTruthy();
    expect(errorCode((await refresh(server, live.refreshToken)).response)).toBe('UNAUTHENTICATED');
    expect(await reuseEvents(server)).toBe(1);
    expect(errorCode((await refresh(server, next!.refreshToken)).response)).toBe('UNAUTHENTICATED');
  });

  it('walks its logs in batches from the oldest end and stops at the first entry not due', async () => {
    const server = await start();
    const user = await newUser(server, 'batches');
    const past = serviceOn(server, { ago: 31 * DAY });
    for (let i = 0; i < 5; i += 1) await past.start(user.id, META, 0);
    const live = await server.app.services.sessions.start(user.id, META, 0);
    // Expired as well, but logged after a live session: it waits until that one is due.
    const behind = await past.start(user.id, META, 0);
    const sweeper = serviceOn(server, { sweepBatchSize: 2 });

    expect(await sweeper.prune({ batches: 1 })).toEqual({ sessions: 2, refreshTokens: 2 });
    expect(await idsOf(server, 'sessions')).toHaveLength(5);
    expect(await sweeper.prune()).toEqual({ sessions: 3, refreshTokens: 3 });
    expect(await idsOf(server, 'sessions')).toEqual([live.sessionId, behind.sessionId].sort());
    expect(await idsOf(server, 'refresh_tokens', 'sessionId')).toEqual(
      [live.sessionId, behind.sessionId].sort(),
    );
    expect(await listOf(server, user.id)).toEqual([live.sessionId, behind.sessionId]);
    // The trimmed entries are gone; the sweep starts from the live session next time.
    const logs = new SequenceLogs(createSessionModels(server.connection).logs);
    expect(await logs.start(SESSION_LOG)).toBe(5);
    expect(await logs.start(TOKEN_LOG)).toBe(5);
    expect(await sweeper.prune()).toEqual({ sessions: 0, refreshTokens: 0 });
  });
});

describe('asymmetric keys', () => {
  it('signs ES256 tokens that verify against the published JWKS', async () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const server = await start({ JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') });
    const { accessToken } = await signUpOn(server);
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; kty: string; d?: string }[];
    };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]?.d).toBeUndefined();
    const header = jwt.decode(accessToken, { complete: true })?.header;
    expect(header?.alg).toBe('ES256');
    const jwk = jwks.keys.find((key) => key.kid === header?.kid);
    const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
    const verified = jwt.verify(accessToken, publicKey, {
      algorithms: ['ES256'],
    }) as jwt.JwtPayload;
    expect(verified.sid).toBeTruthy();
    expect((await server.graphql(ME, {}, bearer(accessToken))).status).toBe(200);
  });
});
