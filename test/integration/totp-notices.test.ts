import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer } from '../helpers/operations.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';
import { startSmtpServer, waitFor, type TestSmtpServer } from '../helpers/smtp.js';
import { PASSWORD, accessTokenOf, challengeFor, enrolledUser, verify } from '../helpers/totp.js';

const start = serversClosedAfterAll();
let smtp: TestSmtpServer;
let server: TestServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await start({
    label: 'totp_notices',
    env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://auth.example.com' },
  });
});
afterAll(() => smtp.close());

const DISABLE = 'mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }';

/** The subjects of the mail `email` has received so far. */
const subjectsTo = (email: string) =>
  smtp.received.filter((mail) => mail.to.includes(email)).map((mail) => mail.parsed.subject ?? '');

describe('TOTP notices', () => {
  it('mails the account when two-factor is turned on, and again when it is turned off', async () => {
    const user = await enrolledUser(server, 'notices');
    await waitFor(() => subjectsTo(user.email).includes('Two-factor sign-in was turned on'));
    const on = smtp.received.find(
      (mail) =>
        mail.to.includes(user.email) && mail.parsed.subject === 'Two-factor sign-in was turned on',
    )!;
    expect(on.parsed.text).toMatch(/just turned on for your account/);
    expect(on.parsed.html).toMatch(/^<!doctype html>/);
    expect(subjectsTo(user.email)).not.toContain('Two-factor sign-in was turned off');

    const stepped = accessTokenOf(
      await verify(server, await challengeFor(server, user.email), user.recoveryCodes[0]!),
    )!;
    const disabled = await server.graphql(
      DISABLE,
      { p: PASSWORD, c: user.recoveryCodes[1]! },
      bearer(stepped),
    );
    expect(disabled.body.data).toEqual({ disableTotp: true });
    await waitFor(() => subjectsTo(user.email).includes('Two-factor sign-in was turned off'));
    const off = smtp.received.find(
      (mail) =>
        mail.to.includes(user.email) && mail.parsed.subject === 'Two-factor sign-in was turned off',
    )!;
    expect(off.parsed.text).toMatch(/just turned off for your account/);
  });
});
