import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSmtpTransport } from '../../src/modules/mail/transport.js';
import { SIGN_UP, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

const PASSWORD = 'correct horse battery';
const REQUEST =
  'mutation($email: String!, $password: String!) { requestEmailChange(newEmail: $email, password: $password) }';

const start = serversClosedAfterAll();
let smtp: TestSmtpServer;
let server: TestServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await start({ label: 'mail_addresses', env: { SMTP_URL: smtp.url } });
});
afterAll(() => smtp.close());

/** Addresses a mail library reads as a list or a group: each would reach box@… alone. */
const listLike = (box: string) => [
  `alias1,${box}`,
  `alias2<${box}>`,
  `grp:${box};`,
  `"quoted"${box}`,
  `(comment)${box}`,
  `a;${box}`,
];

describe('addresses that are more than one address', () => {
  it('still lets an address in another script sign up and log in (RFC 6531)', async () => {
    const email = `zoë-${Date.now()}@bücher.example`;
    expect(
      (await server.graphql(SIGN_UP, { email, password: PASSWORD })).body.errors,
    ).toBeUndefined();
    const login = await server.graphql(
      'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
      { e: email, p: PASSWORD },
    );
    expect(login.body.errors).toBeUndefined();
  });

  it('are refused at sign-up, so one mailbox cannot hold many accounts', async () => {
    const box = uniqueEmail('box');
    for (const email of listLike(box)) {
      const response = await server.graphql(SIGN_UP, { email, password: PASSWORD });
      expect([email, errorCode(response)]).toEqual([email, 'BAD_USER_INPUT']);
    }
  });

  it('are refused as the new address of an email change', async () => {
    const { token } = await signUp(server, uniqueEmail('mover'), PASSWORD);
    const victim = uniqueEmail('victim');
    const response = await server.graphql(
      REQUEST,
      { email: `x,${victim}`, password: PASSWORD },
      bearer(token),
    );
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
  });

  it('still accepts every dot-atom character', async () => {
    const email = `o'neil+tag!#$%&*/=?^_\`{|}~-${Date.now()}@mail-1.example.com`;
    await signUp(server, email, PASSWORD);
  });

  it('are sent to one recipient by the SMTP transport, never split into a list', async () => {
    const own = await startSmtpServer();
    const transport = createSmtpTransport(own.url, 'Auth API <no-reply@localhost>');
    try {
      for (const to of [
        'x,victim@example.com',
        'grp:victim@example.com;',
        'a<victim@example.com>',
      ]) {
        await transport
          .send({ kind: 'verify-email', to, subject: 'Hi', text: 'Hi\n', html: '<p>Hi</p>' })
          .catch(() => undefined); // a server may refuse the quoted address: that is fine too
      }
      expect(own.received.length).toBeGreaterThan(0);
      for (const mail of own.received) {
        expect(mail.to).toHaveLength(1);
        expect(mail.to).not.toContain('victim@example.com');
        expect(mail.from).toBe('no-reply@localhost');
      }
    } finally {
      transport.close();
      await own.close();
    }
  });
});
