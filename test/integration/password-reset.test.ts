import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { LOGIN, ME, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';
import {
  linkTokens,
  startSmtpServer,
  unusedPort,
  waitFor,
  type TestSmtpServer,
} from '../helpers/smtp.js';

const REQUEST = 'mutation($email: String!) { requestPasswordReset(email: $email) }';
const RESET =
  'mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';

const start = serversClosedAfterAll();
let smtp: TestSmtpServer;
let server: TestServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await start({
    label: 'password_reset',
    env: {
      SMTP_URL: smtp.url,
      PUBLIC_URL: 'https://auth.example.com',
      REVOCATION_CACHE_TTL: '0',
      RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_IP: '100000/1m',
      RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_EMAIL: '100000/1m',
      RATE_LIMIT_PASSWORD_RESET_PER_IP: '100000/1m',
    },
  });
});
afterAll(() => smtp.close());

const mailsTo = (email: string) => smtp.received.filter((mail) => mail.to.includes(email));

/** Everything started by the requests so far is done, and the outbox has been worked through. */
async function settled() {
  await server.app.settle();
}

const RESET_LINK = /https:\/\/auth\.example\.com\/reset-password\?token=([A-Za-z0-9_-]{43})/;
/** The reset mails `email` has received (sign-up sends a verification mail first). */
const resetMails = (email: string) =>
  mailsTo(email).filter((mail) => RESET_LINK.test(mail.parsed.text ?? ''));

/** The token of the `count`th reset link mailed to `email`. */
async function resetToken(email: string, count = 1) {
  await waitFor(() => resetMails(email).length >= count);
  const mail = resetMails(email)[count - 1]!;
  expect(mail.parsed.subject).toMatch(/reset/i);
  return RESET_LINK.exec(mail.parsed.text ?? '')![1]!;
}

describe('password reset', () => {
  it('mails a link whose token sets a new password, ends every session and mails a notice', async () => {
    const email = uniqueEmail('reset');
    const { token: accessToken } = await signUp(server, email, PASSWORD);
    const requested = await server.graphql(REQUEST, { email: email.toUpperCase() });
    expect(requested.body).toEqual({ data: { requestPasswordReset: true } });
    const token = await resetToken(email);

    expect((await server.graphql(RESET, { token, password: NEW_PASSWORD })).body).toEqual({
      data: { resetPassword: true },
    });
    expect(errorCode(await server.graphql(ME, {}, bearer(accessToken)))).toBe('UNAUTHENTICATED');
    expect(errorCode(await server.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'UNAUTHENTICATED',
    );
    const login = await server.graphql(LOGIN, { email, password: NEW_PASSWORD });
    expect(login.body.errors).toBeUndefined();
    // Following the link proved the mailbox.
    const accessToken2 = (login.body.data?.login as { accessToken: string }).accessToken;
    expect(
      (await server.graphql('{ me { emailVerified } }', {}, bearer(accessToken2))).body.data,
    ).toEqual({
      me: { emailVerified: true },
    });
    await waitFor(() => mailsTo(email).some((mail) => /changed/i.test(mail.parsed.subject ?? '')));
  });

  it('answers an unknown email exactly as a known one, and mails nobody', async () => {
    const known = uniqueEmail('known');
    await signUp(server, known, PASSWORD);
    const unknown = uniqueEmail('nobody');
    const answers = await Promise.all([
      server.graphql(REQUEST, { email: known }),
      server.graphql(REQUEST, { email: unknown }),
    ]);
    expect(answers[1]!.status).toBe(answers[0]!.status);
    expect(answers[1]!.body).toEqual(answers[0]!.body);
    await resetToken(known);
    await settled();
    expect(mailsTo(unknown)).toHaveLength(0);
  });

  it('works once: a second use, and a racing one, get INVALID_TOKEN', async () => {
    const email = uniqueEmail('once');
    await signUp(server, email, PASSWORD);
    await server.graphql(REQUEST, { email });
    const token = await resetToken(email);
    const racing = await Promise.all(
      [1, 2, 3].map(() => server.graphql(RESET, { token, password: NEW_PASSWORD })),
    );
    expect(racing.filter((response) => response.body.data?.resetPassword === true)).toHaveLength(1);
    expect(racing.map(errorCode).filter(Boolean)).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN']);
    expect(errorCode(await server.graphql(RESET, { token, password: 'yet another one!' }))).toBe(
      'INVALID_TOKEN',
    );
  });

  it('refuses a weak password before spending the token', async () => {
    const email = uniqueEmail('weak');
    await signUp(server, email, PASSWORD);
    await server.graphql(REQUEST, { email });
    const token = await resetToken(email);
    const weak = await server.graphql(RESET, { token, password: 'short' });
    expect(errorCode(weak)).toBe('BAD_USER_INPUT');
    const retried = await server.graphql(RESET, { token, password: NEW_PASSWORD });
    expect(retried.body.data).toEqual({ resetPassword: true });
  });

  it('voids links sent before a password change', async () => {
    const email = uniqueEmail('voided');
    await signUp(server, email, PASSWORD);
    await server.graphql(REQUEST, { email });
    const first = await resetToken(email);
    await server.graphql(REQUEST, { email });
    const second = await resetToken(email, 2);
    expect(
      (await server.graphql(RESET, { token: second, password: NEW_PASSWORD })).body.data,
    ).toEqual({ resetPassword: true });
    expect(
      errorCode(await server.graphql(RESET, { token: first, password: 'another passphrase' })),
    ).toBe('INVALID_TOKEN');
  });

  it('voids links mailed to an address the account has moved away from', async () => {
    const [from, to] = [uniqueEmail('old-box'), uniqueEmail('new-box')];
    const { token: access } = await signUp(server, from, PASSWORD);
    await server.graphql(REQUEST, { email: from });
    const stale = await resetToken(from);
    await server.graphql(
      'mutation($e: String!, $p: String!) { requestEmailChange(newEmail: $e, password: $p) }',
      { e: to, p: PASSWORD },
      bearer(access),
    );
    await waitFor(() => mailsTo(to).length > 0);
    const change = linkTokens(smtp, to, '/confirm-email')[0]!;
    await server.graphql(
      'mutation($t: String!, $p: String!) { confirmEmailChange(token: $t, password: $p) }',
      { t: change, p: PASSWORD },
    );
    expect(errorCode(await server.graphql(RESET, { token: stale, password: NEW_PASSWORD }))).toBe(
      'INVALID_TOKEN',
    );
  });

  it('refuses an expired link', async () => {
    const email = uniqueEmail('expired');
    await signUp(server, email, PASSWORD);
    await server.graphql(REQUEST, { email });
    const token = await resetToken(email);
    const hash = createHash('sha256').update(token).digest('hex');
    await server.connection
      .collection<{ _id: string }>('one_time_tokens')
      .updateOne({ _id: hash }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect(errorCode(await server.graphql(RESET, { token, password: NEW_PASSWORD }))).toBe(
      'INVALID_TOKEN',
    );
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a token at all'],
    ['unicode', 'ü'.repeat(43)],
    ['emoji', '🔑'.repeat(30)],
    ['huge', 'A'.repeat(100_000)],
    ['well formed, never issued', 'B'.repeat(43)],
  ])('answers a %s token with INVALID_TOKEN, not an error page', async (_label, token) => {
    const response = await server.graphql(RESET, { token, password: NEW_PASSWORD });
    expect(response.status).toBe(200);
    expect(errorCode(response)).toBe('INVALID_TOKEN');
    expect(response.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('mails one account at most PASSWORD_RESET_MAILS_PER_ACCOUNT links, answering true throughout', async () => {
    const email = uniqueEmail('capped');
    await signUp(server, email, PASSWORD);
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() => server.graphql(REQUEST, { email })),
    );
    expect(answers.map((answer) => answer.body.data)).toEqual(
      Array(5).fill({ requestPasswordReset: true }),
    );
    await settled();
    expect(resetMails(email)).toHaveLength(3);
  });

  it("keeps the link's token sealed while its mail waits for a mail server that is down", async () => {
    const down = await start({
      label: 'password_reset_down',
      env: { SMTP_URL: `smtp://127.0.0.1:${await unusedPort()}`, REVOCATION_CACHE_TTL: '0' },
    });
    const email = uniqueEmail('waiting');
    await down.app.services.users.signUp(email, PASSWORD);
    await down.graphql(REQUEST, { email });
    await down.app.settle();
    const waiting = await down.connection
      .collection<{ kind: string; message: { token?: string } }>('mail_outbox')
      .find({ kind: 'password-reset' })
      .toArray();
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.message.token).toMatch(/^sealed:/);
  });

  it('limits requests per address and email, and resets per address (RATE_LIMITED)', async () => {
    const limited = await start({
      label: 'password_reset_limits',
      env: {
        SMTP_URL: smtp.url,
        RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_IP: '100/1m',
        RATE_LIMIT_PASSWORD_RESET_REQUEST_PER_EMAIL: '2/1m',
        RATE_LIMIT_PASSWORD_RESET_PER_IP: '2/1m',
      },
    });
    const email = uniqueEmail('limited');
    const requests = [];
    for (let i = 0; i < 3; i += 1) requests.push(await limited.graphql(REQUEST, { email }));
    expect(requests.map(errorCode)).toEqual([undefined, undefined, 'RATE_LIMITED']);
    // Another email from the same address is counted apart.
    expect((await limited.graphql(REQUEST, { email: uniqueEmail('other') })).body.data).toEqual({
      requestPasswordReset: true,
    });
    const resets = [];
    for (let i = 0; i < 3; i += 1) {
      resets.push(await limited.graphql(RESET, { token: 'D'.repeat(43), password: NEW_PASSWORD }));
    }
    expect(resets.map(errorCode)).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN', 'RATE_LIMITED']);
  });

  it('never puts the token in a log line or the database', async () => {
    const email = uniqueEmail('secret');
    await signUp(server, email, PASSWORD);
    await server.graphql(REQUEST, { email });
    const token = await resetToken(email);
    await settled();
    expect(server.logs.join('\n')).not.toContain(token);
    const stored = await Promise.all(
      ['one_time_tokens', 'mail_outbox'].map((name) =>
        server.connection.collection(name).find().toArray(),
      ),
    );
    expect(JSON.stringify(stored)).not.toContain(token);
  });
});

const CHANGE_PASSWORD = `mutation($current: String!, $password: String!) {
  changePassword(currentPassword: $current, newPassword: $password) { accessToken }
}`;

describe('password change', () => {
  it('mails the password-changed notice to the account, as a reset does', async () => {
    const email = uniqueEmail('changed');
    const { token } = await signUp(server, email, PASSWORD);
    const changed = await server.graphql(
      CHANGE_PASSWORD,
      { current: PASSWORD, password: NEW_PASSWORD },
      bearer(token),
    );
    expect(changed.body.errors).toBeUndefined();
    await waitFor(() => mailsTo(email).some((mail) => /changed/i.test(mail.parsed.subject ?? '')));
    const notice = mailsTo(email).find((mail) => /changed/i.test(mail.parsed.subject ?? ''))!;
    expect(notice.parsed.subject).toBe('Your password was changed');
    expect(notice.parsed.text).toMatch(/password of your account was just changed/);
  });

  it('answers at once even when the notice cannot be queued', async () => {
    const email = uniqueEmail('changed-outbox-down');
    const { token } = await signUp(server, email, PASSWORD);
    await server.app.settle();
    const mail = server.app.services.mail;
    const enqueue = mail.enqueue.bind(mail);
    const attempted: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // An outbox that hangs, then fails: the response must wait for neither.
    mail.enqueue = async (message) => {
      attempted.push(message.kind);
      await held;
      throw new Error('outbox unavailable');
    };
    try {
      const changed = await server.graphql(
        CHANGE_PASSWORD,
        { current: PASSWORD, password: NEW_PASSWORD },
        bearer(token),
      );
      expect(changed.body.errors).toBeUndefined();
      expect(changed.body.data?.changePassword).toEqual({ accessToken: expect.any(String) });
      expect(attempted).toEqual(['password-changed']);
    } finally {
      release();
      await server.app.settle();
      mail.enqueue = enqueue;
    }
  });
});
