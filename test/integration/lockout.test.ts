import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { countingHasher } from '../helpers/counting-hasher.js';
import { LOGIN, SIGN_UP, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { connectTestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
const connections: Redis[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const connection of connections) connection.disconnect();
});

async function start(env: Record<string, string>, withRedis: boolean) {
  const redis = withRedis ? await connectTestRedis() : undefined;
  if (redis) connections.push(redis);
  const counted = await countingHasher();
  const server = await startTestServer({
    env: { TRUST_PROXY: 'loopback', ...env },
    redis,
    hasher: counted.hasher,
  });
  servers.push(server);
  return { server, counter: counted.counter };
}

let address = 0;
/** Each attempt from a different client address, as a distributed guesser would. */
const fromNewAddress = () => ({ 'x-forwarded-for': `198.51.100.${(address++ % 250) + 1}` });
const login = (server: TestServer, email: string, password: string) =>
  server.graphql(LOGIN, { email, password }, fromNewAddress());

describe.each([
  ['in memory', false],
  ['in Redis', true],
])('account lockout (%s)', (_name, withRedis) => {
  it('locks an account after the threshold of failures from any address, says when to retry, and resets on success', async () => {
    const { server } = await start({ LOCKOUT_THRESHOLD: '3' }, withRedis);
    const email = uniqueEmail('lock');
    await signUp(server, email, 'the right password');

    for (let i = 0; i < 3; i += 1) {
      expect(errorCode(await login(server, email, 'a wrong password'))).toBe('UNAUTHENTICATED');
    }
    const locked = await login(server, email, 'the right password');
    expect(errorCode(locked)).toBe('RATE_LIMITED');
    expect(locked.body.errors?.[0]?.extensions?.retryAfter).toBe(1);
    expect(locked.headers.get('retry-after')).toBe('1');

    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await login(server, email, 'the right password')).body.data?.login).toBeTruthy();
    // The success reset the count: one more failure does not lock again.
    expect(errorCode(await login(server, email, 'a wrong password'))).toBe('UNAUTHENTICATED');
    expect((await login(server, email, 'the right password')).body.data?.login).toBeTruthy();
  });

  it('doubles the lock with each further failure', async () => {
    const { server } = await start({ LOCKOUT_THRESHOLD: '1' }, withRedis);
    const email = uniqueEmail('double');
    expect(errorCode(await login(server, email, 'a wrong password'))).toBe('UNAUTHENTICATED');
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect(errorCode(await login(server, email, 'a wrong password'))).toBe('UNAUTHENTICATED');
    const locked = await login(server, email, 'a wrong password');
    expect(locked.body.errors?.[0]?.extensions?.retryAfter).toBe(2);
  });

  it('treats an unknown email exactly like an existing one', async () => {
    const { server } = await start({ LOCKOUT_THRESHOLD: '2' }, withRedis);
    const known = uniqueEmail('known');
    await signUp(server, known, 'the right password');
    const outcomes = async (email: string) => {
      const codes = [];
      for (let i = 0; i < 4; i += 1)
        codes.push(errorCode(await login(server, email, 'a wrong password')));
      return codes;
    };
    const expected = ['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED', 'RATE_LIMITED'];
    expect(await outcomes(known)).toEqual(expected);
    expect(await outcomes(uniqueEmail('unknown'))).toEqual(expected);
  });

  it('lets at most the hourly cap of verifications run for one account', async () => {
    const { server, counter } = await start(
      { LOCKOUT_THRESHOLD: '100', LOCKOUT_HOURLY_CAP: '4' },
      withRedis,
    );
    const email = uniqueEmail('cap');
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => login(server, email, 'a wrong password')),
    );
    expect(counter.verifications).toBe(4);
    expect(responses.filter((response) => errorCode(response) === 'RATE_LIMITED')).toHaveLength(8);
    const retryAfter = Math.max(
      ...responses.map((response) =>
        Number(response.body.errors?.[0]?.extensions?.retryAfter ?? 0),
      ),
    );
    expect(retryAfter).toBeGreaterThan(3500);
  });

  it('logs lockouts as security events without the email or password', async () => {
    const { server } = await start({ LOCKOUT_THRESHOLD: '1' }, withRedis);
    const email = uniqueEmail('logged');
    await login(server, email, 'guess number one');
    await login(server, email, 'guess number two');
    const events = server.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.filter((event) => event.securityEvent === 'login.locked_out')).toHaveLength(1);
    expect(
      events.filter((event) => event.securityEvent === 'login.refused_while_locked'),
    ).toHaveLength(1);
    const text = server.logs.join('\n');
    expect(text).not.toContain(email);
    expect(text).not.toContain('guess number');
  });
});

describe('password policy at sign-up', () => {
  it.each(['password123', 'qwertyuiop', 'Iloveyou1', 'PASSWORD1'])(
    'refuses the common password %s with BAD_USER_INPUT',
    async (password) => {
      const { server } = await start({}, false);
      const response = await server.graphql(SIGN_UP, { email: uniqueEmail('common'), password });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.extensions?.field).toBe('password');
      expect(response.body.errors?.[0]?.message).toMatch(/too common/);
    },
  );

  it('applies PASSWORD_MIN_LENGTH and accepts long passphrases without composition rules', async () => {
    const { server } = await start({ PASSWORD_MIN_LENGTH: '12' }, false);
    const short = await server.graphql(SIGN_UP, {
      email: uniqueEmail('min'),
      password: 'elevenchars',
    });
    expect(short.body.errors?.[0]?.message).toBe('Password must be at least 12 characters');
    const phrase = await server.graphql(SIGN_UP, {
      email: uniqueEmail('min'),
      password: 'all lower case words only',
    });
    expect(phrase.body.data?.signUp).toBeTruthy();
  });
});
