import { describe, expect, it } from '@jest/globals';
import bcrypt from 'bcrypt';
import { Types } from 'mongoose';
import { createPasswordHasher, type PasswordHasher } from '../../src/lib/password.js';
import { createCredentialVersions } from '../../src/modules/user/credential-version.js';
import { createCredentialChangeModel, createUserModel } from '../../src/modules/user/user.model.js';
import { countingHasher } from '../helpers/counting-hasher.js';
import { LOGIN, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll } from '../helpers/server.js';

/** Unlimited bcrypt through changePassword, and one client filling the shared hash queue. */
const CHANGE_PASSWORD = `mutation Change($current: String!, $next: String!) {
  changePassword(currentPassword: $current, newPassword: $next) { accessToken }
}`;
const PASSWORD = 'correct horse battery';

const start = serversClosedAfterAll();
const from = (address: string) => ({ 'x-forwarded-for': address });
/** One hashing thread and four waiting places, each hash ~30 ms: easy for one client to fill. */
const SMALL_HASH_QUEUE = {
  TRUST_PROXY: 'loopback',
  BCRYPT_COST: '9',
  HASH_THREADS: '1',
  HASH_QUEUE_LIMIT: '4',
  PASSWORD_CHECKS_PER_CLIENT: '2',
};

describe('password checks are bounded per request, per user and per address', () => {
  it('refuses a document with 16 aliased changePassword calls before any hash runs', async () => {
    const { hasher, counter } = await countingHasher();
    const server = await start({ hasher });
    const { token } = await signUp(server, uniqueEmail('aliases'), PASSWORD);
    // 15 aliases (the alias limit) and one plain call: 16 bcrypt verifications in one request.
    const calls = Array.from(
      { length: 16 },
      (_, i) =>
        `${i === 0 ? '' : `c${i}: `}changePassword(currentPassword: "${PASSWORD}", newPassword: "another phrase ${i}") { accessToken }`,
    );
    const response = await server.graphql(`mutation { ${calls.join(' ')} }`, {}, bearer(token));
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('TOO_MANY_PASSWORD_CHECKS');
    expect(counter.verifications).toBe(0);
  });

  it('counts password checks through fragments too, and allows one per document', async () => {
    const server = await start();
    const email = uniqueEmail('fragments');
    await signUp(server, email, PASSWORD);
    const twice = await server.graphql(
      `mutation { ...A ...B } fragment A on Mutation { a: login(email: "${email}", password: "x") { accessToken } } fragment B on Mutation { b: login(email: "${email}", password: "y") { accessToken } }`,
    );
    expect(errorCode(twice)).toBe('TOO_MANY_PASSWORD_CHECKS');
    const once = await server.graphql(
      `mutation { ...A } fragment A on Mutation { login(email: "${email}", password: "${PASSWORD}") { accessToken } }`,
    );
    expect(once.body.data?.login).toBeTruthy();
  });

  it('refuses a new password equal to the current one without hashing it', async () => {
    const { hasher, counter } = await countingHasher();
    const server = await start({ hasher });
    const { token } = await signUp(server, uniqueEmail('same'), PASSWORD);
    const response = await server.graphql(
      CHANGE_PASSWORD,
      { current: PASSWORD, next: PASSWORD },
      bearer(token),
    );
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('newPassword');
    expect(counter.verifications).toBe(0);
  });

  it('rate-limits changePassword per user whatever the address, and per address', async () => {
    const server = await start({
      env: {
        TRUST_PROXY: 'loopback',
        RATE_LIMIT_CHANGE_PASSWORD_PER_USER: '2/1m',
        RATE_LIMIT_CHANGE_PASSWORD_PER_IP: '3/1m',
      },
    });
    const { token } = await signUp(server, uniqueEmail('per-user'), PASSWORD);
    const wrong = (address: string, auth = token) =>
      server.graphql(
        CHANGE_PASSWORD,
        { current: 'not the password', next: 'a brand new phrase' },
        { ...bearer(auth), ...from(address) },
      );
    expect(errorCode(await wrong('203.0.113.1'))).toBe('UNAUTHENTICATED');
    expect(errorCode(await wrong('203.0.113.2'))).toBe('UNAUTHENTICATED');
    const third = await wrong('203.0.113.3');
    expect(errorCode(third)).toBe('RATE_LIMITED');
    expect(third.status).toBe(429);

    // Per address: other users from one address share its budget (3 per minute).
    const others = await Promise.all(
      [1, 2].map(async (i) => (await signUp(server, uniqueEmail(`addr-${i}`), PASSWORD)).token),
    );
    expect(errorCode(await wrong('203.0.113.9', others[0]))).toBe('UNAUTHENTICATED');
    expect(errorCode(await wrong('203.0.113.9', others[0]))).toBe('UNAUTHENTICATED');
    expect(errorCode(await wrong('203.0.113.9', others[1]))).toBe('UNAUTHENTICATED');
    expect(errorCode(await wrong('203.0.113.9', others[1]))).toBe('RATE_LIMITED');
  });

  it('counts a successful password check toward the hourly cap instead of refunding it', async () => {
    const server = await start({ env: { LOCKOUT_HOURLY_CAP: '2' } });
    const email = uniqueEmail('cap');
    await signUp(server, email, PASSWORD);
    for (let i = 0; i < 2; i += 1) {
      expect((await server.graphql(LOGIN, { email, password: PASSWORD })).body.data).toBeTruthy();
    }
    expect(errorCode(await server.graphql(LOGIN, { email, password: PASSWORD }))).toBe(
      'RATE_LIMITED',
    );
  });

  it('keeps serving logins from other addresses while one user floods changePassword', async () => {
    const server = await start({ env: SMALL_HASH_QUEUE });
    const victim = uniqueEmail('bystander');
    await signUp(server, victim, PASSWORD);
    const { token } = await signUp(server, uniqueEmail('flooder'), PASSWORD);
    const flood = Array.from({ length: 70 }, (_, i) =>
      server.graphql(
        CHANGE_PASSWORD,
        { current: `wrong guess ${i}`, next: `fresh phrase number ${i}` },
        { ...bearer(token), ...from('198.51.100.7') },
      ),
    );
    const logins = await Promise.all(
      ['192.0.2.10', '192.0.2.11'].map((address) =>
        server.graphql(LOGIN, { email: victim, password: PASSWORD }, from(address)),
      ),
    );
    const flooded = await Promise.all(flood);
    for (const login of logins) {
      expect(errorCode(login)).toBeUndefined();
      expect(login.body.data?.login).toBeTruthy();
    }
    const codes = flooded.map(errorCode);
    expect(codes).not.toContain('SERVICE_UNAVAILABLE');
    expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThan(60);
  });

  it('keeps serving logins from other addresses while one address floods login', async () => {
    const server = await start({ env: { ...SMALL_HASH_QUEUE, LOCKOUT_THRESHOLD: '100' } });
    const email = uniqueEmail('owner');
    await signUp(server, email, PASSWORD);
    const flood = Array.from({ length: 70 }, (_, i) =>
      server.graphql(
        LOGIN,
        { email: uniqueEmail(`junk-${i}`), password: 'a guess' },
        from('198.51.100.8'),
      ),
    );
    const login = await server.graphql(LOGIN, { email, password: PASSWORD }, from('192.0.2.20'));
    const codes = (await Promise.all(flood)).map(errorCode);
    expect(login.body.data?.login).toBeTruthy();
    expect(codes).not.toContain('SERVICE_UNAVAILABLE');
  });

  it('keeps no session from a login with the old password that races changePassword', async () => {
    const server = await start({
      env: {
        TRUST_PROXY: 'loopback',
        BCRYPT_COST: '10',
        REVOCATION_CACHE_TTL: '0',
        LOCKOUT_THRESHOLD: '100',
      },
    });
    const email = uniqueEmail('race');
    const { token } = await signUp(server, email, PASSWORD);
    const change = server.graphql(
      CHANGE_PASSWORD,
      { current: PASSWORD, next: 'the brand new phrase' },
      bearer(token),
    );
    const logins: Promise<Awaited<ReturnType<typeof server.graphql>>>[] = [];
    for (let i = 0; i < 20; i += 1) {
      logins.push(server.graphql(LOGIN, { email, password: PASSWORD }, from(`203.0.113.${i + 1}`)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const changed = await change;
    const newToken = (changed.body.data?.changePassword as { accessToken: string }).accessToken;
    const succeeded = (await Promise.all(logins))
      .map((login) => (login.body.data?.login as { accessToken: string } | null)?.accessToken)
      .filter((accessToken): accessToken is string => accessToken !== undefined);
    for (const accessToken of succeeded) {
      const me = await server.graphql('{ me { id } }', {}, bearer(accessToken));
      expect(me.status).toBe(401);
    }
    const sessions = await server.graphql('{ sessions { id current } }', {}, bearer(newToken));
    expect(sessions.body.data?.sessions).toEqual([{ id: expect.any(String), current: true }]);
  });

  it('ends sessions begun before logoutAll even if ending them missed one', async () => {
    const server = await start({ env: { REVOCATION_CACHE_TTL: '0' } });
    const email = uniqueEmail('lost-write');
    await signUp(server, email, PASSWORD);
    const other = await server.graphql(
      `mutation { login(email: "${email}", password: "${PASSWORD}") { accessToken refreshToken } }`,
    );
    const stolen = other.body.data?.login as { accessToken: string; refreshToken: string };
    const mine = await server.graphql(LOGIN, { email, password: PASSWORD });
    const myToken = (mine.body.data?.login as { accessToken: string }).accessToken;
    const sessions = server.connection.collection('sessions');
    const before = await sessions.find().toArray();
    await server.graphql('mutation { logoutAll }', {}, bearer(myToken));
    // A session that logoutAll did not see: one a sign-in racing it (on another replica) started
    // after the user's list of sessions was read.
    await sessions.insertMany(before);
    const me = await server.graphql('{ me { id } }', {}, bearer(stolen.accessToken));
    expect(me.status).toBe(401);
    const refreshed = await server.graphql(
      `mutation { refreshToken(token: "${stolen.refreshToken}") { accessToken } }`,
    );
    expect(errorCode(refreshed)).toBe('UNAUTHENTICATED');
  });

  it('lets exactly one of two changePassword calls racing from the same password take effect', async () => {
    const server = await start({ env: { BCRYPT_COST: '8' } });
    const email = uniqueEmail('two-changes');
    await signUp(server, email, PASSWORD);
    const tokens = await Promise.all(
      [1, 2].map(async () => {
        const response = await server.graphql(LOGIN, { email, password: PASSWORD });
        return (response.body.data?.login as { accessToken: string }).accessToken;
      }),
    );
    const phrases = ['first new phrase here', 'second new phrase here'];
    const results = await Promise.all(
      tokens.map((token, i) =>
        server.graphql(CHANGE_PASSWORD, { current: PASSWORD, next: phrases[i] }, bearer(token)),
      ),
    );
    const winners = results.flatMap((result, i) => (result.body.data?.changePassword ? [i] : []));
    expect(winners).toHaveLength(1);
    const loser = results[1 - winners[0]!]!;
    expect(errorCode(loser)).toBe('UNAUTHENTICATED');
    const works = async (password: string) =>
      Boolean((await server.graphql(LOGIN, { email, password })).body.data?.login);
    expect(await works(phrases[winners[0]!]!)).toBe(true);
    expect(await works(phrases[1 - winners[0]!]!)).toBe(false);
  });

  it('recovers the credential version from a change that crashed between its two writes', async () => {
    const server = await start();
    const email = uniqueEmail('crashed');
    const { token, userId } = await signUp(server, email, PASSWORD);
    const changes = server.connection.collection<{ _id: string; at: Date }>('credential_changes');
    // A change still in progress (or crashed a moment ago) holds the version: this one waits.
    await changes.insertOne({ _id: `${userId}:1`, at: new Date() });
    const held = await server.graphql(
      CHANGE_PASSWORD,
      { current: PASSWORD, next: 'the brand new phrase' },
      bearer(token),
    );
    expect(errorCode(held)).toBe('SERVICE_UNAVAILABLE');
    // Abandoned for longer than a minute: the version is free again and the change goes through.
    await changes.updateOne(
      { _id: `${userId}:1` },
      { $set: { at: new Date(Date.now() - 120_000) } },
    );
    const login = await server.graphql(LOGIN, { email, password: PASSWORD });
    const fresh = (login.body.data?.login as { accessToken: string }).accessToken;
    const changed = await server.graphql(
      CHANGE_PASSWORD,
      { current: PASSWORD, next: 'the brand new phrase' },
      bearer(fresh),
    );
    expect(changed.body.data?.changePassword).toBeTruthy();
  });

  it('does not let the re-hash of a login overwrite a password changed meanwhile', async () => {
    const real = await createPasswordHasher({ cost: 5, threads: 1, queueLimit: 100 });
    let meanwhile: (() => Promise<void>) | undefined;
    const hasher: PasswordHasher = {
      ...real,
      // The login's re-hash at the new cost takes a while; the password changes during it.
      hash: async (password, work) => {
        const hashed = await real.hash(password, work);
        const change = meanwhile;
        meanwhile = undefined;
        await change?.();
        return hashed;
      },
    };
    const server = await start({ env: { BCRYPT_COST: '5' }, hasher });
    const email = uniqueEmail('rehash');
    const { userId } = await signUp(server, email, PASSWORD);
    const users = server.connection.collection('users');
    const byId = { _id: new Types.ObjectId(userId) };
    await users.updateOne(byId, { $set: { passwordHash: await bcrypt.hash(PASSWORD, 4) } });
    meanwhile = async () => {
      await users.updateOne(byId, {
        $set: { passwordHash: await bcrypt.hash('the new phrase', 5) },
      });
    };
    expect(
      (await server.graphql(LOGIN, { email, password: PASSWORD })).body.data?.login,
    ).toBeTruthy();
    const stored = (await users.findOne(byId))?.passwordHash as string;
    expect(await bcrypt.compare('the new phrase', stored)).toBe(true);
    await real.close();
  });

  it('holds off a password change while a re-hash writes, and gives the version back after', async () => {
    const server = await start();
    const { userId } = await signUp(server, uniqueEmail('hold'), PASSWORD);
    // The same database through a connection object of its own, where the models are free.
    const sameDb = server.connection.useDb(server.connection.name, { useCache: false });
    const versions = createCredentialVersions({
      users: createUserModel(sameDb),
      credentialChanges: createCredentialChangeModel(sameDb),
    });
    // What a change racing the re-hash's write would see: refused, as one still in progress.
    expect(await versions.hold(userId, 0, () => versions.raise(userId, 0))).toBe(false);
    expect(await versions.raise(userId, 0)).toBe(true);
    // Version 1 is taken now: a re-hash over the hash read at version 0 must not run.
    expect(await versions.hold(userId, 0, () => Promise.resolve('ran'))).toBeUndefined();
  });
});
