import { describe, expect, it } from '@jest/globals';
import { LOGIN, SIGN_UP, errorCode, uniqueEmail } from '../helpers/operations.js';
import { serversClosedAfterAll } from '../helpers/server.js';

const startServer = serversClosedAfterAll();
const start = (env: Record<string, string> = {}) => startServer({ env });

describe('response headers', () => {
  it('sends Cache-Control: no-store on every /graphql response, tokens or errors', async () => {
    const server = await start();
    const signedUp = await server.graphql(SIGN_UP, {
      email: uniqueEmail('cache'),
      password: 'correct horse battery',
    });
    expect(signedUp.body.data?.signUp).toBeTruthy();
    const failed = await server.graphql('{ nope }');
    const get = await fetch(`${server.url}/graphql?query=%7B__typename%7D`, {
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    for (const headers of [signedUp.headers, failed.headers, get.headers]) {
      expect(headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answers GraphQL and GraphiQL only at /graphql itself, where their headers apply', async () => {
    const server = await start();
    // Yoga takes any URL ending in /graphql or /graphql/ for its endpoint, while no-store and
    // GraphiQL's CSP (frame-ancestors 'none') go by the path: such URLs answered without them.
    for (const path of ['/graphql/', '//graphql', '/x/graphql', '/?a=/graphql']) {
      const page = await fetch(`${server.url}${path}`, { headers: { accept: 'text/html' } });
      expect([path, page.status]).toEqual([path, 404]);
      const post = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect([path, post.status]).toEqual([path, 404]);
    }
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('sends Vary: Origin when CORS is configured, to allowed and refused origins alike', async () => {
    const server = await start({ CORS_ORIGINS: 'https://a.example,https://b.example' });
    for (const origin of ['https://a.example', 'https://evil.example']) {
      const response = await server.graphql('{ __typename }', {}, { origin });
      expect(response.headers.get('vary')).toMatch(/(^|,\s*)Origin(\s*,|$)/);
    }
  });

  it('does not reveal the start time in x-yoga-id', async () => {
    const server = await start();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.has('x-yoga-id')).toBe(false);
  });
});

describe('input hygiene', () => {
  it.each([
    ['a zero-width space', 'ze\u200bro@example.com'],
    ['a NUL', 'nul\u0000@example.com'],
    ['a bidi override', 'rtl\u202e@example.com'],
  ])('refuses to sign up an email with %s', async (_name, email) => {
    const server = await start();
    const response = await server.graphql(SIGN_UP, { email, password: 'correct horse battery' });
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('email');
  });
});

describe('IPv6 clients', () => {
  it('counts the addresses of one /64 as one client for rate limits, and another /64 apart', async () => {
    const server = await start({ TRUST_PROXY: 'loopback', RATE_LIMIT_LOGIN_PER_IP: '3/1m' });
    const attempt = (address: string) =>
      server.graphql(
        LOGIN,
        { email: uniqueEmail('v6'), password: 'whatever it is' },
        { 'x-forwarded-for': address },
      );
    const sameNetwork = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:aaaa::3'];
    for (const address of sameNetwork)
      expect(errorCode(await attempt(address))).toBe('UNAUTHENTICATED');
    expect(errorCode(await attempt('2001:db8:1:2:ffff::9'))).toBe('RATE_LIMITED');
    expect(errorCode(await attempt('2001:db8:1:3::1'))).toBe('UNAUTHENTICATED');
  });

  it('uses IPV6_CLIENT_PREFIX when configured', async () => {
    const server = await start({
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_LOGIN_PER_IP: '1/1m',
      IPV6_CLIENT_PREFIX: '128',
    });
    const attempt = (address: string) =>
      server.graphql(
        LOGIN,
        { email: uniqueEmail('v6'), password: 'whatever it is' },
        { 'x-forwarded-for': address },
      );
    expect(errorCode(await attempt('2001:db8:1:2::1'))).toBe('UNAUTHENTICATED');
    expect(errorCode(await attempt('2001:db8:1:2::2'))).toBe('UNAUTHENTICATED');
  });
});
