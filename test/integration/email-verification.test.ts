import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOGIN, SIGN_UP, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { countingHasher } from '../helpers/counting-hasher.js';
import { serversClosedAfterAll, type TestServer } from '../helpers/server.js';
import { linkTokens, startSmtpServer, waitFor, type TestSmtpServer } from '../helpers/smtp.js';

const VERIFY = 'mutation($token: String!) { verifyEmail(token: $token) }';
const REQUEST = 'mutation { requestEmailVerification }';
const VERIFIED = '{ me { emailVerified } }';
const PASSWORD = 'correct horse battery';
const COMPLETE = `mutation($token: String!, $password: String!) {
  completeSignUp(token: $token, password: $password) { accessToken user { email emailVerified } }
}`;

const start = serversClosedAfterAll();
let smtp: TestSmtpServer;
let open: TestServer;
let strict: TestServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  const env = {
    SMTP_URL: smtp.url,
    PUBLIC_URL: 'https://auth.example.com',
    // `me` reads the account as of REVOCATION_CACHE_TTL ago: these read it right after a change.
    REVOCATION_CACHE_TTL: '0',
    RATE_LIMIT_VERIFY_EMAIL_PER_IP: '100000/1m',
    RATE_LIMIT_COMPLETE_SIGN_UP_PER_IP: '100000/1m',
    RATE_LIMIT_EMAIL_VERIFICATION_PER_USER: '100000/1m',
  };
  [open, strict] = await Promise.all([
    start({ label: 'verify_open', env }),
    start({ label: 'verify_strict', env: { ...env, REQUIRE_VERIFIED_EMAIL: 'true' } }),
  ]);
});
afterAll(() => smtp.close());

const mailsTo = (email: string) => smtp.received.filter((mail) => mail.to.includes(email));

const VERIFY_LINK = 'https://auth.example.com/verify-email';

/** The token of the `count`th verification link mailed to `email`. */
async function verificationToken(email: string, count = 1) {
  await waitFor(() => linkTokens(smtp, email, VERIFY_LINK).length >= count);
  return linkTokens(smtp, email, VERIFY_LINK)[count - 1]!;
}

describe('email verification', () => {
  it('mails a link at sign-up that marks the address verified, once', async () => {
    const email = uniqueEmail('verify');
    const { token: access } = await signUp(open, email, PASSWORD);
    expect((await open.graphql(VERIFIED, {}, bearer(access))).body.data).toEqual({
      me: { emailVerified: false },
    });
    const token = await verificationToken(email);
    expect((await open.graphql(VERIFY, { token })).body.data).toEqual({ verifyEmail: true });
    expect((await open.graphql(VERIFIED, {}, bearer(access))).body.data).toEqual({
      me: { emailVerified: true },
    });
    expect(errorCode(await open.graphql(VERIFY, { token }))).toBe('INVALID_TOKEN');
  });

  it('sends a new link on request, and none once verified', async () => {
    const email = uniqueEmail('again');
    const { token: access } = await signUp(open, email, PASSWORD);
    await verificationToken(email);
    expect((await open.graphql(REQUEST, {}, bearer(access))).body.data).toEqual({
      requestEmailVerification: true,
    });
    const second = await verificationToken(email, 2);
    await open.graphql(VERIFY, { token: second });
    await open.graphql(REQUEST, {}, bearer(access));
    await open.app.settle();
    expect(mailsTo(email)).toHaveLength(2);
  });

  it('sends a link to an email given by someone signed out, telling nothing about the account', async () => {
    const email = uniqueEmail('signed-out');
    await signUp(open, email, PASSWORD);
    await verificationToken(email);
    const nobody = uniqueEmail('nobody');
    const REQUEST_FOR = 'mutation($email: String) { requestEmailVerification(email: $email) }';
    const [known, unknown] = await Promise.all([
      open.graphql(REQUEST_FOR, { email }),
      open.graphql(REQUEST_FOR, { email: nobody }),
    ]);
    expect(known.body).toEqual({ data: { requestEmailVerification: true } });
    expect(unknown.body).toEqual(known.body);
    await verificationToken(email, 2);
    await open.app.settle();
    expect(mailsTo(nobody)).toHaveLength(0);
    // Public: without a token it needs the email, and says so.
    expect(errorCode(await open.graphql(REQUEST))).toBe('BAD_USER_INPUT');
  });

  it('limits requests per address and email, and link checks per address (RATE_LIMITED)', async () => {
    const limited = await start({
      label: 'verify_limits',
      env: {
        SMTP_URL: smtp.url,
        RATE_LIMIT_EMAIL_VERIFICATION_PER_EMAIL: '2/1m',
        RATE_LIMIT_VERIFY_EMAIL_PER_IP: '2/1m',
      },
    });
    const REQUEST_FOR = 'mutation($email: String) { requestEmailVerification(email: $email) }';
    const email = uniqueEmail('limited');
    const requests = [];
    for (let i = 0; i < 3; i += 1) requests.push(await limited.graphql(REQUEST_FOR, { email }));
    expect(requests.map(errorCode)).toEqual([undefined, undefined, 'RATE_LIMITED']);
    const checks = [];
    for (let i = 0; i < 3; i += 1)
      checks.push(await limited.graphql(VERIFY, { token: 'E'.repeat(43) }));
    expect(checks.map(errorCode)).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN', 'RATE_LIMITED']);
  });

  it.each([
    ['garbage', 'nope'],
    ['unicode', 'é'.repeat(43)],
    ['never issued', 'C'.repeat(43)],
  ])('answers a %s token with INVALID_TOKEN', async (_label, token) => {
    const response = await open.graphql(VERIFY, { token });
    expect(response.status).toBe(200);
    expect(errorCode(response)).toBe('INVALID_TOKEN');
  });
});

const SIGN_UP_LINK = 'https://auth.example.com/complete-sign-up';

/** The token of the `count`th sign-up link mailed to `email`. */
async function signUpToken(email: string, count = 1) {
  await waitFor(() => linkTokens(smtp, email, SIGN_UP_LINK).length >= count);
  return linkTokens(smtp, email, SIGN_UP_LINK)[count - 1]!;
}

describe('with REQUIRE_VERIFIED_EMAIL=true', () => {
  it('signs up without tokens, and creates the account only when its link is followed', async () => {
    const email = uniqueEmail('strict');
    const signed = await strict.graphql(SIGN_UP, { email, password: PASSWORD });
    expect(signed.body.data).toBeNull();
    expect(errorCode(signed)).toBe('EMAIL_NOT_VERIFIED');
    const token = await signUpToken(email);
    // No account yet: the right password gets what an unknown email gets, so signing up and then
    // logging in tells nothing about who is registered, and nobody can squat the address.
    expect(errorCode(await strict.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'UNAUTHENTICATED',
    );
    // Not a verification link: verifyEmail neither takes nor spends it.
    expect(errorCode(await strict.graphql(VERIFY, { token }))).toBe('INVALID_TOKEN');
    // A password the policy refuses leaves the link usable.
    const weak = await strict.graphql(COMPLETE, { token, password: 'short' });
    expect(errorCode(weak)).toBe('BAD_USER_INPUT');
    const completed = await strict.graphql(COMPLETE, { token, password: 'chosen at the link' });
    expect(completed.body.errors).toBeUndefined();
    expect(completed.body.data?.completeSignUp).toMatchObject({
      accessToken: expect.any(String),
      user: { email, emailVerified: true },
    });
    // The account's password is the one chosen when the link was followed.
    expect(errorCode(await strict.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'UNAUTHENTICATED',
    );
    const login = await strict.graphql(LOGIN, { email, password: 'chosen at the link' });
    expect(login.body.errors).toBeUndefined();
    expect(
      errorCode(await strict.graphql(COMPLETE, { token, password: 'chosen at the link' })),
    ).toBe('INVALID_TOKEN');
  });

  it('spends a sign-up link before hashing: racing requests with one link cost one bcrypt', async () => {
    const counted = await countingHasher();
    const server = await start({
      label: 'verify_race',
      hasher: counted.hasher,
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL: 'https://auth.example.com',
        REQUIRE_VERIFIED_EMAIL: 'true',
        RATE_LIMIT_COMPLETE_SIGN_UP_PER_IP: '100000/1m',
      },
    });
    const email = uniqueEmail('race');
    expect(errorCode(await server.graphql(SIGN_UP, { email, password: PASSWORD }))).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    const token = await signUpToken(email);
    const before = counted.counter.hashes;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => server.graphql(COMPLETE, { token, password: PASSWORD })),
    );
    expect(outcomes.filter((outcome) => outcome.body.data?.completeSignUp)).toHaveLength(1);
    expect(outcomes.map(errorCode).filter(Boolean)).toEqual(Array(7).fill('INVALID_TOKEN'));
    expect(counted.counter.hashes - before).toBe(1);
  });

  it('refuses a new address written in Punycode before mailing anything', async () => {
    const email = `${uniqueEmail('puny').split('@')[0]}@xn--80ak6aa92e.com`;
    const refused = await strict.graphql(SIGN_UP, { email, password: PASSWORD });
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    await strict.app.settle();
    expect(mailsTo(email)).toHaveLength(0);
  });

  it('gives a stranger who signs up with your address nothing, even once you follow their links', async () => {
    const yours = uniqueEmail('pre-hijack');
    // A stranger signs up with your address, with a password of theirs, as often as the cap allows,
    // so that your own sign-up sends no further mail.
    for (let i = 0; i < 4; i += 1) {
      await strict.graphql(SIGN_UP, { email: yours, password: `the stranger's password ${i}` });
    }
    await strict.graphql(SIGN_UP, { email: yours, password: PASSWORD });
    await strict.app.settle();
    // Every link in your mailbox is the stranger's; any of them lets you choose the password.
    const token = await signUpToken(yours, 3);
    const completed = await strict.graphql(COMPLETE, { token, password: PASSWORD });
    expect(completed.body.errors).toBeUndefined();
    for (let i = 0; i < 4; i += 1) {
      const theirs = await strict.graphql(LOGIN, {
        email: yours,
        password: `the stranger's password ${i}`,
      });
      expect(errorCode(theirs)).toBe('UNAUTHENTICATED');
    }
    expect(
      (await strict.graphql(LOGIN, { email: yours, password: PASSWORD })).body.errors,
    ).toBeUndefined();
    // The other links now find the address registered, and say so only to its mailbox.
    const other = await strict.graphql(COMPLETE, {
      token: await signUpToken(yours, 1),
      password: 'x'.repeat(12),
    });
    expect(errorCode(other)).toBe('BAD_USER_INPUT');
  });

  it('refuses an unverified account after the right password only, and mails it a new link', async () => {
    // An account from before REQUIRE_VERIFIED_EMAIL was turned on.
    const email = uniqueEmail('older');
    await strict.app.services.users.signUp(email, PASSWORD);
    expect(errorCode(await strict.graphql(LOGIN, { email, password: 'wrong password!' }))).toBe(
      'UNAUTHENTICATED',
    );
    expect(errorCode(await strict.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    const token = await verificationToken(email);
    expect((await strict.graphql(VERIFY, { token })).body.data).toEqual({ verifyEmail: true });
    expect(
      (await strict.graphql(LOGIN, { email, password: PASSWORD })).body.errors,
    ).toBeUndefined();
  });

  it('answers a registered email exactly like a new one, and tells its owner', async () => {
    const taken = uniqueEmail('taken');
    await strict.graphql(SIGN_UP, { email: taken, password: PASSWORD });
    await strict.graphql(COMPLETE, { token: await signUpToken(taken), password: PASSWORD });
    const fresh = uniqueEmail('fresh');
    const [again, first] = await Promise.all([
      strict.graphql(SIGN_UP, { email: taken, password: 'someone else entirely' }),
      strict.graphql(SIGN_UP, { email: fresh, password: 'someone else entirely' }),
    ]);
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    await waitFor(() => mailsTo(taken).length >= 2);
    expect(mailsTo(taken)[1]!.parsed.subject).toMatch(/sign|regist/i);
    await signUpToken(fresh);
  });
});
