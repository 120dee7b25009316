import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { LOGIN, ME, bearer, errorCode, signUp, uniqueEmail } from '../helpers/operations.js';
import {
  DisposableRedis,
  connectTestRedis,
  disconnectTestRedis,
  freePort,
} from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let redisServer: DisposableRedis;
const connections: Redis[] = [];
const servers: TestServer[] = [];

beforeAll(async () => {
  redisServer = new DisposableRedis(await freePort());
  await redisServer.start();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await redisServer.start(); // the tests leave it stopped: see disconnectTestRedis
  await Promise.all(connections.map(disconnectTestRedis));
  await redisServer.stop();
});

async function start(env: Record<string, string> = {}) {
  const redis = await connectTestRedis(redisServer.url);
  connections.push(redis);
  const server = await startTestServer({ env, redis });
  servers.push(server);
  return server;
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean) {
  const deadline = Date.now() + 10_000;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await probe();
  }
  return value;
}

describe('when Redis goes away', () => {
  it('fails logins closed with SERVICE_UNAVAILABLE quickly, keeps other requests working, and recovers by itself', async () => {
    const server = await start();
    const email = uniqueEmail('outage');
    const { token } = await signUp(server, email);
    const login = () => server.graphql(LOGIN, { email, password: 'correct horse battery' });
    expect((await login()).body.data?.login).toBeTruthy();

    await redisServer.stop();
    const started = Date.now();
    const refused = await login();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(errorCode(refused)).toBe('SERVICE_UNAVAILABLE');
    expect(refused.status).toBe(503);
    expect(refused.text).not.toMatch(/ECONNREFUSED|Stream isn't writeable|\bat /);
    // Requests that need no limit are unaffected.
    expect((await server.graphql(ME, {}, bearer(token))).body.data?.me).toBeTruthy();
    expect(server.logs.some((line) => line.includes('rate_limit.store_unavailable'))).toBe(true);

    await redisServer.start();
    const recovered = await eventually(login, (response) => Boolean(response.body.data?.login));
    expect(recovered.body.data?.login).toBeTruthy();
  });

  it('lets logins through when RATE_LIMIT_FAIL_OPEN is set, logging that it did', async () => {
    await redisServer.start();
    const server = await start({ RATE_LIMIT_FAIL_OPEN: 'true' });
    const email = uniqueEmail('open');
    await signUp(server, email);
    await redisServer.stop();
    const response = await server.graphql(LOGIN, { email, password: 'correct horse battery' });
    expect(response.body.data?.login).toBeTruthy();
    expect(
      server.logs.some((line) => line.includes('rate_limit.store_unavailable_fail_open')),
    ).toBe(true);
  });
});
