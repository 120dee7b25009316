import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOGIN, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';
import { linkTokens, startSmtpServer, waitFor, type TestSmtpServer } from '../helpers/smtp.js';

const REQUEST =
  'mutation($email: String!, $password: String!) { requestEmailChange(newEmail: $email, password: $password) }';
const PASSWORD = 'correct horse battery';
/** Confirming takes the password of the account that asked (PASSWORD unless given). */
const CONFIRM = `mutation($token: String!, $password: String! = "${PASSWORD}") {
  confirmEmailChange(token: $token, password: $password)
}`;
const ME = '{ me { email emailVerified } }';

const start = serversClosedAfterAll();
let smtp: TestSmtpServer;
let server: TestServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await start({
    label: 'email_change',
    env: {
      SMTP_URL: smtp.url,
      PUBLIC_URL: 'https://auth.example.com',
      // `me` reads the account as of REVOCATION_CACHE_TTL ago: these read it right after a change.
      REVOCATION_CACHE_TTL: '0',
      RATE_LIMIT_EMAIL_CHANGE_PER_USER: '100000/1m',
      RATE_LIMIT_EMAIL_CHANGE_PER_IP: '100000/1m',
      RATE_LIMIT_CONFIRM_EMAIL_CHANGE_PER_IP: '100000/1m',
    },
  });
});
afterAll(() => smtp.close());

const mailsTo = (email: string) => smtp.received.filter((mail) => mail.to.includes(email));

const CONFIRM_LINK = 'https://auth.example.com/confirm-email';

async function changeToken(email: string) {
  await waitFor(() => linkTokens(smtp, email, CONFIRM_LINK).length >= 1);
  return linkTokens(smtp, email, CONFIRM_LINK)[0]!;
}

describe('email change', () => {
  it('applies once the new address confirms, and tells the old one at once', async () => {
    const [from, to] = [uniqueEmail('from'), uniqueEmail('to')];
    const { token: access } = await signUp(server, from, PASSWORD);
    const asked = await server.graphql(REQUEST, { email: to, password: PASSWORD }, bearer(access));
    expect(asked.body.data).toEqual({ requestEmailChange: true });
    // The notice names the new address masked: text the requester chose is not quoted.
    const masked = `${to[0]}***@example.com`;
    await waitFor(() => mailsTo(from).some((mail) => (mail.parsed.text ?? '').includes(masked)));
    expect(mailsTo(from).some((mail) => (mail.parsed.text ?? '').includes(to))).toBe(false);
    expect((await server.graphql(ME, {}, bearer(access))).body.data).toEqual({
      me: { email: from, emailVerified: false },
    });

    const token = await changeToken(to);
    expect((await server.graphql(CONFIRM, { token })).body.data).toEqual({
      confirmEmailChange: true,
    });
    expect((await server.graphql(ME, {}, bearer(access))).body.data).toEqual({
      me: { email: to, emailVerified: true },
    });
    expect(
      (await server.graphql(LOGIN, { email: to, password: PASSWORD })).body.errors,
    ).toBeUndefined();
    expect(errorCode(await server.graphql(LOGIN, { email: from, password: PASSWORD }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(errorCode(await server.graphql(CONFIRM, { token }))).toBe('INVALID_TOKEN');
  });

  it('needs the password of the account that asked: following a stranger’s link gives them nothing', async () => {
    // A stranger asks to move their account to your address; you follow the link you were mailed.
    const [stranger, yours] = [uniqueEmail('stranger'), uniqueEmail('yours')];
    const { token: access } = await signUp(server, stranger, 'the stranger’s password');
    await server.graphql(
      REQUEST,
      { email: yours, password: 'the stranger’s password' },
      bearer(access),
    );
    const token = await changeToken(yours);
    for (const password of [PASSWORD, '', 'x'.repeat(100)]) {
      const refused = await server.graphql(CONFIRM, { token, password });
      expect(refused.body.data).toBeNull();
      expect(errorCode(refused)).toBe(password.length > 72 ? 'BAD_USER_INPUT' : 'UNAUTHENTICATED');
    }
    expect((await server.graphql(ME, {}, bearer(access))).body.data).toEqual({
      me: { email: stranger, emailVerified: false },
    });
    // A wrong password does not spend the link: the account that asked can still confirm.
    const confirmed = await server.graphql(CONFIRM, { token, password: 'the stranger’s password' });
    expect(confirmed.body.data).toEqual({ confirmEmailChange: true });
  });

  it('counts wrong passwords at confirmation apart from the account’s own password checks', async () => {
    const [from, to] = [uniqueEmail('link-lockout'), uniqueEmail('link-lockout-to')];
    const { token: access } = await signUp(server, from, PASSWORD);
    await server.graphql(REQUEST, { email: to, password: PASSWORD }, bearer(access));
    const token = await changeToken(to);
    const codes = [];
    for (let i = 0; i < 7; i += 1) {
      codes.push(
        errorCode(await server.graphql(CONFIRM, { token, password: `guess number ${i}` })),
      );
    }
    expect(codes).toContain('RATE_LIMITED');
    // Whoever holds the link has locked only the link's checks, not the owner's own.
    const asked = await server.graphql(
      REQUEST,
      { email: uniqueEmail('still-mine'), password: PASSWORD },
      bearer(access),
    );
    expect(asked.body.data).toEqual({ requestEmailChange: true });
  });

  it('is void once the password changes: the owner taking the account back cancels it', async () => {
    const [from, to] = [uniqueEmail('taken-back'), uniqueEmail('attacker')];
    const { token: access } = await signUp(server, from, PASSWORD);
    await server.graphql(REQUEST, { email: to, password: PASSWORD }, bearer(access));
    const token = await changeToken(to);
    const changed = await server.graphql(
      'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }',
      { c: PASSWORD, n: 'the owner took it back' },
      bearer(access),
    );
    expect(changed.body.errors).toBeUndefined();
    expect(errorCode(await server.graphql(CONFIRM, { token }))).toBe('INVALID_TOKEN');
  });

  it('needs the current password', async () => {
    const { token: access } = await signUp(server, uniqueEmail('pw'), PASSWORD);
    const refused = await server.graphql(
      REQUEST,
      { email: uniqueEmail('elsewhere'), password: 'not my password' },
      bearer(access),
    );
    expect(errorCode(refused)).toBe('UNAUTHENTICATED');
  });

  it('refuses a new address whose domain is written as Punycode (xn--), mailing nothing', async () => {
    const { token: access } = await signUp(server, uniqueEmail('idn-mover'), PASSWORD);
    const to = `idn-${Date.now()}@xn--b-eha.example`;
    const refused = await server.graphql(
      REQUEST,
      { email: to, password: PASSWORD },
      bearer(access),
    );
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect(refused.body.errors?.[0]?.message).toMatch(/Unicode form/);
    expect(mailsTo(to)).toHaveLength(0);
    const unicode = to.replace('xn--b-eha', 'b\u00fc');
    const accepted = await server.graphql(
      REQUEST,
      { email: unicode, password: PASSWORD },
      bearer(access),
    );
    expect(accepted.body.data).toEqual({ requestEmailChange: true });
  });

  it('loses to a sign-up that takes the new address first, changing nothing', async () => {
    const [from, to] = [uniqueEmail('loser'), uniqueEmail('contested')];
    const { token: access } = await signUp(server, from, PASSWORD);
    await server.graphql(REQUEST, { email: to, password: PASSWORD }, bearer(access));
    const token = await changeToken(to);
    await signUp(server, to, 'someone else entirely');
    expect(errorCode(await server.graphql(CONFIRM, { token }))).toBe('BAD_USER_INPUT');
    expect((await server.graphql(ME, {}, bearer(access))).body.data).toEqual({
      me: { email: from, emailVerified: false },
    });
  });

  it('lets one of two changes racing to the same address win', async () => {
    const target = uniqueEmail('wanted');
    const racers = await Promise.all(
      [uniqueEmail('racer-a'), uniqueEmail('racer-b')].map((email) =>
        signUp(server, email, PASSWORD),
      ),
    );
    for (const { token: access } of racers) {
      await server.graphql(REQUEST, { email: target, password: PASSWORD }, bearer(access));
    }
    await waitFor(() => mailsTo(target).length >= 2);
    const tokens = linkTokens(smtp, target, CONFIRM_LINK);
    const outcomes = await Promise.all(tokens.map((token) => server.graphql(CONFIRM, { token })));
    expect(
      outcomes.filter((outcome) => outcome.body.data?.confirmEmailChange === true),
    ).toHaveLength(1);
    expect(outcomes.map(errorCode).filter(Boolean)).toEqual(['BAD_USER_INPUT']);
  });

  it('mails one address at most EMAIL_VERIFICATION_MAILS_PER_ACCOUNT times, whichever accounts ask', async () => {
    const target = uniqueEmail('bombed');
    const askers = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => signUp(server, uniqueEmail(`asker-${n}`), PASSWORD)),
    );
    for (const { token: access } of askers) {
      const asked = await server.graphql(
        REQUEST,
        { email: target, password: PASSWORD },
        bearer(access),
      );
      expect(asked.body.data).toEqual({ requestEmailChange: true });
    }
    await waitFor(() => mailsTo(target).length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(mailsTo(target)).toHaveLength(3);
  });

  it('applies one of two changes of one account confirmed at once, leaving the other address free', async () => {
    for (let round = 0; round < 3; round++) {
      const from = uniqueEmail('split');
      const targets = [uniqueEmail('split-b'), uniqueEmail('split-c')];
      const { token: access } = await signUp(server, from, PASSWORD);
      for (const email of targets) {
        await server.graphql(REQUEST, { email, password: PASSWORD }, bearer(access));
      }
      const tokens = await Promise.all(targets.map(changeToken));
      const outcomes = await Promise.all(tokens.map((token) => server.graphql(CONFIRM, { token })));
      const won = outcomes.map((outcome) => outcome.body.data?.confirmEmailChange === true);
      expect(won.filter(Boolean)).toHaveLength(1);
      const lost = outcomes.find((_, i) => !won[i])!;
      expect(['INVALID_TOKEN', 'BAD_USER_INPUT']).toContain(errorCode(lost));
      const [winner, loser] = won[0] ? targets : [targets[1]!, targets[0]!];
      expect((await server.graphql(ME, {}, bearer(access))).body.data).toEqual({
        me: { email: winner, emailVerified: true },
      });
      // No claim on the losing address is left naming the account: anyone may register it.
      await signUp(server, loser!, 'someone else entirely');
    }
  });
});
