import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import bcrypt from 'bcrypt';
import {
  LOGIN,
  ME,
  SIGN_UP,
  bearer,
  errorCode,
  signUp,
  uniqueEmail,
} from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ label: 'auth' });
});
afterAll(() => server.close());

describe('signUp, login and me', () => {
  it('signs up, logs in and answers me with the same user', async () => {
    const email = uniqueEmail('flow');
    const signed = await server.graphql(SIGN_UP, { email, password: 'correct horse battery' });
    expect(signed.status).toBe(200);
    expect(signed.body.errors).toBeUndefined();
    const payload = signed.body.data?.signUp as Record<string, unknown> & {
      user: Record<string, unknown>;
    };
    expect(payload.tokenType).toBe('Bearer');
    expect(payload.expiresIn).toBe(900);
    expect(payload.user).toMatchObject({ email, roles: ['USER'] });
    expect(new Date(payload.user.createdAt as string).getTime()).toBeGreaterThan(
      Date.now() - 60_000,
    );

    const login = await server.graphql(LOGIN, { email, password: 'correct horse battery' });
    const token = (login.body.data?.login as { accessToken: string }).accessToken;
    const me = await server.graphql(ME, {}, bearer(token));
    expect(me.body.data?.me).toEqual(payload.user);
  });

  it('normalizes the email: case, surrounding spaces and Unicode form', async () => {
    const local = `Norm-${Date.now()}`;
    await signUp(server, `  ${local}@EXAMPLE.com `);
    const login = await server.graphql(LOGIN, {
      email: `${local.toLowerCase()}@example.com`,
      password: 'correct horse battery',
    });
    expect(login.body.errors).toBeUndefined();
    expect((login.body.data?.login as { user: { email: string } }).user.email).toBe(
      `${local.toLowerCase()}@example.com`,
    );
  });

  it('refuses a domain written as Punycode (xn--), which shares a mailbox with its Unicode form', async () => {
    const local = `idn-${Date.now()}`;
    for (const email of [
      `${local}@xn--b-eha.example`,
      `${local}@XN--B-EHA.example`,
      `${local}@mail.xn--b-eha.example`,
      `${local}@b\u00fc.xn--p1ai`,
    ]) {
      const refused = await server.graphql(SIGN_UP, { email, password: 'correct horse battery' });
      expect(errorCode(refused)).toBe('BAD_USER_INPUT');
      expect(refused.body.errors?.[0]?.extensions?.field).toBe('email');
      expect(refused.body.errors?.[0]?.message).toMatch(/Unicode form/);
    }
    // The Unicode form is the one spelling of that mailbox.
    const unicode = await server.graphql(SIGN_UP, {
      email: `${local}@b\u00fc.example`,
      password: 'correct horse battery',
    });
    expect(unicode.body.errors).toBeUndefined();
  });

  it('still signs in an account stored with a Punycode domain before sign-up refused them', async () => {
    const email = `idn-old-${Date.now()}@xn--b-eha.example`;
    const passwordHash = await bcrypt.hash('correct horse battery', 4);
    expect(await server.app.services.users.completeSignUp({ email, passwordHash })).toBeDefined();
    const login = await server.graphql(LOGIN, {
      email: email.toUpperCase(),
      password: 'correct horse battery',
    });
    expect(login.body.errors).toBeUndefined();
  });

  it('refuses a second account for the same email with BAD_USER_INPUT', async () => {
    const email = uniqueEmail('dup');
    await signUp(server, email);
    const again = await server.graphql(SIGN_UP, {
      email: email.toUpperCase(),
      password: 'another password',
    });
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect(again.body.errors?.[0]?.message).toBe('Email is already registered');
    expect(again.body.errors?.[0]?.extensions?.field).toBe('email');
  });

  it('gives an unknown email and a wrong password the same answer', async () => {
    const email = uniqueEmail('same');
    await signUp(server, email);
    const wrongPassword = await server.graphql(LOGIN, { email, password: 'wrong password!' });
    const unknownEmail = await server.graphql(LOGIN, {
      email: uniqueEmail('nobody'),
      password: 'wrong password!',
    });
    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.status).toBe(200);
      expect(errorCode(response)).toBe('UNAUTHENTICATED');
      expect(response.body.errors?.[0]?.message).toBe('Invalid email or password');
      expect(response.body.data).toBeNull();
    }
  });

  it('refuses a login password containing NUL, as sign-up does', async () => {
    const email = uniqueEmail('nul');
    await signUp(server, email, 'correct horse battery');
    const response = await server.graphql(LOGIN, {
      email,
      password: 'correct horse battery\u0000x',
    });
    expect(response.body.data).toBeNull();
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
  });

  it('refuses a different password that shares the first 72 bytes', async () => {
    const email = uniqueEmail('long');
    const password = 'p'.repeat(72);
    await signUp(server, email, password);
    const ok = await server.graphql(LOGIN, { email, password });
    expect(ok.body.errors).toBeUndefined();
    for (const attempt of [`${password}x`, `${password}${'y'.repeat(20)}`]) {
      const response = await server.graphql(LOGIN, { email, password: attempt });
      expect(response.body.data).toBeNull();
      expect(['BAD_USER_INPUT', 'UNAUTHENTICATED']).toContain(errorCode(response));
    }
  });

  it('re-hashes a stored hash whose cost differs from BCRYPT_COST on successful login', async () => {
    const email = uniqueEmail('rehash');
    const { userId } = await signUp(server, email);
    const users = server.connection.collection('users');
    const costOf = async () => {
      const doc = await users.findOne({ email });
      return bcrypt.getRounds(doc?.passwordHash as string);
    };
    expect(await costOf()).toBe(4);

    // Same database as `server`, cost 5.
    const sameDb = await startTestServer({
      env: { BCRYPT_COST: '5' },
      databaseUri: connectionUri(server),
    });
    try {
      const login = await sameDb.graphql(LOGIN, { email, password: 'correct horse battery' });
      expect(login.body.errors).toBeUndefined();
      expect((login.body.data?.login as { user: { id: string } }).user.id).toBe(userId);
      expect(await costOf()).toBe(5);
    } finally {
      await sameDb.close();
    }
  });
});

describe('a login storm beyond the hashing queue', () => {
  it('is refused at once with 503 SERVICE_UNAVAILABLE, and logins work again after it', async () => {
    const email = uniqueEmail('storm');
    await signUp(server, email);
    // One thread, no waiting room, a slow cost: concurrent logins past the first are refused.
    const busy = await startTestServer({
      env: { BCRYPT_COST: '10', HASH_THREADS: '1', HASH_QUEUE_LIMIT: '0' },
      databaseUri: connectionUri(server),
    });
    try {
      const password = 'correct horse battery';
      const responses = await Promise.all(
        Array.from({ length: 4 }, () => busy.graphql(LOGIN, { email, password })),
      );
      const refused = responses.filter((response) => response.status === 503);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const response of refused) {
        expect(errorCode(response)).toBe('SERVICE_UNAVAILABLE');
        expect(response.body.errors?.[0]?.message).toMatch(/try again/);
        expect(response.text).not.toMatch(/piscina|Task queue|stack/i);
      }
      expect(responses.some((response) => response.status === 200)).toBe(true);
      const later = await busy.graphql(LOGIN, { email, password });
      expect(later.body.errors).toBeUndefined();
    } finally {
      await busy.close();
    }
  });
});

function connectionUri(target: TestServer) {
  const base = new URL(process.env.TEST_MONGODB_URI as string);
  base.pathname = `/${target.connection.name}`;
  return base.toString();
}

describe('bad input', () => {
  const valid = { email: 'valid@example.com', password: 'correct horse battery' };
  const cases: [string, Record<string, unknown>, string][] = [
    ['an email without @', { ...valid, email: 'not-an-email' }, 'email'],
    ['an empty email', { ...valid, email: '' }, 'email'],
    ['an email with spaces inside', { ...valid, email: 'a b@example.com' }, 'email'],
    [
      'an email over 254 characters',
      { ...valid, email: `${'a'.repeat(250)}@example.com` },
      'email',
    ],
    ['a 7-character password', { ...valid, password: 'short12' }, 'password'],
    ['an empty password', { ...valid, password: '' }, 'password'],
    ['a 73-byte password', { ...valid, password: 'x'.repeat(73) }, 'password'],
    [
      'a password of 25 three-byte characters (75 bytes)',
      { ...valid, password: '€'.repeat(25) },
      'password',
    ],
    ['a password with a NUL character', { ...valid, password: 'abcdefgh\u0000ijk' }, 'password'],
  ];

  it.each(cases)(
    'refuses sign-up with %s: BAD_USER_INPUT naming the field',
    async (_name, variables, field) => {
      const response = await server.graphql(SIGN_UP, variables);
      expect(response.status).toBe(200);
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.extensions?.field).toBe(field);
      expect(response.body.data).toBeNull();
    },
  );

  it('answers a missing argument with a validation error, not a 5xx', async () => {
    const response = await server.graphql(
      'mutation { signUp(email: "a@example.com") { accessToken } }',
    );
    expect(response.status).toBeLessThan(500);
    expect(errorCode(response)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers a wrongly typed variable with a clear error, not a 5xx', async () => {
    const response = await server.graphql(SIGN_UP, { email: 42, password: ['x'] });
    expect(response.status).toBeLessThan(500);
    expect(response.body.errors?.length).toBeGreaterThan(0);
  });
});
