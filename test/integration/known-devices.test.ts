import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import { connectTestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Anyone could lock anyone out: wrong passwords from a few addresses locked the account and the
 * owner's correct password then got RATE_LIMITED. Known devices keep their own lockout.
 */
const LOGIN_WITH_DEVICE = `mutation Login($email: String!, $password: String!, $device: String, $useCookie: Boolean! = false) {
  login(email: $email, password: $password, deviceToken: $device, useCookie: $useCookie) {
    accessToken deviceToken
  }
}`;
const PASSWORD = 'correct horse battery';

const servers: TestServer[] = [];
const connections: Redis[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const connection of connections) connection.disconnect();
});

async function start(withRedis: boolean, env: Record<string, string> = {}) {
  const redis = withRedis ? await connectTestRedis() : undefined;
  if (redis) connections.push(redis);
  const server = await startTestServer({
    env: { TRUST_PROXY: 'loopback', LOCKOUT_THRESHOLD: '3', ...env },
    redis,
  });
  servers.push(server);
  return server;
}

const login = (
  server: TestServer,
  variables: Record<string, unknown>,
  address: string,
  headers: Record<string, string> = {},
) => server.graphql(LOGIN_WITH_DEVICE, variables, { 'x-forwarded-for': address, ...headers });

const deviceTokenOf = (response: Awaited<ReturnType<typeof login>>) =>
  (response.body.data?.login as { deviceToken: string }).deviceToken;

describe.each([
  ['in memory', false],
  ['in Redis', true],
])('known devices under a lockout attack (%s)', (_name, withRedis) => {
  it('lets the owner in from a known client while attackers on three addresses hold the account locked', async () => {
    const server = await start(withRedis);
    const email = uniqueEmail('owner');
    await signUp(server, email, PASSWORD);
    const first = await login(server, { email, password: PASSWORD }, '192.0.2.1');
    const device = deviceTokenOf(first);
    expect(device).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const attackers = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
    const codes: unknown[] = [];
    for (let round = 0; round < 4; round += 1) {
      for (const address of attackers) {
        codes.push(errorCode(await login(server, { email, password: 'a guess' }, address)));
      }
    }
    expect(codes.slice(0, 3)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(codes.slice(3).every((code) => code === 'RATE_LIMITED')).toBe(true);

    // A new client is still throttled, even with the right password.
    const stranger = await login(server, { email, password: PASSWORD }, '192.0.2.50');
    expect(errorCode(stranger)).toBe('RATE_LIMITED');

    // The owner's known client gets in, and is handed a fresh device token.
    const owner = await login(server, { email, password: PASSWORD, device }, '192.0.2.1');
    expect(errorCode(owner)).toBeUndefined();
    expect(deviceTokenOf(owner)).not.toBe(device);
  });

  it('does not let a device token of one account help with another, and locks a guessing device on its own', async () => {
    const server = await start(withRedis);
    const mine = uniqueEmail('mine');
    const theirs = uniqueEmail('theirs');
    await signUp(server, mine, PASSWORD);
    await signUp(server, theirs, PASSWORD);
    const myDevice = deviceTokenOf(
      await login(server, { email: mine, password: PASSWORD }, '192.0.2.2'),
    );

    // My device token for their account counts as an unknown client: their account locks.
    for (let i = 0; i < 3; i += 1) {
      await login(server, { email: theirs, password: 'a guess', device: myDevice }, '192.0.2.2');
    }
    expect(errorCode(await login(server, { email: theirs, password: PASSWORD }, '192.0.2.3'))).toBe(
      'RATE_LIMITED',
    );

    // Guessing with a known device locks that device, not the account's other clients.
    for (let i = 0; i < 3; i += 1) {
      await login(server, { email: mine, password: 'a guess', device: myDevice }, '192.0.2.2');
    }
    expect(
      errorCode(
        await login(server, { email: mine, password: PASSWORD, device: myDevice }, '192.0.2.2'),
      ),
    ).toBe('RATE_LIMITED');
    const elsewhere = await login(server, { email: mine, password: PASSWORD }, '192.0.2.4');
    expect(errorCode(elsewhere)).toBeUndefined();
  });

  it('treats a forged, expired or garbage device token as an unknown client, without an error', async () => {
    const server = await start(withRedis, { DEVICE_TOKEN_TTL: '60' });
    const email = uniqueEmail('forged');
    await signUp(server, email, PASSWORD);
    const device = deviceTokenOf(await login(server, { email, password: PASSWORD }, '192.0.2.5'));
    const [header, payload] = device.split('.');
    for (const bogus of ['garbage', `${header}.${payload}.AAAA`, 'x'.repeat(3000)]) {
      const response = await login(
        server,
        { email, password: PASSWORD, device: bogus },
        '192.0.2.5',
      );
      expect(errorCode(response)).toBeUndefined();
    }
    for (let i = 0; i < 3; i += 1)
      await login(server, { email, password: 'guess' }, '198.51.100.9');
    const forged = await login(
      server,
      { email, password: PASSWORD, device: `${header}.${payload}.AAAA` },
      '192.0.2.5',
    );
    expect(errorCode(forged)).toBe('RATE_LIMITED');
  });
});

describe('known devices and credential changes', () => {
  it('ends every device token at a password change and at logoutAll', async () => {
    const server = await start(false);
    const email = uniqueEmail('rotate');
    await signUp(server, email, PASSWORD);
    const signedIn = await login(server, { email, password: PASSWORD }, '192.0.2.7');
    const oldDevice = deviceTokenOf(signedIn);
    const accessToken = (signedIn.body.data?.login as { accessToken: string }).accessToken;
    const changed = await server.graphql(
      `mutation { changePassword(currentPassword: "${PASSWORD}", newPassword: "a new long phrase") { accessToken deviceToken } }`,
      {},
      { authorization: `Bearer ${accessToken}`, 'x-forwarded-for': '192.0.2.7' },
    );
    const newDevice = (changed.body.data?.changePassword as { deviceToken: string }).deviceToken;
    expect(newDevice).toBeTruthy();

    // Guessers lock the account; the token from before the change no longer gets the owner in.
    for (let i = 0; i < 3; i += 1)
      await login(server, { email, password: 'guess' }, '198.51.100.20');
    const stale = await login(
      server,
      { email, password: 'a new long phrase', device: oldDevice },
      '192.0.2.7',
    );
    expect(errorCode(stale)).toBe('RATE_LIMITED');
    const current = await login(
      server,
      { email, password: 'a new long phrase', device: newDevice },
      '192.0.2.7',
    );
    expect(errorCode(current)).toBeUndefined();

    // logoutAll ends the device tokens too.
    const latest = deviceTokenOf(current);
    const token = (current.body.data?.login as { accessToken: string }).accessToken;
    await server.graphql('mutation { logoutAll }', {}, { authorization: `Bearer ${token}` });
    const afterLogoutAll = await login(
      server,
      { email, password: 'a new long phrase', device: latest },
      '192.0.2.7',
    );
    expect(errorCode(afterLogoutAll)).toBe('RATE_LIMITED');
  });
});

describe('known devices in the browser', () => {
  it('sets the device token as an HttpOnly cookie and honours it on the next login', async () => {
    const server = await start(false, {
      REFRESH_COOKIE_NAME: 'refresh',
      DEVICE_COOKIE_NAME: 'device',
      REFRESH_COOKIE_SECURE: 'false',
    });
    const email = uniqueEmail('browser');
    await signUp(server, email, PASSWORD);
    const first = await login(server, { email, password: PASSWORD, useCookie: true }, '192.0.2.6');
    expect((first.body.data?.login as { deviceToken: string | null }).deviceToken).toBeNull();
    const cookies = first.headers.getSetCookie();
    const deviceCookie = cookies.find((cookie) => cookie.startsWith('device='));
    expect(deviceCookie).toMatch(/HttpOnly/);
    expect(deviceCookie).toMatch(/SameSite=Strict/);
    for (let i = 0; i < 3; i += 1)
      await login(server, { email, password: 'guess' }, '198.51.100.10');
    const again = await login(server, { email, password: PASSWORD }, '192.0.2.6', {
      cookie: deviceCookie!.split(';')[0]!,
    });
    expect(errorCode(again)).toBeUndefined();
  });
});
