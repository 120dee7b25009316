import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SEEDED_PASSWORD, emailOf, seed } from '../../bench/seed.js';
import { LOGIN, ME, SIGN_UP, bearer, uniqueEmail } from '../helpers/operations.js';
import { captureCalls, planCalls, type CapturedCall } from '../helpers/query-plans.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { linkTokens, startSmtpServer, waitFor, type TestSmtpServer } from '../helpers/smtp.js';
import {
  CONFIRM,
  ENROLL,
  accessTokenOf,
  awayFromStepEdge,
  challengeFor,
  claimsOf,
  totpCode,
  verify,
  verifyAddress,
} from '../helpers/totp.js';

/**
 * The scale test: with 5,000 users, 10,000 sessions and refresh tokens and 10,000 audit events in
 * the database, every request path runs once through the real server while every database call
 * is recorded, and the database is asked to explain each one. A collection scan fails the test:
 * at 10⁵ users it would be the difference between a millisecond and seconds (bench:data).
 */
const USERS = 5000;
const PER_USER = 2;
const PASSWORD = 'correct horse battery';

let server: TestServer;
let smtp: TestSmtpServer;
let adminToken: string;

const AUTH_FIELDS = 'accessToken refreshToken user { id }';
const REFRESH = `mutation($token: String!) { refreshToken(token: $token) { ${AUTH_FIELDS} } }`;
const LOGIN_WITH_REFRESH = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { ${AUTH_FIELDS} }
}`;
const SESSIONS = `query($after: ID) { sessions(first: 2, after: $after) { id } }`;
const REVOKE = `mutation($id: ID!) { revokeSession(id: $id) }`;
const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) {
  changePassword(currentPassword: $current, newPassword: $next) { accessToken }
}`;
const PAGE_INFO = 'pageInfo { hasNextPage endCursor }';
const AUDIT = `query($after: String, $type: String, $userId: ID) {
  auditEvents(first: 5, after: $after, type: $type, userId: $userId) { edges { node { id } } ${PAGE_INFO} }
}`;
const USERS_PAGE = `query($after: String, $filter: UserFilter) {
  users(first: 5, after: $after, filter: $filter) { edges { node { id } } ${PAGE_INFO} }
}`;
type Page = { pageInfo: { endCursor: string | null } };
const SET_ROLES = `mutation($id: ID!, $roles: [Role!]!) { setUserRoles(userId: $id, roles: $roles) { id } }`;

type Payload = { accessToken: string; refreshToken: string; user: { id: string } };

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({
    label: 'query_plans',
    env: { SMTP_URL: smtp.url, REQUIRE_VERIFIED_EMAIL: 'false' },
  });
  await seed(server.connection, USERS, PER_USER);
  const adminEmail = uniqueEmail('plans-admin');
  await server.app.services.users.ensureBootstrapAdmin(adminEmail, PASSWORD);
  const login = await server.graphql(LOGIN, { email: adminEmail, password: PASSWORD });
  adminToken = (login.body.data?.login as { accessToken: string }).accessToken;
}, 120_000);
afterAll(async () => {
  await server.close();
  await smtp.close();
});

async function data<T>(
  query: string,
  variables: Record<string, unknown>,
  headers?: Record<string, string>,
) {
  const response = await server.graphql(query, variables, headers);
  if (response.body.errors) throw new Error(`${query}: ${response.text}`);
  return response.body.data as T;
}

/** Every request path a client can reach, once each, on the seeded data. */
async function exerciseRequestPaths() {
  const email = uniqueEmail('plans');
  const { signUp } = await data<{ signUp: { accessToken: string } }>(SIGN_UP, {
    email,
    password: PASSWORD,
  });
  // Known and unknown emails, right and wrong passwords.
  await server.graphql(LOGIN, { email: emailOf(USERS - 1), password: 'wrong password' });
  await server.graphql(LOGIN, { email: uniqueEmail('nobody'), password: 'wrong password' });
  const { login } = await data<{ login: Payload }>(LOGIN_WITH_REFRESH, {
    email: emailOf(USERS - 1),
    password: SEEDED_PASSWORD,
  });
  const viewer = bearer(login.accessToken);
  await data(ME, {}, viewer); // the session check
  const { refreshToken } = await data<{ refreshToken: Payload }>(REFRESH, {
    token: login.refreshToken,
  });
  // A replay of the spent token within the grace period, then a refresh of its successor.
  await data(REFRESH, { token: login.refreshToken });
  const me = bearer(refreshToken.accessToken);
  const { sessions } = await data<{ sessions: { id: string }[] }>(SESSIONS, {}, me);
  await data(SESSIONS, { after: sessions[sessions.length - 1]!.id }, me);
  await data(REVOKE, { id: sessions[sessions.length - 1]!.id }, me);
  // An API key: made, used (with its per-key limit and last use), listed, revoked.
  const { createApiKey } = await data<{ createApiKey: { key: string; apiKey: { id: string } } }>(
    'mutation { createApiKey(name: "plans", scopes: ["profile:read"]) { key apiKey { id } } }',
    {},
    me,
  );
  await data(
    '{ me { id } user(id: "000000000000000000000001") { id } }',
    {},
    bearer(createApiKey.key),
  );
  await data('{ apiKeys { id lastUsedAt } }', {}, me);
  await data('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: createApiKey.apiKey.id }, me);
  await data('mutation { logout }', {}, me);

  const other = await data<{ login: Payload }>(LOGIN_WITH_REFRESH, {
    email: emailOf(0),
    password: SEEDED_PASSWORD,
  });
  const otherViewer = bearer(other.login.accessToken);
  await data(
    CHANGE_PASSWORD,
    { current: SEEDED_PASSWORD, next: 'another long password' },
    otherViewer,
  );
  const again = await data<{ login: Payload }>(LOGIN_WITH_REFRESH, {
    email: emailOf(0),
    password: 'another long password',
  });
  // A change that crashed between its two writes holds the next credential version: logoutAll
  // gives it back (credential-version.ts) and raises the version itself.
  await server.connection
    .collection<{ _id: string; at: Date }>('credential_changes')
    .insertOne({ _id: `${again.login.user.id}:2`, at: new Date(Date.now() - 120_000) });
  await data('mutation { logoutAll }', {}, bearer(again.login.accessToken));
  await server.graphql(REFRESH, { token: login.refreshToken }); // reuse after the grace: refused

  await server.app.services.audit.flush();
  const admin = bearer(adminToken);
  for (const filter of [{}, { type: 'login.failed' }, { userId: other.login.user.id }]) {
    const { auditEvents } = await data<{ auditEvents: Page }>(AUDIT, filter, admin);
    await data(AUDIT, { ...filter, after: auditEvents.pageInfo.endCursor }, admin);
  }
  // Unfiltered, and filtered on all three: sparse, so it spends its whole scan budget by _id.
  let listed: { id: string }[] = [];
  for (const filter of [undefined, { emailPrefix: 'user-4999@', role: 'USER', disabled: false }]) {
    const { users } = await data<{ users: Page & { edges: { node: { id: string } }[] } }>(
      USERS_PAGE,
      { filter },
      admin,
    );
    if (!filter) listed = users.edges.map((edge) => edge.node);
    await data(USERS_PAGE, { filter, after: users.pageInfo.endCursor }, admin);
  }

  // Admin user management on seeded users (the roster, erasure), and a user erasing their own
  // account (the password check, erasure of what the requests above wrote).
  const [promoted, disabled, erased] = listed.map((user) => user.id);
  await data(SET_ROLES, { id: promoted, roles: ['USER', 'ADMIN'] }, admin);
  await data(SET_ROLES, { id: promoted, roles: ['USER'] }, admin);
  await data('mutation($id: ID!) { disableUser(userId: $id) { id } }', { id: disabled }, admin);
  await data('mutation($id: ID!) { enableUser(userId: $id) { id } }', { id: disabled }, admin);
  await data('mutation($id: ID!) { deleteUser(userId: $id) }', { id: erased }, admin);
  await data(
    'mutation($p: String!) { deleteAccount(password: $p) }',
    { p: PASSWORD },
    bearer(signUp.accessToken),
  );

  await exerciseMailedLinks();
  await exerciseTotp();

  // One batch of each background sweep.
  await server.app.services.audit.prune({ maxBatches: 1 });
  await server.app.services.sessions.prune({ batches: 1 });
  await server.app.linkTokens.sweep();
  // The mail worker: a pass over the outbox (the mail queued above), then the record sweep.
  await server.app.mail.settled();
  await server.app.mail.deliverDue();
  await server.app.mail.prune({ maxBatches: 1 });
  // The two-factor sweep, now and as if hours had passed (so it removes what the above made).
  await server.app.services.mfa.prune();
  await server.app.services.mfa.prune(Date.now() + 2 * 3_600_000);
}

/** TOTP: enrolment, confirmation, a login with a challenge and a recovery code. */
async function exerciseTotp() {
  const email = uniqueEmail('plans-totp');
  const { signUp } = await data<{ signUp: { accessToken: string } }>(SIGN_UP, {
    email,
    password: PASSWORD,
  });
  const viewer = bearer(signUp.accessToken);
  await verifyAddress(server, String(claimsOf(signUp.accessToken).sub));
  const { enrollTotp } = await data<{ enrollTotp: { secret: string } }>(ENROLL, {}, viewer);
  await awayFromStepEdge();
  const { confirmTotp } = await data<{ confirmTotp: string[] }>(
    CONFIRM,
    { c: totpCode(enrollTotp.secret), p: PASSWORD },
    viewer,
  );
  const verified = await verify(server, await challengeFor(server, email), confirmTotp[0]!);
  if (!accessTokenOf(verified)) throw new Error(`verifyMfa: ${verified.text}`);
}

/** The token in the newest mail to `email` whose link has `path`. */
async function mailedToken(email: string, path: string) {
  const find = () => linkTokens(smtp, email, `/${path}`).at(-1);
  await waitFor(() => find() !== undefined);
  return find()!;
}

/** Password reset, email verification and email change, for a new user and an unknown email. */
async function exerciseMailedLinks() {
  const email = uniqueEmail('links');
  await data(SIGN_UP, { email, password: PASSWORD });
  await data('mutation($t: String!) { verifyEmail(token: $t) }', {
    t: await mailedToken(email, 'verify-email'),
  });
  for (const address of [email, uniqueEmail('nobody')]) {
    await data('mutation($e: String!) { requestPasswordReset(email: $e) }', { e: address });
    await data('mutation($e: String) { requestEmailVerification(email: $e) }', { e: address });
  }
  await server.app.settle();
  await data('mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }', {
    t: await mailedToken(email, 'reset-password'),
    p: PASSWORD,
  });
  const relogin = await data<{ login: Payload }>(LOGIN_WITH_REFRESH, { email, password: PASSWORD });
  const moved = uniqueEmail('moved');
  await data(
    'mutation($e: String!, $p: String!) { requestEmailChange(newEmail: $e, password: $p) }',
    { e: moved, p: PASSWORD },
    bearer(relogin.login.accessToken),
  );
  await data('mutation($t: String!, $p: String!) { confirmEmailChange(token: $t, password: $p) }', {
    p: PASSWORD,
    t: await mailedToken(moved, 'confirm-email'),
  });
}

describe('query plans at 5,000 users', () => {
  it('answers every request path and sweep with point lookups or index ranges, never a scan', async () => {
    const capture = captureCalls(server.connection);
    let calls: CapturedCall[];
    try {
      await exerciseRequestPaths();
    } finally {
      capture.stop();
      calls = capture.calls;
    }
    const collections = new Set(calls.map((call) => call.collection));
    // The capture saw the paths it is meant to judge.
    for (const name of [
      'users',
      'user_emails',
      'sessions',
      'refresh_tokens',
      'audit_events',
      'api_keys',
      'user_api_keys',
      'admin_roster',
      'erased_users',
      'credential_changes',
      'one_time_tokens',
      'one_time_token_uses',
      'link_token_logs',
      'mail_outbox',
      'mail_logs',
      'mail_claims',
      'mail_deliveries',
      'totp_factors',
      'mfa_challenges',
      'mfa_claims',
      'mfa_logs',
    ]) {
      expect(collections).toContain(name);
    }
    // The embedded database's _id index helper indexes new collections within a few passes.
    let plans = await planCalls(server.connection, calls);
    for (let attempt = 0; attempt < 20 && plans.some((plan) => plan.scans); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      plans = await planCalls(server.connection, calls);
    }
    expect(plans.length).toBeGreaterThan(10);
    expect(plans.filter((plan) => plan.scans)).toEqual([]);
  }, 120_000);
});
