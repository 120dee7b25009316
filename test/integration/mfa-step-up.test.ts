import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { scopesOfRoles } from '../../src/auth/scope-vocabulary.js';
import { bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
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

const signedInWithCode = async (email: string, code: string) =>
  accessTokenOf(await verify(server, await challengeFor(server, email), code))!;

describe('step-up: a recent second factor for sensitive fields', () => {
  it('asks nothing of a viewer without TOTP', async () => {
    const { token } = await signUp(server, uniqueEmail('no-totp'), PASSWORD);
    const created = await server.graphql(CREATE_KEY, { s: ['profile:read'] }, bearer(token));
    expect(created.body.errors).toBeUndefined();
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

    const { secret } = (await server.graphql(ENROLL, {}, bearer(adminToken))).body.data
      ?.enrollTotp as { secret: string };
    await awayFromStepEdge();
    const confirmed = await server.graphql(CONFIRM, { c: totpCode(secret) }, bearer(adminToken));
    const recovery = confirmed.body.data?.confirmTotp as string[];
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
