import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOGIN, SIGN_UP, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll, type GraphQLResponse, type TestServer } from '../helpers/server.js';
import { linkTokens, startSmtpServer, waitFor, type TestSmtpServer } from '../helpers/smtp.js';

/**
 * Every public operation that takes an email, for a registered and an unregistered one: the
 * answers must be the same (status and body, with anything secret-looking masked), so that none
 * of them tells which emails have accounts. Sign-up is compared in REQUIRE_VERIFIED_EMAIL mode,
 * where that promise holds; without it, sign-up says so by design (docs/security.md).
 */
const OPERATIONS: [name: string, query: string, extra: Record<string, unknown>][] = [
  ['login', LOGIN, { password: 'not the password 1' }],
  ['signUp', SIGN_UP, { password: 'a password for both' }],
  ['requestPasswordReset', 'mutation($email: String!) { requestPasswordReset(email: $email) }', {}],
  [
    'requestEmailVerification',
    'mutation($email: String) { requestEmailVerification(email: $email) }',
    {},
  ],
];

const start = serversClosedAfterAll();
let smtp: TestSmtpServer;
let server: TestServer;
let registered: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await start({
    label: 'enumeration',
    env: {
      SMTP_URL: smtp.url,
      REQUIRE_VERIFIED_EMAIL: 'true',
      RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_IP: '100000/1m',
      RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_EMAIL: '100000/1m',
      RATE_LIMIT_EMAIL_VERIFICATION_PER_IP: '100000/1m',
      RATE_LIMIT_EMAIL_VERIFICATION_PER_EMAIL: '100000/1m',
    },
  });
  registered = uniqueEmail('registered');
  await server.graphql(SIGN_UP, { email: registered, password: 'the real password 1' });
  await waitFor(() => linkTokens(smtp, registered, '/complete-sign-up').length > 0);
  // In this mode the account exists once its link is followed, with the password chosen then.
  const [token] = linkTokens(smtp, registered, '/complete-sign-up');
  await server.graphql(
    'mutation($t: String!, $p: String!) { completeSignUp(token: $t, password: $p) { expiresIn } }',
    { t: token, p: 'the real password 1' },
  );
  const login = await server.graphql(LOGIN, { email: registered, password: 'the real password 1' });
  if (login.body.errors) throw new Error(`the registered account is not usable: ${login.text}`);
});
afterAll(() => smtp.close());

/** Status and body, with every long token-like string replaced, and no request-specific ids. */
const comparable = (response: GraphQLResponse) => ({
  status: response.status,
  body: JSON.parse(response.text.replace(/[A-Za-z0-9_.-]{32,}/g, '<masked>')) as unknown,
});

describe('no account enumeration', () => {
  it('signing up and then logging in with that password tells nothing either', async () => {
    const unknown = uniqueEmail('probe');
    const attempt = async (email: string) => {
      await server.graphql(SIGN_UP, { email, password: 'the prober password' });
      await server.app.settle();
      return server.graphql(LOGIN, { email, password: 'the prober password' });
    };
    const forRegistered = await attempt(registered);
    const forUnknown = await attempt(unknown);
    expect(comparable(forUnknown)).toEqual(comparable(forRegistered));
  });

  it.each(OPERATIONS)(
    '%s answers a registered and an unknown email alike',
    async (_name, query, extra) => {
      const unknown = uniqueEmail('unknown');
      const [forRegistered, forUnknown] = await Promise.all([
        server.graphql(query, { email: registered, ...extra }),
        server.graphql(query, { email: unknown, ...extra }),
      ]);
      expect(comparable(forUnknown)).toEqual(comparable(forRegistered));
    },
  );
});
