import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import { scopesOfRoles } from '../../src/auth/scope-vocabulary.js';
import { bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  LOGIN_ONLY,
  PASSWORD,
  accessTokenOf,
  challengeFor,
  claimsOf,
  enrolledUser,
  turnOnTotp,
  verify,
} from '../helpers/totp.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ label: 'step-up', env: { REVOCATION_CACHE_TTL: '0' } });
});
afterAll(() => server.close());

const CREATE_KEY = `mutation($s: [String!]!) {
  createApiKey(name: "step-up", scopes: $s) { key }
}`;
const DELETE_ACCOUNT = 'mutation($p: String!) { deleteAccount(password: $p) }';
const DISABLE = 'mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }';
const SET_ROLES = 'mutation($id: ID!) { setUserRoles(userId: $id, roles: [USER]) { id } }';
const DISABLE_USER = 'mutation($id: ID!) { disableUser(userId: $id) { id } }';
const ENABLE_USER = 'mutation($id: ID!) { enableUser(userId: $id) { id } }';
const DELETE_USER = 'mutation($id: ID!) { deleteUser(userId: $id) }';
const CHANGE_PASSWORD = `mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken }
}`;
const REQUEST_EMAIL_CHANGE = `mutation($e: String!, $p: String!) {
  requestEmailChange(newEmail: $e, password: $p)
}`;
const VERIFY_WITH_REFRESH = `mutation($ch: String!, $c: String!) {
  verifyMfa(challenge: $ch, code: $c) { accessToken refreshToken }
}`;
const REFRESH = 'mutation($t: String!) { refreshToken(token: $t) { accessToken refreshToken } }';
const LOGIN_WITH_REFRESH = `mutation($e: String!, $p: String!) {
  login(email: $e, password: $p) { accessToken refreshToken }
}`;
const NEW_PASSWORD = 'a different horse battery';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

const refreshed = async (refreshToken: string) => {
  const response = await server.graphql(REFRESH, { t: refreshToken });
  expect(response.body.errors).toBeUndefined();
  return response.body.data?.refreshToken as Tokens;
};

/** A sign-in with a code whose session has a refresh token. */
async function verifiedWithRefresh(email: string, code: string) {
  const verified = await server.graphql(VERIFY_WITH_REFRESH, {
    ch: await challengeFor(server, email),
    c: code,
  });
  expect(verified.body.errors).toBeUndefined();
  return verified.body.data?.verifyMfa as Tokens;
}

const signedInWithCode = async (email: string, code: string) =>
  accessTokenOf(await verify(server, await challengeFor(server, email), code))!;

describe('step-up: a recent second factor for sensitive fields', () => {
  it('asks nothing of a viewer without TOTP', async () => {
    const { token } = await signUp(server, uniqueEmail('no-totp'), PASSWORD);
    const created = await server.graphql(CREATE_KEY, { s: ['profile:read'] }, bearer(token));
    expect(created.body.errors).toBeUndefined();
    const moved = await server.graphql(
      REQUEST_EMAIL_CHANGE,
      { e: uniqueEmail('no-totp-moved'), p: PASSWORD },
      bearer(token),
    );
    expect(moved.body.data).toEqual({ requestEmailChange: true });
    const changed = await server.graphql(
      CHANGE_PASSWORD,
      { c: PASSWORD, n: NEW_PASSWORD },
      bearer(token),
    );
    expect(changed.body.errors).toBeUndefined();
  });

  it('asks a TOTP user for a recent factor to change the password or the recovery address', async () => {
    const user = await enrolledUser(server, 'own-credentials');
    const plain = bearer(user.token);
    const newEmail = uniqueEmail('own-credentials-moved');
    expect(
      errorCode(await server.graphql(REQUEST_EMAIL_CHANGE, { e: newEmail, p: PASSWORD }, plain)),
    ).toBe('MFA_STEP_UP_REQUIRED');
    expect(
      errorCode(await server.graphql(CHANGE_PASSWORD, { c: PASSWORD, n: NEW_PASSWORD }, plain)),
    ).toBe('MFA_STEP_UP_REQUIRED');

    const stepped = bearer(await signedInWithCode(user.email, user.recoveryCodes[0]!));
    const moved = await server.graphql(REQUEST_EMAIL_CHANGE, { e: newEmail, p: PASSWORD }, stepped);
    expect(moved.body.data).toEqual({ requestEmailChange: true });
    const changed = await server.graphql(
      CHANGE_PASSWORD,
      { c: PASSWORD, n: NEW_PASSWORD },
      stepped,
    );
    expect(changed.body.errors).toBeUndefined();
    // The session changePassword opens keeps the second factor the old one proved.
    const fresh = (changed.body.data?.changePassword as { accessToken: string }).accessToken;
    expect(claimsOf(fresh).amr).toEqual(['pwd', 'otp']);
    const again = await server.graphql(
      REQUEST_EMAIL_CHANGE,
      { e: uniqueEmail('own-credentials-again'), p: NEW_PASSWORD },
      bearer(fresh),
    );
    expect(again.body.data).toEqual({ requestEmailChange: true });
    // And so do the tokens that session's refresh token brings, with the same time.
    const { refreshToken } = changed.body.data?.changePassword as Tokens;
    const later = (await refreshed(refreshToken)).accessToken;
    expect(claimsOf(later).amr).toEqual(['pwd', 'otp']);
    expect(claimsOf(later).mfa_time).toBe(claimsOf(fresh).mfa_time);
  });

  it('keeps the second factor of a sign-in with a code, and its time, through refreshes', async () => {
    const user = await enrolledUser(server, 'refresh-keeps');
    const signedIn = await verifiedWithRefresh(user.email, user.recoveryCodes[0]!);
    const provedAt = claimsOf(signedIn.accessToken).mfa_time;
    expect(typeof provedAt).toBe('number');
    // Past the second the sign-in's mfa_time names: a refresh stamping its own time would show.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const first = await refreshed(signedIn.refreshToken);
    expect(claimsOf(first.accessToken).amr).toEqual(['pwd', 'otp']);
    expect(claimsOf(first.accessToken).mfa_time).toBe(provedAt);
    const created = await server.graphql(
      CREATE_KEY,
      { s: ['profile:read'] },
      bearer(first.accessToken),
    );
    expect(created.body.errors).toBeUndefined();
    const moved = await server.graphql(
      REQUEST_EMAIL_CHANGE,
      { e: uniqueEmail('refresh-keeps-moved'), p: PASSWORD },
      bearer(first.accessToken),
    );
    expect(moved.body.data).toEqual({ requestEmailChange: true });

    // The next rotation of the session: still the sign-in's time, not the refresh's.
    const second = await refreshed(first.refreshToken);
    expect(claimsOf(second.accessToken).amr).toEqual(['pwd', 'otp']);
    expect(claimsOf(second.accessToken).mfa_time).toBe(provedAt);
  });

  it('never moves the second factor forward: once it is too old, refreshing does not renew it', async () => {
    const user = await enrolledUser(server, 'refresh-stale');
    const signedIn = await verifiedWithRefresh(user.email, user.recoveryCodes[0]!);
    // The session's sign-in proved its code 11 minutes ago (the rule asks for 10).
    const { sid } = claimsOf(signedIn.accessToken) as { sid: string };
    const provedAt = new Date(Date.now() - 11 * 60_000);
    const aged = await server.connection
      .collection('sessions')
      .updateOne({ _id: new Types.ObjectId(sid) }, { $set: { mfaAt: provedAt } });
    expect(aged.matchedCount).toBe(1);

    const { accessToken } = await refreshed(signedIn.refreshToken);
    expect(claimsOf(accessToken).amr).toEqual(['pwd', 'otp']);
    expect(claimsOf(accessToken).mfa_time).toBe(Math.floor(provedAt.getTime() / 1000));
    expect(
      errorCode(await server.graphql(CREATE_KEY, { s: ['profile:read'] }, bearer(accessToken))),
    ).toBe('MFA_STEP_UP_REQUIRED');
  });

  it('refreshes a session opened without a code to the password alone', async () => {
    const email = uniqueEmail('refresh-plain');
    await signUp(server, email, PASSWORD);
    const login = await server.graphql(LOGIN_WITH_REFRESH, { e: email, p: PASSWORD });
    const { refreshToken } = login.body.data?.login as Tokens;
    const { accessToken } = await refreshed(refreshToken);
    expect(claimsOf(accessToken).amr).toEqual(['pwd']);
    expect(claimsOf(accessToken).mfa_time).toBeUndefined();
  });

  it('refuses a token without the second factor, before any password check', async () => {
    const user = await enrolledUser(server, 'step-up');
    const headers = bearer(user.token);
    expect(errorCode(await server.graphql(CREATE_KEY, { s: ['profile:read'] }, headers))).toBe(
      'MFA_STEP_UP_REQUIRED',
    );
    expect(errorCode(await server.graphql(DELETE_ACCOUNT, { p: 'wrong password' }, headers))).toBe(
      'MFA_STEP_UP_REQUIRED',
    );
    const disable = await server.graphql(
      DISABLE,
      { p: PASSWORD, c: user.recoveryCodes[0]! },
      headers,
    );
    expect(errorCode(disable)).toBe('MFA_STEP_UP_REQUIRED');
    // Other fields are unaffected.
    const me = await server.graphql('{ me { id } }', {}, headers);
    expect(me.body.data).toEqual({ me: { id: user.userId } });
  });

  it('accepts a token whose second factor is recent, and refuses one proved too long ago', async () => {
    const user = await enrolledUser(server, 'fresh');
    const fresh = await signedInWithCode(user.email, user.recoveryCodes[0]!);
    const created = await server.graphql(CREATE_KEY, { s: ['profile:read'] }, bearer(fresh));
    expect(created.body.errors).toBeUndefined();

    // The same session, with a second factor 11 minutes old (the rule asks for 10).
    const { sid } = claimsOf(fresh) as { sid: string };
    const stale = server.app.services.tokens.issue(
      user.userId,
      ['USER'],
      sid,
      [...scopesOfRoles(['USER'])],
      { at: Date.now() - 11 * 60_000 },
    );
    expect(claimsOf(stale.token).amr).toEqual(['pwd', 'otp']);
    expect(
      errorCode(await server.graphql(CREATE_KEY, { s: ['profile:read'] }, bearer(stale.token))),
    ).toBe('MFA_STEP_UP_REQUIRED');
  });

  it('refuses an API key, which proves no second factor, when its owner has TOTP', async () => {
    const adminEmail = uniqueEmail('step-up-admin');
    await server.app.services.users.ensureBootstrapAdmin(adminEmail, PASSWORD);
    const login = await server.graphql(LOGIN_ONLY, { e: adminEmail, p: PASSWORD });
    const adminToken = (login.body.data?.login as { accessToken: string }).accessToken;
    const target = await signUp(server, uniqueEmail('step-up-target'), PASSWORD);
    // Before TOTP: the admin's plain token may change roles.
    expect(
      (await server.graphql(SET_ROLES, { id: target.userId }, bearer(adminToken))).body.errors,
    ).toBeUndefined();

    const { recoveryCodes: recovery } = await turnOnTotp(server, adminToken);
    expect(
      errorCode(await server.graphql(SET_ROLES, { id: target.userId }, bearer(adminToken))),
    ).toBe('MFA_STEP_UP_REQUIRED');

    const stepped = await signedInWithCode(adminEmail, recovery[0]!);
    expect(
      (await server.graphql(SET_ROLES, { id: target.userId }, bearer(stepped))).body.errors,
    ).toBeUndefined();
    const created = await server.graphql(CREATE_KEY, { s: ['users:write'] }, bearer(stepped));
    const key = (created.body.data?.createApiKey as { key: string }).key;
    expect(errorCode(await server.graphql(SET_ROLES, { id: target.userId }, bearer(key)))).toBe(
      'MFA_STEP_UP_REQUIRED',
    );
  });

  it('asks an admin with TOTP for a recent factor to disable, enable or delete an account', async () => {
    const adminEmail = uniqueEmail('step-up-accounts-admin');
    await server.app.services.users.ensureBootstrapAdmin(adminEmail, PASSWORD);
    const login = await server.graphql(LOGIN_ONLY, { e: adminEmail, p: PASSWORD });
    const adminToken = (login.body.data?.login as { accessToken: string }).accessToken;
    // A session opened by the password alone, before TOTP: refreshing it brings no second factor.
    const plain = await server.graphql(LOGIN_WITH_REFRESH, { e: adminEmail, p: PASSWORD });
    const plainRefresh = (plain.body.data?.login as Tokens).refreshToken;
    const admin = await turnOnTotp(server, adminToken);
    const target = await signUp(server, uniqueEmail('step-up-accounts-target'), PASSWORD);
    const refreshedToken = (await refreshed(plainRefresh)).accessToken;
    expect(claimsOf(refreshedToken).amr).toEqual(['pwd']);

    const stepped = (await verifiedWithRefresh(adminEmail, admin.recoveryCodes[0]!)).accessToken;
    const created = await server.graphql(CREATE_KEY, { s: ['users:write'] }, bearer(stepped));
    const key = (created.body.data?.createApiKey as { key: string }).key;

    for (const mutation of [DISABLE_USER, ENABLE_USER, DELETE_USER]) {
      for (const credential of [adminToken, refreshedToken, key]) {
        const refused = await server.graphql(mutation, { id: target.userId }, bearer(credential));
        expect(errorCode(refused)).toBe('MFA_STEP_UP_REQUIRED');
      }
    }
    expect(await server.app.services.users.findUsable(target.userId)).toBeDefined();

    for (const mutation of [DISABLE_USER, ENABLE_USER, DELETE_USER]) {
      const allowed = await server.graphql(mutation, { id: target.userId }, bearer(stepped));
      expect(allowed.body.errors).toBeUndefined();
    }
    expect(await server.app.services.users.findById(target.userId)).toBeUndefined();
  });

  it('lets an admin without TOTP disable, enable and delete an account with a plain token', async () => {
    const adminEmail = uniqueEmail('no-totp-admin');
    await server.app.services.users.ensureBootstrapAdmin(adminEmail, PASSWORD);
    const login = await server.graphql(LOGIN_ONLY, { e: adminEmail, p: PASSWORD });
    const adminToken = (login.body.data?.login as { accessToken: string }).accessToken;
    const target = await signUp(server, uniqueEmail('no-totp-target'), PASSWORD);
    for (const mutation of [DISABLE_USER, ENABLE_USER, DELETE_USER]) {
      const allowed = await server.graphql(mutation, { id: target.userId }, bearer(adminToken));
      expect(allowed.body.errors).toBeUndefined();
    }
  });

  it('lets a stepped-up viewer delete the account, and erasure removes the factor', async () => {
    const user = await enrolledUser(server, 'erase');
    const fresh = await signedInWithCode(user.email, user.recoveryCodes[0]!);
    const deleted = await server.graphql(DELETE_ACCOUNT, { p: PASSWORD }, bearer(fresh));
    expect(deleted.body.data).toEqual({ deleteAccount: true });
    const factors = server.connection.collection('totp_factors');
    expect(await factors.findOne({ _id: user.userId as never })).toBeNull();
  });

  it('erasure removes a secret an enrolment wrote after its two-factor step', async () => {
    const { token, userId } = await signUp(server, uniqueEmail('erase-late'), PASSWORD);
    const mfa = server.app.services.mfa;
    const forget = mfa.forgetUser.bind(mfa);
    // An enrollTotp still in flight when erasure began lands just after the two-factor step.
    let late = true;
    mfa.forgetUser = async (id) => {
      await forget(id);
      if (late && id === userId) {
        late = false;
        await server.connection.collection('totp_enrolments').insertOne({
          _id: userId as never,
          secret: 'v2.sealed-late',
          enrolmentId: 'late',
          createdAt: new Date(),
        });
      }
    };
    try {
      const deleted = await server.graphql(DELETE_ACCOUNT, { p: PASSWORD }, bearer(token));
      expect(deleted.body.data).toEqual({ deleteAccount: true });
    } finally {
      mfa.forgetUser = forget;
    }
    expect(late).toBe(false);
    const enrolments = server.connection.collection('totp_enrolments');
    expect(await enrolments.findOne({ _id: userId as never })).toBeNull();
  });
});
