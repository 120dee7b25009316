import { afterAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

async function post(server: TestServer, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('REQUIRE_HTTPS (on by default in production)', () => {
  it('refuses plain HTTP with a clear 403 but keeps the probes open', async () => {
    const server = await startTestServer({ env: { REQUIRE_HTTPS: 'true' } });
    servers.push(server);
    const plain = await post(server);
    expect(plain.status).toBe(403);
    expect(plain.body).toEqual({
      errors: [
        {
          message: 'HTTPS is required: connect through the TLS proxy (https://)',
          extensions: { code: 'HTTPS_REQUIRED' },
        },
      ],
    });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', async () => {
    const untrusting = await startTestServer({
      env: { REQUIRE_HTTPS: 'true', TRUST_PROXY: '10.0.0.1' },
    });
    const trusting = await startTestServer({
      env: { REQUIRE_HTTPS: 'true', TRUST_PROXY: 'loopback' },
    });
    servers.push(untrusting, trusting);
    expect((await post(untrusting, { 'x-forwarded-proto': 'https' })).status).toBe(403);
    expect((await post(trusting, { 'x-forwarded-proto': 'https' })).status).toBe(200);
    expect((await post(trusting, { 'x-forwarded-proto': 'http' })).status).toBe(403);
  });

  it('is off outside production unless asked for', async () => {
    const server = await startTestServer();
    servers.push(server);
    expect((await post(server)).status).toBe(200);
  });
});
