import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import { createSealer, parseDataKey } from '../../src/lib/data-encryption.js';
import { bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { freshDatabaseUri } from '../helpers/database.js';
import { startTestServer, TEST_DATA_KEY, type TestServer } from '../helpers/server.js';
import {
  CONFIRM,
  ENROLL,
  LOGIN_ONLY,
  PASSWORD,
  accessTokenOf,
  awayFromStepEdge,
  challengeFor,
  claimsOf,
  enrolledUser,
  totpCode,
  turnOnTotp,
  verify,
  verifyAddress,
} from '../helpers/totp.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ label: 'totp' });
});
afterAll(() => server.close());

const TOTP_ENABLED = 'query { me { totpEnabled } }';

/** A new account whose address is verified: TOTP asks for one. */
async function verifiedSignUp(prefix: string) {
  const signedUp = await signUp(server, uniqueEmail(prefix), PASSWORD);
  await verifyAddress(server, signedUp.userId);
  return signedUp;
}

describe('TOTP enrolment', () => {
  it('enrols with a secret, an otpauth URI and an SVG QR code, and confirms with a code', async () => {
    const { token } = await verifiedSignUp('enrol');
    const response = await server.graphql(ENROLL, {}, bearer(token));
    const enrolment = response.body.data?.enrollTotp as {
      secret: string;
      uri: string;
      qrCode: string;
    };
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolment.uri).toMatch(/^otpauth:\/\/totp\/.+secret=[A-Z2-7]+/);
    expect(enrolment.uri).toContain('algorithm=SHA1&digits=6&period=30');
    expect(enrolment.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(enrolment.qrCode.split(',')[1]!, 'base64').toString('utf8');
    expect(svg).toContain('<svg');
    // Pending: not on until confirmed.
    expect((await server.graphql(TOTP_ENABLED, {}, bearer(token))).body.data).toEqual({
      me: { totpEnabled: false },
    });
    await awayFromStepEdge();
    const confirmed = await server.graphql(
      CONFIRM,
      { c: totpCode(enrolment.secret) },
      bearer(token),
    );
    const codes = confirmed.body.data?.confirmTotp as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect((await server.graphql(TOTP_ENABLED, {}, bearer(token))).body.data).toEqual({
      me: { totpEnabled: true },
    });
  });

  it('refuses enrolment and confirmation while the address is unverified', async () => {
    const { token, userId } = await signUp(server, uniqueEmail('unverified'), PASSWORD);
    const refusedEnrol = await server.graphql(ENROLL, {}, bearer(token));
    expect(errorCode(refusedEnrol)).toBe('EMAIL_NOT_VERIFIED');
    expect(refusedEnrol.body.errors?.[0]?.message).toMatch(
      /^Verify your email address before turning on two-factor/,
    );
    expect(errorCode(await server.graphql(CONFIRM, { c: '123456' }, bearer(token)))).toBe(
      'EMAIL_NOT_VERIFIED',
    );

    // Verified since: the same token enrols at once. A pending secret whose address is no longer
    // verified (an account from before verification existed) is not confirmed.
    await verifyAddress(server, userId);
    const { secret } = (await server.graphql(ENROLL, {}, bearer(token))).body.data?.enrollTotp as {
      secret: string;
    };
    await server.connection
      .collection('users')
      .updateOne({ _id: new Types.ObjectId(userId) }, { $set: { emailVerified: false } });
    await awayFromStepEdge();
    const confirmed = await server.graphql(CONFIRM, { c: totpCode(secret) }, bearer(token));
    expect(errorCode(confirmed)).toBe('EMAIL_NOT_VERIFIED');
    expect(await server.app.services.mfa.isEnrolled(userId)).toBe(false);
  });

  it('replaces a pending secret when enrolling again, and never an active one', async () => {
    const { token } = await verifiedSignUp('re-enrol');
    const first = (await server.graphql(ENROLL, {}, bearer(token))).body.data?.enrollTotp as {
      secret: string;
    };
    const second = (await server.graphql(ENROLL, {}, bearer(token))).body.data?.enrollTotp as {
      secret: string;
    };
    expect(second.secret).not.toBe(first.secret);
    await awayFromStepEdge();
    const stale = await server.graphql(CONFIRM, { c: totpCode(first.secret) }, bearer(token));
    expect(errorCode(stale)).toBe('INVALID_MFA_CODE');
    const confirmed = await server.graphql(CONFIRM, { c: totpCode(second.secret) }, bearer(token));
    expect(confirmed.body.data?.confirmTotp).toHaveLength(10);
    const again = await server.graphql(ENROLL, {}, bearer(token));
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect(again.text).not.toContain(second.secret);
  });

  it('refuses a wrong code, and confirming without a pending secret', async () => {
    const { token } = await verifiedSignUp('wrong-confirm');
    expect(errorCode(await server.graphql(CONFIRM, { c: '123456' }, bearer(token)))).toBe(
      'INVALID_MFA_CODE',
    );
    const { secret } = (await server.graphql(ENROLL, {}, bearer(token))).body.data?.enrollTotp as {
      secret: string;
    };
    const wrong = String((Number(totpCode(secret)) + 1) % 1_000_000).padStart(6, '0');
    expect(errorCode(await server.graphql(CONFIRM, { c: wrong }, bearer(token)))).toBe(
      'INVALID_MFA_CODE',
    );
  });

  it('needs the current password to turn TOTP on: a session alone cannot lock the owner out', async () => {
    const { token } = await verifiedSignUp('confirm-password');
    const { secret } = (await server.graphql(ENROLL, {}, bearer(token))).body.data?.enrollTotp as {
      secret: string;
    };
    await awayFromStepEdge();
    const BARE = 'mutation($c: String!) { confirmTotp(code: $c) }';
    expect(errorCode(await server.graphql(BARE, { c: totpCode(secret) }, bearer(token)))).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
    const wrong = await server.graphql(
      CONFIRM,
      { c: totpCode(secret), p: 'not the password' },
      bearer(token),
    );
    expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
    expect((await server.graphql(TOTP_ENABLED, {}, bearer(token))).body.data).toEqual({
      me: { totpEnabled: false },
    });
    // The code was not spent by the refused attempt: the right password turns TOTP on with it.
    const confirmed = await server.graphql(CONFIRM, { c: totpCode(secret) }, bearer(token));
    expect(confirmed.body.data?.confirmTotp).toHaveLength(10);
  });

  it('confirms once when two confirmations race with the same code', async () => {
    const { token } = await verifiedSignUp('confirm-race');
    const { secret } = (await server.graphql(ENROLL, {}, bearer(token))).body.data?.enrollTotp as {
      secret: string;
    };
    await awayFromStepEdge();
    const code = totpCode(secret);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => server.graphql(CONFIRM, { c: code }, bearer(token))),
    );
    expect(results.filter((result) => result.body.data?.confirmTotp).length).toBe(1);
    expect(results.filter((result) => errorCode(result) === 'INVALID_MFA_CODE').length).toBe(3);
  });

  it('stores the secret sealed under the data key and only hashes of the recovery codes', async () => {
    const user = await enrolledUser(server, 'at-rest');
    const raw = await server.connection
      .collection('totp_factors')
      .findOne({ _id: user.userId as never });
    const text = JSON.stringify(raw);
    expect(text).not.toContain(user.secret);
    for (const code of user.recoveryCodes) {
      expect(text).not.toContain(code);
      expect(text).not.toContain(code.replace(/-/g, ''));
    }
    const sealed = String(raw?.secret);
    expect(sealed).toMatch(/^v2\.[\w-]{8}\./);
    const sealer = createSealer(parseDataKey(TEST_DATA_KEY, 'test'));
    expect(sealer.open(sealed, user.userId)).toBe(user.secret);
    // Bound to its account: copied to another, it does not open.
    expect(() => sealer.open(sealed, '000000000000000000000001')).toThrow();
    // The key id is bound to the value: one altered byte and it no longer opens.
    // (Another character than the one there: the same one would leave the value as it was.)
    const at = sealed.length - 2;
    const altered = `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`;
    expect(altered).not.toBe(sealed);
    expect(() => sealer.open(altered, user.userId)).toThrow();
    // And the logs never saw the secret or the codes.
    const logs = server.logs.join('\n');
    expect(logs).not.toContain(user.secret);
    expect(logs).not.toContain(user.recoveryCodes[0]);
  });
});

describe('login with TOTP', () => {
  it('answers MFA_REQUIRED with a challenge and no tokens, then signs in through verifyMfa', async () => {
    const user = await enrolledUser(server, 'login');
    const response = await server.graphql(LOGIN_ONLY, { e: user.email, p: PASSWORD });
    expect(response.body.data).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    const error = response.body.errors![0]!;
    expect(error.extensions?.code).toBe('MFA_REQUIRED');
    const challenge = String(error.extensions?.challenge);
    expect(challenge).toMatch(/^[\w-]{43}$/);
    expect(response.headers.get('set-cookie') ?? '').toBe('');
    // Stored only hashed.
    const stored = await server.connection.collection('mfa_challenges').find({}).toArray();
    expect(JSON.stringify(stored)).not.toContain(challenge);
    // The confirmation spent this step: the next one's code (within ±1) is used instead.
    const verified = await verify(server, challenge, totpCode(user.secret, Date.now() + 30_000));
    const token = accessTokenOf(verified);
    expect(token).toBeDefined();
    expect(verified.body.data?.verifyMfa).toMatchObject({
      user: { id: user.userId, totpEnabled: true },
    });
    const claims = claimsOf(token!);
    expect(claims.amr).toEqual(['pwd', 'otp']);
    expect(typeof claims.mfa_time).toBe('number');
    expect(claimsOf(user.token).amr).toEqual(['pwd']);
    expect(server.logs.join('\n')).not.toContain(challenge);
  });

  it('accepts the previous step, refuses a code used before and one two steps away', async () => {
    const user = await enrolledUser(server, 'steps');
    await awayFromStepEdge();
    const now = Date.now();
    const previous = await verify(
      server,
      await challengeFor(server, user.email),
      totpCode(user.secret, now - 30_000),
    );
    expect(accessTokenOf(previous)).toBeDefined();
    // The same code again, on a new challenge: a replay.
    const replayed = await verify(
      server,
      await challengeFor(server, user.email),
      totpCode(user.secret, now - 30_000),
    );
    expect(errorCode(replayed)).toBe('INVALID_MFA_CODE');
    // The current step's code was spent by the confirmation.
    const confirmedCode = await verify(
      server,
      await challengeFor(server, user.email),
      totpCode(user.secret, now),
    );
    expect(errorCode(confirmedCode)).toBe('INVALID_MFA_CODE');
    const far = await verify(
      server,
      await challengeFor(server, user.email),
      totpCode(user.secret, now + 60_000),
    );
    expect(errorCode(far)).toBe('INVALID_MFA_CODE');
  });

  it('accepts each recovery code once, until all are used', async () => {
    // Fresh server-side lockout: the failures below stay under the threshold.
    const user = await enrolledUser(server, 'recovery');
    for (const code of user.recoveryCodes) {
      const spelled = code.toUpperCase().replace(/-/g, ' ');
      const response = await verify(server, await challengeFor(server, user.email), spelled);
      expect(accessTokenOf(response)).toBeDefined();
    }
    const reused = await verify(
      server,
      await challengeFor(server, user.email),
      user.recoveryCodes[3]!,
    );
    expect(errorCode(reused)).toBe('INVALID_MFA_CODE');
  });

  it('spends a challenge once, and refuses an expired one', async () => {
    const user = await enrolledUser(server, 'challenge-reuse');
    const challenge = await challengeFor(server, user.email);
    expect(accessTokenOf(await verify(server, challenge, user.recoveryCodes[0]!))).toBeDefined();
    expect(errorCode(await verify(server, challenge, user.recoveryCodes[1]!))).toBe(
      'MFA_CHALLENGE_INVALID',
    );
    const expiring = await challengeFor(server, user.email);
    await server.connection
      .collection('mfa_challenges')
      .updateMany({ userId: user.userId }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect(errorCode(await verify(server, expiring, user.recoveryCodes[1]!))).toBe(
      'MFA_CHALLENGE_INVALID',
    );
    // The recovery code was not spent on the expired challenge.
    const fresh = await challengeFor(server, user.email);
    expect(accessTokenOf(await verify(server, fresh, user.recoveryCodes[1]!))).toBeDefined();
  });

  it('refuses a challenge from before a password reset without spending or counting codes', async () => {
    const user = await enrolledUser(server, 'stale-reset');
    const stale = await challengeFor(server, user.email);
    const users = server.app.services.users;
    const from = await users.credentialVersion(user.userId);
    expect(await users.resetPassword(user.userId, from!, PASSWORD)).toBeDefined();
    // More wrong codes than the account's lockout allows, then a right one.
    for (let attempt = 0; attempt < 6; attempt += 1) {
      expect(errorCode(await verify(server, stale, `00000${attempt}`))).toBe(
        'MFA_CHALLENGE_INVALID',
      );
    }
    expect(errorCode(await verify(server, stale, user.recoveryCodes[0]!))).toBe(
      'MFA_CHALLENGE_INVALID',
    );
    // Neither locked out nor robbed of the code: the owner signs in with it.
    const fresh = await challengeFor(server, user.email);
    expect(accessTokenOf(await verify(server, fresh, user.recoveryCodes[0]!))).toBeDefined();
  });

  it('refuses a challenge for an account disabled since, without counting codes', async () => {
    const user = await enrolledUser(server, 'stale-disabled');
    const challenge = await challengeFor(server, user.email);
    const accounts = server.connection.collection('users');
    const byId = { _id: new Types.ObjectId(user.userId) };
    await accounts.updateOne(byId, { $set: { disabled: true } });
    for (let attempt = 0; attempt < 6; attempt += 1) {
      expect(errorCode(await verify(server, challenge, `00000${attempt}`))).toBe(
        'MFA_CHALLENGE_INVALID',
      );
    }
    await accounts.updateOne(byId, { $set: { disabled: false } });
    const fresh = await challengeFor(server, user.email);
    expect(accessTokenOf(await verify(server, fresh, user.recoveryCodes[0]!))).toBeDefined();
  });

  it('kills a challenge after 5 wrong codes, and limits codes per account', async () => {
    const user = await enrolledUser(server, 'attempts');
    const challenge = await challengeFor(server, user.email);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const wrong = await verify(server, challenge, `00000${attempt}`);
      expect(errorCode(wrong)).toMatch(/^(INVALID_MFA_CODE|RATE_LIMITED)$/);
    }
    // Even a right code cannot use it now.
    expect(errorCode(await verify(server, challenge, user.recoveryCodes[0]!))).toBe(
      'MFA_CHALLENGE_INVALID',
    );
    // The account's own lockout: a new challenge is refused for a while after 5 failures.
    const next = await challengeFor(server, user.email);
    expect(errorCode(await verify(server, next, user.recoveryCodes[0]!))).toBe('RATE_LIMITED');
  });

  it('keeps a known device of the owner out of the lockout that wrong codes from elsewhere cause', async () => {
    const user = await enrolledUser(server, 'device-lockout');
    // The owner signs in once with a code on this device, which then holds a device token.
    const first = await server.graphql(
      `mutation($ch: String!, $c: String!) { verifyMfa(challenge: $ch, code: $c) { deviceToken } }`,
      { ch: await challengeFor(server, user.email), c: user.recoveryCodes[0]! },
    );
    const deviceToken = (first.body.data?.verifyMfa as { deviceToken: string }).deviceToken;
    expect(deviceToken).toEqual(expect.any(String));
    // Someone with only the password fails codes until the account's lockout closes.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await verify(server, await challengeFor(server, user.email), `00000${attempt}`);
    }
    const elsewhere = await challengeFor(server, user.email);
    expect(errorCode(await verify(server, elsewhere, user.recoveryCodes[1]!))).toBe('RATE_LIMITED');
    // The owner's device is judged by its own lockout.
    const login = await server.graphql(
      `mutation($e: String!, $p: String!, $d: String) { login(email: $e, password: $p, deviceToken: $d) { accessToken } }`,
      { e: user.email, p: PASSWORD, d: deviceToken },
    );
    expect(errorCode(login)).toBe('MFA_REQUIRED');
    const onDevice = String(login.body.errors![0]!.extensions!.challenge);
    expect(accessTokenOf(await verify(server, onDevice, user.recoveryCodes[2]!))).toBeDefined();
  });

  it('gives devices a password alone could mint no code lockout of their own', async () => {
    // Device tokens from password-only logins before TOTP was turned on: an attacker with the
    // password could mint any number, one more lockout (more code guesses) each.
    const email = uniqueEmail('minted-devices');
    const { token } = await signUp(server, email, PASSWORD);
    const LOGIN_DEVICE = `mutation($e: String!, $p: String!, $d: String) {
      login(email: $e, password: $p, deviceToken: $d) { deviceToken }
    }`;
    const minted: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const login = await server.graphql(LOGIN_DEVICE, { e: email, p: PASSWORD, d: minted.at(-1) });
      minted.push((login.body.data?.login as { deviceToken: string }).deviceToken);
    }
    const { recoveryCodes } = await turnOnTotp(server, token);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await verify(server, await challengeFor(server, email), `00000${attempt}`);
    }
    // Every minted device shares the account's lockout, now closed.
    for (const deviceToken of minted) {
      const login = await server.graphql(LOGIN_DEVICE, { e: email, p: PASSWORD, d: deviceToken });
      expect(errorCode(login)).toBe('MFA_REQUIRED');
      const challenge = String(login.body.errors![0]!.extensions!.challenge);
      expect(errorCode(await verify(server, challenge, recoveryCodes[0]!))).toBe('RATE_LIMITED');
    }
  });

  it('answers garbage and unicode with clean errors', async () => {
    const user = await enrolledUser(server, 'garbage');
    const challenge = await challengeFor(server, user.email);
    const cases: [string, string, string][] = [
      ['garbage', '123456', 'MFA_CHALLENGE_INVALID'],
      ['', '', 'MFA_CHALLENGE_INVALID'],
      ['😀'.repeat(43), '123456', 'MFA_CHALLENGE_INVALID'],
      ['A'.repeat(43), '123456', 'MFA_CHALLENGE_INVALID'],
      [challenge, '１２３４５６', 'INVALID_MFA_CODE'],
      [challenge, 'ｘ'.repeat(500), 'INVALID_MFA_CODE'],
      [challenge, '\u0000\u202e123456', 'INVALID_MFA_CODE'],
    ];
    for (const [ch, code, expected] of cases) {
      const response = await verify(server, ch, code);
      expect(errorCode(response)).toBe(expected);
      expect(response.text).not.toMatch(/\n\s+at |stack/i);
    }
    const { token } = await verifiedSignUp('garbage-confirm');
    await server.graphql(ENROLL, {}, bearer(token));
    for (const code of ['', '😀😀😀', '12345６', '9'.repeat(1000)]) {
      const response = await server.graphql(CONFIRM, { c: code }, bearer(token));
      expect(errorCode(response)).toBe('INVALID_MFA_CODE');
    }
  });

  it('signs in once when the same code races on one challenge or on several', async () => {
    const user = await enrolledUser(server, 'race');
    const code = totpCode(user.secret, Date.now() + 30_000);
    const challenge = await challengeFor(server, user.email);
    const sameChallenge = await Promise.all(
      Array.from({ length: 4 }, () => verify(server, challenge, code)),
    );
    expect(sameChallenge.filter((response) => accessTokenOf(response)).length).toBe(1);

    const challenges = await Promise.all(
      Array.from({ length: 4 }, () => challengeFor(server, user.email)),
    );
    const recovery = user.recoveryCodes[0]!;
    const sameRecovery = await Promise.all(
      challenges.map((each) => verify(server, each, recovery)),
    );
    expect(sameRecovery.filter((response) => accessTokenOf(response)).length).toBe(1);
    for (const response of sameRecovery.filter((each) => !accessTokenOf(each))) {
      expect(errorCode(response)).toBe('INVALID_MFA_CODE');
    }
  });

  it('logs in without a challenge once TOTP is disabled', async () => {
    const user = await enrolledUser(server, 'disable');
    const verified = await verify(
      server,
      await challengeFor(server, user.email),
      user.recoveryCodes[0]!,
    );
    const token = accessTokenOf(verified)!;
    const DISABLE = 'mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }';
    expect(
      errorCode(
        await server.graphql(
          DISABLE,
          { p: 'wrong password!', c: user.recoveryCodes[1]! },
          bearer(token),
        ),
      ),
    ).toBe('UNAUTHENTICATED');
    expect(
      errorCode(await server.graphql(DISABLE, { p: PASSWORD, c: '000000' }, bearer(token))),
    ).toBe('INVALID_MFA_CODE');
    const disabled = await server.graphql(
      DISABLE,
      { p: PASSWORD, c: user.recoveryCodes[1]! },
      bearer(token),
    );
    expect(disabled.body.data).toEqual({ disableTotp: true });
    const login = await server.graphql(LOGIN_ONLY, { e: user.email, p: PASSWORD });
    expect((login.body.data?.login as { accessToken: string }).accessToken).toBeDefined();
  });
});

describe('the two-factor sweep', () => {
  it('removes expired challenges and old claims, and keeps spent recovery codes spent', async () => {
    const user = await enrolledUser(server, 'sweep');
    const used = user.recoveryCodes[0]!;
    expect(
      accessTokenOf(await verify(server, await challengeFor(server, user.email), used)),
    ).toBeDefined();
    await challengeFor(server, user.email);
    const claims = server.connection.collection('mfa_claims');
    const challenges = server.connection.collection('mfa_challenges');
    const factor = await server.connection
      .collection('totp_factors')
      .findOne({ _id: user.userId as never });
    const enrolmentId = String(factor?.enrolmentId);
    const recoveryClaims = { _id: { $regex: new RegExp(`^recovery:${enrolmentId}:`) } } as never;
    // Now, nothing is due: the claims and the live challenge stay.
    const before = await claims.countDocuments();
    await server.app.services.mfa.prune();
    expect(await claims.countDocuments()).toBe(before);
    expect(await challenges.countDocuments()).toBeGreaterThan(0);
    // Two hours on, every challenge has expired and every step claim is old enough.
    expect(await server.app.services.mfa.prune(Date.now() + 2 * 3_600_000)).toBeGreaterThan(0);
    expect(await challenges.countDocuments()).toBe(0);
    const left = await claims.find({}).toArray();
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((claim) => String(claim._id).startsWith('recovery:'))).toBe(true);
    const again = await verify(server, await challengeFor(server, user.email), used);
    expect(errorCode(again)).toBe('INVALID_MFA_CODE');
    // Disabling the factor lets its recovery-code claims go: they are not kept forever.
    const token = accessTokenOf(
      await verify(server, await challengeFor(server, user.email), user.recoveryCodes[1]!),
    )!;
    expect(await claims.countDocuments(recoveryClaims)).toBe(2);
    const DISABLE = 'mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }';
    const disabled = await server.graphql(
      DISABLE,
      { p: PASSWORD, c: user.recoveryCodes[2]! },
      bearer(token),
    );
    expect(disabled.body.data).toEqual({ disableTotp: true });
    expect(await claims.countDocuments(recoveryClaims)).toBe(0);
  });
});

describe('TOTP_ENABLED=false', () => {
  it('refuses enrolment, and still asks enrolled accounts for their code', async () => {
    const databaseUri = freshDatabaseUri('totp-off');
    const on = await startTestServer({ databaseUri });
    const user = await enrolledUser(on, 'totp-off').finally(() => on.close());
    const off = await startTestServer({ databaseUri, env: { TOTP_ENABLED: 'false' } });
    try {
      const { token } = await signUp(off, uniqueEmail('totp-off-new'), PASSWORD);
      expect(errorCode(await off.graphql(ENROLL, {}, bearer(token)))).toBe('BAD_USER_INPUT');
      const challenge = await challengeFor(off, user.email);
      expect(accessTokenOf(await verify(off, challenge, user.recoveryCodes[0]!))).toBeDefined();
    } finally {
      await off.close();
    }
  });
});

describe('data key rotation', () => {
  it('opens secrets sealed under DATA_ENCRYPTION_KEY_PREVIOUS and re-seals them at their next use', async () => {
    const databaseUri = freshDatabaseUri('totp-rotation');
    const before = await startTestServer({ databaseUri });
    const user = await enrolledUser(before, 'rotation').finally(() => before.close());
    const newKey = Buffer.alloc(32, 42).toString('base64');
    const after = await startTestServer({
      databaseUri,
      env: { DATA_ENCRYPTION_KEY: newKey, DATA_ENCRYPTION_KEY_PREVIOUS: TEST_DATA_KEY },
    });
    try {
      const factors = after.connection.collection('totp_factors');
      const oldId = parseDataKey(TEST_DATA_KEY, 'old').id;
      const newId = parseDataKey(newKey, 'new').id;
      expect(String((await factors.findOne({ _id: user.userId as never }))?.secret)).toContain(
        `.${oldId}.`,
      );
      const response = await verify(
        after,
        await challengeFor(after, user.email),
        totpCode(user.secret, Date.now() + 30_000),
      );
      expect(accessTokenOf(response)).toBeDefined();
      const resealed = String((await factors.findOne({ _id: user.userId as never }))?.secret);
      expect(resealed).toContain(`.${newId}.`);
      expect(createSealer(parseDataKey(newKey, 'new')).open(resealed, user.userId)).toBe(
        user.secret,
      );
    } finally {
      await after.close();
    }
  });
});
