import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ label: 'health' });
});
afterAll(() => server.close());

describe('health and readiness', () => {
  it('answers /health with 200 and /ready with 200 while the database answers', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it('serves GraphiQL at /graphql outside production', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('GraphQL Auth API');
    expect(html).toContain('Authorization');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
  });

  it('answers unknown paths with 404', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('answers malformed JSON with a 400 and no stack trace', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toMatch(/at .+\.(js|ts):\d+/);
  });

  it('turns /ready to 503 when the database connection is gone, while /health stays 200', async () => {
    const separate = await startTestServer({ label: 'health-down' });
    await separate.connection.close();
    try {
      expect((await fetch(`${separate.url}/ready`)).status).toBe(503);
      expect((await fetch(`${separate.url}/health`)).status).toBe(200);
      const response = await separate.graphql(
        'mutation { login(email: "a@example.com", password: "whatever pass") { accessToken } }',
      );
      expect(response.status).toBe(503);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await separate.close();
    }
  });
});
